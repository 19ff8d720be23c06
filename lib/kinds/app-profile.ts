/** An application profile: a named list of a tenant's groups (key `tenant:app`). */
import { defineKind } from './kind';

export const appProfileKind = defineKind({
  type: 'appProfile',
  collection: 'appProfiles',
  label: 'app profile',
  key: ['tenantName', 'appProfileName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      appProfileName: f.name('appProfileName'),
      endpointGroups: f.list('endpointGroups', f.name('endpointGroups[]')).default([]),
    }),
  references: [{ field: 'endpointGroups', kind: 'endpointGroup', holds: true }],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  linkSets: { EndpointGroups: { kind: 'endpointGroup', names: 'endpointGroups' } },
  netctl: {
    nameField: 'appProfileName',
    linkSets: true,
    links: true,
    columns: [
      { header: 'Tenant', underline: '------', field: 'tenantName' },
      { header: 'AppProfile', underline: '----------', field: 'appProfileName' },
      { header: 'Groups', underline: '------', field: 'endpointGroups', format: 'list' },
    ],
  },
});
