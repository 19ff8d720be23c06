/**
 * Small IPv4 helpers for the CNM plugin: parse and normalise CIDRs and addresses as Docker sends
 * them (a bare address, or an address with a prefix length), test membership, pick the first host
 * address of a subnet, and derive a stable MAC address from an IPv4 address. Pure functions.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import { shown } from './limits';

export interface Ipv4Subnet {
  /** the network address, e.g. 10.55.0.0 */
  network: string;
  prefix: number;
  /** canonical text, e.g. 10.55.0.0/24 */
  cidr: string;
}

/** Parse an IPv4 CIDR; the host bits are cleared (10.55.0.7/24 -> 10.55.0.0/24). */
export function parseSubnet(text: string, field: string): Ipv4Subnet {
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: ${shown(text)} is not a CIDR such as 10.1.0.0/24`, { field });
  }
  const [addr, prefix] = parsed;
  if (addr.kind() !== 'ipv4')
    throw new NetloomError('INVALID_ARGUMENT', `${field}: ${shown(text)} is not IPv4 (only IPv4 is supported)`, { field });
  const network = ipaddr.IPv4.networkAddressFromCIDR(text).toString();
  return { network, prefix, cidr: `${network}/${prefix}` };
}

/** The bare address of "10.55.0.2" or "10.55.0.2/24". */
export function bareAddress(text: string, field: string): string {
  const bare = text.includes('/') ? text.slice(0, text.indexOf('/')) : text;
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare)) {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: ${shown(text)} is not an IPv4 address`, { field });
  }
  return ipaddr.IPv4.parse(bare).toString();
}

export function subnetContains(subnet: Ipv4Subnet, address: string): boolean {
  return ipaddr.IPv4.parse(address).match(ipaddr.IPv4.parse(subnet.network), subnet.prefix);
}

/** The address with the subnet's prefix length: 10.55.0.2 in 10.55.0.0/24 -> 10.55.0.2/24. */
export function withPrefix(address: string, subnet: Ipv4Subnet): string {
  return `${address}/${subnet.prefix}`;
}

function toInt(address: string): number {
  const b = ipaddr.IPv4.parse(address).octets;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function fromInt(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The last address of the subnet (its broadcast address below /31). */
export function lastAddress(subnet: Ipv4Subnet): string {
  return fromInt((toInt(subnet.network) + 2 ** (32 - subnet.prefix) - 1) >>> 0);
}

/**
 * Why `address` cannot be given to a host of `subnet` ('' when it can): outside the subnet, or its
 * network or broadcast address. /31 and /32 have neither (RFC 3021), as in netmaster's IPAM.
 */
export function hostAddressProblem(subnet: Ipv4Subnet, address: string): string {
  if (!subnetContains(subnet, address)) return `${address} is not inside ${subnet.cidr}`;
  if (subnet.prefix >= 31) return '';
  if (address === subnet.network) return `${address} is the network address of ${subnet.cidr}, not a host address`;
  if (address === lastAddress(subnet)) return `${address} is the broadcast address of ${subnet.cidr}, not a host address`;
  return '';
}

/** `address` (bare) when it is a host address of `subnet`; else INVALID_ARGUMENT naming `field`. */
export function requireHostAddress(method: string, field: string, address: string, subnet: Ipv4Subnet): string {
  const problem = hostAddressProblem(subnet, address);
  if (problem !== '') throw new NetloomError('INVALID_ARGUMENT', `${method}: ${field}: ${problem}`, { field });
  return address;
}

/** The first usable host address (network + 1), the conventional gateway. */
export function firstHost(subnet: Ipv4Subnet): string {
  if (subnet.prefix >= 31) return subnet.network;
  return fromInt(toInt(subnet.network) + 1);
}

/** A locally administered unicast MAC derived from an IPv4 address: 02:02:a:b:c:d (as Contiv did). */
export function macForAddress(address: string): string {
  const o = ipaddr.IPv4.parse(address).octets;
  return ['02', '02', ...o.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** True for a MAC address in the colon-separated form Docker uses. */
export function isMacAddress(text: string): boolean {
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text);
}
