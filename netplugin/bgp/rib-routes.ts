/**
 * The kernel routes a host's RIB asks for (pure): for every prefix learned from peers, the next
 * hops of GoBGP's best path and of every other usable path as good as it on the attributes that
 * come before the tie-breaks (LOCAL_PREF, AS path length, ORIGIN, MED), which is BGP multipath
 * with the AS-path "relax" rule: the same prefix announced by two hosts of different AS behind one
 * ToR is spread over both. A prefix this host announces itself is never routed by BGP (its local
 * routes serve it), nor is a path whose next hop is one of this host's own addresses.
 */
import type { RibDestination } from './gobgp-client';
import type { RibPath } from './path-codec';

export interface RibRouteOptions {
  /** this host's addresses: never a next hop */
  selfAddresses?: readonly string[];
  /** at most this many next hops per route (default 16) */
  maxPaths?: number;
}

/** prefix -> next hops (sorted, distinct) */
export type RouteTable = Map<string, string[]>;

const usable = (p: RibPath): boolean => !p.withdrawn && !p.nextHopInvalid && p.nextHop !== '' && p.nextHop !== '0.0.0.0';

const equalCost = (a: RibPath, b: RibPath): boolean =>
  a.localPref === b.localPref && a.asPathLength === b.asPathLength && a.origin === b.origin && a.med === b.med;

const ipKey = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
/** Orders dotted IPv4 addresses numerically (next hops are listed in this order everywhere). */
export const compareIpv4 = (a: string, b: string): number => ipKey(a) - ipKey(b);

export function ribRoutes(rib: readonly RibDestination[], opts: RibRouteOptions = {}): RouteTable {
  const self = new Set(opts.selfAddresses ?? []);
  const max = opts.maxPaths ?? 16;
  const out: RouteTable = new Map();
  for (const d of rib) {
    const live = d.paths.filter((p) => !p.withdrawn);
    if (live.some((p) => p.local)) continue;
    const candidates = live.filter((p) => usable(p) && !self.has(p.nextHop));
    const best = candidates.find((p) => p.best) ?? (live.some((p) => p.best) ? undefined : candidates[0]);
    if (!best) continue;
    const hops = [best.nextHop];
    for (const p of candidates) if (p !== best && equalCost(p, best) && !hops.includes(p.nextHop)) hops.push(p.nextHop);
    const rest = hops.slice(1).sort(compareIpv4);
    // the best path's next hop always stays in; the others are cut in address order
    out.set(best.prefix, [best.nextHop, ...rest].slice(0, max).sort(compareIpv4));
  }
  return out;
}
