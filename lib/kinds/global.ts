/** The global settings, one object (key `global`): tag ranges, forwarding and ARP modes. */
import { defineKind } from './kind';

export const globalKind = defineKind({
  type: 'global',
  collection: 'globals',
  label: 'global',
  key: ['name'],
  scope: 'global',
  permanent: true,
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      name: z.literal('global', { error: "name must be 'global'" }).default('global'),
      networkInfraType: z
        .enum(['default', 'aci', 'aci-opflex'], { error: "networkInfraType must be 'default', 'aci' or 'aci-opflex'" })
        .default('default'),
      vlans: f.text('vlans').default('1-4094'),
      vxlans: f.text('vxlans').default('1-10000'),
      fwdMode: z.enum(['bridge', 'routing'], { error: "fwdMode must be 'bridge' or 'routing'" }).default('bridge'),
      arpMode: z.enum(['proxy', 'flood'], { error: "arpMode must be 'proxy' or 'flood'" }).default('proxy'),
      pvtSubnet: f.text('pvtSubnet', 64).default('172.19.0.0/16'),
      /** prefix length of the address blocks hosts claim in networks that name none (issue 15); absent: 26 */
      blockPrefix: f.int('blockPrefix', 16, 30).optional(),
    }),
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
  },
});
