/** An endpoint group: a network's endpoints under policies and a profile (key `tenant:group`). */
import { defineKind } from './kind';

export const endpointGroupKind = defineKind({
  type: 'endpointGroup',
  collection: 'endpointGroups',
  label: 'endpoint group',
  key: ['tenantName', 'groupName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      groupName: f.name('groupName'),
      networkName: f.name('networkName'),
      ipPool: f.text('ipPool', 64).default(''),
      policies: f.list('policies', f.name('policies[]')).default([]),
      netProfile: f.optName('netProfile'),
      extContractsGrps: f.list('extContractsGrps', f.name('extContractsGrps[]')).default([]),
      cfgdTag: f.text('cfgdTag').default(''),
    }),
  references: [
    { field: 'networkName', kind: 'network', holds: true },
    { field: 'policies', kind: 'policy', holds: true },
    { field: 'netProfile', kind: 'netprofile', holds: true },
    { field: 'extContractsGrps', kind: 'extContractsGroup', holds: true },
  ],
  links: {
    AppProfile: null,
    NetProfile: { kind: 'netprofile', field: 'netProfile' },
    Network: { kind: 'network', field: 'networkName' },
    Tenant: { kind: 'tenant', field: 'tenantName' },
  },
  linkSets: {
    ExtContractsGrps: { kind: 'extContractsGroup', names: 'extContractsGrps' },
    MatchRules: { kind: 'rule', namedBy: 'fromEndpointGroup|toEndpointGroup' },
    Policies: { kind: 'policy', names: 'policies' },
    Services: null,
  },
  netctl: {
    nameField: 'groupName',
    linkSets: true,
    links: true,
    columns: [
      { header: 'Tenant', underline: '------', field: 'tenantName' },
      { header: 'Group', underline: '-----', field: 'groupName' },
      { header: 'Network', underline: '-------', field: 'networkName' },
      { header: 'IP Pool', underline: '-------', field: 'ipPool' },
      { header: 'CfgdTag', underline: '-------', field: 'cfgdTag' },
      { header: 'Policies', underline: '--------', field: 'policies', format: 'list' },
      { header: 'Network profile', underline: '---------------', field: 'netProfile' },
    ],
  },
});
