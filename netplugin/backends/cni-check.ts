/**
 * CNI CHECK's comparison (pure): what an attachment should look like inside the container, from
 * the agent's record and from the runtime's prevResult (the spec has the plugin consult it), set
 * against what the namespace holds. Every difference is one problem; none means the check passes.
 */
import ipaddr from 'ipaddr.js';
import type { CniResult } from '../cni/types';
import type { NetnsView } from '../plumbing/netns-view';

export interface ExpectedRoute {
  dst: string;
  gw?: string;
}

export interface ExpectedAttachment {
  ifName: string;
  mac?: string;
  mtu?: number;
  /** `ip/prefix` that must be on the interface */
  addresses: string[];
  /** routes that must be in the namespace's main table (on any device) */
  routes: ExpectedRoute[];
}

/** A CIDR as the kernel lists a route's destination: the network address and its length. */
export function canonicalCidr(cidr: string): string {
  try {
    const [addr, len] = ipaddr.parseCIDR(cidr);
    const net = addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
    return `${net.toString()}/${len}`;
  } catch {
    return cidr;
  }
}

function canonicalIp(ip: string): string {
  return ipaddr.isValid(ip) ? ipaddr.parse(ip).toString() : ip;
}

/**
 * What a result (prevResult) says of the container interface `ifName`: its MAC and MTU when given,
 * the addresses assigned to it by index, and every route of the result.
 */
export function expectedFromResult(r: CniResult, ifName: string): ExpectedAttachment {
  const index = r.interfaces.findIndex((i) => i.name === ifName && i.sandbox !== undefined);
  const iface = index >= 0 ? r.interfaces[index] : undefined;
  return {
    ifName,
    ...(iface?.mac ? { mac: iface.mac.toLowerCase() } : {}),
    ...(iface?.mtu ? { mtu: iface.mtu } : {}),
    addresses: index < 0 ? [] : r.ips.filter((ip) => ip.interface === index).map((ip) => ip.address),
    routes: r.routes.map((rt) => ({ dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) })),
  };
}

/** The differences between `want` and the namespace `view` (read for `want.ifName`), as sentences. */
export function attachmentProblems(want: ExpectedAttachment, view: NetnsView, netnsPath: string): string[] {
  const link = view.link;
  if (!link) return [`interface ${want.ifName} is missing in ${netnsPath}`];
  const problems: string[] = [];
  if (!link.up) problems.push(`interface ${want.ifName} is down`);
  if (want.mac !== undefined && link.mac !== want.mac) problems.push(`interface ${want.ifName} has MAC ${link.mac}, expected ${want.mac}`);
  if (want.mtu !== undefined && link.mtu !== want.mtu) problems.push(`interface ${want.ifName} has MTU ${link.mtu}, expected ${want.mtu}`);
  const have = new Set(link.addresses.map((a) => `${canonicalIp(a.split('/')[0] ?? '')}/${a.split('/')[1] ?? ''}`));
  for (const a of want.addresses) {
    const [ip = '', len = ''] = a.split('/');
    if (!have.has(`${canonicalIp(ip)}/${len}`)) problems.push(`address ${a} is missing on ${want.ifName}`);
  }
  for (const rt of want.routes) {
    const dst = canonicalCidr(rt.dst);
    const gw = rt.gw === undefined ? undefined : canonicalIp(rt.gw);
    const found = view.routes.some(
      (r) => canonicalCidr(r.dst) === dst && (gw === undefined || (r.gw !== undefined && canonicalIp(r.gw) === gw)),
    );
    if (!found) problems.push(`route ${rt.dst}${rt.gw ? ` via ${rt.gw}` : ''} is missing in ${netnsPath}`);
  }
  return problems;
}
