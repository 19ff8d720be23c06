import { strict as assert } from 'node:assert';
import { parseHostState } from '../../../netplugin/state/host-state';
import {
  LOCAL_HOST,
  pairDirection,
  policyInput,
  policyWireState,
  ruleFlowFigures,
  type PolicyStateSpec,
} from '../../../bench/support/policy-state';
import { DEFAULT_POLICY_CONFIG, assemblePolicyResult, parsePolicyArgs } from '../../../bench/support/policy-report';
import { localFactsFor, SimulatedCompiler } from '../../../tools/agent-sim/compiler';
import { describeCondition, predicateOf } from '../../../tools/agent-sim/conditions';
import { summarize } from '../../../bench/support/scale-report';

const ONE: PolicyStateSpec = {
  pairs: 1,
  groupA: 50,
  groupB: 50,
  localA: 50,
  rulesPerPair: 1,
  ports: 10,
  direction: 'in',
  samePriority: true,
};

describe('policy benchmark pieces', () => {
  it('builds a host state netmaster could send: groups, rules, local and remote endpoints', () => {
    const s = parseHostState(
      policyWireState({ ...ONE, pairs: 2, groupA: 3, groupB: 2, localA: 1, rulesPerPair: 2, ports: 3, direction: 'mixed' }),
    );
    assert.equal(s.endpoints.length, 10);
    assert.equal(s.endpoints.filter((e) => e.host === LOCAL_HOST).length, 2);
    assert.deepEqual(
      s.groups.map((g) => [g.name, g.policies]),
      [
        ['a0', ['p0']],
        ['b0', []],
        ['a1', ['p1']],
        ['b1', []],
      ],
    );
    assert.equal(s.policies[0]!.rules.length, 6);
    assert.deepEqual(
      [
        s.policies[0]!.rules[0]!.direction,
        s.policies[0]!.rules[0]!.fromGroup,
        s.policies[1]!.rules[0]!.direction,
        s.policies[1]!.rules[0]!.toGroup,
      ],
      ['in', 'bp:b0', 'out', 'bp:b1'],
    );
    assert.deepEqual(
      s.policies[0]!.rules.map((r) => r.port),
      [1000, 1001, 1002, 1003, 1004, 1005],
    );
    assert.equal(new Set(s.endpoints.map((e) => e.ip)).size, 10);
    assert.equal(pairDirection({ direction: 'mixed' }, 3), 'out');
    assert.throws(() => policyWireState({ ...ONE, localA: 51 }), /localA/);
  });

  it('gives each of the host endpoints a port, in id order', () => {
    const f = localFactsFor(
      {
        endpoints: [
          { id: 'b', host: 'h' },
          { id: 'x', host: 'o' },
          { id: 'a', host: 'h' },
        ] as never,
      },
      'h',
    );
    assert.deepEqual(f.ports, { a: { ofport: 10, intfName: 'v0' }, b: { ofport: 11, intfName: 'v1' } });
    assert.equal(f.bridge.vxlan, 2);
  });

  it('one rule of 10 ports between groups of 50 is a conjunction: |A| + |B| + P + one conj_id flow per Contiv rule', () => {
    const f = ruleFlowFigures(ONE);
    assert.equal(f.added, 50 + 50 + 10 + 10);
    assert.equal(f.policyTables, f.added);
    assert.equal(f.crossProduct, 25_000);
    assert.equal(ruleFlowFigures({ ...ONE, direction: 'out' }).added, 120);
  });

  it('one-port rules sharing endpoints and peers are judged together (a conjunction, not 10 x 50 plain flows)', () => {
    // one local endpoint, 50 peers, 10 ports: each rule alone is 50 plain flows (<= 53), the ten together 500 > 71
    const f = ruleFlowFigures({ ...ONE, localA: 1, pairs: 2 });
    assert.equal(f.added, 2 * (1 + 50 + 10 + 10) - 10); // the 10 service flows are shared by both pairs (same priority)
    // a rule that is small alone stays plain flows: 1 endpoint, 2 peers, 1 port
    assert.equal(ruleFlowFigures({ ...ONE, localA: 1, groupA: 1, groupB: 2, ports: 1 }).added, 2);
  });

  it('rules at distinct priorities share nothing; at one priority they share endpoint and peer flows', () => {
    const spec = { ...ONE, rulesPerPair: 3, samePriority: false };
    assert.equal(ruleFlowFigures(spec).added, 3 * 120);
    assert.equal(ruleFlowFigures({ ...spec, samePriority: true }).added, 50 + 50 + 30 + 30);
    assert.equal(policyInput(spec).state.policies[0]!.rules.length, 30);
  });

  it('parses its options and assembles the JSON line', () => {
    assert.deepEqual(parsePolicyArgs([]), DEFAULT_POLICY_CONFIG);
    const q = parsePolicyArgs(['--quick', '--phases', 'flows,lab', '--lab', 'bpx']);
    assert.deepEqual([q.phases, q.lab, q.agents, q.labChanges], [['flows', 'lab'], 'bpx', 20, 3]);
    assert.throws(() => parsePolicyArgs(['--phases', 'nope']), /phases/);
    assert.throws(() => parsePolicyArgs(['--lab', 'Bad-Name']), /--lab/);
    assert.throws(() => parsePolicyArgs(['--agents', '0']), /--agents/);
    const r = assemblePolicyResult(
      DEFAULT_POLICY_CONFIG,
      {
        lab: { hosts: 3, realize: summarize([100, 200, 300]), restMsP50: 5 },
        agents: {
          agents: 200,
          workers: 2,
          realize: summarize([10, 20]),
          realizeOwn: summarize([5, 6]),
          membership: summarize([500]),
          membershipOwn: summarize([300]),
          membershipDetach: summarize([400]),
          members: 1000,
          compileMsMean: 3,
          compileMaxMs: 9,
          compileErrors: 0,
          unconcerned: { concerned: 10, updates: 10, compiles: 10 },
          heartbeatFailures: 0,
        },
      },
      { loadAvg: { start: [1, 1, 1], end: [2, 2, 2] }, failures: [], durationS: 1 },
    );
    assert.equal(r.realizeP50Ms, 200);
    assert.equal(r.realizeP99MsAgents200, 20);
    assert.equal(r.groupMembership1000Ms, 500);
    assert.equal(r.realizeP99MsAgents200OwnCore, 6);
    assert.equal(r.groupMembership1000MsOwnCore, 300);
    assert.equal(r.flowsPerRule, null);
    assert.equal(r.flowsPerRuleGoal, 220);
    assert.deepEqual(r.loadAvg, { start: [1, 1, 1], end: [2, 2, 2] });
  });

  it('a simulated agent compiles the newest of the states it was given, and conditions see its rules', async () => {
    const wire = policyWireState({ ...ONE, groupA: 2, groupB: 2, localA: 1, ports: 2 });
    const compiled: unknown[] = [];
    const c = new SimulatedCompiler(LOCAL_HOST, '172.20.1.254', (s) => compiled.push(s));
    c.submit({ ...wire, policies: [] });
    c.submit(wire);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([compiled.length, c.stats.compiles, c.stats.compileErrors], [1, 1, 0]);
    assert.ok(c.objects.has('bp:p0/r0p1'));
    const has = predicateOf({ kind: 'ruleFlows', ruleIds: ['bp:p0/r0p0', 'bp:p0/r0p1'] });
    const none = predicateOf({ kind: 'ruleFlows', ruleIds: ['bp:p0/r0p0'], absent: true });
    const state = {} as never;
    assert.equal(has(state, 'changes', c.objects), true);
    assert.equal(has(state, 'changes', undefined), false);
    assert.equal(none(state, 'changes', c.objects), false);
    assert.equal(none(state, 'changes', new Set()), true);
    assert.equal(describeCondition({ kind: 'ruleFlows', ruleIds: ['x'], absent: true }), 'no flows of rule x');
    // as if on a core of its own: arrival + the compile's CPU time
    c.compile(wire, 1000);
    assert.ok(c.ownDoneAt > 1000 && c.ownDoneAt < 1000 + 60_000, String(c.ownDoneAt));
    // a state that does not parse is counted, the flows of the last good one kept
    c.compile({ endpoints: [{ id: '' }] });
    assert.equal(c.stats.compileErrors, 1);
    assert.ok(c.objects.has('bp:p0/r0p1'));
  });
});
