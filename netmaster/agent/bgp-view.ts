/**
 * A host's effective BGP settings as the agent API's `BgpConfig` (pure): its Bgp object, else the
 * cluster-wide default on the global object, else none. Neighbors: Contiv's one first, then the
 * additional ones; timers: the object's, else the default's, else 9 s hold and 3 s keepalive. The
 * default carries no router IP (the agent uses its VTEP address, its address on the data network).
 */
import { DEFAULT_HOLD_TIME, DEFAULT_KEEPALIVE_TIME, parseAs, parseNeighbor, type Neighbor } from '../../lib/bgp/settings';
import type { Bgp, Global } from '../model/schemas';
import type { BgpConfig__Output as BgpConfig } from '../../proto/gen/netloom/v1/BgpConfig';

type BgpDefault = Pick<Global, 'bgpAs' | 'bgpNeighbors' | 'bgpHoldTime' | 'bgpKeepaliveTime'>;

const neighborsOf = (texts: readonly string[] | undefined): Neighbor[] =>
  (texts ?? []).flatMap((t) => {
    const n = parseNeighbor(t);
    return n ? [n] : [];
  });

export function effectiveBgp(host: string, own: Bgp | undefined, g: BgpDefault | undefined): BgpConfig | null {
  const holdTime = own?.holdTime ?? g?.bgpHoldTime ?? DEFAULT_HOLD_TIME;
  const keepaliveTime = own?.keepaliveTime ?? g?.bgpKeepaliveTime ?? DEFAULT_KEEPALIVE_TIME;
  if (own) {
    const neighborAs = parseAs(own['neighbor-as'] ?? '') ?? 0;
    const first = own.neighbor ? [{ address: own.neighbor, as: neighborAs }] : [];
    return {
      hostname: own.hostname,
      routerIp: own.routerip ?? '',
      as: parseAs(own.as) ?? 0,
      neighbor: own.neighbor ?? '',
      neighborAs,
      neighbors: [...first, ...neighborsOf(own.neighbors)],
      holdTime,
      keepaliveTime,
      fromDefault: false,
    };
  }
  const as = g?.bgpAs === undefined ? undefined : parseAs(g.bgpAs);
  if (as === undefined) return null;
  const neighbors = neighborsOf(g?.bgpNeighbors);
  return {
    hostname: host,
    routerIp: '',
    as,
    neighbor: neighbors[0]?.address ?? '',
    neighborAs: neighbors[0]?.as ?? 0,
    neighbors,
    holdTime,
    keepaliveTime,
    fromDefault: true,
  };
}
