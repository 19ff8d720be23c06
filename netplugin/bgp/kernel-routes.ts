/**
 * The `ip route` lines that make the kernel hold the routes learned by BGP (pure). They are the
 * main table's routes with protocol 80 (BGP_ROUTE_PROTO); `ip -N -j route show table main` is
 * what the kernel has, a RouteTable (rib-routes.ts) what is wanted; a route with several next hops
 * is one ECMP route (`nexthop via A nexthop via B`). Changed routes are replaced in place (no gap);
 * routes no longer wanted are deleted only when `deletes` is allowed (not before the RIB has
 * converged after a start, so that what an earlier agent installed survives the restart). A prefix
 * the table already routes by another protocol (connected subnet, a local endpoint's proto 81
 * route, an operator's static route) is left alone: `replace` would overwrite it. With a device
 * (the host's routed uplink, docs/bgp.md) every next hop is `via A dev DEV onlink`: the kernel
 * sends routed traffic out of that interface whatever its table says of A (on a lab host the data
 * subnet's connected route points into the userspace OVS bridge); a route through another device
 * is replaced.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import { compareIpv4, type RouteTable } from './rib-routes';

/** The protocol number of routes learned from BGP peers (81: local endpoints; 77: host network). */
export const BGP_ROUTE_PROTO = 80;

function fail(why: string): never {
  throw new NetloomError('DECODE_ERROR', `ip route show proto ${BGP_ROUTE_PROTO}: ${why}`);
}

/** `10.1.2.3` (how ip shows a /32) -> `10.1.2.3/32`; `default` -> `0.0.0.0/0`. */
function canonicalDst(dst: string): string {
  if (dst === 'default') return '0.0.0.0/0';
  return dst.includes('/') ? dst : `${dst}/32`;
}

export interface KernelTable {
  /** our routes (protocol 80) */
  ours: RouteTable;
  /** the devices of our routes' next hops (sorted, distinct) */
  devices: Map<string, string[]>;
  /** destinations routed by anything else */
  others: Set<string>;
}

/** The routes of `ip -N -j route show table main` (numeric protocols). */
export function parseKernelRoutes(text: string): KernelTable {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (e) {
    fail(`output is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) fail('output is not a list');
  const out: KernelTable = { ours: new Map(), devices: new Map(), others: new Set() };
  raw.forEach((r: unknown, i) => {
    if (typeof r !== 'object' || r === null) fail(`[${i}] is not an object`);
    const o = r as Record<string, unknown>;
    if (typeof o.dst !== 'string') fail(`[${i}].dst is missing`);
    // broadcast/local/multicast types live in other tables; a typed route here is not ours either
    if (String(o.protocol ?? '') !== String(BGP_ROUTE_PROTO) || (o.type !== undefined && o.type !== 'unicast')) {
      out.others.add(canonicalDst(o.dst));
      return;
    }
    const hops: string[] = [];
    const devs: string[] = [];
    for (const h of [o, ...(Array.isArray(o.nexthops) ? (o.nexthops as unknown[]) : [])]) {
      const r = (h ?? {}) as Record<string, unknown>;
      if (typeof r.gateway === 'string') hops.push(r.gateway);
      if (typeof r.dev === 'string') devs.push(r.dev);
    }
    const dst = canonicalDst(o.dst);
    out.ours.set(dst, [...new Set(hops)].filter((h) => ipaddr.IPv4.isValidFourPartDecimal(h)).sort(compareIpv4));
    out.devices.set(dst, [...new Set(devs)].sort());
  });
  return out;
}

export interface RoutePlan {
  /** lines for `ip -batch -` */
  lines: string[];
  replaced: string[];
  deleted: string[];
  /** unwanted routes kept because deletes were not allowed */
  kept: string[];
  /** wanted routes not installed: the prefix is routed by another protocol */
  shadowed: string[];
  /** the device of the replaced routes (undefined: the kernel's choice) */
  dev?: string;
}

function via(hops: readonly string[], dev: string | undefined): string {
  const one = (h: string) => (dev ? `via ${h} dev ${dev} onlink` : `via ${h}`);
  return hops.length === 1 ? one(hops[0]!) : hops.map((h) => `nexthop ${one(h)}`).join(' ');
}

export function planKernelRoutes(want: RouteTable, kernel: KernelTable, opts: { deletes: boolean; dev?: string }): RoutePlan {
  const plan: RoutePlan = { lines: [], replaced: [], deleted: [], kept: [], shadowed: [], ...(opts.dev ? { dev: opts.dev } : {}) };
  const have = kernel.ours;
  for (const dst of have.keys()) {
    if (want.has(dst) && !kernel.others.has(dst)) continue;
    if (!opts.deletes) {
      plan.kept.push(dst);
      continue;
    }
    plan.lines.push(`route del ${dst} proto ${BGP_ROUTE_PROTO}`);
    plan.deleted.push(dst);
  }
  for (const [dst, hops] of want) {
    if (hops.length === 0) continue;
    if (kernel.others.has(dst)) {
      plan.shadowed.push(dst);
      continue;
    }
    const h = have.get(dst);
    const onDev = !opts.dev || (kernel.devices.get(dst) ?? []).join() === opts.dev;
    if (h && h.join() === hops.join() && onDev) continue;
    plan.lines.push(`route replace ${dst} proto ${BGP_ROUTE_PROTO} ${via(hops, opts.dev)}`);
    plan.replaced.push(dst);
  }
  return plan;
}

/** The table after every line of `plan` succeeded on `before`. */
export function kernelAfter(before: KernelTable, plan: RoutePlan, want: RouteTable): KernelTable {
  const ours = new Map(before.ours);
  const devices = new Map(before.devices);
  for (const dst of plan.deleted) {
    ours.delete(dst);
    devices.delete(dst);
  }
  for (const dst of plan.replaced) {
    ours.set(dst, [...(want.get(dst) ?? [])]);
    devices.set(dst, plan.dev ? [plan.dev] : []);
  }
  return { ours, devices, others: new Set(before.others) };
}
