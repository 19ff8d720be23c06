/**
 * A workload that is not a container on a VLAN network, on real components: a lab of 2 hosts
 * (each with its own OVS and netplugin), etcd and netmaster; containers through the real CNI
 * plugin on host1 and host2; the "bare-metal server" a namespace on the underlay's data bridge
 * whose address sits on a tagged interface (test/support/tagged-station.ts), registered with
 * `netctl endpoint register`. Shown:
 * - the registered address is refused to a container, a registration of a container's address
 *   is refused naming ipAddress, unregistering frees an address;
 * - ping and TCP both ways between the server and containers on both hosts; the server pings
 *   the gateway;
 * - ARP in proxy and flood mode: the server's request for the gateway and for a container is
 *   answered exactly once, the containers resolve the server;
 * - `netctl trace` to and from the server gives the verdict;
 * - a rule denying the server by its group, then by its IP, holds (ping and TCP to both hosts'
 *   containers; netctl trace names the deny); removing it lets it through;
 * - routing mode: the server and a container of a VXLAN network of the tenant on another host
 *   reach each other through the gateway (ping, TCP both ways), and a container of another VLAN
 *   network through a host that routes it back out of the uplink (ping both ways).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { planLab } from '../../../deploy/lab/plan';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { labCli, netctlCli } from '../../support/lab-cli';
import { ProbeAgent } from '../../support/policy-probe';
import { TaggedStation } from '../../support/tagged-station';
import { pingEventually, pingOk, tcpTransfer } from '../../support/traffic';

const LAB = 'tbm';
const lab = labCli(LAB);
const T = 'bm';
const VLAN = 300;
const GW = '10.77.0.1';
const SERVER = { ip: '10.77.0.50', mac: '02:00:00:77:00:50' };
const SPARE = { ip: '10.77.0.60', mac: '02:00:00:77:00:60' };
const C1 = '10.77.0.11';
const C2 = '10.77.0.12';
const PROBE_PORT = 8080;
const X1 = '10.78.0.11';
const Y2 = '10.79.0.12';

/**
 * ARP replies the station's interface receives while `trigger` runs: tcpdump is started (and
 * listening) first and stopped once the trigger is done (a duplicate answer from a second host
 * arrives with the first, long before a ping round trip ends).
 */
async function arpRepliesDuring(netns: string, trigger: () => Promise<unknown>): Promise<string[]> {
  const dump = spawn('ip', ['netns', 'exec', netns, 'timeout', '20', 'tcpdump', '-l', '-n', '-e', '-i', TaggedStation.IFACE, 'arp'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let listening = false;
  createInterface({ input: dump.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: dump.stderr }).on('line', (l) => (listening ||= /listening on/.test(l)));
  const exited = new Promise<void>((resolve) => dump.once('exit', () => resolve()));
  try {
    await waitFor('tcpdump to listen', () => listening, { timeoutMs: 10_000 });
    await trigger();
  } finally {
    dump.kill('SIGTERM');
    await exited;
  }
  return lines.filter((l) => /Reply/.test(l));
}

describe('bare metal on a VLAN network (lab: 2 hosts, real OVS, netmaster, netplugin, CNI)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1 });
  const netctl = netctlCli(plan.netmasters[0]!.url);
  const ns = (c: string) => `${plan.prefix}c-${c}`;
  let station: TaggedStation | undefined;
  const probes = new Map<string, ProbeAgent>();

  const stationSpec = {
    netns: `${plan.prefix}metal`,
    underlayNetns: plan.underlayNetns,
    bridge: 'br-data',
    vlan: VLAN,
    cidr: `${SERVER.ip}/24`,
    mac: SERVER.mac,
    dir: `${plan.dir}/metal-ovs`,
    gateway: GW,
  };

  /** `netctl trace` (ICMP) between two endpoints of the tenant: its verdict. */
  async function traceVerdict(from: string, to: string): Promise<string> {
    const r = await netctl(['trace', '-t', T, '--from', from, '--to', to, '-l', 'icmp', '-o', 'json']);
    return (JSON.parse(r.stdout) as { verdict: string }).verdict;
  }

  before(async function () {
    this.timeout(300_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2']);
    await netctl(['tenant', 'create', T]);
    await netctl(['net', 'create', '-t', T, '-e', 'vlan', '-p', String(VLAN), '-s', '10.77.0.0/24', '-g', GW, 'vl']);
    await netctl(['policy', 'create', '-t', T, 'pol']);
    await netctl(['group', 'create', '-t', T, '-p', 'pol', 'vl', 'app']);
    await netctl(['group', 'create', '-t', T, 'vl', 'metal']);
    await netctl(['endpoint', 'register', '-t', T, '-n', 'vl', '-g', 'metal', '--ip', SERVER.ip, '--mac', SERVER.mac, 'server1']);
    await lab(['run', 'host1', 'c1', '--tenant', T, '--network', 'vl', '--group', 'app', '--ip', C1]);
    await lab(['run', 'host2', 'c2', '--tenant', T, '--network', 'vl', '--group', 'app', '--ip', C2]);
    station = await TaggedStation.start(stationSpec);
    for (const [name, netns] of [
      ['server', stationSpec.netns],
      ['c1', ns('c1')],
      ['c2', ns('c2')],
    ] as const)
      probes.set(name, await ProbeAgent.start(netns, name, [PROBE_PORT], []));
  });

  after(async function () {
    this.timeout(180_000);
    for (const p of probes.values()) await p.stop();
    await station?.stop();
    // also a station left by a start that failed half way
    await TaggedStation.cleanup(stationSpec);
    await lab(['down'], true, 120_000);
  });

  it('the registered address is never allocated again; a taken one cannot be registered; unregistering frees one', async () => {
    const taken = await lab(['run', 'host1', 'c3', '--tenant', T, '--network', 'vl', '--ip', SERVER.ip], true);
    assert.notEqual(taken.code, 0, 'a container cannot have the server address');
    assert.match(taken.stdout + taken.stderr, /10\.77\.0\.50.*(in use|already)/);
    await lab(['rm', 'c3'], true);
    const dup = await netctl(['endpoint', 'register', '-t', T, '-n', 'vl', '--ip', C1, '--mac', SPARE.mac, 'dup'], true);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /ipAddress/);
    assert.match(dup.stderr, /already allocated/);
    // a second registration, then unregistered: its address goes to a container
    await netctl(['endpoint', 'register', '-t', T, '-n', 'vl', '--ip', SPARE.ip, '--mac', SPARE.mac, 'spare']);
    const refused = await lab(['run', 'host2', 'c4', '--tenant', T, '--network', 'vl', '--ip', SPARE.ip], true);
    assert.notEqual(refused.code, 0);
    await lab(['rm', 'c4'], true);
    await netctl(['endpoint', 'unregister', '-t', T, 'spare']);
    const got = await lab(['run', 'host2', 'c4', '--tenant', T, '--network', 'vl', '--ip', SPARE.ip]);
    assert.equal(got.stdout.trim().split('\t')[2], SPARE.ip);
    await lab(['rm', 'c4']);
    const listed = await netctl(['endpoint', 'registered', '-t', T, '-q']);
    assert.equal(listed.stdout, 'server1\n');
  });

  it('the server and containers on both hosts ping each other both ways; the server pings its gateway', async () => {
    assert.ok(await pingEventually(stationSpec.netns, C1), 'server -> c1 (host1)');
    assert.ok(await pingEventually(stationSpec.netns, C2), 'server -> c2 (host2)');
    assert.ok(await pingOk(ns('c1'), SERVER.ip), 'c1 -> server');
    assert.ok(await pingOk(ns('c2'), SERVER.ip), 'c2 -> server');
    assert.ok(await pingEventually(stationSpec.netns, GW), 'server -> gateway');
    // netctl trace names it: to it (delivered out of the uplink) and from it (arriving tagged)
    assert.equal(await traceVerdict(C2, 'server1'), 'allow');
    assert.equal(await traceVerdict(SERVER.ip, C1), 'allow');
  });

  it('TCP both ways between the server and containers on both hosts', async () => {
    for (const [client, server, ip] of [
      [stationSpec.netns, ns('c1'), C1],
      [ns('c2'), stationSpec.netns, SERVER.ip],
      [ns('c1'), stationSpec.netns, SERVER.ip],
      [stationSpec.netns, ns('c2'), C2],
    ] as const) {
      const r = await tcpTransfer(client, server, ip, { seconds: 1, port: 5301 });
      assert.ok(r.ok, `${client} -> ${ip}: ${r.error ?? ''}`);
    }
  });

  for (const mode of ['flood', 'proxy'] as const) {
    it(`${mode} ARP: the server's requests for the gateway and for a container are answered exactly once; containers resolve it`, async () => {
      await netctl(['global', 'set', '-a', mode]);
      for (const target of [GW, C2, C1]) {
        let replies: string[] = [];
        await waitFor(
          `${mode}: one ARP reply for ${target}`,
          async () => {
            await run('ip', ['-n', stationSpec.netns, 'neigh', 'flush', 'dev', TaggedStation.IFACE]);
            replies = await arpRepliesDuring(stationSpec.netns, () => pingOk(stationSpec.netns, target, 3));
            return replies.filter((l) => l.includes(`${target} is-at`)).length === 1;
          },
          { timeoutMs: 20_000, intervalMs: 500 },
        ).catch(() => assert.fail(`${mode}: ARP replies for ${target}:\n${replies.join('\n')}`));
      }
      for (const c of ['c1', 'c2']) {
        await run('ip', ['-n', ns(c), 'neigh', 'flush', 'dev', 'eth0'], { allowFailure: true });
        assert.ok(await pingEventually(ns(c), SERVER.ip), `${mode}: ${c} resolves and reaches the server`);
      }
    });
  }

  for (const [what, args] of [
    ['as a member of its group', ['-g', 'metal']],
    ['by its IP', ['-i', SERVER.ip]],
  ] as const) {
    it(`a rule denying the server ${what} holds on both hosts (ping and TCP); removing it lets it through`, async () => {
      const toContainers = [C1, C2].flatMap((ip) => [
        { ip, probe: 'ping' },
        { ip, probe: `tcp/${PROBE_PORT}` },
      ]);
      const passed = async () => (await probes.get('server')!.probe(toContainers)).map((r) => r.ok);
      assert.deepEqual(await passed(), [true, true, true, true], 'open before the rule');
      await netctl(['policy', 'rule-add', '-t', T, '-d', 'in', '-p', '10', '-j', 'deny', ...args, 'pol', '1']);
      try {
        await waitFor('the deny to hold', async () => (await passed()).every((ok) => !ok), { timeoutMs: 20_000, intervalMs: 200 });
        assert.equal(await traceVerdict('server1', C2), 'deny', 'netctl trace names the deny');
        // containers of the group still reach each other
        const [peer] = await probes.get('c1')!.probe([{ ip: C2, probe: `tcp/${PROBE_PORT}` }]);
        assert.ok(peer?.ok, 'c1 -> c2 still allowed');
      } finally {
        await netctl(['policy', 'rule-rm', '-t', T, 'pol', '1']);
      }
      await waitFor('the server to get through again', async () => (await passed()).every((ok) => ok), {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
    });
  }

  it('routing mode: the server reaches containers of other networks (VXLAN, another VLAN) through its gateway, both ways', async function () {
    this.timeout(180_000);
    // fwdMode changes only without networks: take the bridge-mode setup down, keep the station
    for (const c of ['c1', 'c2']) await probes.get(c)?.stop();
    probes.delete('c1');
    probes.delete('c2');
    await lab(['rm', 'c1', 'c2']);
    await netctl(['endpoint', 'unregister', '-t', T, 'server1']);
    for (const g of ['app', 'metal']) await netctl(['group', 'rm', '-t', T, g]);
    await netctl(['policy', 'rm', '-t', T, 'pol']);
    await netctl(['net', 'rm', '-t', T, 'vl']);
    await netctl(['global', 'set', '-b', 'routing']);
    await netctl(['net', 'create', '-t', T, '-e', 'vlan', '-p', String(VLAN), '-s', '10.77.0.0/24', '-g', GW, 'vl']);
    await netctl(['net', 'create', '-t', T, '-e', 'vxlan', '-s', '10.78.0.0/24', '-g', '10.78.0.1', 'vx']);
    await netctl(['net', 'create', '-t', T, '-e', 'vlan', '-p', String(VLAN + 1), '-s', '10.79.0.0/24', '-g', '10.79.0.1', 'vl2']);
    await netctl(['endpoint', 'register', '-t', T, '-n', 'vl', '--ip', SERVER.ip, '--mac', SERVER.mac, 'server1']);
    await lab(['run', 'host2', 'c2', '--tenant', T, '--network', 'vl', '--ip', C2]);
    await lab(['run', 'host1', 'x1', '--tenant', T, '--network', 'vx', '--ip', X1]);
    await lab(['run', 'host2', 'y2', '--tenant', T, '--network', 'vl2', '--ip', Y2]);
    // c2 came back with another MAC: the server forgets the old one (as a gratuitous ARP would make it)
    await run('ip', ['-n', stationSpec.netns, 'neigh', 'flush', 'dev', TaggedStation.IFACE]);
    assert.ok(await pingEventually(stationSpec.netns, C2), 'server -> c2 (same network, host2)');
    assert.ok(await pingEventually(stationSpec.netns, X1, 10), 'server -> x1 (VXLAN network on host1, routed)');
    assert.ok(await pingOk(ns('x1'), SERVER.ip), 'x1 -> server (routed on host1, out of its uplink)');
    assert.ok(await pingOk(stationSpec.netns, X1), 'server -> x1 again (the VLAN now knows the gateway MAC at host1)');
    assert.ok(await pingEventually(stationSpec.netns, GW), 'server -> gateway');
    // x1's packet to the server leaves host1 from the gateway MAC, so the VLAN learns it there;
    // then the server's packet to y2 (another VLAN network, on host2) is routed on host1 and
    // goes back out of the uplink it came in by (the hairpin): y2 answers only if it does
    assert.ok(await pingOk(ns('x1'), SERVER.ip, 1));
    assert.ok(await pingOk(stationSpec.netns, Y2, 1), 'server -> y2 (VLAN 301 on host2, routed on host1)');
    assert.ok(await pingOk(ns('y2'), SERVER.ip), 'y2 -> server');
    for (const [client, server, ip] of [
      [stationSpec.netns, ns('x1'), X1],
      [ns('x1'), stationSpec.netns, SERVER.ip],
    ] as const) {
      const r = await tcpTransfer(client, server, ip, { seconds: 1, port: 5303 });
      assert.ok(r.ok, `${client} -> ${ip}: ${r.error ?? ''}`);
    }
  });
});
