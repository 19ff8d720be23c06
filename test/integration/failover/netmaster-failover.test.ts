/**
 * An agent fails over between netmaster replicas (lab `tfo`: 2 hosts, 2 replicas; every agent is
 * given both, its own first: host1 follows netmaster1). With the replica host1 follows stopped,
 * host1's agent moves to the other within seconds: a container made meanwhile on host2 (through
 * the other replica) is reachable from host1 (ping over VXLAN), and a CNI ADD on host1 succeeds
 * while its replica is still down. The replica is started again at the end. Real etcd,
 * netmaster, OVS.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { run } from '../../../lib/exec';
import type { LabStatus } from '../../../deploy/lab/lab';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { pingOk } from '../../support/traffic';
import { labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tfo';
const lab = labCli(LAB);

/** The replicas host's agent has logged following, in order. */
function followed(logPath: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.includes('following netmaster replica')) continue;
    try {
      out.push(String((JSON.parse(line) as { replica?: string }).replica));
    } catch {
      // not a JSON line
    }
  }
  return out;
}

describe('agent failover between netmaster replicas (lab, 2 replicas)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 2 });
  const [nm1, nm2] = [plan.netmasters[0]!, plan.netmasters[1]!];
  const ns = (c: string) => `${plan.prefix}c-${c}`;
  const ips = new Map<string, string>();
  const ip = (c: string) => ips.get(c) ?? assert.fail(`no address for ${c}`);
  async function runCtr(host: string, name: string): Promise<string> {
    const r = await lab(['run', host, name, '--tenant', 'blue', '--network', 'vx']);
    const addr = r.stdout.trim().split('\t')[2] ?? '';
    assert.match(addr, /^10\.75\.2\.\d+$/);
    ips.set(name, addr);
    return addr;
  }
  /** the replica host1 follows before the outage (normally netmaster1), the one stopped, the other */
  let following = '';
  let down = nm1;
  let up = nm2;
  let stopped = false;

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true);
    await lab(['up', '--hosts', '2', '--etcd-members', '1', '--netmasters', '2']);
    const netctl = netctlCli(nm2.url);
    await netctl(['tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.75.2.0/24', '-g', '10.75.2.254', 'vx']);
    await runCtr('host1', 'a1');
    await runCtr('host2', 'b1');
  });

  after(async function () {
    this.timeout(120_000);
    if (stopped) await lab(['start', 'netmaster', down.name], true);
    await lab(['down'], true, 120_000);
  });

  it('every agent is given both replicas, its own first, and follows one', async () => {
    const st = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    const replicasOf = (i: number) => {
      const args = readFileSync(`/proc/${st.hosts[i]!.agent!.pid!}/cmdline`, 'utf8').split('\0');
      return args[args.indexOf('--netmaster-grpc') + 1];
    };
    assert.equal(replicasOf(0), `${nm1.grpcListen},${nm2.grpcListen}`);
    assert.equal(replicasOf(1), `${nm2.grpcListen},${nm1.grpcListen}`);
    // normally its own (the first); another only if the own one failed while the lab came up
    following = followed(agentPaths(plan, 'host1').log).at(-1) ?? '';
    assert.ok([nm1.grpcListen, nm2.grpcListen].includes(following), `host1 follows a replica (${following})`);
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++) ok = await pingOk(ns('a1'), ip('b1'), 1);
    assert.ok(ok, 'a1 (host1) reaches b1 (host2)');
  });

  it("with host1's replica stopped, a container made on host2 meanwhile is reachable from host1 within seconds", async () => {
    [down, up] = following === nm2.grpcListen ? [nm2, nm1] : [nm1, nm2];
    await lab(['stop', 'netmaster', down.name]);
    stopped = true;
    const t0 = Date.now();
    await runCtr('host2', 'b2'); // through host2's agent and the replica still up
    let reached = false;
    while (!reached && Date.now() - t0 < 15_000) reached = await pingOk(ns('a1'), ip('b2'), 1);
    const ms = Date.now() - t0;
    assert.ok(reached, `a1 (host1) reaches b2 (made on host2 while ${down.name} is down)`);
    assert.ok(ms < 10_000, `reachable ${ms} ms after the stop`);
    assert.equal(followed(agentPaths(plan, 'host1').log).at(-1), up.grpcListen, `host1 moved to ${up.name}`);
    // and its metrics say so
    const scrape = (await run('curl', ['-s', `http://${agentPaths(plan, 'host1').metricsListen}/metrics`], { netns: plan.hosts[0]!.netns }))
      .stdout;
    assert.match(scrape, new RegExp(`netplugin_netmaster_replica\\{address="${up.grpcListen.replace(/\./g, '\\.')}"\\} 1`));
    assert.doesNotMatch(scrape, new RegExp(`address="${down.grpcListen.replace(/\./g, '\\.')}"`));
    assert.match(scrape, /netplugin_netmaster_failovers [1-9]/);
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    assert.ok(s.hosts.find((h) => h.name === 'host1')?.agent?.ready, 'host1 agent ready (control plane connected) without its replica');
  });

  it('a CNI ADD on host1 succeeds while its first replica is still down', async () => {
    await runCtr('host1', 'a2');
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++) ok = await pingOk(ns('a2'), ip('b1'), 1);
    assert.ok(ok, 'a2 (host1, added during the outage) reaches b1 (host2)');
    assert.ok(await pingOk(ns('b2'), ip('a2'), 2), 'b2 reaches a2');
    await lab(['rm', 'a2']); // CNI DEL through the other replica too
  });

  it('the stopped replica back: agents keep following, changes keep arriving', async () => {
    await lab(['start', 'netmaster', down.name]);
    stopped = false;
    await runCtr('host2', 'b3');
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) ok = await pingOk(ns('a1'), ip('b3'), 1);
    assert.ok(ok, `a1 reaches b3 (made after ${down.name} came back)`);
  });
});
