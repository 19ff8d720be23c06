/** netmaster/aci/desired-tree: the reference intent against the tree written by hand; unenforced and common-tenant modes; refusals. */
import { missingGroupTagReason } from '../../../netmaster/model/vlan-pool';
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { desiredTrees } from '../../../netmaster/aci/desired-tree';
import { OWNER_ANNOTATION, type FlatTree } from '../../../netmaster/aci/mo';
import { aciRuleProblem } from '../../../netmaster/aci/rule-contracts';
import { REF_EXPECTED, REF_EXT_CONTRACTS, REF_GW, REF_INTENT, REF_RULES } from '../../support/aci-reference';

const sorted = (t: FlatTree) =>
  [...t.entries()].map(([dn, mo]) => [dn, mo.cls, mo.attrs] as const).sort((a, b) => a[0].localeCompare(b[0]));
const expected = (tenant: string) =>
  (REF_EXPECTED[tenant] ?? [])
    .map(([dn, cls, attrs]) => [dn, cls, { ...attrs, annotation: OWNER_ANNOTATION }] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));

describe('ACI desired tree', () => {
  it('turns the reference intent into the hand-written tree of each tenant', () => {
    const trees = desiredTrees(REF_INTENT);
    assert.deepEqual([...trees.keys()], ['acA', 'acB']);
    for (const t of ['acA', 'acB']) {
      const tt = trees.get(t);
      assert.ok(tt?.tree, `tenant ${t}: ${tt?.error?.message}`);
      assert.deepEqual(sorted(tt.tree), expected(t));
    }
  });

  it("each EPG's static bindings carry its group's own VLAN: two groups of one network, two encaps", () => {
    const b = desiredTrees(REF_INTENT).get('acB')?.tree;
    assert.ok(b);
    const encaps = [...b.values()].filter((m) => m.cls === 'fvRsPathAtt').map((m) => m.attrs.encap);
    assert.deepEqual(encaps.sort(), ['vlan-104', 'vlan-105']);
  });

  it('a group whose VLAN is not allocated yet: its tenant waits (UNAVAILABLE, nothing built), the other tenant does not', () => {
    const groups = REF_INTENT.groups.map((g) => (g.group.groupName === 'back' ? { ...g, vlan: undefined } : g));
    const trees = desiredTrees({ ...REF_INTENT, groups });
    assert.ok(isNetloomError(trees.get('acB')?.error, 'UNAVAILABLE'));
    assert.match(trees.get('acB')?.error?.message ?? '', /group acB:back: its VLAN of its own is not allocated yet/);
    assert.ok(trees.get('acA')?.tree);
    // the pool exhausted (readAciIntent's reason, model/vlan-pool.ts): the message says so
    const reason = missingGroupTagReason({ vlans: '100-101' }, { held: [100, 101], free: 0 });
    const stuck = desiredTrees({ ...REF_INTENT, groups, missingVlanReason: reason }).get('acB')?.error?.message ?? '';
    assert.match(stuck, /group acB:back: no VLAN of its own: the VLAN pool 100-101 has none free/);
  });

  it('unenforced: no contracts, every EPG consumes and provides the common default; includeCommonTenant: the common VRF', () => {
    const trees = desiredTrees({ ...REF_INTENT, gw: { ...REF_GW, enforcePolicies: 'no', includeCommonTenant: 'yes' } });
    const a = trees.get('acA')?.tree;
    assert.ok(a);
    assert.equal([...a.values()].filter((m) => m.cls === 'vzBrCP' || m.cls === 'vzFilter').length, 0);
    assert.deepEqual(a.get('uni/tn-acA/ap-app1/epg-web/rscons-default')?.attrs.tnVzBrCPName, 'default');
    assert.ok(a.get('uni/tn-acA/ap-app1/epg-web/rsprov-default'));
    assert.equal(a.get('uni/tn-acA/ctx-netloom'), undefined);
    assert.equal(a.get('uni/tn-acA/BD-web-net/rsctx')?.attrs.tnFvCtxName, 'default');
  });

  it('refuses rules ACI cannot express, naming the rule and field; a plain deny-all is the VRF default', () => {
    const base = REF_RULES[0]!;
    const problem = (r: Partial<typeof base>) => aciRuleProblem({ ...base, ...r });
    assert.equal(problem({}), undefined);
    assert.equal(problem({ action: 'deny', fromEndpointGroup: '', protocol: '', port: 0 }), undefined);
    const deny = problem({ action: 'deny' });
    assert.ok(deny && deny.field === 'action' && /acA:db-pol:1/.test(deny.message));
    assert.equal(problem({ fromEndpointGroup: '', fromIpAddress: '10.0.0.1' })?.field, 'fromIpAddress');
    assert.equal(problem({ fromEndpointGroup: '', fromNetwork: 'web-net' })?.field, 'fromNetwork');
    assert.equal(problem({ fromEndpointGroup: '' })?.field, 'fromEndpointGroup');
    // in a tree, the tenant with the bad rule gets the error; the other tenant still gets its tree
    const trees = desiredTrees({ ...REF_INTENT, rules: [...REF_RULES, { ...base, ruleId: '9', toIpAddress: '1.2.3.4' }] });
    assert.ok(isNetloomError(trees.get('acA')?.error, 'INVALID_ARGUMENT'));
    assert.ok(trees.get('acB')?.tree);
  });

  it('refuses aciGw settings without domain or bindings, or with a binding of the wrong form, and external contracts of other tenants', () => {
    assert.throws(
      () => desiredTrees({ ...REF_INTENT, gw: { ...REF_GW, pathBindings: '', nodeBindings: '', physicalDomain: '' } }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'physicalDomain',
    );
    assert.throws(
      () => desiredTrees({ ...REF_INTENT, gw: { ...REF_GW, pathBindings: 'topology/pod-1/paths-101/eth1/1' } }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'pathBindings',
    );
    assert.throws(
      () => desiredTrees({ ...REF_INTENT, gw: { ...REF_GW, nodeBindings: 'node-101' } }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'nodeBindings',
    );
    const trees = desiredTrees({ ...REF_INTENT, extContractsGroups: [{ ...REF_EXT_CONTRACTS[0]!, contracts: ['uni/tn-other/brc-x'] }] });
    assert.equal(trees.get('acA')?.error?.field, 'contracts');
  });
});
