/** A tenant: the namespace every other tenant-scoped object lives in (key: its name). */
import { defineKind } from './kind';

export const tenantKind = defineKind({
  type: 'tenant',
  collection: 'tenants',
  label: 'tenant',
  key: ['tenantName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      defaultNetwork: f.optName('defaultNetwork'),
    }),
  // the default network must exist in the tenant, and stays while the tenant names it
  references: [{ field: 'defaultNetwork', kind: 'network', holds: true }],
  linkSets: {
    AppProfiles: { kind: 'appProfile', namedBy: 'tenantName' },
    EndpointGroups: { kind: 'endpointGroup', namedBy: 'tenantName' },
    NetProfiles: { kind: 'netprofile', namedBy: 'tenantName' },
    Networks: { kind: 'network', namedBy: 'tenantName' },
    Policies: { kind: 'policy', namedBy: 'tenantName' },
    Servicelbs: { kind: 'serviceLB', namedBy: 'tenantName' },
    VolumeProfiles: null,
    Volumes: null,
  },
  netctl: {
    nameField: 'tenantName',
    linkSets: true,
    links: false,
    columns: [{ header: 'Name', underline: '------', field: 'tenantName' }],
    trailingTab: true,
  },
});
