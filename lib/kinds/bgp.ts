/**
 * A host's BGP settings (key: the host name), Contiv's Bgp object: router IP, AS, one neighbor.
 * netloom adds more neighbors (`neighbors`, `IP:AS` each) and the session timers; a host without
 * an object uses the cluster-wide default on the global object (docs/bgp.md).
 */
import { MAX_AS, MAX_HOLD_TIME, MIN_HOLD_TIME, parseAs, parseNeighbor } from '../bgp/settings';
import { defineKind } from './kind';
import type { Fields } from './fields';

export { MAX_AS };

/** A list of neighbors, each `IP:AS` (the Bgp object's `neighbors`, the default's `bgpNeighbors`). */
export const neighborList = (f: Fields, what: string) =>
  f
    .list(
      what,
      f.text(`${what}[]`, 32).refine((n) => parseNeighbor(n) !== undefined, {
        error: `${what} entries must be 'IP:AS' (an IPv4 address and an AS number 1-${MAX_AS})`,
      }),
      16,
    )
    .optional();

export const bgpKind = defineKind({
  type: 'Bgp',
  collection: 'Bgps',
  label: 'Bgp',
  key: ['hostname'],
  scope: 'global',
  schema: (z, f) => {
    const asNumber = (what: string, orEmpty: boolean) =>
      f.text(what, 10).refine((s) => (orEmpty && s === '') || parseAs(s) !== undefined, {
        error: `${what} must be an AS number (1-${MAX_AS})`,
      });
    return z.object({
      ...f.placeholders,
      hostname: f.name('hostname'),
      routerip: f.text('routerip', 64),
      as: asNumber('as', false),
      neighbor: f.text('neighbor', 64).default(''),
      'neighbor-as': asNumber('neighbor-as', true).default(''),
      /** further neighbors beyond Contiv's one, each `IP:AS` */
      neighbors: neighborList(f, 'neighbors'),
      /** seconds; absent: the cluster default's, else 9 */
      holdTime: f.int('holdTime', MIN_HOLD_TIME, MAX_HOLD_TIME).optional(),
      /** seconds; absent: the cluster default's, else 3 */
      keepaliveTime: f.int('keepaliveTime', 1, Math.floor(MAX_HOLD_TIME / 3)).optional(),
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
