/**
 * A workload that is not a container (a bare-metal server, a VM) on a VLAN network: registered
 * by its address and MAC so that the network's allocator never hands its address out, the hosts
 * reach it through the VLAN uplink, and policy names it by IP or as a member of its group
 * (key `tenant:endpoint`). netmaster records it as an endpoint of the network with no host.
 */
import { defineKind } from './kind';

export const externalEndpointKind = defineKind({
  type: 'externalEndpoint',
  collection: 'externalEndpoints',
  label: 'external endpoint',
  key: ['tenantName', 'endpointName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      endpointName: f.name('endpointName'),
      networkName: f.name('networkName'),
      groupName: f.optName('groupName'),
      ipAddress: f.text('ipAddress', 64).min(1, { error: 'ipAddress is required' }),
      macAddress: f
        .text('macAddress', 17)
        .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, { error: 'macAddress must be a MAC like 02:00:00:00:00:01' })
        .transform((m) => m.toLowerCase()),
    }),
  references: [
    { field: 'networkName', kind: 'network', holds: true },
    { field: 'groupName', kind: 'endpointGroup', holds: true },
  ],
  links: {
    EndpointGroup: { kind: 'endpointGroup', field: 'groupName' },
    Network: { kind: 'network', field: 'networkName' },
    Tenant: { kind: 'tenant', field: 'tenantName' },
  },
  netctl: {
    nameField: 'endpointName',
    linkSets: false,
    links: true,
    columns: [
      { header: 'Tenant', underline: '------', field: 'tenantName' },
      { header: 'Name', underline: '----', field: 'endpointName' },
      { header: 'Network', underline: '-------', field: 'networkName' },
      { header: 'Group', underline: '-----', field: 'groupName' },
      { header: 'IP Address', underline: '----------', field: 'ipAddress' },
      { header: 'MAC Address', underline: '-----------', field: 'macAddress' },
    ],
  },
});
