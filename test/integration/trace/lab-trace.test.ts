/**
 * netctl trace end to end (lab `ttrc`: 2 hosts, 2 netmaster replicas, host1 held by netmaster1
 * and host2 by netmaster2; real etcd, netmaster, agents, OVS and the policy backend). Group db has
 * db-policy: in allow tcp/5432 at priority 10, in deny everything at priority 1. The trace names
 * the rule that allowed or denied, and where, across the VXLAN tunnel (the destination host's
 * trace starts at its VXLAN port), on one host, and across the VLAN uplink; asked through either
 * replica (the other host's agent is reached by forwarding). What it says agrees with real pings.
 */
import { strict as assert } from 'node:assert';
import { planLab } from '../../../deploy/lab/plan';
import { run } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { pingOk } from '../../support/traffic';
import { labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'ttrc';
const lab = labCli(LAB);

interface Answer {
  verdict: string;
  decidedBy?: { host: string; direction: string; policy: string; rule: string };
  hops: Array<{ host: string; flow: string }>;
}

describe('netctl trace in the lab (policy backend, two replicas)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 2 });
  const [nm1, nm2] = [plan.netmasters[0]!, plan.netmasters[1]!];
  const ns = (c: string) => `${plan.prefix}c-${c}`;
  /** the container name the lab gives the CNI (trace accepts it like an endpoint id or IP) */
  const ctr = (c: string) => `lab-${LAB}-${c}`;

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true);
    await lab(['up', '--hosts', '2', '--etcd-members', '1', '--netmasters', '2']);
    const netctl = netctlCli(nm1.url);
    for (const args of [
      ['tenant', 'create', 'blue'],
      ['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.76.2.0/24', '-g', '10.76.2.1', 'vx'],
      ['net', 'create', '-t', 'blue', '-e', 'vlan', '-s', '10.76.1.0/24', '-g', '10.76.1.1', 'vl'],
      ['policy', 'create', '-t', 'blue', 'db-policy'],
      ['policy', 'rule-add', '-t', 'blue', '-d', 'in', '-l', 'tcp', '-P', '5432', '-j', 'allow', '-p', '10', 'db-policy', '1'],
      ['policy', 'rule-add', '-t', 'blue', '-d', 'in', '-j', 'deny', '-p', '1', 'db-policy', '2'],
      ['group', 'create', '-t', 'blue', '-p', 'db-policy', 'vx', 'db'],
    ])
      await netctl(args);
    for (const [host, name, net, ip, group] of [
      ['host1', 'x1', 'vx', '10.76.2.11', ''],
      ['host2', 'db1', 'vx', '10.76.2.20', 'db'],
      ['host1', 'db2', 'vx', '10.76.2.21', 'db'],
      ['host1', 'v1', 'vl', '10.76.1.11', ''],
      ['host2', 'v2', 'vl', '10.76.1.12', ''],
    ] as const)
      await lab(['run', host, name, '--tenant', 'blue', '--network', net, '--ip', ip, ...(group ? ['--group', group] : [])]);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  async function trace(url: string, ...args: string[]): Promise<Answer> {
    const r = await netctlCli(url)(['trace', '-t', 'blue', ...args, '-o', 'json']);
    return JSON.parse(r.stdout) as Answer;
  }
  const decided = (a: Answer) => [a.verdict, a.decidedBy?.host, a.decidedBy?.direction, a.decidedBy?.policy, a.decidedBy?.rule];

  it('allowed across the tunnel by db-policy rule 1 on host2 (ingress), through either replica', async () => {
    for (const url of [nm1.url, nm2.url]) {
      const a = await trace(url, '--from', '10.76.2.11', '--to', '10.76.2.20', '-l', 'tcp', '-P', '5432');
      assert.deepEqual(decided(a), ['allow', 'host2', 'ingress', 'db-policy', '1'], JSON.stringify(a));
      assert.deepEqual(
        a.hops.map((h) => h.host),
        ['host1', 'host2'],
      );
      assert.match(a.hops[1]!.flow, /^in_port=\d+,tun_id=\d+,tun_src=10\.213\.\d+\.1,tun_dst=10\.213\.\d+\.2,tcp,/);
    }
  });

  it('denied across the tunnel by rule 2 (tcp/5201, ping), as real pings say', async () => {
    const tcp = await trace(nm1.url, '--from', ctr('x1'), '--to', ctr('db1'), '-l', 'tcp', '-P', '5201');
    assert.deepEqual(decided(tcp), ['deny', 'host2', 'ingress', 'db-policy', '2'], JSON.stringify(tcp));
    const icmp = await trace(nm2.url, '--from', ctr('x1'), '--to', ctr('db1'), '-l', 'icmp');
    assert.deepEqual(decided(icmp), ['deny', 'host2', 'ingress', 'db-policy', '2'], JSON.stringify(icmp));
    assert.equal(await pingOk(ns('x1'), '10.76.2.20'), false, 'the ping the trace says is denied');
    const back = await trace(nm2.url, '--from', ctr('db1'), '--to', ctr('x1'), '-l', 'icmp');
    assert.deepEqual(decided(back), ['allow', undefined, undefined, undefined, undefined], 'db-policy has no out rules');
    assert.equal(await pingOk(ns('db1'), '10.76.2.11'), true, 'the ping the trace says passes');
  });

  it('endpoints on one host: one hop, denied by rule 2 on host1', async () => {
    const a = await trace(nm2.url, '--from', ctr('x1'), '--to', ctr('db2'), '-l', 'udp', '-P', '9');
    assert.deepEqual(decided(a), ['deny', 'host1', 'ingress', 'db-policy', '2'], JSON.stringify(a));
    assert.equal(a.hops.length, 1);
  });

  it("the rules' counters grow with real traffic, summed over both hosts, and the policy is realized on both", async () => {
    interface Inspect {
      Oper: {
        realization: { hostsConcerned: number; hostsRealized: number };
        ruleCounters: Array<{ ruleId: string; packets: number; hosts: number }>;
      };
    }
    const inspect = async (url: string): Promise<Inspect> =>
      JSON.parse((await netctlCli(url)(['policy', 'inspect', '-t', 'blue', 'db-policy'])).stdout) as Inspect;
    const denied = async (): Promise<number> => (await inspect(nm1.url)).Oper.ruleCounters.find((c) => c.ruleId === '2')?.packets ?? 0;
    const before = await denied();
    // 5 denied pings into group db on each host: x1 -> db1 (host2), x1 -> db2 (host1)
    for (const to of ['10.76.2.20', '10.76.2.21'])
      await run('ping', ['-c', '5', '-i', '0.05', '-W', '1', '-q', to], { netns: ns('x1'), allowFailure: true, timeoutMs: 15_000 });
    await waitFor('rule 2 counting the 10 denied pings', async () => (await denied()) >= before + 10, {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    for (const url of [nm1.url, nm2.url]) {
      const o = (await inspect(url)).Oper;
      assert.deepEqual([o.realization.hostsConcerned, o.realization.hostsRealized], [2, 2], JSON.stringify(o.realization));
      assert.equal(o.ruleCounters.find((c) => c.ruleId === '2')?.hosts, 2, JSON.stringify(o.ruleCounters));
    }
  });

  it('a VLAN network: the destination host traces the packet from the uplink, tagged', async () => {
    const a = await trace(nm1.url, '--from', ctr('v1'), '--to', ctr('v2'), '-l', 'tcp', '-P', '80');
    assert.equal(a.verdict, 'allow', JSON.stringify(a));
    assert.match(a.hops[1]!.flow, /^in_port=\d+,dl_vlan=\d+,tcp,/);
  });
});
