/** The global settings, one object (key `global`): tag ranges, forwarding and ARP modes, the BGP default. */
import { MAX_AS, MAX_HOLD_TIME, MIN_HOLD_TIME, parseAs } from '../bgp/settings';
import { neighborList } from './bgp';
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
      /**
       * The cluster-wide BGP default (docs/bgp.md): a host without a Bgp object speaks BGP with this
       * AS to these neighbors (`IP:AS` each); absent: no default, hosts need their own object.
       */
      bgpAs: f
        .text('bgpAs', 10)
        .refine((s) => parseAs(s) !== undefined, { error: `bgpAs must be an AS number (1-${MAX_AS})` })
        .optional(),
      bgpNeighbors: neighborList(f, 'bgpNeighbors'),
      /** seconds; absent: 9 (a dead host's routes go within it) */
      bgpHoldTime: f.int('bgpHoldTime', MIN_HOLD_TIME, MAX_HOLD_TIME).optional(),
      /** seconds; absent: 3 */
      bgpKeepaliveTime: f.int('bgpKeepaliveTime', 1, Math.floor(MAX_HOLD_TIME / 3)).optional(),
    }),
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
  },
});
