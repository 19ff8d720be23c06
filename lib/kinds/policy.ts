/** A policy: a named set of rules that groups apply (key `tenant:policy`). */
import { defineKind } from './kind';

export const policyKind = defineKind({
  type: 'policy',
  collection: 'policys',
  label: 'policy',
  key: ['tenantName', 'policyName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      policyName: f.name('policyName'),
    }),
  references: [],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  linkSets: {
    EndpointGroups: { kind: 'endpointGroup', namedBy: 'policies' },
    Rules: { kind: 'rule', namedBy: 'policyName' },
  },
  netctl: {
    nameField: 'policyName',
    linkSets: true,
    links: true,
    columns: [
      { header: 'Tenant', underline: '------', field: 'tenantName' },
      { header: 'Policy', underline: '------', field: 'policyName' },
    ],
  },
});
