/**
 * View diffs (pure) and the client's apply: equal views give no change; a diff applied to the
 * earlier state gives the later one (random cluster edits, fast-check); puts before deletes, in
 * dependency order; deletes carry only the key.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { diffViews, stableJson } from '../../../netmaster/agent/view-diff';
import { applyChange, stateOf, storeFromState } from '../../../netplugin/netmaster-client/apply';
import type { Change__Output } from '../../../proto/gen/netloom/v1/Change';
import { asReceived, ClusterBuilder } from './fixtures';

const base = () =>
  new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .agent('hostB', '192.168.0.2')
    .agent('hostC', '192.168.0.3')
    .endpoint('a1', 't1', 'web', 'hostA', '10.1.0.2');

describe('agent API view diff', () => {
  it('equal views give no changes', () => {
    const v = computeHostView(base().state, 'hostA');
    assert.deepEqual(diffViews(v, computeHostView(base().state, 'hostA')), []);
  });

  it('an added remote endpoint and its host VTEP come as puts, VTEP before endpoint', () => {
    const b = base();
    const before = computeHostView(b.state, 'hostA');
    const after = computeHostView(b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3').state, 'hostA');
    const d = diffViews(before, after);
    assert.deepEqual(
      d.map((c) => [c.key, c.deleted]),
      [
        ['vtep/hostB', false],
        ['endpoint/b1', false],
      ],
    );
    assert.equal(d[1]?.endpoint?.ip, '10.1.0.3');
  });

  it('deletes come after puts, dependents first, with only the key', () => {
    const b = base().endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    const before = computeHostView(b.state, 'hostA');
    const after = computeHostView(b.del('/netloom/v1/ep/a1').state, 'hostA');
    const d = diffViews(before, after);
    assert.deepEqual(
      d.map((c) => c.key),
      ['endpoint/b1', 'endpoint/a1', 'vtep/hostB', 'network/t1:web', 'tenant/t1'],
      'dependents first; global stays',
    );
    assert.ok(
      d.every((c) => c.deleted),
      'everything leaves the view',
    );
    for (const c of d) assert.deepEqual(Object.keys(c).sort(), ['deleted', 'key']);
  });

  it('a changed object is sent whole', () => {
    const b = base();
    const before = computeHostView(b.state, 'hostA');
    const after = computeHostView(b.agent('hostA', '192.168.0.9').state, 'hostA');
    const d = diffViews(before, after);
    assert.deepEqual(
      d.map((c) => c.key),
      ['endpoint/a1'],
    );
    assert.equal(d[0]?.endpoint?.vtepIp, '192.168.0.9');
    assert.equal(d[0]?.endpoint?.mac, '02:00:00:00:00:02');
  });

  it('applying the diff to the earlier state gives the later state (random edits)', () => {
    type Op =
      | { kind: 'ep'; n: number; net: 'web' | 'db'; host: string }
      | { kind: 'del'; n: number }
      | { kind: 'agent'; host: string; last: number }
      | { kind: 'fwd'; routing: boolean };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('ep' as const),
        n: fc.integer({ min: 1, max: 12 }),
        net: fc.constantFrom('web' as const, 'db' as const),
        host: fc.constantFrom('hostA', 'hostB', 'hostC'),
      }),
      fc.record({ kind: fc.constant('del' as const), n: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant('agent' as const), host: fc.constantFrom('hostB', 'hostC'), last: fc.integer({ min: 2, max: 250 }) }),
      fc.record({ kind: fc.constant('fwd' as const), routing: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.array(op, { maxLength: 12 }), (first, second) => {
        const b = base();
        const run = (ops: Op[]) => {
          for (const o of ops) {
            if (o.kind === 'ep')
              b.del(`/netloom/v1/ep/e${o.n}`).endpoint(`e${o.n}`, 't1', o.net, o.host, `10.${o.net === 'web' ? 1 : 2}.0.${o.n + 10}`);
            else if (o.kind === 'del') b.del(`/netloom/v1/ep/e${o.n}`);
            else if (o.kind === 'agent') b.agent(o.host, `192.168.0.${o.last}`);
            else b.global(o.routing ? 'routing' : 'bridge');
          }
        };
        run(first);
        const before = computeHostView(b.state, 'hostA');
        run(second);
        const after = computeHostView(b.state, 'hostA');
        const store = storeFromState(JSON.parse(JSON.stringify(before)));
        for (const c of diffViews(before, after)) applyChange(store, asReceived(c));
        assert.equal(stableJson(stateOf(store)), stableJson(after));
      }),
      { numRuns: 200 },
    );
  });
});

describe('agent client apply', () => {
  const empty = () => storeFromState(JSON.parse(JSON.stringify(computeHostView(new ClusterBuilder().state, 'h'))));
  it('ignores changes of kinds it does not know (a newer netmaster), refuses a put without its object', () => {
    const store = empty();
    assert.equal(applyChange(store, { deleted: false, key: 'widget/w1', object: undefined } as Change__Output), false);
    assert.throws(() => applyChange(store, { deleted: false, key: 'network/t1:x' } as Change__Output), /without an object/);
  });
  it('puts and deletes global and bgp', () => {
    const store = empty();
    applyChange(store, {
      deleted: false,
      key: 'bgp',
      object: 'bgp',
      bgp: { hostname: 'h', routerIp: '1.1.1.1', as: 1, neighbor: '', neighborAs: 0 },
    } as Change__Output);
    assert.equal(stateOf(store).bgp?.routerIp, '1.1.1.1');
    applyChange(store, { deleted: true, key: 'bgp' } as Change__Output);
    assert.equal(stateOf(store).bgp, null);
    applyChange(store, {
      deleted: false,
      key: 'global',
      object: 'global',
      global: { fwdMode: 'routing', arpMode: 'flood', pvtSubnet: '', networkInfraType: '' },
    } as Change__Output);
    assert.equal(stateOf(store).global?.fwdMode, 'routing');
  });
});
