/**
 * How netloom names and numbers what it owns in the host's kernel, so that a restarted agent can
 * find every piece of it again (and remove what is stale) without any record of its own:
 * - the tenant's gateway port `nlgw<vrfId>` (an OVS internal port on br-int: its kernel side is the
 *   tenant's way in and out of the host's kernel) with a MAC derived from the vrfId;
 * - the fwmark `0x10000|vrfId` (mask 0x1ffff) of packets going back to the tenant, and the routing
 *   table `10000+vrfId` the mark selects, holding `default dev nlgw<vrfId>`;
 * - every `ip rule` at priority RULE_PRIORITY (netloom reserves RULE_PRIORITY_MIN..MAX);
 * - every route with protocol ROUTE_PROTO (main-table routes for host access and the per-tenant tables);
 * - the nftables table `inet netloom`.
 * vrfIds above 0xffff do not fit the mark and are refused (see desired-state.ts).
 */

export const GATEWAY_PORT_PREFIX = 'nlgw';
/** the largest vrfId a gateway port can serve (16 bits of the mark) */
export const MAX_GATEWAY_VRF = 0xffff;
/** conntrack mark bit: the connection belongs to a tenant (set with the vrfId in the low 16 bits) */
export const MARK_TENANT = 0x10000;
/** conntrack mark bit: the tenant is the connection's original destination (a published port) */
export const MARK_DNAT = 0x20000;
/**
 * conntrack mark bit: a Kubernetes node port connection forwarded to another host's provider
 * (externalTrafficPolicy Cluster): masqueraded, so that the replies come back here
 */
export const MARK_NODEPORT_HOP = 0x40000;
/** the mask the ip rules match the mark with (tenant bit and vrfId; the DNAT bit is ignored) */
export const MARK_MASK = 0x1ffff;
export const ROUTE_TABLE_BASE = 10000;
/** the ip rule priority of netloom's rules; RULE_PRIORITY_MIN..MAX are netloom's (stale ones there are removed) */
export const RULE_PRIORITY = 9100;
export const RULE_PRIORITY_MIN = 9100;
export const RULE_PRIORITY_MAX = 9199;
/** the routing protocol number netloom's routes carry (`ip route ... proto 77`) */
export const ROUTE_PROTO = 77;
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'netloom';

export function gatewayPortName(vrfId: number): string {
  return `${GATEWAY_PORT_PREFIX}${vrfId}`;
}

/** The vrfId of a gateway port name, or undefined when the name is not one. */
export function vrfOfGatewayPort(name: string): number | undefined {
  const m = /^nlgw(\d{1,5})$/.exec(name);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v >= 1 && v <= MAX_GATEWAY_VRF && String(v) === m[1] ? v : undefined;
}

/** The gateway port's fixed MAC: locally administered, 02:6e:6c:fe + the vrfId's 16 bits. */
export function gatewayPortMac(vrfId: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `02:6e:6c:fe:${hex((vrfId >> 8) & 0xff)}:${hex(vrfId & 0xff)}`;
}

export function tenantMark(vrfId: number): number {
  return MARK_TENANT | vrfId;
}

export function routeTable(vrfId: number): number {
  return ROUTE_TABLE_BASE + vrfId;
}

/** A table number netloom owns (10000 + a vrfId). */
export function isOurTable(table: number): boolean {
  return table > ROUTE_TABLE_BASE && table <= ROUTE_TABLE_BASE + MAX_GATEWAY_VRF;
}

/**
 * The MAC the switch answers the kernel's ARP requests on a gateway port with (any address the
 * kernel sends to the tenant: the switch routes by IP behind it).
 */
export const HOST_SIDE_ROUTER_MAC = '02:6e:6c:fd:00:01';

export function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
