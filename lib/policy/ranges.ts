/**
 * Address sets and port ranges in the shapes a flow table can match (pure): an AddressSet's
 * inclusions minus its exclusions as disjoint CIDRs (Kubernetes' ipBlock `except` has no direct
 * match; the difference of prefixes is again a short list of prefixes), and a port range as
 * value/mask pairs (the classic prefix split: at most 2x16 entries for any range).
 */
import ipaddr from 'ipaddr.js';
import type { AddressSet, PortRange } from './model';

/** An IPv4 prefix as numbers: base address (host bits zero) and length. */
export interface Prefix {
  base: number;
  len: number;
}

function parsePrefix(text: string): Prefix {
  // IPv4 text straight to the IPv4 parser: ipaddr.parse tries IPv6 first, which cost ~15 µs per
  // address (a peer group of 50 in 1,000 rules spent most of its compile time there)
  const v6 = text.includes(':');
  const [addr, len] = text.includes('/')
    ? v6
      ? ipaddr.parseCIDR(text)
      : ipaddr.IPv4.parseCIDR(text)
    : [v6 ? ipaddr.parse(text) : ipaddr.IPv4.parse(text), 32];
  if (addr.kind() !== 'ipv4') throw new Error(`not an IPv4 address or CIDR: ${text}`);
  const n = (addr as ipaddr.IPv4).octets.reduce((a, o) => a * 256 + o, 0);
  return { base: len === 0 ? 0 : n - (n % 2 ** (32 - len)), len };
}

function contains(outer: Prefix, inner: Prefix): boolean {
  return outer.len <= inner.len && Math.floor(inner.base / 2 ** (32 - outer.len)) === Math.floor(outer.base / 2 ** (32 - outer.len));
}

/** Whether address `ip` lies in `cidr` (IPv4; an address alone is a /32). */
export function inPrefix(cidr: string, ip: string): boolean {
  return contains(parsePrefix(cidr), parsePrefix(ip));
}

/** `p` without `hole`: p itself when they are apart, nothing when hole covers p, else the halves that avoid it. */
function subtract(p: Prefix, hole: Prefix): Prefix[] {
  if (contains(hole, p)) return [];
  if (!contains(p, hole)) return [p];
  const half = 2 ** (32 - p.len - 1);
  const lo = { base: p.base, len: p.len + 1 };
  const hi = { base: p.base + half, len: p.len + 1 };
  return [...subtract(lo, hole), ...subtract(hi, hole)];
}

export function formatPrefix(p: Prefix): string {
  const o = [24, 16, 8, 0].map((s) => Math.floor(p.base / 2 ** s) % 256);
  return `${o.join('.')}/${p.len}`;
}

/** The set as disjoint prefixes, sorted; inclusions contained in others are folded. */
export function setPrefixes(set: AddressSet): Prefix[] {
  let out = set.include.map(parsePrefix);
  out.sort((a, b) => a.len - b.len || a.base - b.base);
  out = out.filter((p, i) => !out.slice(0, i).some((q) => contains(q, p)));
  for (const hole of set.exclude.map(parsePrefix)) out = out.flatMap((p) => subtract(p, hole));
  return out.sort((a, b) => a.base - b.base || a.len - b.len);
}

/** The whole address space, unrestricted: no match needed. */
export function isEverything(prefixes: readonly Prefix[]): boolean {
  return prefixes.length === 1 && prefixes[0]!.len === 0;
}

/** A 16-bit port range as value/mask pairs that together match exactly the range. */
export function portMasks(r: PortRange): { value: number; mask: number }[] {
  const out: { value: number; mask: number }[] = [];
  let from = r.from;
  while (from <= r.to) {
    // the largest aligned block starting at `from` that stays inside the range
    let size = 1;
    while (size < 0x10000 && from % (size * 2) === 0 && from + size * 2 - 1 <= r.to) size *= 2;
    out.push({ value: from, mask: 0xffff - (size - 1) });
    from += size;
  }
  return out;
}
