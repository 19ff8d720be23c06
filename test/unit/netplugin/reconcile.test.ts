import { strict as assert } from 'node:assert';
import { generationSelector, makeCookie, nextGeneration, parseCookie } from '../../../netplugin/reconcile/cookie';
import { canonEqual, DesiredFlow, flowKey, sameFlow } from '../../../netplugin/reconcile/flow-key';
import { diffFlows, indexFlows } from '../../../netplugin/reconcile/flow-diff';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import { isNetloomError } from '../../../lib/errors';
import { flowMod } from '../../../ovs/openflow/messages';
import { FakeSwitch } from '../../support/fake-switch';

function flow(table: number, priority: number, port: number, out: number, feature: DesiredFlow['feature'] = 'l2Forward'): DesiredFlow {
  return {
    table,
    priority,
    match: [{ field: 'in_port', value: port }],
    instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: out, maxLen: 0 }] }],
    feature,
    object: `port${port}`,
  };
}

describe('flow cookies', () => {
  it('round-trips feature, generation and object hash, and marks flows as ours', () => {
    const c = makeCookie('policy', 513, 'ep1');
    const p = parseCookie(c);
    assert.equal(p.ours, true);
    assert.equal(p.feature, 'policy');
    assert.equal(p.generation, 513);
    assert.notEqual(p.objectHash, 0);
    assert.equal(parseCookie(0x1234n).ours, false);
    const sel = generationSelector(513);
    assert.equal(c & sel.mask, sel.cookie, 'the generation selector matches the cookie');
    assert.notEqual(makeCookie('policy', 514) & sel.mask, sel.cookie, 'and not another generation');
  });
  it('picks a generation never seen on the switch, wrapping at 16 bits', () => {
    assert.equal(nextGeneration([3, 7, 5]), 8);
    assert.equal(nextGeneration([0xffff]), 0);
    assert.equal(nextGeneration([]), 0);
  });
});

describe('flow identity', () => {
  it('ignores the order of match fields and the case of MACs', () => {
    const a = {
      table: 1,
      priority: 5,
      match: [
        { field: 'eth_dst' as const, value: 'AA:BB:CC:DD:EE:FF' },
        { field: 'in_port' as const, value: 3 },
      ],
    };
    const b = {
      table: 1,
      priority: 5,
      match: [
        { field: 'in_port' as const, value: 3 },
        { field: 'eth_dst' as const, value: 'aa:bb:cc:dd:ee:ff' },
      ],
    };
    assert.equal(flowKey(a), flowKey(b));
    assert.notEqual(flowKey(a), flowKey({ ...b, priority: 6 }));
  });
  it('tells flows with different actions apart', () => {
    assert.ok(sameFlow(flow(0, 1, 1, 2), flow(0, 1, 1, 2)));
    assert.ok(!sameFlow(flow(0, 1, 1, 2), flow(0, 1, 1, 3)));
  });
  it('compares values as their canonical form does, in place (case, key order, undefined keys, Buffers revived or not)', () => {
    const mac = Buffer.from('0a0b0c0d0e0f', 'hex');
    const equal: Array<[unknown, unknown]> = [
      [
        { a: 'AA:BB', b: 1 },
        { b: 1, a: 'aa:bb' },
      ],
      [{ a: 1, gone: undefined }, { a: 1 }],
      [mac, JSON.parse(JSON.stringify(mac)) as unknown],
      [{ v: 5n }, { v: 5n }],
      [[{ x: [1, 2] }], [{ x: [1, 2] }]],
      [Number.NaN, null],
    ];
    const different: Array<[unknown, unknown]> = [
      [{ a: 1 }, { a: 1, b: 2 }],
      [
        { a: 1, b: undefined },
        { a: 1, c: 2 },
      ],
      [
        [1, 2],
        [2, 1],
      ],
      [[1], [1, 1]],
      [mac, Buffer.from('0a0b0c0d0e00', 'hex')],
      [{ v: 5n }, { v: 6n }],
      [{ a: [] }, { a: {} }],
      ['x', 1],
    ];
    for (const [a, b] of equal) assert.ok(canonEqual(a, b) && canonEqual(b, a), `${String(a)} = ${String(b)}`);
    for (const [a, b] of different) assert.ok(!canonEqual(a, b) && !canonEqual(b, a), `${String(a)} != ${String(b)}`);
  });
  it('refuses two different flows with one key, naming both features', () => {
    assert.throws(
      () => indexFlows([flow(0, 1, 1, 2, 'l2Forward'), flow(0, 1, 1, 3, 'vlan')]),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && /l2Forward and vlan/.test(e.message),
    );
  });
  it('diffs desired against installed into upserts and deletes', () => {
    const installed = indexFlows([flow(0, 1, 1, 2), flow(0, 1, 2, 1), flow(0, 1, 3, 1)]);
    const desired = indexFlows([flow(0, 1, 1, 2), flow(0, 1, 2, 9), flow(0, 1, 4, 1)]);
    const d = diffFlows(desired, installed);
    assert.deepEqual(d.upserts.map((f) => f.object).sort(), ['port2', 'port4']);
    assert.deepEqual(
      d.deletes.map((f) => f.object),
      ['port3'],
    );
  });
});

describe('FlowReconciler', () => {
  it('takes over a switch without flushing: same flows stay, stale and foreign ones go, in one bundle', async () => {
    const sw = new FakeSwitch();
    // a previous agent installed three flows; someone else added one by hand
    const before = new FlowReconciler(sw);
    await before.apply([flow(0, 1, 1, 2), flow(0, 1, 2, 1), flow(0, 1, 3, 1)]);
    await sw.bundle([flowMod({ priority: 9 })]);
    for (const f of sw.flows.values()) f.packetCount = 10;
    const restarted = new FlowReconciler(sw);
    const bundlesBefore = sw.bundles.length;
    await restarted.apply([flow(0, 1, 1, 2), flow(0, 1, 2, 1)]);
    assert.equal(sw.bundles.length, bundlesBefore + 1, 'one atomic bundle');
    assert.equal(restarted.currentGeneration, before.currentGeneration + 1);
    assert.equal(sw.flows.size, 2);
    for (const f of sw.flows.values()) {
      assert.equal(parseCookie(f.cookie).generation, restarted.currentGeneration);
      assert.equal(f.packetCount, 10, 'kept flows were replaced in place, counters intact');
    }
  });

  it('applies only the difference afterwards, and nothing when nothing changed', async () => {
    const sw = new FakeSwitch();
    const r = new FlowReconciler(sw);
    await r.apply([flow(0, 1, 1, 2), flow(0, 1, 2, 1)]);
    const n = sw.bundles.length;
    assert.deepEqual(await r.apply([flow(0, 1, 1, 2), flow(0, 1, 2, 1)]), { messages: 0 });
    assert.equal(sw.bundles.length, n, 'no bundle for no change');
    await r.apply([flow(0, 1, 1, 5), flow(0, 1, 7, 1)]);
    const last = sw.bundles.at(-1) ?? [];
    assert.deepEqual(
      last.map((m) => m.command),
      ['delete_strict', 'add', 'add'],
    );
    assert.deepEqual([...sw.flows.values()].map((f) => f.match[0]?.field === 'in_port' && f.match[0].value).sort(), [1, 7]);
  });

  it('resyncs from the switch after a failed bundle', async () => {
    const sw = new FakeSwitch();
    const r = new FlowReconciler(sw);
    await r.apply([flow(0, 1, 1, 2)]);
    sw.failOn = (m) => m.command === 'add' && m.priority === 99;
    await assert.rejects(r.apply([flow(0, 1, 1, 2), flow(0, 99, 2, 1)]), /rejected/);
    assert.equal(sw.flows.size, 1, 'nothing of the failed bundle was applied');
    sw.failOn = undefined;
    await r.apply([flow(0, 1, 1, 2), flow(0, 99, 2, 1)]);
    assert.equal(sw.flows.size, 2);
    assert.equal(r.stats.takeovers, 2, 'the retry started with a takeover');
  });

  it('restores every flow after the switch lost them (OVS restart)', async () => {
    const sw = new FakeSwitch();
    const r = new FlowReconciler(sw);
    const want = [flow(0, 1, 1, 2), flow(1, 1, 2, 1)];
    await r.apply(want);
    sw.flows.clear(); // ovs-vswitchd restarted
    r.invalidate(); // the connection reported a reconnect
    await r.apply(want);
    assert.equal(sw.flows.size, 2);
  });
});
