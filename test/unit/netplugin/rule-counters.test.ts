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
import { computeHostView } from '../../../netmaster/agent/host-view';
import { computePipeline } from '../../../netplugin/pipeline/compute';
import { parseHostState } from '../../../netplugin/state/host-state';
import { parseCookie } from '../../../netplugin/reconcile/cookie';
import { ClusterBuilder } from '../agent-api/fixtures';

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

  it("finds each rule's decision flow among the OVS backend's policy flows (the contract with features/policy.ts)", async () => {
    const b = new ClusterBuilder()
      .global('bridge')
      .tenant('t1')
      .network('t1', 'net', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
      .agent('h1', '192.168.0.1')
      .agent('h2', '192.168.0.2')
      .group('t1', 'web', 'net', ['pw'])
      .group('t1', 'db', 'net', ['pd'])
      .policy('t1', 'pw')
      .policy('t1', 'pd')
      .rule('t1', 'pw', 'conj', {
        direction: 'out',
        toEndpointGroup: 'db',
        fromEndpointGroup: '',
        protocol: 'tcp',
        port: 5432,
        priority: 5,
      })
      .rule('t1', 'pw', 'any', { direction: 'in', fromEndpointGroup: '', action: 'deny', protocol: '', port: 0, priority: 1 })
      .endpoint('w1', 't1', 'net', 'h1', '10.1.0.10', 'web')
      .endpoint('w2', 't1', 'net', 'h1', '10.1.0.11', 'web')
      .endpoint('d1', 't1', 'net', 'h2', '10.1.0.20', 'db');
    const state = parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, 'h1'))));
    const desired = computePipeline({
      state,
      local: {
        hostName: 'h1',
        vtepIp: '192.168.0.1',
        ports: { w1: { ofport: 10, intfName: 'vw1' }, w2: { ofport: 11, intfName: 'vw2' } },
        bridge: { uplink: 1, vxlan: 2 },
      },
    });
    const sw = new FakeSwitch();
    const rec = new FlowReconciler(sw);
    await rec.apply(desired);
    // every policy flow on the switch counts one packet of 100 bytes
    for (const f of sw.flows.values()) {
      if (parseCookie(f.cookie).feature !== 'policy') continue;
      f.packetCount = 1;
      f.byteCount = 100;
    }
    const decisions = desired.filter((f) => f.feature === 'policy' && (f.object === 't1:pw/conj' || f.object === 't1:pw/any'));
    const counters = await readRuleCounters({ dumpFlows: (filter) => sw.flowStats(filter) }, rec.installedFlows(), state);
    assert.deepEqual(
      counters.map((c) => c.ruleId),
      ['t1:pw/any', 't1:pw/conj'],
    );
    for (const c of counters) {
      const n = BigInt(decisions.filter((f) => f.object === c.ruleId).length);
      assert.ok(n >= 1n, `a decision flow for ${c.ruleId}`);
      assert.deepEqual([c.packets, c.bytes], [n, 100n * n], `only the decision flows of ${c.ruleId} count`);
    }
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
