/**
 * The BGP checks of the intent model (docs/bgp.md), pure: a Bgp object's and the cluster-wide
 * default's settings (router IP, neighbors, timers), and the overlap rule of routed networks:
 * routed subnets of different tenants may not overlap, since one fabric routes them all (there
 * are no VRFs to keep two tenants' equal prefixes apart). Each failure is a NetloomError naming
 * the field.
 */
import { NetloomError } from '../../lib/errors';
import { DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE_TIME, isRoutedNetwork, isV4, parseNeighbor } from '../../lib/bgp/settings';
import { blockOf, parseV4Cidr, parseV4Subnet } from './net';
import type { Bgp, Global, Network } from './schemas';
import type { IntentState } from './state';

const invalid = (field: string, msg: string) => new NetloomError('INVALID_ARGUMENT', msg, { field });
const conflict = (field: string, msg: string) => new NetloomError('CONFLICT', msg, { field });

/** Encaps that are routed in some setting (`bgp` always, `vlan` in Contiv's routing mode): their creates read every network. */
export const mayBeRouted = (encap: string): boolean => encap === 'bgp' || encap === 'vlan';

/** Whether the cluster has BGP settings: the global default, or any host's Bgp object (the state must hold the Bgp range). */
export function bgpConfigured(g: Global, state: IntentState): boolean {
  return g.bgpAs !== undefined || state.list('Bgp', '').length > 0;
}

/** Neighbor addresses must be distinct; the keepalive must be shorter than the hold time. */
function checkNeighborsAndTimers(
  neighbors: readonly string[],
  neighborsField: string,
  first: string | undefined,
  hold: number,
  keepalive: number,
  keepaliveField: string,
): void {
  const seen = new Set<string>(first ? [first] : []);
  for (const text of neighbors) {
    const n = parseNeighbor(text);
    if (!n) throw invalid(neighborsField, `${neighborsField} entry '${text}' must be 'IP:AS'`);
    if (seen.has(n.address)) throw invalid(neighborsField, `${neighborsField} names neighbor ${n.address} twice`);
    seen.add(n.address);
  }
  if (keepalive >= hold) {
    throw invalid(keepaliveField, `${keepaliveField} ${keepalive} must be shorter than the hold time ${hold} (a third of it is usual)`);
  }
}

/** A host's Bgp object: Contiv's fields (router IP a CIDR, neighbor an IPv4 address with its AS) and netloom's additions. */
export function checkBgpObject(b: Bgp): void {
  const cidr = parseV4Cidr(b.routerip);
  if (cidr === undefined || !isV4(b.routerip.split('/')[0] ?? ''))
    throw invalid('routerip', `routerip '${b.routerip}' must be an IPv4 address with prefix length (e.g. 50.1.1.1/24)`);
  if (b.neighbor !== '' && !isV4(b.neighbor)) throw invalid('neighbor', `neighbor '${b.neighbor}' must be an IPv4 address`);
  if (b.neighbor !== '' && b['neighbor-as'] === '') throw invalid('neighbor-as', `neighbor ${b.neighbor} needs its AS (neighbor-as)`);
  if (b.neighbor === '' && b['neighbor-as'] !== '') throw invalid('neighbor', `neighbor-as ${b['neighbor-as']} needs a neighbor address`);
  checkNeighborsAndTimers(
    b.neighbors ?? [],
    'neighbors',
    b.neighbor || undefined,
    b.holdTime ?? DEFAULT_HOLD_TIME,
    b.keepaliveTime ?? DEFAULT_KEEPALIVE_TIME,
    'keepaliveTime',
  );
}

/** The cluster-wide default on the global object: neighbors and timers only with an AS. */
export function checkBgpDefault(g: Global): void {
  if (g.bgpAs === undefined) {
    for (const f of ['bgpNeighbors', 'bgpHoldTime', 'bgpKeepaliveTime'] as const) {
      if (g[f] !== undefined) throw invalid(f, `${f} is part of the BGP default, which needs bgpAs`);
    }
    return;
  }
  checkNeighborsAndTimers(
    g.bgpNeighbors ?? [],
    'bgpNeighbors',
    undefined,
    g.bgpHoldTime ?? DEFAULT_HOLD_TIME,
    g.bgpKeepaliveTime ?? DEFAULT_KEEPALIVE_TIME,
    'bgpKeepaliveTime',
  );
}

const label = (n: Network) => `network ${n.tenantName}:${n.networkName}`;

/** A new or changed routed network `nw` against every network: no routed subnet of another tenant may overlap it. */
export function checkRoutedOverlap(nw: Network, all: readonly Network[], fwdMode: string, configured: boolean): void {
  const mine = parseV4Subnet(nw.subnet);
  if (!mine) return;
  const [lo, hi] = blockOf(mine);
  for (const o of all) {
    if (o.tenantName === nw.tenantName || !isRoutedNetwork(o.encap, fwdMode, configured)) continue;
    const os = parseV4Subnet(o.subnet);
    if (!os) continue;
    const [olo, ohi] = blockOf(os);
    if (lo <= ohi && olo <= hi) {
      throw conflict(
        'subnet',
        `subnet ${nw.subnet} overlaps subnet ${o.subnet} of ${label(o)}: routed networks of different tenants may not overlap (one fabric routes them all)`,
      );
    }
  }
}

/**
 * Every routed network under settings that may newly make routing-mode VLAN networks routed (the
 * first Bgp object, the BGP default): refused when two tenants' routed subnets would then
 * overlap. `field` names the setting refused. Sorted sweep: one tenant's subnets never overlap
 * each other, so an overlap with the widest earlier block is another tenant's.
 */
export function checkRoutedOverlaps(all: readonly Network[], fwdMode: string, configured: boolean, field: string, what: string): void {
  const routed = all
    .filter((n) => isRoutedNetwork(n.encap, fwdMode, configured))
    .flatMap((n) => {
      const s = parseV4Subnet(n.subnet);
      return s ? [{ n, block: blockOf(s) }] : [];
    })
    .sort((a, b) => a.block[0] - b.block[0]);
  let widest: (typeof routed)[number] | undefined;
  for (const r of routed) {
    if (widest && r.block[0] <= widest.block[1] && widest.n.tenantName !== r.n.tenantName) {
      throw conflict(
        field,
        `${what} would make ${label(widest.n)} (${widest.n.subnet}) and ${label(r.n)} (${r.n.subnet}) routed, and routed networks of different tenants may not overlap`,
      );
    }
    if (!widest || r.block[1] > widest.block[1]) widest = r;
  }
}
