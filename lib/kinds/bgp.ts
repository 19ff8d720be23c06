/** A host's BGP settings (key: the host name). Stored; no BGP mode yet. */
import { defineKind } from './kind';

/** The largest AS number (4 bytes). */
export const MAX_AS = 4294967295;

export const bgpKind = defineKind({
  type: 'Bgp',
  collection: 'Bgps',
  label: 'Bgp',
  key: ['hostname'],
  scope: 'global',
  schema: (z, f) => {
    // a 4-byte AS number as decimal text (RFC 6793); 0 is reserved (RFC 7607)
    const asNumber = (what: string, orEmpty: boolean) =>
      f.text(what, 10).refine((s) => (orEmpty && s === '') || (/^\d{1,10}$/.test(s) && Number(s) >= 1 && Number(s) <= MAX_AS), {
        error: `${what} must be an AS number (1-${MAX_AS})`,
      });
    return z.object({
      ...f.placeholders,
      hostname: f.name('hostname'),
      routerip: f.text('routerip', 64),
      as: asNumber('as', false),
      neighbor: f.text('neighbor', 64).default(''),
      'neighbor-as': asNumber('neighbor-as', true).default(''),
    });
  },
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
