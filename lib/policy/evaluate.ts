/**
 * The reference semantics of compiled policy (pure): which rule decides a packet in one
 * direction of one endpoint, and whether a packet between two endpoints passes (the source's
 * egress and the destination's ingress must both allow it). Backends must agree with it; tests
 * hold them to it.
 */
import ipaddr from 'ipaddr.js';
import type { AddressSet, DirectionPolicy, PolicyRule, Protocol, Service } from './model';
import { compareStrings } from '../compare';

export interface Packet {
  src: string;
  dst: string;
  protocol: Protocol;
  /** destination port (tcp/udp) */
  port?: number;
}

export interface Decision {
  verdict: 'allow' | 'deny';
  /** the rule that decided (undefined: no rule matched, the direction's default did) */
  rule?: PolicyRule;
}

const parsed = new Map<string, [ipaddr.IPv4, number]>();

function cidr(text: string): [ipaddr.IPv4, number] {
  let c = parsed.get(text);
  if (!c) {
    const [addr, len] = text.includes('/') ? ipaddr.parseCIDR(text) : [ipaddr.parse(text), 32];
    if (addr.kind() !== 'ipv4') throw new Error(`not an IPv4 address or CIDR: ${text}`);
    c = [addr as ipaddr.IPv4, len];
    parsed.set(text, c);
  }
  return c;
}

/** Whether `ip` is in the set. */
export function inSet(ip: string, set: AddressSet): boolean {
  const a = ipaddr.parse(ip);
  if (a.kind() !== 'ipv4') return false;
  const v4 = a as ipaddr.IPv4;
  return set.include.some((c) => v4.match(cidr(c))) && !set.exclude.some((c) => v4.match(cidr(c)));
}

/** A protocol in one spelling: tcp, udp and icmp by name, others by number. */
export function normalProtocol(p: Protocol): Protocol {
  if (p === 6) return 'tcp';
  if (p === 17) return 'udp';
  if (p === 1) return 'icmp';
  return p;
}

function serviceMatches(s: Service, pkt: Packet): boolean {
  if (s.protocol !== undefined && normalProtocol(s.protocol) !== normalProtocol(pkt.protocol)) return false;
  if (!s.ports || s.ports.length === 0) return true;
  return pkt.port !== undefined && s.ports.some((r) => pkt.port! >= r.from && pkt.port! <= r.to);
}

/** Whether some packet can be denied in this direction: a deny rule, or isolation (what no rule allows). */
export function canDeny(policy: DirectionPolicy): boolean {
  return policy.isolated || policy.rules.some((r) => r.action === 'deny');
}

/**
 * Precedence of two rules, as `decide` applies it: higher priority first, deny before allow at
 * equal priority, then by id so that the order is total (equal rules sort alike everywhere).
 */
export function rulePrecedence(a: PolicyRule, b: PolicyRule): number {
  return b.priority - a.priority || (a.action === b.action ? 0 : a.action === 'deny' ? -1 : 1) || compareStrings(a.id, b.id);
}

/** The decision of one direction for a packet whose other end is `peer`: the first matching rule in `rulePrecedence` order. */
export function decide(policy: DirectionPolicy, peer: string, pkt: Packet): Decision {
  let best: PolicyRule | undefined;
  for (const r of policy.rules) {
    if (!inSet(peer, r.peers)) continue;
    if (r.services.length > 0 && !r.services.some((s) => serviceMatches(s, pkt))) continue;
    if (!best || rulePrecedence(r, best) < 0) best = r;
  }
  if (best) return { verdict: best.action, rule: best };
  return { verdict: policy.isolated ? 'deny' : 'allow' };
}

/** Whether a packet passes: the source's egress and the destination's ingress (each when known) must allow it. */
export function passes(
  pkt: Packet,
  egressOfSource: DirectionPolicy | undefined,
  ingressOfDestination: DirectionPolicy | undefined,
): { verdict: 'allow' | 'deny'; decidedBy?: PolicyRule; at?: 'egress' | 'ingress' } {
  if (egressOfSource) {
    const d = decide(egressOfSource, pkt.dst, pkt);
    if (d.verdict === 'deny') return { verdict: 'deny', ...(d.rule ? { decidedBy: d.rule } : {}), at: 'egress' };
  }
  if (ingressOfDestination) {
    const d = decide(ingressOfDestination, pkt.src, pkt);
    return { verdict: d.verdict, ...(d.rule ? { decidedBy: d.rule } : {}), at: 'ingress' };
  }
  return { verdict: 'allow' };
}
