/** A host's BGP settings (key: the host name). Stored; no BGP mode yet. */
import { defineKind } from './kind';

export const bgpKind = defineKind({
  type: 'Bgp',
  collection: 'Bgps',
  label: 'Bgp',
  key: ['hostname'],
  scope: 'global',
  schema: (z, f) =>
    z.object({
      ...f.placeholders,
      hostname: f.name('hostname'),
      routerip: z.string({ error: 'routerip is required' }),
      as: z.string().regex(/^\d{1,10}$/, { error: 'as must be an AS number' }),
      neighbor: z.string().default(''),
      'neighbor-as': z.union([z.literal(''), z.string().regex(/^\d{1,10}$/, { error: 'neighbor-as must be an AS number' })]).default(''),
    }),
  references: [],
  netctl: {
    nameField: 'hostname',
    linkSets: false,
    links: false,
    columns: [
      { header: 'HostName', underline: '---------', field: 'hostname' },
      { header: 'RouterIP', underline: '--------', field: 'routerip' },
      { header: 'AS', underline: '-------', field: 'as' },
      { header: 'Neighbor', underline: '--------', field: 'neighbor' },
      { header: 'NeighborAS', underline: '-------', field: 'neighbor-as' },
    ],
  },
});
