/**
 * Routed endpoints on one host, on a real kernel: a "host" namespace and three containers plumbed
 * by the agent's own code (createVeth, configureRoutedContainer, plumbRoutedHost) and the agent's
 * routed side (RoutedHost: host routes, nftables policy, tc QoS) applied from a HostState.
 * - the first packet goes (no ARP needed: permanent neighbour of 169.254.1.1; the host has no
 *   default route, so proxy ARP could not have answered), ping and TCP between two containers;
 * - another tenant's routed container is dropped both ways; a deny rule cuts TCP/5201 only;
 * - a netprofile's bandwidth holds within ±10% both ways (iperf3), its DSCP is set; a restarted
 *   agent takes away shaping and ifb devices nothing asks for any more (netloom's `nlb` ones only);
 * - an agent restart's re-check (a new RoutedHost) loses no ping of a 10 ms stream and removes a
 *   stale proto-81 route; removal takes route and veth away.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { waitFor } from '../../../lib/clock';
import { run, type CommandRunner } from '../../../lib/exec';
import { createVeth } from '../../../netplugin/plumbing/veth';
import { configureRoutedContainer, plumbRoutedHost, removeRoutedEndpoint } from '../../../netplugin/plumbing/routed-veth';
import { RoutedHost } from '../../../netplugin/routed/routed-host';
import { readEndpointRoutes } from '../../../netplugin/routed/endpoint-routes';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';

const HOST = 'bgpdp-h';
const ctrNs = (c: string) => `bgpdp-${c}`;
const hostRun: CommandRunner = (cmd, args, opts) => run(cmd, args, { ...opts, netns: HOST });
const RATE_KBPS = 20_000;

const CTRS = [
  { id: 'c1', ip: '10.60.0.2', network: 'blue:r', group: 'blue:g1', hostIf: 'nlbgpdpc1' },
  { id: 'c2', ip: '10.60.0.3', network: 'blue:r', group: 'blue:g2', hostIf: 'nlbgpdpc2' },
  { id: 'c3', ip: '10.70.0.2', network: 'red:r', group: '', hostIf: 'nlbgpdpc3' },
];
const records = CTRS.map((c) => ({ endpointId: c.id, hostIf: c.hostIf, ip: c.ip, routed: true }));

function state(rules: Array<Record<string, unknown>> = [], profile = false): HostState {
  return parseHostState({
    global: {},
    tenants: [
      { name: 'blue', ctZone: 1, vrfId: 1 },
      { name: 'red', ctZone: 2, vrfId: 2 },
    ],
    networks: [
      { key: 'blue:r', tenant: 'blue', name: 'r', encap: 'bgp', pktTag: 7, networkId: 0x2000007, subnet: '10.60.0.0/16' },
      { key: 'red:r', tenant: 'red', name: 'r', encap: 'bgp', pktTag: 8, networkId: 0x2000008, subnet: '10.70.0.0/16' },
    ],
    groups: [
      { key: 'blue:g1', tenant: 'blue', name: 'g1', network: 'r', groupId: 1, netProfile: profile ? 'gold' : '' },
      { key: 'blue:g2', tenant: 'blue', name: 'g2', network: 'r', groupId: 2, policies: rules.length > 0 ? ['p'] : [] },
    ],
    policies: [{ key: 'blue:p', tenant: 'blue', name: 'p', rules }],
    profiles: [{ key: 'blue:gold', tenant: 'blue', name: 'gold', bandwidthKbps: RATE_KBPS, burstKb: 0, dscp: 10 }],
    endpoints: CTRS.map((c, i) => ({
      id: c.id,
      network: c.network,
      group: c.group,
      host: 'h1',
      ip: c.ip,
      mac: `02:00:00:00:00:0${i + 1}`,
    })),
  });
}

const ping = (from: string, to: string) => run('ping', ['-c', '1', '-W', '1', to], { netns: ctrNs(from), allowFailure: true });

async function iperf(from: string, to: string, reverse: boolean): Promise<number> {
  const r = await run('iperf3', ['-c', to, '-t', '3', '-J', ...(reverse ? ['-R'] : [])], { netns: ctrNs(from), timeoutMs: 20_000 });
  const j = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } };
  return j.end.sum_received.bits_per_second / 1000;
}

describe('routed endpoints on one host (real kernel)', function () {
  this.timeout(120_000);
  let iperfServer: ReturnType<typeof spawn> | undefined;

  const cleanup = async () => {
    for (const c of CTRS) await run('ip', ['netns', 'del', ctrNs(c.id)], { allowFailure: true });
    await run('ip', ['netns', 'del', HOST], { allowFailure: true });
  };

  before(async () => {
    await cleanup();
    await run('ip', ['netns', 'add', HOST]);
    await hostRun('ip', ['link', 'set', 'lo', 'up']);
    for (const [i, c] of CTRS.entries()) {
      await run('ip', ['netns', 'add', ctrNs(c.id)]);
      const netnsPath = `/run/netns/${ctrNs(c.id)}`;
      await createVeth(
        { hostIf: c.hostIf, ifName: 'eth0', netnsPath, mac: `02:00:00:00:00:0${i + 1}`, mtu: 1500 },
        run,
        `/run/netns/${HOST}`,
      );
      await Promise.all([
        configureRoutedContainer({ netnsPath, ifName: 'eth0', ip: c.ip }, run),
        plumbRoutedHost({ hostIf: c.hostIf, ip: c.ip }, hostRun),
      ]);
    }
    iperfServer = spawn('ip', ['netns', 'exec', ctrNs('c2'), 'iperf3', '-s', '-p', '5201'], { stdio: 'ignore' });
  });

  after(async () => {
    if (iperfServer?.pid !== undefined) iperfServer.kill();
    await cleanup();
  });

  it('the first packet goes, then ping and TCP between two containers through host routes', async () => {
    assert.equal((await ping('c1', '10.60.0.3')).code, 0, 'first ping, no ARP, no host default route');
    assert.equal((await ping('c2', '10.60.0.2')).code, 0);
    const routes = await readEndpointRoutes(hostRun);
    assert.deepEqual(routes.map((r) => r.ip).sort(), ['10.60.0.2', '10.60.0.3', '10.70.0.2']);
    await waitFor('iperf3 listening in c2', async () => (await run('ss', ['-ltn'], { netns: ctrNs('c2') })).stdout.includes(':5201'), {
      timeoutMs: 5000,
    });
    assert.ok((await iperf('c1', '10.60.0.3', false)) > 0, 'TCP flows');
  });

  it('another tenant is dropped both ways; a deny rule cuts only its port', async () => {
    const host = new RoutedHost({ runner: hostRun, hostName: 'h1' });
    await host.apply(state(), records);
    assert.notEqual((await ping('c3', '10.60.0.2')).code, 0, 'red -> blue dropped');
    assert.notEqual((await ping('c1', '10.70.0.2')).code, 0, 'blue -> red dropped');
    assert.equal((await ping('c1', '10.60.0.3')).code, 0, 'blue <-> blue open');
    await host.apply(state([{ ruleId: '1', direction: 'in', priority: 1, action: 'deny', protocol: 'tcp', port: 5201 }]), records);
    const r = await run('iperf3', ['-c', '10.60.0.3', '-t', '1', '--connect-timeout', '1000'], {
      netns: ctrNs('c1'),
      allowFailure: true,
      timeoutMs: 10_000,
    });
    assert.notEqual(r.code, 0, 'tcp/5201 to c2 denied');
    assert.equal((await ping('c1', '10.60.0.3')).code, 0, 'ping still allowed');
    await host.apply(state(), records);
  });

  it("a netprofile's bandwidth holds within ±10% both ways, and its DSCP is set", async () => {
    const host = new RoutedHost({ runner: hostRun, hostName: 'h1' });
    await host.apply(state([], true), records);
    const up = await iperf('c1', '10.60.0.3', false);
    const down = await iperf('c1', '10.60.0.3', true);
    for (const [what, kbps] of [
      ['from c1', up],
      ['to c1', down],
    ] as const)
      assert.ok(Math.abs(kbps - RATE_KBPS) <= RATE_KBPS * 0.1, `${what}: ${Math.round(kbps)} kbit/s, profile ${RATE_KBPS}`);
    const nft = await hostRun('nft', ['list', 'table', 'inet', 'netloom_qos']);
    assert.match(nft.stdout, /iifname "nlbgpdpc1" ip dscp set (10|af11)/);
    await host.apply(state(), records);
    const tc = await hostRun('tc', ['qdisc', 'show', 'dev', 'nlbgpdpc1']);
    assert.ok(!tc.stdout.includes('tbf'), 'profile gone: not shaped');
  });

  it('a restarted agent takes away the shaping of a profile removed while it was down and the ifb of a gone endpoint, no other ifb', async () => {
    await new RoutedHost({ runner: hostRun, hostName: 'h1' }).apply(state([], true), records);
    const ifbs = async () =>
      (JSON.parse((await hostRun('ip', ['-j', 'link', 'show', 'type', 'ifb'])).stdout || '[]') as Array<{ ifname: string }>)
        .map((l) => l.ifname)
        .sort();
    await hostRun('ip', ['link', 'add', 'nlbgone0', 'type', 'ifb']);
    await hostRun('ip', ['link', 'add', 'bgpdpother', 'type', 'ifb']);
    assert.deepEqual(await ifbs(), ['bgpdpother', 'nlbbgpdpc1', 'nlbgone0']);
    // the agent restarts after the profile went: it never shaped anything itself
    await new RoutedHost({ runner: hostRun, hostName: 'h1' }).apply(state(), records);
    assert.deepEqual(await ifbs(), ['bgpdpother'], "netloom's ifbs gone, the other kept");
    const tc = await hostRun('tc', ['qdisc', 'show', 'dev', 'nlbgpdpc1']);
    assert.ok(!tc.stdout.includes('tbf') && !tc.stdout.includes('ingress'), tc.stdout);
    await hostRun('ip', ['link', 'del', 'bgpdpother']);
  });

  it("an agent restart's re-check loses no ping, puts back a missing route and removes a stale one", async () => {
    await hostRun('ip', ['route', 'del', '10.60.0.2/32', 'dev', 'nlbgpdpc1']);
    await hostRun('ip', ['route', 'add', '10.60.9.9/32', 'dev', 'nlbgpdpc3', 'proto', '81', 'scope', 'link']);
    const restarted = new RoutedHost({ runner: hostRun, hostName: 'h1' });
    await restarted.syncRoutes(records);
    assert.deepEqual((await readEndpointRoutes(hostRun)).map((r) => r.ip).sort(), ['10.60.0.2', '10.60.0.3', '10.70.0.2']);
    const stream = run('ping', ['-c', '200', '-i', '0.01', '-W', '1', '10.60.0.3'], {
      netns: ctrNs('c1'),
      allowFailure: true,
      timeoutMs: 30_000,
    });
    for (let i = 0; i < 3; i++) {
      const again = new RoutedHost({ runner: hostRun, hostName: 'h1' });
      await again.apply(state(), records);
    }
    const r = await stream;
    assert.match(r.stdout, /200 packets transmitted, 200 received/);
  });

  it('removal takes the route and the veth away', async () => {
    await removeRoutedEndpoint({ hostIf: 'nlbgpdpc3', ip: '10.70.0.2' }, hostRun);
    assert.ok(!(await readEndpointRoutes(hostRun)).some((r) => r.ip === '10.70.0.2'));
    assert.notEqual((await hostRun('ip', ['link', 'show', 'nlbgpdpc3'], { allowFailure: true })).code, 0);
    await removeRoutedEndpoint({ hostIf: 'nlbgpdpc3', ip: '10.70.0.2' }, hostRun); // idempotent
  });
});
