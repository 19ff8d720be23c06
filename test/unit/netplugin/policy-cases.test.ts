/**
 * The policy case table the lab test sends real traffic for (test/support/policy-cases.ts) agrees
 * with the reference semantics: every hand-written verdict equals `passes()` over the policies
 * each endpoint's own host compiles from its desired state (netmaster's view, through the agent's
 * parser), so the table and the semantics cannot drift apart.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { compileContiv } from '../../../lib/policy/contiv';
import { decide, passes, type Packet } from '../../../lib/policy/evaluate';
import type { EndpointPolicy } from '../../../lib/policy/model';
import { CASES, cellName, expectedMatrix, TOPOLOGY, type Cell, type Probe } from '../../support/policy-cases';
import type { ClusterBuilder } from '../agent-api/fixtures';
import { cluster } from './policy-case-cluster';

/** Every endpoint's compiled policy, each computed by its own host. */
function compiled(b: ClusterBuilder): Map<string, EndpointPolicy> {
  const out = new Map<string, EndpointPolicy>();
  for (const host of TOPOLOGY.hosts) {
    const state = parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, host))));
    for (const p of compileContiv(state, host)) out.set(p.endpoint, p);
  }
  return out;
}

function packetOf(cell: Pick<Cell, 'from' | 'to' | 'probe'>): Packet {
  const p: Probe = cell.probe;
  if (p === 'ping') return { src: cell.from.ip, dst: cell.to.ip, protocol: 'icmp' };
  const [proto, port] = p.split('/') as ['tcp' | 'udp', string];
  return { src: cell.from.ip, dst: cell.to.ip, protocol: proto, port: Number(port) };
}

describe('the policy case table agrees with the reference semantics', () => {
  it('the topology is consistent (names unique, addresses in their subnets, groups and policies exist)', () => {
    const names = TOPOLOGY.endpoints.map((e) => e.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(new Set(TOPOLOGY.endpoints.map((e) => e.ip)).size, names.length);
    for (const e of TOPOLOGY.endpoints) {
      const net = TOPOLOGY.networks.find((n) => n.name === e.network);
      assert.ok(net && e.ip.startsWith(net.subnet.replace(/0\/24$/, '')), `${e.name} in ${e.network}`);
      assert.ok(TOPOLOGY.hosts.includes(e.host), e.name);
      if (e.group)
        assert.equal(TOPOLOGY.groups.find((g) => g.name === e.group)?.network, e.network, `${e.name}: its group is in its network`);
    }
    for (const g of TOPOLOGY.groups) for (const p of g.policies) assert.ok(TOPOLOGY.policies.includes(p), `${g.name}: ${p}`);
    for (const c of CASES) for (const r of c.rules) assert.ok(TOPOLOGY.policies.includes(r.policy), `${c.name}: ${r.policy}`);
    assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const policies = compiled(cluster(c));
      const wrong: string[] = [];
      for (const cell of expectedMatrix(TOPOLOGY, c)) {
        const got = passes(packetOf(cell), policies.get(cell.from.name)?.egress, policies.get(cell.to.name)?.ingress).verdict;
        const want = cell.verdict === 'pass' ? 'allow' : 'deny';
        if (got !== want) wrong.push(`${cellName(cell)}: table says ${cell.verdict}, reference says ${got}`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('every case with rules denies something, and each of its rules matches some cell (no rule is a typo)', () => {
    for (const c of CASES) {
      if (c.rules.length === 0) continue;
      const cells = expectedMatrix(TOPOLOGY, c);
      assert.ok(
        cells.some((x) => x.verdict === 'deny'),
        `${c.name}: denies nothing`,
      );
      const policies = compiled(cluster(c));
      const matching = new Set<string>();
      for (const cell of cells) {
        const pkt = packetOf(cell);
        // each rule alone, in the direction it belongs to
        for (const r of policies.get(cell.from.name)?.egress.rules ?? [])
          if (decide({ isolated: false, rules: [r] }, pkt.dst, pkt).rule) matching.add(r.id);
        for (const r of policies.get(cell.to.name)?.ingress.rules ?? [])
          if (decide({ isolated: false, rules: [r] }, pkt.src, pkt).rule) matching.add(r.id);
      }
      for (const r of c.rules)
        assert.ok(matching.has(`${TOPOLOGY.tenant}:${r.policy}/${r.ruleId}`), `${c.name}: rule ${r.ruleId} matches no cell`);
    }
  });

  it('a row naming an unknown endpoint or probe is refused', () => {
    assert.throws(() => expectedMatrix(TOPOLOGY, { name: 'x', rules: [], expect: [['zz', '*', '*', 'deny']] }), /unknown endpoint "zz"/);
    assert.throws(
      () => expectedMatrix(TOPOLOGY, { name: 'x', rules: [], expect: [['*', '*', 'tcp/1', 'deny']] }),
      /unknown probe "tcp\/1"/,
    );
  });
});
