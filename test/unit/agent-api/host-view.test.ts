/**
 * The host view's span rules (pure): a host sees only the networks its endpoints use (plus, in
 * routing mode, the gateway networks of its tenants), the endpoints and VTEPs of those, the
 * groups/policies/profiles its endpoints use; ids are unique and stable; and every view is
 * accepted by the agent's own checks (parseHostState + pipelineView).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bandwidthKbps, computeHostView, networkIdOf } from '../../../netmaster/agent/host-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { pipelineView } from '../../../netplugin/pipeline/input';
import { ClusterBuilder } from './fixtures';

function world(fwd: 'bridge' | 'routing' = 'bridge'): ClusterBuilder {
  return new ClusterBuilder()
    .global(fwd)
    .tenant('t1')
    .tenant('t2')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .network('t1', 'flat', 'vlan', 100, '10.3.0.0/24')
    .network('t2', 'other', 'vxlan', 6001, '10.9.0.0/24', '10.9.0.1')
    .agent('hostA', '192.168.0.1')
    .agent('hostB', '192.168.0.2')
    .agent('hostC', '192.168.0.3')
    .agent('hostD', '192.168.0.4')
    .endpoint('a-web', 't1', 'web', 'hostA', '10.1.0.2')
    .endpoint('b-web', 't1', 'web', 'hostB', '10.1.0.3')
    .endpoint('c-db', 't1', 'db', 'hostC', '10.2.0.2')
    .endpoint('c-flat', 't1', 'flat', 'hostC', '10.3.0.2')
    .endpoint('d-other', 't2', 'other', 'hostD', '10.9.0.2');
}

function checkedByAgent(view: ReturnType<typeof computeHostView>, host: string, vtepIp: string): void {
  const state = parseHostState(JSON.parse(JSON.stringify(view)));
  pipelineView({ state, local: { hostName: host, vtepIp, ports: {}, bridge: {} } });
}

describe('agent API host view', () => {
  it('a host sees only the networks of its endpoints, their endpoints and the VTEPs of hosts sharing them', () => {
    const v = computeHostView(world().state, 'hostA');
    assert.deepEqual(
      v.networks.map((n) => n.key),
      ['t1:web'],
    );
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['a-web', 'b-web'],
    );
    assert.deepEqual(v.vteps, [{ host: 'hostB', vtepIp: '192.168.0.2' }], 'never its own VTEP, never hosts that share nothing');
    assert.deepEqual(
      v.tenants.map((t) => t.name),
      ['t1'],
    );
    assert.equal(v.bgp, null);
    checkedByAgent(v, 'hostA', '192.168.0.1');
  });

  it('a host with no endpoints gets the global settings only (and its Bgp object)', () => {
    const v = computeHostView(world().bgp('hostE').state, 'hostE');
    assert.equal(v.global?.fwdMode, 'bridge');
    assert.deepEqual([v.tenants, v.networks, v.groups, v.policies, v.profiles, v.endpoints, v.vteps], [[], [], [], [], [], [], []]);
    assert.deepEqual(v.bgp, {
      hostname: 'hostE',
      routerIp: '10.0.0.1/24',
      as: 65001,
      neighbor: '10.0.0.254',
      neighborAs: 65000,
      neighbors: [{ address: '10.0.0.254', as: 65000 }],
      holdTime: 9,
      keepaliveTime: 3,
      fromDefault: false,
    });
    assert.equal(computeHostView(world().bgp('hostE').state, 'hostA').bgp, null, 'only its own Bgp object');
  });

  it('routing mode adds every gateway network of the tenants it routes in, with their endpoints and VTEPs', () => {
    const v = computeHostView(world('routing').state, 'hostA');
    assert.deepEqual(
      v.networks.map((n) => n.key),
      ['t1:db', 't1:web'],
      'not the gateway-less VLAN network, not the other tenant',
    );
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['a-web', 'b-web', 'c-db'],
    );
    assert.deepEqual(
      v.vteps.map((x) => x.host),
      ['hostB', 'hostC'],
    );
    checkedByAgent(v, 'hostA', '192.168.0.1');
    // a host only on a gateway-less network gets no routed extension
    const c = computeHostView(world('routing').del('/netloom/v1/ep/c-db').state, 'hostC');
    assert.deepEqual(
      c.networks.map((n) => n.key),
      ['t1:flat'],
    );
  });

  it("carries a group's own VLAN (ACI mode) as its pktTag, 0 for a group that has none (its network's)", () => {
    const s = world()
      .aciGroup('t1', 'fa', 'flat', 300)
      .group('t1', 'fb', 'flat')
      .aciGroup('t1', 'fremote', 'flat', 301)
      .endpoint('c-fa', 't1', 'flat', 'hostC', '10.3.0.5', 'fa')
      .endpoint('c-fb', 't1', 'flat', 'hostC', '10.3.0.6', 'fb')
      .endpoint('a-fremote', 't1', 'flat', 'hostA', '10.3.0.7', 'fremote');
    const v = computeHostView(s.state, 'hostC');
    assert.deepEqual(
      v.groups.map((g) => [g.key, g.pktTag]),
      [
        ['t1:fa', 300],
        ['t1:fb', 0],
        ['t1:fremote', 301],
      ],
    );
    checkedByAgent(v, 'hostC', '192.168.0.3');
  });

  it('groups, policies (with rules), profiles of its endpoints, and the endpoints of groups the policies name', () => {
    const s = world()
      .group('t1', 'front', 'web', ['p1'], 'gold')
      .group('t1', 'back', 'db')
      .group('t1', 'unused', 'db')
      .policy('t1', 'p1', [{ id: '1', from: 'back' }])
      .policy('t1', 'p2')
      .profile('t1', 'gold', '10Mbps')
      .endpoint('a-front', 't1', 'web', 'hostA', '10.1.0.9', 'front')
      .endpoint('c-back', 't1', 'db', 'hostC', '10.2.0.9', 'back');
    const v = computeHostView(s.state, 'hostA');
    assert.deepEqual(
      v.groups.map((g) => g.key),
      ['t1:back', 't1:front'],
    );
    assert.deepEqual(
      v.policies.map((p) => [p.key, p.rules.map((r) => [r.ruleId, r.fromGroup])]),
      [['t1:p1', [['1', 't1:back']]]],
    );
    assert.deepEqual(
      v.profiles.map((p) => [p.key, p.bandwidthKbps, p.burstKb, p.dscp]),
      [['t1:gold', '10000', '100', 10]],
    );
    assert.ok(
      v.endpoints.some((e) => e.id === 'c-back'),
      'endpoints of a group a policy names',
    );
    assert.ok(!v.endpoints.some((e) => e.id === 'c-db'), 'but not the rest of that network');
    assert.ok(
      v.networks.some((n) => n.key === 't1:db'),
      'the network of those endpoints comes with them',
    );
    assert.deepEqual(
      v.vteps.map((x) => x.host),
      ['hostB', 'hostC'],
    );
    assert.ok(v.groups.every((g) => g.groupId > 0));
    checkedByAgent(v, 'hostA', '192.168.0.1');
  });

  it('network ids: VNI for VXLAN, 0x1000000|VLAN for VLAN, never colliding', () => {
    assert.equal(networkIdOf('vxlan', 100), 100);
    assert.equal(networkIdOf('vlan', 100), 0x1000064);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4094 }),
        fc.integer({ min: 1, max: 0xffffff }),
        (vlan, vni) => networkIdOf('vlan', vlan) !== networkIdOf('vxlan', vni),
      ),
    );
    const v = computeHostView(world().endpoint('a-flat', 't1', 'flat', 'hostA', '10.3.0.5').state, 'hostA');
    assert.deepEqual(
      v.networks.map((n) => n.networkId),
      [0x1000064, 5001],
    );
  });

  it('tenant vrfId/ctZone come from the allocation; a tenant without an id yet is left out with what depends on it', () => {
    const b = world()
      .tenant('t3', false)
      .network('t3', 'n', 'vxlan', 7001, '10.30.0.0/24')
      .endpoint('a-t3', 't3', 'n', 'hostA', '10.30.0.2');
    const v = computeHostView(b.state, 'hostA');
    assert.deepEqual(
      v.tenants.map((t) => [t.name, t.vrfId, t.ctZone]),
      [['t1', 1, 1]],
    );
    assert.ok(!v.endpoints.some((e) => e.id === 'a-t3'));
    const ids = computeHostView(world('routing').endpoint('a-other', 't2', 'other', 'hostA', '10.9.0.7').state, 'hostA').tenants.map(
      (t) => t.vrfId,
    );
    assert.equal(new Set(ids).size, ids.length, 'unique');
  });

  it('endpoints carry the VTEP of their host from the agent record', () => {
    const v = computeHostView(world().state, 'hostA');
    assert.equal(v.endpoints.find((e) => e.id === 'b-web')?.vtepIp, '192.168.0.2');
  });

  it('reads Contiv bandwidth text', () => {
    assert.equal(bandwidthKbps('10Mbps'), 10_000);
    assert.equal(bandwidthKbps('500 kbps'), 500);
    assert.equal(bandwidthKbps('1gbps'), 1_000_000);
    assert.equal(bandwidthKbps(''), 0);
    assert.equal(bandwidthKbps('fast'), 0);
  });
});

describe('agent API host view: VTEP safety', () => {
  it("leaves out remote VXLAN endpoints whose host has no VTEP, or this host's own VTEP; VLAN endpoints need none", () => {
    const b = new ClusterBuilder()
      .global('bridge')
      .tenant('t1')
      .network('t1', 'x', 'vxlan', 10, '10.1.0.0/24')
      .network('t1', 'v', 'vlan', 20, '10.2.0.0/24')
      .agent('hostA', '192.168.0.1')
      .agent('twin', '192.168.0.1')
      .endpoint('a1', 't1', 'x', 'hostA', '10.1.0.2')
      .endpoint('a2', 't1', 'v', 'hostA', '10.2.0.2')
      .endpoint('novtep', 't1', 'x', 'hostN', '10.1.0.3')
      .endpoint('twin1', 't1', 'x', 'twin', '10.1.0.4')
      .endpoint('vlan1', 't1', 'v', 'hostN', '10.2.0.3');
    const v = computeHostView(b.state, 'hostA');
    assert.deepEqual(
      v.endpoints.map((e) => e.id),
      ['a1', 'a2', 'vlan1'],
    );
    assert.deepEqual(v.vteps, []);
    const state = parseHostState(JSON.parse(JSON.stringify(v)));
    pipelineView({ state, local: { hostName: 'hostA', vtepIp: '192.168.0.1', ports: {}, bridge: {} } });
  });
});

describe('agent API host view: every view passes the agent checks (random clusters)', () => {
  it('for every host of random clusters, parseHostState + pipelineView accept the view', () => {
    const hosts = ['h0', 'h1', 'h2', 'h3'];
    const arb = fc.record({
      routing: fc.boolean(),
      nets: fc.array(fc.record({ vlan: fc.boolean(), gw: fc.boolean(), tenant: fc.constantFrom('t1', 't2') }), {
        minLength: 1,
        maxLength: 5,
      }),
      eps: fc.array(fc.record({ net: fc.nat(), host: fc.constantFrom(...hosts), grouped: fc.boolean() }), { maxLength: 25 }),
      // a VTEP per host: missing, shared with another host, or its own
      vteps: fc.array(fc.constantFrom('', '192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.4'), { minLength: 4, maxLength: 4 }),
    });
    fc.assert(
      fc.property(arb, (c) => {
        const b = new ClusterBuilder()
          .global(c.routing ? 'routing' : 'bridge')
          .tenant('t1')
          .tenant('t2');
        c.nets.forEach((n, i) => {
          b.network(n.tenant, `n${i}`, n.vlan ? 'vlan' : 'vxlan', 100 + i, `10.${i}.0.0/24`, n.gw ? `10.${i}.0.1` : '');
          b.group(n.tenant, `g${i}`, `n${i}`);
        });
        hosts.forEach((h, i) => {
          if (c.vteps[i]) b.agent(h, c.vteps[i]!);
        });
        c.eps.forEach((e, i) => {
          const ni = e.net % c.nets.length;
          const n = c.nets[ni]!;
          b.endpoint(`e${i}`, n.tenant, `n${ni}`, e.host, `10.${ni}.0.${i + 2}`, e.grouped ? `g${ni}` : '');
        });
        hosts.forEach((h, i) => {
          const v = computeHostView(b.state, h);
          checkedByAgent(v, h, c.vteps[i] ?? '');
          assert.ok(!v.vteps.some((x) => x.host === h), 'never its own VTEP');
          const local = new Set(v.endpoints.filter((e) => e.host === h).map((e) => e.network));
          if (!c.routing)
            assert.ok(
              v.networks.every((n) => local.has(n.key)),
              'bridge mode: only networks with a local endpoint',
            );
        });
      }),
      { numRuns: 300 },
    );
  });
});
