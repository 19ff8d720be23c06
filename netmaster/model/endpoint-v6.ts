/**
 * An endpoint's IPv6 address in a dual-stack network: the one at its IPv4 address's host offset
 * inside ipv6Subnet. The IPv6 gateway may sit at an offset an endpoint's IPv4 address has (Contiv's
 * usual `-g 10.1.1.254 -g6 2001:db8::1`): that endpoint takes the offset no endpoint has, the IPv4
 * gateway's (or, without one, the IPv4 broadcast's), so the gateway's address is never given out.
 */
import { parseV4, parseV4Subnet, parseV6, parseV6Cidr, v6AtOffset, v6Offset } from './net';
import type { Network } from './schemas';

export type DualStack = Pick<Network, 'subnet' | 'gateway' | 'ipv6Subnet' | 'ipv6Gateway'>;

/** The IPv6 address of the endpoint with IPv4 address `ip` (a number), '' when the network has no ipv6Subnet. */
export function endpointV6Address(nw: DualStack, ip: number): string {
  const s6 = nw.ipv6Subnet ? parseV6Cidr(nw.ipv6Subnet) : undefined;
  const sub = parseV4Subnet(nw.subnet);
  if (!s6 || !sub) return '';
  const offset = ip - sub.base;
  const g6 = nw.ipv6Gateway ? parseV6(nw.ipv6Gateway) : undefined;
  if (g6 && g6.match(s6.addr, s6.prefix) && v6Offset(s6, g6) === BigInt(offset)) {
    const gw4 = nw.gateway ? parseV4(nw.gateway) : undefined;
    return v6AtOffset(s6, gw4 !== undefined ? gw4 - sub.base : 2 ** (32 - sub.prefix) - 1);
  }
  return v6AtOffset(s6, offset);
}
