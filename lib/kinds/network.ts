/** A network of a tenant: subnet, encapsulation and tag (key `tenant:network`). */
import { defineKind } from './kind';

export const networkKind = defineKind({
  type: 'network',
  collection: 'networks',
  label: 'network',
  key: ['tenantName', 'networkName'],
  scope: 'tenant',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      tenantName: f.name('tenantName'),
      networkName: f.name('networkName'),
      nwType: z.enum(['infra', 'data'], { error: "nwType must be 'infra' or 'data'" }).default('data'),
      /** `bgp`: routed, announced by BGP (docs/bgp.md); its pktTag is netmaster's network id, never given */
      encap: z.enum(['vlan', 'vxlan', 'bgp'], { error: "encap must be 'vlan', 'vxlan' or 'bgp'" }).default('vxlan'),
      pktTag: f.int('pktTag', 0, 16777215).default(0),
      subnet: f.text('subnet', 64).min(1, { error: 'subnet is required' }),
      gateway: f.text('gateway', 64).default(''),
      ipv6Subnet: f.text('ipv6Subnet', 64).default(''),
      ipv6Gateway: f.text('ipv6Gateway', 64).default(''),
      cfgdTag: f.text('cfgdTag').default(''),
      /** traffic leaving the host from this network is masqueraded to the host's address (off: the fabric routes the subnet) */
      nat: z.boolean({ error: 'nat must be true or false' }).default(true),
      /** prefix length of the address blocks hosts claim here (issue 15); absent or 0: the global setting */
      blockPrefix: f
        .int('blockPrefix', 0, 30)
        .refine((p) => p === 0 || p >= 16, { error: 'blockPrefix must be 0 (the global setting) or between 16 and 30' })
        .optional(),
    }),
  references: [],
  links: { Tenant: { kind: 'tenant', field: 'tenantName' } },
  linkSets: {
    EndpointGroups: { kind: 'endpointGroup', namedBy: 'networkName' },
    Servicelbs: { kind: 'serviceLB', namedBy: 'networkName' },
    Services: null,
  },
  netctl: {
    nameField: 'networkName',
    linkSets: true,
    links: true,
    columns: [
      { header: 'Tenant', underline: '------', field: 'tenantName' },
      { header: 'Network', underline: '-------', field: 'networkName' },
      { header: 'Nw Type', underline: '-------', field: 'nwType' },
      { header: 'Encap type', underline: '----------', field: 'encap' },
      { header: 'Packet tag', underline: '----------', field: 'pktTag', format: 'int' },
      { header: 'Subnet', underline: '-------', field: 'subnet' },
      { header: 'Gateway', underline: '------', field: 'gateway' },
      { header: 'IPv6Subnet', underline: '----------', field: 'ipv6Subnet' },
      { header: 'IPv6Gateway', underline: '-----------', field: 'ipv6Gateway' },
      { header: 'Cfgd Tag ', underline: '---------', field: 'cfgdTag' },
    ],
  },
});
