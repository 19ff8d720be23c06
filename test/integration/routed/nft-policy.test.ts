/**
 * The routed endpoints' nftables policy on a real kernel. Three "host" namespaces, each with its
 * containers routed as the BGP design has it (veth host side in the host, a /32 route `proto 81`
 * to it, proxy ARP answering the containers' link-local gateway 169.254.1.1), the hosts joined
 * pairwise with /32 routes `proto 80` to each other's endpoints (what BGP would install). Each host
 * loads its own table through the applier (RoutedPolicyApplier, `nft -f` in its namespace) from
 * the policy lib/policy compiles for its endpoints.
 * - Every case of test/support/policy-cases.ts (the OVS backend's table: same topology, endpoints
 *   on the same three hosts): its whole matrix with real probes (ping, TCP connect, UDP
 *   request/reply), each cell expected as lib/policy/evaluate.ts decides it (and as the table says).
 * - A second tenant's endpoints never reach the first's, nor the other way, whatever the rules.
 * - With no rule that can deny, a host's table keeps no connection state (no conntrack entry),
 *   and still keeps tenants and addresses apart; the host's first policy that can deny resets
 *   the connections opened before it (conntrack never saw which end opened them), and its table
 *   stays stateful after that policy is gone.
 * - On a host that enforces a policy that can deny: an established TCP connection newly denied
 *   stops in both directions (its conntrack entry is marked DENIED on the destination's host); an
 *   allowed one keeps flowing across rule changes (a 10 ms ping stream loses nothing, the TCP
 *   connection is judged again and committed with the new generation).
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run, type CommandRunner } from '../../../lib/exec';
import { compileContiv } from '../../../lib/policy/contiv';
import { passes, type Packet } from '../../../lib/policy/evaluate';
import { OPEN, type EndpointPolicy } from '../../../lib/policy/model';
import { RoutedPolicyApplier } from '../../../netplugin/routed/policy-applier';
import type { RoutedEndpoint, RoutedPolicyInput } from '../../../netplugin/routed/policy-model';
import { loadNftTable } from '../../../netplugin/hostnet/nft-table';
import { GENERATION_MASK, GENERATION_SHIFT, MARK_DENIED } from '../../../netplugin/routed/policy-nft';
import { startCapture } from '../../support/capture';
import { DuplexStream } from '../../support/duplex-stream';
import { RoutedNamespaces } from '../../support/routed-namespaces';
import { CASES, cellName, expectedMatrix, TOPOLOGY, type Cell, type Probe, type RuleSpec } from '../../support/policy-cases';
import { caseState } from '../../support/policy-case-state';
import { ProbeAgent } from '../../support/policy-probe';

const PREFIX = 'nftp';
const TCP_PORTS = [80, 5432];
const UDP_PORTS = [53, 5432];

/** A second tenant, apart from the table's: one endpoint on host1, one on host2. */
const OTHER = {
  tenant: 'tq',
  subnet: '10.81.1.0/24',
  endpoints: [
    { name: 'q1', host: 'host1', ip: '10.81.1.11' },
    { name: 'q2', host: 'host2', ip: '10.81.1.12' },
  ],
};

interface Ctr {
  name: string;
  host: string;
  ip: string;
}
const CONTAINERS: Ctr[] = [...TOPOLOGY.endpoints, ...OTHER.endpoints];
const world = new RoutedNamespaces(PREFIX, TOPOLOGY.hosts, CONTAINERS);
const hostNs = (h: string) => world.hostNs(h);
const ctrNs = (c: string) => world.ctrNs(c);
const hostIf = (c: string) => world.hostIf(c);
const TENANT_SUBNETS = [
  ...TOPOLOGY.networks.map((n) => ({ tenant: TOPOLOGY.tenant, subnet: n.subnet })),
  { tenant: OTHER.tenant, subnet: OTHER.subnet },
];

const sh = (netns: string, cmd: string, args: string[]) => run(cmd, args, { netns });

/** A rule that can deny on every host (pshared: web and app) and concerns none of the tests' traffic: the tables keep state. */
const BASELINE: RuleSpec[] = [{ policy: 'pshared', ruleId: 'base', direction: 'in', action: 'deny', protocol: 'udp', port: 9 }];

function packetOf(from: Ctr, to: Ctr, probe: Probe): Packet {
  if (probe === 'ping') return { src: from.ip, dst: to.ip, protocol: 'icmp' };
  const [proto, port] = probe.split('/') as ['tcp' | 'udp', string];
  return { src: from.ip, dst: to.ip, protocol: proto, port: Number(port) };
}

describe('routed policy on nftables (3 host namespaces, real kernel)', function () {
  this.timeout(120_000);
  const appliers = world.appliers;
  const agents = new Map<string, ProbeAgent>();
  const streams: DuplexStream[] = [];
  /** every endpoint's compiled policy, as its host compiled it for the case in force */
  let policies = new Map<string, EndpointPolicy>();

  /** Each host's input for the rules: the policy lib/policy compiles for its endpoints (tq's open). */
  /** Each host's input for the rules; `oneTenant`: the table's tenant alone (tq's endpoints and subnet left out). */
  function hostInputs(rules: RuleSpec[], oneTenant = false): Map<string, RoutedPolicyInput> {
    const state = caseState(TOPOLOGY, { name: 'now', rules, expect: [] });
    const out = new Map<string, RoutedPolicyInput>();
    for (const h of TOPOLOGY.hosts) {
      const eps: RoutedEndpoint[] = compileContiv(state, h).map((p) => ({ hostIf: hostIf(p.endpoint), policy: p }));
      for (const q of oneTenant ? [] : OTHER.endpoints.filter((x) => x.host === h))
        eps.push({ hostIf: hostIf(q.name), policy: { endpoint: q.name, ip: q.ip, tenant: OTHER.tenant, ingress: OPEN, egress: OPEN } });
      out.set(h, { endpoints: eps, tenantSubnets: oneTenant ? TENANT_SUBNETS.filter((t) => t.tenant !== OTHER.tenant) : TENANT_SUBNETS });
    }
    return out;
  }

  /** Load every host's table for the rules; the generation of each host. */
  async function applyRules(rules: RuleSpec[], oneTenant = false): Promise<number[]> {
    policies = new Map();
    const generations: number[] = [];
    for (const [h, input] of hostInputs(rules, oneTenant)) {
      for (const e of input.endpoints) policies.set(e.policy.endpoint, e.policy);
      generations.push((await appliers.get(h)!.apply(input)).generation);
    }
    return generations;
  }

  /** Probe every cell; a cell expected to pass that failed is probed once more (a first ARP, a slow start). */
  async function probeCells(cells: Array<{ from: Ctr; to: Ctr; probe: Probe; want: boolean }>): Promise<string[]> {
    const byFrom = new Map<string, typeof cells>();
    for (const x of cells) byFrom.set(x.from.name, [...(byFrom.get(x.from.name) ?? []), x]);
    const wrong: string[] = [];
    await Promise.all(
      [...byFrom].map(async ([from, list]) => {
        const agent = agents.get(from)!;
        let results = await agent.probe(
          list.map((x) => ({ ip: x.to.ip, probe: x.probe })),
          800,
        );
        const retry = list.map((x, i) => (x.want && !results[i]!.ok ? i : -1)).filter((i) => i >= 0);
        if (retry.length > 0) {
          const again = await agent.probe(
            retry.map((i) => ({ ip: list[i]!.to.ip, probe: list[i]!.probe })),
            1500,
          );
          results = results.map((r, i) => (retry.includes(i) ? again[retry.indexOf(i)]! : r));
        }
        list.forEach((x, i) => {
          const r = results[i]!;
          if (r.ok !== x.want)
            wrong.push(`${x.from.name} -> ${x.to.name} ${x.probe}: want ${x.want ? 'pass' : 'deny'}, got ${r.ok ? 'pass' : 'deny'}`);
          else if (r.ok && x.probe !== 'ping' && r.who !== x.to.name)
            wrong.push(`${x.from.name} -> ${x.to.name} ${x.probe}: answered by ${r.who}`);
        });
      }),
    );
    return wrong.sort();
  }

  /** The conntrack entries (text lines) of a host that go to `port`. */
  async function conntrack(host: string, port: number): Promise<string[]> {
    const text = (await sh(hostNs(host), 'cat', ['/proc/net/nf_conntrack'])).stdout;
    return text.split('\n').filter((l) => l.includes(` dport=${port} `) && l.includes('tcp'));
  }
  const markOf = (line: string) => Number(/ mark=(\d+)/.exec(line)?.[1] ?? NaN);

  before(async function () {
    this.timeout(120_000);
    await cleanUp();
    await world.setUp();
    await applyRules([]);
    for (const c of CONTAINERS) agents.set(c.name, await ProbeAgent.start(ctrNs(c.name), c.name, TCP_PORTS, UDP_PORTS));
    // routed end to end: the first container reaches the last across hosts
    await waitFor('routing across hosts', async () => (await agents.get('w1')!.probe([{ ip: '10.80.2.33', probe: 'ping' }], 500))[0]!.ok, {
      timeoutMs: 15_000,
    });
  });

  async function cleanUp(): Promise<void> {
    for (const s of streams.splice(0)) await s.stop();
    for (const a of agents.values()) await a.stop();
    agents.clear();
    await world.cleanUp();
  }

  after(async function () {
    this.timeout(60_000);
    await cleanUp();
  });

  for (const c of CASES) {
    it(`case: ${c.name}`, async () => {
      await applyRules(c.rules);
      const table = new Map(expectedMatrix(TOPOLOGY, c).map((x: Cell) => [cellName(x), x.verdict]));
      const cells = [];
      for (const from of TOPOLOGY.endpoints)
        for (const to of TOPOLOGY.endpoints) {
          if (from === to) continue;
          for (const probe of TOPOLOGY.probes) {
            const want =
              passes(packetOf(from, to, probe), policies.get(from.name)!.egress, policies.get(to.name)!.ingress).verdict === 'allow';
            assert.equal(
              want,
              table.get(cellName({ from, to, probe })) === 'pass',
              `lib/policy and the table agree on ${cellName({ from, to, probe })}`,
            );
            cells.push({ from, to, probe, want });
          }
        }
      assert.deepEqual(await probeCells(cells), []);
    });
  }

  it('two tenants apart: tq and tp never reach each other (with rules that would allow it), tq reaches tq across hosts', async () => {
    // an allow of everything at the highest priority on every tp group: the tenant guard comes first
    await applyRules(
      TOPOLOGY.policies.flatMap((p) => [
        { policy: p, ruleId: 'in', direction: 'in' as const, action: 'allow' as const, priority: 100 },
        { policy: p, ruleId: 'out', direction: 'out' as const, action: 'allow' as const, priority: 100 },
      ]),
    );
    const cells = [];
    for (const from of CONTAINERS)
      for (const to of CONTAINERS) {
        if (from === to) continue;
        const tq = (x: Ctr) => OTHER.endpoints.some((q) => q.name === x.name);
        if (!tq(from) && !tq(to)) continue;
        for (const probe of ['ping', 'tcp/80', 'udp/53'] as Probe[]) cells.push({ from, to, probe, want: tq(from) === tq(to) });
      }
    assert.deepEqual(await probeCells(cells), []);
  });

  it('no rule that can deny: no connection state, tenants and addresses still apart; the first policy that can deny resets connections opened before; the table stays stateful', async () => {
    // afresh: no table on any host, then the open policy, first of the table's tenant alone
    for (const a of appliers.values()) await a.apply({ endpoints: [], tenantSubnets: TENANT_SUBNETS });
    const listed = async (h: string) => (await sh(hostNs(h), 'nft', ['list', 'table', 'inet', 'netloom_policy'])).stdout;
    const [w1, d2, q1, q2] = ['w1', 'd2', 'q1', 'q2'].map((n) => CONTAINERS.find((c) => c.name === n)!) as [Ctr, Ctr, Ctr, Ctr];
    // w1 sending as an address of its tenant that is not its own: d2 sees nothing (its own address: seen)
    const seenAtD2 = async (src: string) => {
      const cap = await startCapture(ctrNs('d2'), ['-l', '-n', '-i', 'eth0', '-c', '1', 'icmp', 'and', 'src', src], { maxSeconds: 3 });
      await run('ping', ['-c', '4', '-i', '0.2', '-W', '1', '-I', src, d2.ip], { netns: ctrNs('w1'), allowFailure: true });
      return (await cap.output).includes(`${src} >`);
    };
    await sh(ctrNs('w1'), 'ip', ['addr', 'add', '10.80.1.99/32', 'dev', 'eth0']);
    try {
      for (const oneTenant of [true, false]) {
        await applyRules([], oneTenant);
        for (const h of TOPOLOGY.hosts) {
          const t = await listed(h);
          assert.doesNotMatch(t, /\bct\b/, `${h}: no ct expression`);
          assert.equal(t.includes('(one tenant)'), oneTenant, `${h}: the one-tenant chain only with one tenant`);
        }
        assert.deepEqual(await probeCells([{ from: w1, to: d2, probe: 'tcp/80', want: true }]), []);
        assert.equal(await seenAtD2('10.80.1.99'), false, 'spoofed source dropped');
        assert.equal(await seenAtD2(w1.ip), true, 'own source passes (the capture works)');
      }
    } finally {
      await sh(ctrNs('w1'), 'ip', ['addr', 'del', '10.80.1.99/32', 'dev', 'eth0']);
    }
    const cells = [
      { from: q1, to: q2, probe: 'tcp/80' as Probe, want: true },
      { from: q1, to: d2, probe: 'tcp/80' as Probe, want: false },
      { from: w1, to: q2, probe: 'ping' as Probe, want: false },
      { from: q2, to: w1, probe: 'udp/53' as Probe, want: false },
    ];
    assert.deepEqual(await probeCells(cells), []);
    // a connection conntrack does not see
    const server = DuplexStream.serve(ctrNs('d2'), 7002, 20);
    streams.push(server);
    await waitFor('server listening', () => server.ready);
    const client = DuplexStream.client(ctrNs('w1'), d2.ip, 7002, 20);
    streams.push(client);
    await waitFor('both ends hear each other', () => client.received >= 10 && server.received >= 10);
    assert.deepEqual(await conntrack('host2', 7002), [], 'no conntrack entry on the stateless host');
    // d2 gets a policy that can deny (not this port): its host turns stateful; the connection, opened unseen, is reset at both ends
    await applyRules([{ policy: 'pdb', ruleId: 'cut', direction: 'in', action: 'deny', protocol: 'udp', port: 9 }]);
    assert.match(await listed('host2'), /\bct state\b/);
    assert.match(await listed('host1'), /stateless/, 'host1 has no endpoint whose policy can deny');
    await waitFor('both ends reset', () => client.closed !== undefined && server.closed !== undefined, { timeoutMs: 5000 });
    assert.match(`${client.closed} ${server.closed}`, /ECONNRESET.*ECONNRESET/);
    // a new connection is judged and tracked
    const again = DuplexStream.client(ctrNs('w1'), d2.ip, 7002, 20);
    streams.push(again);
    await waitFor('a new connection flows', () => again.received >= 3);
    assert.notDeepEqual(await conntrack('host2', 7002), [], 'tracked');
    // the policy gone, host2's table keeps state (entries it holds stay true)
    await applyRules([]);
    assert.match(await listed('host2'), /\bct state\b/);
    assert.doesNotMatch(await listed('host2'), /stateless/);
  });

  it('an established TCP connection newly denied stops in both directions; its conntrack entry is marked DENIED', async () => {
    await applyRules(BASELINE);
    const server = DuplexStream.serve(ctrNs('d2'), 7000, 20);
    streams.push(server);
    await waitFor('server listening', () => server.ready);
    const client = DuplexStream.client(ctrNs('w1'), '10.80.1.22', 7000, 20);
    streams.push(client);
    await waitFor('both ends hear each other', () => client.received >= 10 && server.received >= 10);
    // d2 denies tcp/7000 from anyone: the client's next line is judged and dropped, the connection marked
    await applyRules([...BASELINE, { policy: 'pdb', ruleId: 'cut', direction: 'in', action: 'deny', protocol: 'tcp', port: 7000 }]);
    const denied = await waitFor(
      'the connection marked DENIED on d2 host',
      async () => (await conntrack('host2', 7000)).find((l) => (markOf(l) & MARK_DENIED) !== 0),
      { timeoutMs: 5000, intervalMs: 20 },
    );
    assert.ok(denied);
    const [toServer, toClient] = [server.received, client.received];
    // a window in which each end writes 50 more lines: none may arrive (the server's are replies, dropped by the DENIED mark)
    const [s0, c0] = [server.sent, client.sent];
    await waitFor('50 more lines written by each end', () => server.sent >= s0 + 50 && client.sent >= c0 + 50);
    assert.equal(server.received, toServer, 'client -> server cut');
    assert.equal(client.received, toClient, 'server -> client (reply direction) cut');
    // removing the deny lets a new connection through
    await applyRules(BASELINE);
    const again = DuplexStream.client(ctrNs('w1'), '10.80.1.22', 7000, 20);
    streams.push(again);
    await waitFor('a new connection flows', () => again.received >= 3);
  });

  it('an allowed connection is untouched across rule changes: a 10 ms ping stream loses nothing, TCP keeps flowing under the new generation', async () => {
    const [g0] = await applyRules(BASELINE);
    const server = DuplexStream.serve(ctrNs('a3'), 7001, 10);
    streams.push(server);
    await waitFor('server listening', () => server.ready);
    const client = DuplexStream.client(ctrNs('w1'), '10.80.2.33', 7001, 10);
    streams.push(client);
    await waitFor('flowing', () => client.received >= 10 && server.received >= 10);
    const ping = run('ping', ['-n', '-q', '-i', '0.01', '-c', '300', '10.80.2.33'], { netns: ctrNs('w1'), allowFailure: true });
    // rule changes that concern other traffic of w1 (each bumps host1's generation)
    const generations: number[] = [];
    for (const port of [5432, 5433, 5434]) {
      // spread over the ping stream: 40 lines (~400 ms) between changes
      const before = client.received;
      await waitFor('the stream flows before the change', () => client.received >= before + 40, { timeoutMs: 3000, intervalMs: 10 });
      generations.push(
        (
          await applyRules([
            ...BASELINE,
            { policy: 'pweb', ruleId: 'x', direction: 'out', action: 'deny', protocol: 'tcp', port, toEndpointGroup: 'db' },
          ])
        )[0]!,
      );
      const mid = client.received;
      await waitFor('the stream still flows', () => client.received >= mid + 5 && !client.closed, { timeoutMs: 3000, intervalMs: 10 });
    }
    const out = (await ping).stdout;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    assert.ok(m, out);
    assert.equal(m[2], m[1], `no ping lost: ${out.trim()}`);
    assert.equal(new Set([g0, ...generations]).size, 4, 'each change is a new generation');
    // the connection was judged again and committed with host1's current generation
    const gen = generations[generations.length - 1]!;
    await waitFor('committed with the new generation', async () =>
      (await conntrack('host1', 7001)).some((l) => (markOf(l) & GENERATION_MASK) >>> GENERATION_SHIFT === gen),
    );
    assert.equal(client.closed, undefined);
    assert.equal(server.closed, undefined);
  });

  it('the applier on the kernel: a refused load keeps the old table; a restarted applier keeps the generation; unchanged input loads nothing; no endpoint removes the table', async () => {
    const rules: RuleSpec[] = [
      { policy: 'pdb', ruleId: 'r1', direction: 'in', action: 'deny', protocol: 'tcp', port: 5432, fromEndpointGroup: 'web' },
    ];
    const [g] = await applyRules(rules);
    const ns = hostNs('host1');
    const runner: CommandRunner = (cmd, args, opts) => run(cmd, args, { ...opts, netns: ns });
    const listed = async () =>
      (await run('nft', ['-t', 'list', 'table', 'inet', 'netloom_policy'], { netns: ns, allowFailure: true })).stdout;
    const before = await listed();
    await assert.rejects(
      loadNftTable(runner, 'inet', 'netloom_policy', 'table inet netloom_policy {\n\tchain x {\n\t\tno such rule\n\t}\n}\n'),
    );
    assert.equal(await listed(), before, 'nft refused the whole transaction: the old table stays');
    // a restarted agent: a new applier, the same policy
    const restarted = new RoutedPolicyApplier({ runner });
    appliers.set('host1', restarted);
    const input = hostInputs(rules).get('host1')!;
    assert.deepEqual(await restarted.apply(input), { loaded: true, generation: g }, 'the same policy keeps the generation');
    assert.deepEqual(await restarted.apply(input), { loaded: false, generation: g }, 'nothing to load');
    assert.equal(await listed(), before);
    const r = await appliers.get('host1')!.apply({ endpoints: [], tenantSubnets: TENANT_SUBNETS });
    assert.deepEqual(r, { loaded: true, generation: 0 });
    assert.equal(await listed(), '', 'no table');
  });
});
