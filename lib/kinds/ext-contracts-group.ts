/** An external contracts group: ACI contracts a group provides or consumes (key `tenant:name`). */
import { defineKind } from './kind';

export const extContractsGroupKind = defineKind({
  type: 'extContractsGroup',
  collection: 'extContractsGroups',
  label: 'external contracts group',
  key: ['tenantName', 'contractsGroupName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      contractsGroupName: f.name('contractsGroupName'),
      contractsType: z.enum(['provided', 'consumed'], { error: "contractsType must be 'provided' or 'consumed'" }),
      contracts: f.list('contracts', f.text('contracts[]').min(1, { error: 'contracts[] must not be empty' })).default([]),
    }),
  references: [],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  linkSets: { EndpointGroups: { kind: 'endpointGroup', namedBy: 'extContractsGrps' } },
  netctl: {
    nameField: 'contractsGroupName',
    linkSets: true,
    links: false,
  },
});
