/**
 * Deletes are driven by what kinds declare: a kind declared with a holding reference gets the
 * in-use check of its target, a tenant-scoped kind keeps its tenant in use, and a kind declared
 * under a parent goes with it.
 */
import assert from 'node:assert/strict';
import { ALL_KINDS, type KindDescriptor } from '../../../lib/kinds';
import { childrenOf, referrersOf, tenantChildren } from '../../../netmaster/model/deletes';

const widget: KindDescriptor = {
  type: 'widget',
  collection: 'widgets',
  label: 'widget',
  key: ['tenantName', 'widgetName'],
  scope: 'tenant',
  schema: (z, f) => z.object({ tenantName: f.name('tenantName'), widgetName: f.name('widgetName') }),
  references: [
    { field: 'networkName', kind: 'network', holds: true },
    { field: 'peerGroup', kind: 'endpointGroup', holds: false },
  ],
  netctl: { nameField: 'widgetName', linkSets: true, links: false },
};
const part: KindDescriptor = { ...widget, type: 'part', collection: 'parts', parent: 'widget', references: [] };
const kinds = [...ALL_KINDS, widget, part];

describe('netmaster deletes from declared references', () => {
  it('a new kind with a holding reference keeps its target in use', () => {
    const r = referrersOf('network', kinds);
    assert.deepEqual(
      r.map((x) => [x.kind.type, x.fields]),
      [
        ['tenant', ['defaultNetwork']],
        ['endpointGroup', ['networkName']],
        ['serviceLB', ['networkName']],
        ['externalEndpoint', ['networkName']],
        ['widget', ['networkName']],
      ],
    );
  });

  it('a reference that does not hold adds no check', () => {
    assert.ok(!referrersOf('endpointGroup', kinds).some((x) => x.kind.type === 'widget'));
    // the declared kinds: rules and app profiles hold groups
    assert.deepEqual(
      referrersOf('endpointGroup').map((x) => [x.kind.type, x.fields]),
      [
        ['rule', ['fromEndpointGroup', 'toEndpointGroup']],
        ['appProfile', ['endpointGroups']],
        ['externalEndpoint', ['groupName']],
      ],
    );
  });

  it('a tenant-scoped kind keeps its tenant; a kind under a parent goes with the parent', () => {
    assert.ok(tenantChildren(kinds).some((k) => k.type === 'widget'));
    assert.ok(!tenantChildren(kinds).some((k) => k.type === 'part'));
    assert.deepEqual(
      childrenOf('widget', kinds).map((k) => k.type),
      ['part'],
    );
    assert.deepEqual(
      childrenOf('policy').map((k) => k.type),
      ['rule'],
    );
  });

  it('every reference names a declared kind', () => {
    const types = new Set(ALL_KINDS.map((k) => k.type));
    for (const k of ALL_KINDS) {
      for (const r of k.references) assert.ok(types.has(r.kind), `${k.type}.${r.field} -> ${r.kind}`);
      if (k.parent) assert.ok(types.has(k.parent), `${k.type} parent ${k.parent}`);
    }
  });
});
