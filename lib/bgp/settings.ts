/**
 * BGP settings as text, shared by the kinds (schemas), netmaster (checks, host views) and netctl
 * (flags): AS numbers, neighbors written `IP:AS`, the session timers and which networks are routed.
 * Pure functions; no zod, so netctl loads it for free.
 */

/** The largest AS number (4 bytes, RFC 6793); 0 is reserved (RFC 7607). */
export const MAX_AS = 4294967295;

/** Hold time when nothing sets one (s): a dead host's routes are gone within it (issue 16: ≤ 9 s). */
export const DEFAULT_HOLD_TIME = 9;
/** Keepalive when nothing sets one (s): a third of the hold time, as RFC 4271 suggests. */
export const DEFAULT_KEEPALIVE_TIME = 3;
/** Hold time bounds (RFC 4271: 0 or at least 3; 0, "never expire", is refused: dead hosts must go). */
export const MIN_HOLD_TIME = 3;
export const MAX_HOLD_TIME = 65535;

/** `as` as decimal text, 1..MAX_AS, or undefined. */
export function parseAs(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= MAX_AS ? n : undefined;
}

const V4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A dotted-quad IPv4 address (no leading zeros). */
export function isV4(text: string): boolean {
  return V4_RE.test(text);
}

export interface Neighbor {
  address: string;
  as: number;
}

/** A neighbor written `IP:AS` (`10.213.1.254:65000`), or undefined when it is not one. */
export function parseNeighbor(text: string): Neighbor | undefined {
  const i = text.lastIndexOf(':');
  if (i < 0) return undefined;
  const address = text.slice(0, i);
  const as = parseAs(text.slice(i + 1));
  return isV4(address) && as !== undefined ? { address, as } : undefined;
}

export const formatNeighbor = (n: Neighbor): string => `${n.address}:${n.as}`;

/**
 * Whether a network is routed (BGP mode). Two spellings of one thing: netloom's encap `bgp`, and
 * Contiv's L3 mode, a `vlan` network while the global fwdMode is `routing` and BGP is configured
 * (a cluster-wide default, or a Bgp object). Without BGP settings, routing mode keeps its meaning
 * of routing between a tenant's networks in OVS (docs/bgp.md).
 */
export function isRoutedNetwork(encap: string, fwdMode: string, bgpConfigured: boolean): boolean {
  return encap === 'bgp' || (encap === 'vlan' && fwdMode === 'routing' && bgpConfigured);
}
