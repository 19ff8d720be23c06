/**
 * The OVS rendering of compiled policy (features/policy.ts) and its helpers (policy/ranges.ts):
 * the flow count of a rule between two groups is |A| + |B| + P + 1, not the cross product;
 * clause flows are shared between rules of equal priority; priorities order rules as Contiv
 * does; address sets with exclusions and port ranges become exactly the right masked matches;
 * the policy generation committed into ct_mark is stable and follows policy changes only.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { policyFlows, policyGeneration, rulePriority, POLICY_BASE_PRIORITY } from '../../../netplugin/pipeline/features/policy';
import { table } from '../../../netplugin/pipeline/tables';
import { formatPrefix, portMasks, setPrefixes } from '../../../lib/policy/ranges';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { ClusterBuilder } from '../agent-api/fixtures';
import { checkedPipeline } from './checked-pipeline';

/** Groups a (on h1) and b (on h2) of `n` endpoints each in one VXLAN network, a's policy pa. */
function twoGroups(n: number): ClusterBuilder {
  const b = new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .network('t1', 'net', 'vxlan', 5001, '10.1.0.0/16', '10.1.255.254')
    .agent('h1', '192.168.0.1')
    .agent('h2', '192.168.0.2')
    .group('t1', 'a', 'net', ['pa'])
    .group('t1', 'b', 'net', ['pb'])
    .policy('t1', 'pa')
    .policy('t1', 'pb');
  for (let i = 0; i < n; i++) {
    b.endpoint(`a${i}`, 't1', 'net', 'h1', `10.1.1.${i + 1}`, 'a');
    b.endpoint(`b${i}`, 't1', 'net', 'h2', `10.1.2.${i + 101}`, 'b');
  }
  return b;
}

function inputOf(b: ClusterBuilder, host: string): PipelineInput {
  const state = parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, host))));
  const ports: Record<string, { ofport: number; intfName: string }> = {};
  let ofport = 10;
  for (const e of state.endpoints) if (e.host === host) ports[e.id] = { ofport: ofport++, intfName: `v${e.id}` };
  return {
    state,
    local: { hostName: host, vtepIp: host === 'h1' ? '192.168.0.1' : '192.168.0.2', ports, bridge: { uplink: 1, vxlan: 2 } },
  };
}

function conjunctions(f: DesiredFlow): number {
  return f.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions.filter((a) => a.type === 'conjunction') : [])).length;
}

describe('policy flows (OVS backend)', () => {
  it('a rule between groups of 50 over 10 ports costs |A| + |B| + P + 1 flows, and checks out against the contract', () => {
    const ports = Array.from({ length: 10 }, (_, i) => 8000 + i * 3);
    const b = twoGroups(50);
    // Contiv has one port per rule: 10 rules of one policy, each an out allow to group b on one port
    ports.forEach((p, i) =>
      b.rule('t1', 'pa', `r${i}`, { direction: 'out', toEndpointGroup: 'b', fromEndpointGroup: '', port: p, priority: 5 }),
    );
    const input = inputOf(b, 'h1');
    const flows = policyFlows(input);
    // self 50 + peers 50 shared by the 10 rules (one flow, 10 conjunction actions) + services 10 + 10 conj_id flows
    assert.equal(flows.length, 50 + 50 + 10 + 10);
    const peerFlows = flows.filter((f) => f.match.some((m) => m.field === 'ipv4_dst'));
    assert.equal(peerFlows.length, 50);
    for (const f of peerFlows) assert.equal(conjunctions(f), 10, 'a peer flow serves the 10 rules at once');
    assert.ok(flows.length <= 2 * (50 + 50 + 10), 'within 2x (|A| + |B| + P)');
    checkedPipeline(input);
  });

  it('one rule over a port range: the range is split into masked port matches', () => {
    const b = twoGroups(3).rule('t1', 'pb', 'r', { direction: 'in', fromEndpointGroup: 'a', protocol: 'tcp', port: 0 });
    // Contiv has no port ranges; the model has them (Kubernetes): render a compiled rule directly
    const masks = portMasks({ from: 1000, to: 1999 });
    const covered = new Set<number>();
    for (const m of masks) for (let p = 0; p < 65536; p++) if ((p & m.mask) === m.value) covered.add(p);
    assert.equal(covered.size, 1000);
    assert.ok(covered.has(1000) && covered.has(1999) && !covered.has(999) && !covered.has(2000));
    assert.ok(masks.length <= 30);
    assert.ok(policyFlows(inputOf(b, 'h2')).length > 0);
  });

  it('port masks cover exactly their range (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        (x, y, probe) => {
          const r = { from: Math.min(x, y), to: Math.max(x, y) };
          const masks = portMasks(r);
          const hits = masks.filter((m) => (probe & m.mask) === m.value).length;
          assert.equal(hits, probe >= r.from && probe <= r.to ? 1 : 0, `${probe} in ${r.from}-${r.to}: ${hits} masks`);
          assert.ok(masks.length <= 30);
        },
      ),
    );
  });

  it('address sets with exclusions become disjoint prefixes covering exactly include minus exclude (property)', () => {
    const prefix = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 24, max: 32 }))
      .map(([host, len]) => formatPrefix({ base: (10 << 24) + host - (host % 2 ** (32 - len)), len }));
    fc.assert(
      fc.property(fc.array(prefix, { minLength: 1, maxLength: 3 }), fc.array(prefix, { maxLength: 3 }), (include, exclude) => {
        const got = setPrefixes({ include, exclude });
        for (let host = 0; host < 256; host++) {
          const ip = ipaddr.IPv4.parse(`10.0.0.${host}`);
          const inside = (cidrs: string[]) => cidrs.some((c) => ip.match(ipaddr.IPv4.parseCIDR(c)));
          const want = inside(include) && !inside(exclude);
          const n = got.filter((p) => ip.match(ipaddr.IPv4.parseCIDR(formatPrefix(p)))).length;
          assert.equal(n, want ? 1 : 0, `10.0.0.${host}`);
        }
      }),
    );
  });

  it('flow priorities: higher rule priority first, deny above allow at equal priority', () => {
    assert.ok(rulePriority({ priority: 2, action: 'allow' }) > rulePriority({ priority: 1, action: 'deny' }));
    assert.equal(rulePriority({ priority: 5, action: 'deny' }), rulePriority({ priority: 5, action: 'allow' }) + 1);
    assert.equal(rulePriority({ priority: 0, action: 'allow' }), POLICY_BASE_PRIORITY);
    assert.throws(() => rulePriority({ priority: 40_000, action: 'allow' }), /priority/);
  });

  it('a rule of a single dimension is written as plain flows deciding directly, named by the rule', () => {
    const b = twoGroups(2).rule('t1', 'pb', 'all', {
      direction: 'in',
      action: 'deny',
      priority: 1,
      protocol: '',
      port: 0,
      fromEndpointGroup: '',
    });
    const flows = policyFlows(inputOf(b, 'h2'));
    assert.equal(flows.length, 2);
    for (const f of flows) {
      assert.equal(f.table, table('ingressPolicy'));
      assert.equal(f.object, 't1:pb/all');
      assert.equal(conjunctions(f), 0);
    }
  });

  it('egress flows exist only on the source host, ingress only on the destination host', () => {
    const b = twoGroups(2)
      .rule('t1', 'pa', 'out', { direction: 'out', toEndpointGroup: 'b', fromEndpointGroup: '', port: 22 })
      .rule('t1', 'pb', 'in', { direction: 'in', fromEndpointGroup: 'a', port: 22 });
    const h1 = policyFlows(inputOf(b, 'h1'));
    const h2 = policyFlows(inputOf(b, 'h2'));
    assert.ok(h1.length > 0 && h1.every((f) => f.table === table('egressPolicy')));
    assert.ok(h2.length > 0 && h2.every((f) => f.table === table('ingressPolicy')));
  });

  it('the policy generation is stable across recomputation and changes with the policy only', () => {
    const base = twoGroups(2).rule('t1', 'pb', 'r', { direction: 'in', fromEndpointGroup: 'a', port: 22 });
    const g1 = policyGeneration(inputOf(base, 'h2'));
    assert.equal(policyGeneration(inputOf(base, 'h2')), g1);
    assert.ok(g1 > 0 && g1 < 2 ** 31);
    const changed = twoGroups(2).rule('t1', 'pb', 'r', { direction: 'in', fromEndpointGroup: 'a', port: 23 });
    assert.notEqual(policyGeneration(inputOf(changed, 'h2')), g1);
    const memberAdded = twoGroups(2)
      .rule('t1', 'pb', 'r', { direction: 'in', fromEndpointGroup: 'a', port: 22 })
      .endpoint('a9', 't1', 'net', 'h1', '10.1.1.99', 'a');
    assert.notEqual(policyGeneration(inputOf(memberAdded, 'h2')), g1, 'a new peer changes what the rule admits');
    const unrelated = twoGroups(2)
      .rule('t1', 'pb', 'r', { direction: 'in', fromEndpointGroup: 'a', port: 22 })
      .endpoint('x', 't1', 'net', 'h1', '10.1.3.200');
    assert.equal(policyGeneration(inputOf(unrelated, 'h2')), g1, 'an endpoint no rule names leaves established connections alone');
  });
});
