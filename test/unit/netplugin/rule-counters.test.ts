/**
 * Per-rule counters on a host: flows installed through the reconciler on a fake switch (policy
 * decision flows named by rule id, clause and isolation flows, other features), counters set on
 * the switch, then read back with one cookie-filtered flow-stats request and summed per rule.
 */
import { strict as assert } from 'node:assert';
import { objectHash } from '../../../netplugin/reconcile/cookie';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import { FlowReconciler } from '../../../netplugin/reconcile/reconciler';
import { readRuleCounters, sumRuleCounters, type FlowStatsSource } from '../../../netplugin/reconcile/rule-counters';
import { FakeSwitch } from '../../support/fake-switch';

let port = 0;
function flow(table: number, feature: DesiredFlow['feature'], object: string): DesiredFlow {
  port++;
  return {
    table,
    priority: 100,
    match: [{ field: 'in_port', value: port }],
    instructions: [{ type: 'goto_table', tableId: table + 10 }],
    feature,
    object,
  };
}

/** Set the counters of the switch's flow installed for `f`. */
function count(sw: FakeSwitch, f: DesiredFlow, packets: number, bytes: number): void {
  for (const installed of sw.flows.values()) {
    if (installed.tableId === f.table && JSON.stringify(installed.match) === JSON.stringify(f.match)) {
      installed.packetCount = packets;
      installed.byteCount = bytes;
      return;
    }
  }
  throw new Error('flow not installed');
}

const STATE = {
  policies: [
    { key: 't1:p1', rules: [{ ruleId: 'r1' }, { ruleId: 'r2' }, { ruleId: 'r3' }] },
    { key: 't1:p2', rules: [{ ruleId: 'r1' }] },
  ],
};

describe('rule counters', () => {
  it('sums the decision flows of each installed rule, ignores clause, isolation and other flows, lists idle rules with zeros', async () => {
    const sw = new FakeSwitch();
    const rec = new FlowReconciler(sw);
    const out1 = flow(60, 'policy', 't1:p1/r1');
    const in1 = flow(70, 'policy', 't1:p1/r1'); // the same rule decided in the other direction too
    const r2 = flow(70, 'policy', 't1:p1/r2');
    const p2 = flow(60, 'policy', 't1:p2/r1');
    const clause = flow(60, 'policy', 'clause:t1:p1/r1:src');
    const isolation = flow(70, 'policy', 'isolation:ep1');
    const l2 = flow(40, 'l2Forward', 't1:p1/r1'); // another feature naming the same string: not a policy flow
    await rec.apply([out1, in1, r2, p2, clause, isolation, l2]);
    count(sw, out1, 3, 300);
    count(sw, in1, 2, 150);
    count(sw, clause, 1000, 100000);
    count(sw, isolation, 7, 700);
    count(sw, l2, 50, 5000);
    count(sw, p2, 1, 60);
    let asked: { cookie: bigint; cookieMask: bigint } | undefined;
    const source: FlowStatsSource = {
      dumpFlows: (filter) => {
        asked = filter;
        return sw.flowStats(filter);
      },
    };
    const counters = await readRuleCounters(source, rec.installedFlows(), STATE);
    assert.deepEqual(counters, [
      { ruleId: 't1:p1/r1', packets: 5n, bytes: 450n },
      { ruleId: 't1:p1/r2', packets: 0n, bytes: 0n },
      { ruleId: 't1:p2/r1', packets: 1n, bytes: 60n },
    ]);
    // t1:p1/r3 has no decision flow here: not listed (it is not in place on this host)
    assert.ok(asked);
    assert.equal(asked.cookieMask, 0xffffn << 48n, 'one request filtered by netloom mark and the policy feature');
  });

  it('asks the switch nothing when the state has no rule', async () => {
    const source: FlowStatsSource = { dumpFlows: () => Promise.reject(new Error('not asked')) };
    assert.deepEqual(await readRuleCounters(source, [], { policies: [{ key: 't1:p', rules: [] }] }), []);
  });

  it("tells a rule's flows by their identity when another installed policy object has the same cookie hash", async () => {
    // two objects with the same 32-bit FNV-1a (found by a birthday search)
    const rule = 't1:p/r162883';
    const clause = 'clause:3316000';
    assert.equal(objectHash(rule), objectHash(clause));
    const sw = new FakeSwitch();
    const rec = new FlowReconciler(sw);
    const decision = flow(60, 'policy', rule);
    const clauseFlow = flow(60, 'policy', clause);
    await rec.apply([decision, clauseFlow]);
    count(sw, decision, 4, 400);
    count(sw, clauseFlow, 9, 900);
    const samples = await sw.flowStats({ cookie: 0n, cookieMask: 0n });
    assert.deepEqual(sumRuleCounters(rec.installedFlows(), new Set([rule]), samples), [{ ruleId: rule, packets: 4n, bytes: 400n }]);
  });
});
