/**
 * netmaster/aci/gateway + session + diff against the APIC stand-in over real HTTP on loopback:
 * the reference intent converges to the hand-written tree; a second pass sends nothing; a rule
 * added, changed and removed touches only its filter/entry/contract objects; a hand-made object
 * survives; an expired token and a 503 spell are ridden out; a refused POST is an error naming the APIC's text.
 */
import { strict as assert } from 'node:assert';
import { desiredTrees, type AciIntent } from '../../../netmaster/aci/desired-tree';
import { diffTree } from '../../../netmaster/aci/diff';
import { AciGateway } from '../../../netmaster/aci/gateway';
import { OWNER_ANNOTATION, type FlatTree, type Mo } from '../../../netmaster/aci/mo';
import { ApicSession } from '../../../netmaster/aci/session';
import type { Rule } from '../../../netmaster/model/schemas';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { REF_EXPECTED, REF_INTENT, REF_RULES } from '../../support/aci-reference';

function held(s: RunningApicStandin, tenant: string): Array<[string, string, Record<string, string>]> {
  return s
    .mit()
    .dump()
    .filter((o) => o.dn === `uni/tn-${tenant}` || o.dn.startsWith(`uni/tn-${tenant}/`))
    .map((o): [string, string, Record<string, string>] => [o.dn, o.cls, o.attrs])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

const expected = (tenant: string) =>
  (REF_EXPECTED[tenant] ?? [])
    .map(([dn, cls, attrs]): [string, string, Record<string, string>] => [dn, cls, { ...attrs, annotation: OWNER_ANNOTATION }])
    .sort((a, b) => a[0].localeCompare(b[0]));

const trees = (intent: AciIntent) => desiredTrees(intent);
const mutating = (s: RunningApicStandin) => s.calls.filter((c) => c.method !== 'GET' && !c.path.startsWith('/api/aaa'));

describe('ACI gateway against the APIC stand-in', () => {
  let s: RunningApicStandin;
  let gw: AciGateway;
  let session: ApicSession;

  beforeEach(async () => {
    s = await startApicStandin({ user: 'admin', password: 'pw' });
    session = new ApicSession({ url: s.url, user: 'admin', password: 'pw', backoff: { initialMs: 5, maxMs: 50 }, maxAttempts: 20 });
    gw = new AciGateway(session);
  });
  afterEach(() => s.close());

  it('converges the reference intent to the hand-written tree, then sends nothing more', async () => {
    assert.equal(await gw.sync(trees(REF_INTENT)), true);
    assert.deepEqual(held(s, 'acA'), expected('acA'));
    assert.deepEqual(held(s, 'acB'), expected('acB'));
    assert.equal(gw.status.get('acA')?.state, 'in sync');
    // parents before children: each tenant went in one POST of its whole tree
    assert.deepEqual(
      mutating(s).map((c) => c.dn),
      ['uni/tn-acA', 'uni/tn-acB'],
    );
    s.clearCalls();
    assert.equal(await gw.sync(trees(REF_INTENT)), true);
    assert.deepEqual(mutating(s), [], 'a second pass changes nothing');
  });

  it("a group without its VLAN yet leaves its tenant pending with nothing sent; a group's new VLAN changes only its bindings", async () => {
    const without = REF_INTENT.groups.map((g) => (g.group.groupName === 'back' ? { ...g, vlan: undefined } : g));
    assert.equal(await gw.sync(trees({ ...REF_INTENT, groups: without })), false);
    assert.equal(gw.waitsOnIntentOnly, true, 'failed for want of intent only: an intent change wakes the next pass');
    assert.equal(gw.status.get('acB')?.state, 'pending');
    assert.match(gw.status.get('acB')?.message ?? '', /not allocated yet/);
    assert.deepEqual(
      mutating(s).map((c) => c.dn),
      ['uni/tn-acA'],
      'nothing for the waiting tenant',
    );
    assert.equal(await gw.sync(trees(REF_INTENT)), true);
    assert.deepEqual(held(s, 'acB'), expected('acB'));
    s.clearCalls();
    const moved = REF_INTENT.groups.map((g) => (g.group.groupName === 'back' ? { ...g, vlan: 150 } : g));
    assert.equal(await gw.sync(trees({ ...REF_INTENT, groups: moved })), true);
    assert.deepEqual(
      mutating(s)
        .map((c) => `${c.method} ${c.dn}`)
        .sort(),
      [
        'POST uni/tn-acB/ap-app2/epg-back/rsnodeAtt-[topology/pod-1/node-102]',
        'POST uni/tn-acB/ap-app2/epg-back/rspathAtt-[topology/pod-1/paths-101/pathep-[eth1/14]]',
      ],
    );
  });

  it('a rule added, changed and removed touches only its filter, entry, contract and relations; no EPG or BD is deleted', async () => {
    await gw.sync(trees(REF_INTENT));
    const extra: Rule = { ...REF_RULES[0]!, ruleId: '3', port: 8080 };
    const touched = async (rules: Rule[]) => {
      s.clearCalls();
      await gw.sync(trees({ ...REF_INTENT, rules }));
      return mutating(s).map((c) => `${c.method} ${c.dn}`);
    };
    assert.deepEqual(await touched([...REF_RULES, extra]), [
      'POST uni/tn-acA/brc-db-pol-3',
      'POST uni/tn-acA/flt-db-pol-3',
      'POST uni/tn-acA/ap-app1/epg-db/rsprov-db-pol-3',
      'POST uni/tn-acA/ap-app1/epg-web/rscons-db-pol-3',
    ]);
    assert.deepEqual(await touched([...REF_RULES, { ...extra, port: 9090 }]), [
      'POST uni/tn-acA/flt-db-pol-3/e-tcp-9090',
      'DELETE uni/tn-acA/flt-db-pol-3/e-tcp-8080',
    ]);
    assert.deepEqual(await touched(REF_RULES), [
      'DELETE uni/tn-acA/ap-app1/epg-db/rsprov-db-pol-3',
      'DELETE uni/tn-acA/ap-app1/epg-web/rscons-db-pol-3',
      'DELETE uni/tn-acA/brc-db-pol-3',
      'DELETE uni/tn-acA/flt-db-pol-3',
    ]);
    assert.deepEqual(held(s, 'acA'), expected('acA'));
  });

  it('never touches an object made by hand under its tenant, and removes a tenant without app profiles', async () => {
    await gw.sync(trees(REF_INTENT));
    s.mit().post('uni/tn-acA/ap-app1/epg-web', {
      fvAEPg: { attributes: {}, children: [{ fvRsCons: { attributes: { tnVzBrCPName: 'by-hand' } } }] },
    });
    s.mit().post('uni/tn-acA/ap-manual', { fvAp: { attributes: { name: 'manual' } } });
    await gw.sync(trees(REF_INTENT));
    assert.ok(s.mit().get('uni/tn-acA/ap-app1/epg-web/rscons-by-hand'));
    assert.ok(s.mit().get('uni/tn-acA/ap-manual'));
    await gw.sync(trees({ ...REF_INTENT, appProfiles: REF_INTENT.appProfiles.filter((a) => a.tenantName === 'acA') }));
    assert.equal(s.mit().get('uni/tn-acB'), undefined);
    assert.deepEqual([...gw.status.keys()], ['acA']);
  });

  it('logs in again when the token expires mid-sync and rides out a 503 spell', async () => {
    await gw.sync(trees(REF_INTENT));
    s.mit().delete('uni/tn-acB');
    s.sessions.expireAll();
    s.faults.set({ count: 3 });
    assert.equal(await gw.sync(trees(REF_INTENT)), true);
    assert.deepEqual(held(s, 'acB'), expected('acB'));
    assert.equal(session.logins, 2);
    assert.ok(s.calls.filter((c) => c.status === 503).length >= 3);
  });

  it('an APIC refusal is the tenant error, with the APIC text; the other tenant still syncs', async () => {
    const bad: FlatTree = new Map<string, Mo>([
      ['uni/tn-acA', { cls: 'fvTenant', attrs: { name: 'acA', annotation: OWNER_ANNOTATION } }],
      ['uni/tn-acA/ap-x', { cls: 'fvAp', attrs: { name: 'x', annotation: OWNER_ANNOTATION } }],
      ['uni/tn-acA/ap-x/rsbd', { cls: 'fvRsBd', attrs: { tnFvBDName: 'b', annotation: OWNER_ANNOTATION } }],
    ]);
    const good = trees(REF_INTENT).get('acB');
    assert.ok(good);
    assert.equal(
      await gw.sync(
        new Map([
          ['acA', { tree: bad }],
          ['acB', good],
        ]),
      ),
      false,
    );
    assert.equal(gw.status.get('acA')?.state, 'error');
    assert.match(gw.status.get('acA')?.message ?? '', /fvAp cannot contain fvRsBd/);
    assert.equal(gw.waitsOnIntentOnly, false, 'the APIC refused: the next pass waits its backoff');
    assert.equal(gw.status.get('acB')?.state, 'in sync');
  });

  it('diff: a changed property is posted alone, without its children', () => {
    const t = trees(REF_INTENT).get('acA')?.tree;
    assert.ok(t);
    const have = new Map(t);
    have.set('uni/tn-acA/ctx-netloom', { cls: 'fvCtx', attrs: { name: 'netloom', pcEnfPref: 'unenforced', annotation: OWNER_ANNOTATION } });
    const d = diffTree(t, have);
    assert.deepEqual(d.posts, [
      {
        dn: 'uni/tn-acA/ctx-netloom',
        body: {
          fvCtx: { attributes: { name: 'netloom', pcEnfPref: 'enforced', annotation: OWNER_ANNOTATION, dn: 'uni/tn-acA/ctx-netloom' } },
        },
      },
    ]);
    assert.deepEqual(d.deletes, []);
  });
});
