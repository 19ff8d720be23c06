/**
 * Which VTEP addresses an agent may register (docs/security.md): a unicast IPv4 address, inside
 * one of the configured underlay subnets (`--vtep-subnets`) when there are any. A VTEP lands in
 * every other host's flood and tunnel flows, so an address outside the underlay (a host on the
 * management network, a public address) would send tenants' traffic there.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';

/** ipaddr.js ranges no tunnel endpoint can be in */
const NOT_UNICAST = new Set(['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal']);

export type VtepSubnet = [ipaddr.IPv4, number];

/** Parse `--vtep-subnets` (IPv4 CIDRs); a bad one is INVALID_ARGUMENT naming `field`. */
export function parseVtepSubnets(cidrs: readonly string[], field = '--vtep-subnets'): VtepSubnet[] {
  return cidrs.map((c) => {
    try {
      const [addr, len] = ipaddr.IPv4.parseCIDR(c.trim());
      return [addr, len];
    } catch {
      throw new NetloomError('INVALID_ARGUMENT', `${field} must be IPv4 CIDRs like 10.1.0.0/16, got '${c}'`, { field });
    }
  });
}

/** Refuse a VTEP that is not a unicast address of the underlay ('' is no VTEP: allowed). */
export function checkVtep(vtepIp: string, subnets: readonly VtepSubnet[]): void {
  if (vtepIp === '') return;
  const field = 'vtep_ip';
  if (!ipaddr.IPv4.isValidFourPartDecimal(vtepIp))
    throw new NetloomError('INVALID_ARGUMENT', `vtep_ip must be an IPv4 address, got '${vtepIp}'`, { field });
  const ip = ipaddr.IPv4.parse(vtepIp);
  if (NOT_UNICAST.has(ip.range()))
    throw new NetloomError('INVALID_ARGUMENT', `vtep_ip ${vtepIp} is not a unicast address (${ip.range()})`, { field });
  if (subnets.length > 0 && !subnets.some((s) => ip.match(s)))
    throw new NetloomError(
      'PERMISSION_DENIED',
      `vtep_ip ${vtepIp} lies outside the underlay subnets (${subnets.map(([a, l]) => `${a.toString()}/${l}`).join(', ')})`,
      { field },
    );
}
