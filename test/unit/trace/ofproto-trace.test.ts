import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseOfprotoTrace, flowFields } from '../../../netplugin/trace/ofproto-trace';
import { nameTrace, policyDecision, setsDenied, type NamingFacts } from '../../../netplugin/trace/host-trace';
import { objectHash, type Feature } from '../../../netplugin/reconcile/cookie';
import { isNetloomError } from '../../../lib/errors';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/ofproto-trace');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, `${name}.txt`), 'utf8');

/** The objects of the fixture's flows (flows.txt), as the reconciler would know them. */
const OBJECTS: Array<[Feature, string]> = [
  ['classifier', 'ep1'],
  ['spoofguard', 'ep1'],
  ['conntrack', 't1'],
  ['conntrack', 'established'],
  ['conntrack', 't1c'],
  ['policy', 't1:p1/r1'],
  ['policy', 't1:p1/r2'],
  ['policy', 'isolation:ep2'],
  ['policy', 'srcgrp'],
  ['l2Forward', 'ep2'],
  ['tunnel', 't1:n1'],
];

const facts: NamingFacts = {
  objectOf: (feature, hash) => OBJECTS.find(([f, o]) => f === feature && objectHash(o) === hash)?.[1],
  endpointOnPort: (p) => ({ 1: 'ep1', 2: 'ep2' })[p],
  vxlanPort: 10,
  uplinkPort: 20,
};

describe('ofproto/trace parser (real OVS 3.1 output)', () => {
  it('reads both passes of a conntrack recirculation, every hit flow with table, priority, cookie and actions', () => {
    const t = parseOfprotoTrace(fixture('allow'));
    assert.equal(t.passes.length, 2);
    assert.deepEqual(
      t.steps.map((s) => [s.table, s.pass]),
      [
        [0, 0],
        [10, 0],
        [20, 0],
        [25, 0],
        [30, 0],
        [40, 0],
        [50, 0],
        [51, 1],
        [60, 1],
        [70, 1],
        [80, 1],
        [90, 1],
        [100, 1],
      ],
    );
    const first = t.steps[0]!;
    assert.equal(first.match, 'in_port=1');
    assert.equal(first.priority, 100);
    assert.equal(first.cookie, '0xa701000323928313');
    assert.deepEqual(first.actions, [
      'load:0x1->NXM_NX_REG0[]',
      'load:0x1->NXM_NX_REG3[]',
      'load:0x5->NXM_NX_REG1[]',
      'load:0x4->NXM_NX_REG5[]',
      'goto_table:10',
    ]);
    // a catch-all's match is empty; notes are kept apart from actions
    assert.equal(t.steps[2]!.match, '');
    assert.deepEqual(t.steps[6]!.actions, ['ct(table=51,zone=1)', 'drop']);
    assert.equal(t.steps[6]!.notes.length, 2);
    assert.deepEqual(t.steps.at(-1)!.actions, ['output:2']);
    assert.equal(t.passes[1]!.datapathActions, 'ct(commit,zone=1),1');
  });

  it('names an allowed packet: the conjunction flow of rule t1:p1/r1 in egressPolicy, the ingress rule, delivered to ep2', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('allow')), facts);
    assert.equal(n.dropped, false);
    assert.deepEqual(n.outputs, [{ port: 2, kind: 'endpoint', endpoint: 'ep2', tunId: 0n, tunDst: '', vlan: 0 }]);
    assert.deepEqual(
      n.decisions.map((d) => [d.direction, d.tableName, d.tenant, d.policy, d.ruleId, d.action]),
      [
        ['egress', 'egressPolicy', 't1', 'p1', 'r1', 'allow'],
        ['ingress', 'ingressPolicy', 't1', 'p1', 'r1', 'allow'],
      ],
    );
    const s0 = n.steps[0]!;
    assert.deepEqual([s0.tableName, s0.feature, s0.object], ['classifier', 'classifier', 'ep1']);
    // table-miss flows carry no object
    assert.deepEqual([n.steps[2]!.tableName, n.steps[2]!.feature, n.steps[2]!.object], ['arp', 'tableMiss', '']);
    assert.equal(n.dlDst, '02:00:0a:01:00:03');
  });

  it('names a packet denied by a direct rule flow (t1:p1/r2, egress)', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('deny-direct')), facts);
    assert.equal(n.dropped, true);
    assert.deepEqual(n.outputs, []);
    assert.equal(n.decisions.length, 1);
    const d = n.decisions[0]!;
    assert.deepEqual([d.direction, d.table, d.object, d.ruleId, d.action], ['egress', 60, 't1:p1/r2', 'r2', 'deny']);
  });

  it('names a packet denied by an isolation default-deny flow (ingress)', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('deny-isolation')), facts);
    const d = n.decisions[0]!;
    assert.deepEqual([d.direction, d.isolationEndpoint, d.ruleId, d.action], ['ingress', 'ep2', '', 'deny']);
  });

  it('reads the VNI and remote VTEP of a tunnel output (even when OVS cannot route the tunnel here)', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('tunnel-out')), facts);
    assert.deepEqual(n.outputs, [{ port: 10, kind: 'tunnel', endpoint: '', tunId: 100n, tunDst: '10.213.1.2', vlan: 0 }]);
    assert.equal(n.decisions.length, 0);
    assert.equal(n.ttl, 64);
  });

  it('reads a packet arriving from the tunnel and one from the VLAN uplink, and a VLAN output', () => {
    const tin = nameTrace(parseOfprotoTrace(fixture('tunnel-in')), facts);
    assert.deepEqual([tin.steps[0]!.tableName, tin.steps[0]!.feature, tin.steps[0]!.object], ['classifier', 'tunnel', 't1:n1']);
    assert.equal(tin.outputs[0]!.endpoint, 'ep2');
    const vin = nameTrace(parseOfprotoTrace(fixture('vlan-in')), facts);
    assert.equal(vin.steps[0]!.actions[0], 'pop_vlan');
    const vout = nameTrace(parseOfprotoTrace(fixture('vlan-out')), facts);
    assert.deepEqual(vout.outputs, [{ port: 20, kind: 'uplink', endpoint: '', tunId: 0n, tunDst: '', vlan: 200 }]);
  });

  it('an established packet skips the policy tables: no decision', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('established')), facts);
    assert.equal(n.decisions.length, 0);
    assert.deepEqual(
      n.steps.filter((s) => s.pass === 1).map((s) => s.tableName),
      ['ctState', 'l3Forward', 'l2Forward'],
    );
  });

  it('refuses what is not a trace with DECODE_ERROR quoting its first line', () => {
    for (const text of [fixture('bad'), '', 'Flow: tcp,in_port=1\n']) {
      assert.throws(
        () => parseOfprotoTrace(text),
        (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /not an ofproto\/trace output/.test(e.message),
      );
    }
    assert.throws(() => parseOfprotoTrace(fixture('bad')), /Bad openflow flow syntax/);
  });

  it('reads "No match." steps (a table without a miss flow)', () => {
    const t = parseOfprotoTrace(
      'Flow: ip,in_port=9\n\nbridge("br-int")\n----------------\n 0. No match.\n    drop\n\nFinal flow: unchanged\nMegaflow: x\nDatapath actions: drop\n',
    );
    assert.deepEqual([t.steps[0]!.table, t.steps[0]!.priority, t.steps[0]!.cookie], [0, undefined, '']);
    const n = nameTrace(t, facts);
    assert.equal(n.steps[0]!.match, '(no match)');
    assert.equal(n.dropped, true);
  });

  it('a packet from an unknown port is dropped by the classifier table-miss flow', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('unknown-port')), facts);
    assert.equal(n.dropped, true);
    assert.deepEqual([n.steps.length, n.steps[0]!.tableName, n.steps[0]!.feature], [1, 'classifier', 'tableMiss']);
  });

  it('a policy flow that sets the denied flag denies although the packet goes on (to ctCommit, which drops it)', () => {
    assert.equal(setsDenied(['load:0x1->NXM_NX_REG5[4]', 'goto_table:80']), true);
    assert.equal(setsDenied(['set_field:0x10/0x10->reg5', 'goto_table:80']), true);
    assert.equal(setsDenied(['load:0x1->NXM_NX_REG5[2]', 'goto_table:80']), false);
    const step = {
      table: 60,
      tableName: 'egressPolicy',
      priority: 1003,
      match: 'conj_id=9',
      cookie: '0x1',
      feature: 'policy',
      object: 't1:p1/r2',
      actions: ['load:0x1->NXM_NX_REG5[4]', 'goto_table:80'],
      pass: 1,
    };
    assert.equal(policyDecision(step, true)?.action, 'deny');
    assert.equal(policyDecision({ ...step, actions: ['goto_table:70'] }, true)?.action, 'allow');
    assert.equal(policyDecision({ ...step, tableName: 'srcGroup', table: 30 }, true), undefined, 'only the policy tables decide');
  });

  it("a Kubernetes rule's flow names its NetworkPolicy and the rule within it", () => {
    const step = {
      table: 70,
      tableName: 'ingressPolicy',
      priority: 1000,
      match: 'conj_id=7',
      cookie: '0x1',
      feature: 'policy',
      object: 'k8s:x/allow-from-y/ingress/0',
      actions: ['goto_table:80'],
      pass: 1,
    };
    const d = policyDecision(step, true)!;
    assert.deepEqual([d.tenant, d.policy, d.ruleId, d.action], ['', 'k8s:x/allow-from-y', 'ingress/0', 'allow']);
    assert.deepEqual([policyDecision({ ...step, object: 't1:p1/r2' }, true)!.policy], ['p1'], 'Contiv rules as before');
  });

  it("lab output (netloom's pipeline with the policy backend): the tunnel's underlay bridge is left out", () => {
    const t = parseOfprotoTrace(fixture('lab-tunnel-out'));
    assert.ok(
      t.steps.every((s) => s.cookie.startsWith('0xa7')),
      "only br-int steps (br-phy's cookie-0 flow is not one)",
    );
    const last = t.steps.at(-1)!;
    assert.deepEqual([last.table, last.actions], [100, ['set_field:0x1->tun_id', 'set_field:10.213.57.2->tun_dst', 'output:4000']]);
    const n = nameTrace(t, { ...facts, vxlanPort: 4000 });
    assert.deepEqual(n.outputs, [{ port: 4000, kind: 'tunnel', endpoint: '', tunId: 1n, tunDst: '10.213.57.2', vlan: 0 }]);
  });

  it('lab output: an ingress deny rule sets the denied flag and the packet is dropped in ctCommit', () => {
    const n = nameTrace(parseOfprotoTrace(fixture('lab-deny-ingress')), {
      ...facts,
      objectOf: (f, h) => (f === 'policy' && h === objectHash('blue:db-policy/2') ? 'blue:db-policy/2' : undefined),
    });
    assert.equal(n.dropped, true);
    assert.deepEqual(
      n.decisions.map((d) => [d.direction, d.policy, d.ruleId, d.action]),
      [['ingress', 'db-policy', '2', 'deny']],
    );
    assert.equal(n.steps.at(-1)!.tableName, 'ctCommit');
  });

  it('a flow with cookie 0 (printed without one) is read, as not ours', () => {
    const t = parseOfprotoTrace(
      'Flow: ip,in_port=9\n\nbridge("br-int")\n----------------\n 0. priority 0\n    NORMAL\n\nFinal flow: unchanged\nMegaflow: x\nDatapath actions: 1\n',
    );
    assert.deepEqual([t.steps[0]!.cookie, t.steps[0]!.actions], ['0x0', ['NORMAL']]);
    assert.equal(nameTrace(t, facts).steps[0]!.feature, '');
  });

  it('flowFields splits a Flow: line', () => {
    const f = flowFields('tcp,in_port=1,dl_src=02:00:0a:01:00:02,nw_ttl=64');
    assert.equal(f.get('tcp'), '');
    assert.equal(f.get('dl_src'), '02:00:0a:01:00:02');
    assert.equal(f.get('nw_ttl'), '64');
  });
});
