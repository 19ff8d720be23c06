/**
 * Address arithmetic for the intent model: IPv4 as 32-bit numbers, CIDR and range parsing
 * (Contiv's `a.b.c.d/len`, `a.b.c.d-e.f.g.h` and `a.b.c.d-e.f.g.h/len` subnet forms), IPv6 CIDRs,
 * range text for inspect output, and bandwidth strings (`10mbps`). Pure functions only.
 */
import ipaddr from 'ipaddr.js';

export interface V4Subnet {
  /** network address */
  base: number;
  prefix: number;
  /** first and last address endpoints may get (inclusive) */
  first: number;
  last: number;
}

const V4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A dotted-quad IPv4 address as a number, or undefined when it is not one. */
export function parseV4(text: string): number | undefined {
  const m = V4_RE.exec(text.trim());
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    n = n * 256 + o;
  }
  return n;
}

export function formatV4(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `a.b.c.d/len` with host bits allowed (they are masked off); undefined when malformed. */
export function parseV4Cidr(text: string): { base: number; prefix: number; addr: number } | undefined {
  const [ip, len, ...rest] = text.trim().split('/');
  if (rest.length > 0 || ip === undefined || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const addr = parseV4(ip);
  const prefix = Number(len);
  if (addr === undefined || prefix > 32) return undefined;
  return { base: (addr & maskOf(prefix)) >>> 0, prefix, addr };
}

/** The smallest prefix length whose block holds both addresses. */
function coveringPrefix(a: number, b: number): number {
  let p = 32;
  while (p > 0 && (a & maskOf(p)) >>> 0 !== (b & maskOf(p)) >>> 0) p--;
  return p;
}

/**
 * A network subnet in any of Contiv's forms. For a plain CIDR the usable range excludes the
 * network and broadcast addresses (except /31 and /32).
 */
export function parseV4Subnet(text: string): V4Subnet | undefined {
  const t = text.trim();
  const slash = t.indexOf('/');
  const head = slash >= 0 ? t.slice(0, slash) : t;
  const lenText = slash >= 0 ? t.slice(slash + 1) : undefined;
  if (head.includes('-')) {
    const [a, b, ...rest] = head.split('-');
    if (rest.length > 0 || a === undefined || b === undefined) return undefined;
    const first = parseV4(a);
    // Contiv's short form `10.1.1.10-20` names only the last octet of the end
    const last =
      /^\d{1,3}$/.test(b) && first !== undefined ? parseV4(`${formatV4(first).split('.').slice(0, 3).join('.')}.${b}`) : parseV4(b);
    if (first === undefined || last === undefined || last < first) return undefined;
    let prefix = coveringPrefix(first, last);
    if (lenText !== undefined) {
      if (!/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) return undefined;
      prefix = Number(lenText);
      if ((first & maskOf(prefix)) >>> 0 !== (last & maskOf(prefix)) >>> 0) return undefined;
    }
    return { base: (first & maskOf(prefix)) >>> 0, prefix, first, last };
  }
  if (lenText === undefined) return undefined;
  const c = parseV4Cidr(t);
  if (!c) return undefined;
  const size = 2 ** (32 - c.prefix);
  if (c.prefix >= 31) return { base: c.base, prefix: c.prefix, first: c.base, last: c.base + size - 1 };
  return { base: c.base, prefix: c.prefix, first: c.base + 1, last: c.base + size - 2 };
}

/** The whole block of a subnet (network to broadcast) as [lo, hi]. */
export function blockOf(s: { base: number; prefix: number }): [number, number] {
  return [s.base, s.base + 2 ** (32 - s.prefix) - 1];
}

export function blocksOverlap(a: { base: number; prefix: number }, b: { base: number; prefix: number }): boolean {
  const [a0, a1] = blockOf(a);
  const [b0, b1] = blockOf(b);
  return a0 <= b1 && b0 <= a1;
}

/** `a.b.c.d-e.f.g.h` (an ipPool); undefined when malformed. */
export function parseV4Range(text: string): { first: number; last: number } | undefined {
  const [a, b, ...rest] = text.trim().split('-');
  if (rest.length > 0 || a === undefined || b === undefined) return undefined;
  const first = parseV4(a);
  const last = parseV4(b);
  if (first === undefined || last === undefined || last < first) return undefined;
  return { first, last };
}

/** Decimal numbers without leading zeros: dotted quads, and an optional prefix length. */
const STRICT_V4_RE = /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}(\/(0|[1-9]\d?))?$/;

/**
 * An IPv4 address or CIDR as used in rules (`10.1.1.1`, `10.1.0.0/16`), exactly: the text goes
 * to the agents as it is, and their parser (ipaddr.js) reads `010` as octal 8 where parseV4 reads
 * 10, so leading zeros are refused (as Contiv's pattern did), and blanks rather than trimmed.
 */
export function isV4AddressOrCidr(text: string): boolean {
  if (!STRICT_V4_RE.test(text)) return false;
  return text.includes('/') ? parseV4Cidr(text) !== undefined : parseV4(text) !== undefined;
}

export interface V6Subnet {
  addr: ipaddr.IPv6;
  prefix: number;
}

export function parseV6Cidr(text: string): V6Subnet | undefined {
  try {
    const [addr, prefix] = ipaddr.IPv6.parseCIDR(text.trim());
    return { addr, prefix };
  } catch {
    return undefined;
  }
}

export function parseV6(text: string): ipaddr.IPv6 | undefined {
  try {
    return ipaddr.IPv6.isValid(text.trim()) ? ipaddr.IPv6.parse(text.trim()) : undefined;
  } catch {
    return undefined;
  }
}

/** The IPv6 address at host offset `offset` inside `subnet` (used to give dual-stack endpoints a v6 address). */
export function v6AtOffset(subnet: V6Subnet, offset: number): string {
  const bytes = subnet.addr.toByteArray();
  const maskBits = subnet.prefix;
  for (let i = 0; i < 16; i++) {
    const bitsBefore = i * 8;
    if (bitsBefore >= maskBits) bytes[i] = 0;
    else if (bitsBefore + 8 > maskBits) bytes[i] = (bytes[i] ?? 0) & (0xff << (8 - (maskBits - bitsBefore)));
  }
  let carry = offset;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = (bytes[i] ?? 0) + (carry % 256);
    bytes[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** The host offset of `addr` inside `subnet` (addr minus the subnet's first address). */
export function v6Offset(subnet: V6Subnet, addr: ipaddr.IPv6): bigint {
  const toBig = (bytes: number[]) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  const hostBits = BigInt(128 - subnet.prefix);
  const mask = (1n << hostBits) - 1n;
  return toBig(addr.toByteArray()) & mask;
}

/** Sorted addresses compressed to Contiv's range text: `10.1.1.1, 10.1.1.3-10.1.1.9`. */
export function rangesText(ranges: ReadonlyArray<[number, number]>): string {
  return ranges.map(([a, b]) => (a === b ? formatV4(a) : `${formatV4(a)}-${formatV4(b)}`)).join(', ');
}

/** Sorted distinct numbers as inclusive runs. */
export function toRuns(sorted: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const n of sorted) {
    const last = out[out.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

/** The runs of [first, last] not covered by `usedSorted`. */
export function freeRuns(first: number, last: number, usedSorted: readonly number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let cur = first;
  for (const u of usedSorted) {
    if (u < cur) continue;
    if (u > last) break;
    if (u > cur) out.push([cur, u - 1]);
    cur = u + 1;
  }
  if (cur <= last) out.push([cur, last]);
  return out;
}

/** Bandwidth like `10mbps`, `1gbps`, `500kbps`, `100bps` as bits per second; undefined when malformed. */
export function parseBandwidth(text: string): number | undefined {
  const m = /^(\d+)\s*(k|m|g)?bps$/i.exec(text.trim());
  if (!m) return undefined;
  const mult = { k: 1e3, m: 1e6, g: 1e9 }[(m[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const v = Number(m[1]) * mult;
  return v > 0 ? v : undefined;
}

/** `N-M` tag ranges (`1-4094`, `1-10000`, also `5` or `1-10,20-30`) as inclusive pairs. */
export function parseTagRanges(text: string, max: number): Array<[number, number]> | undefined {
  const out: Array<[number, number]> = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a < 1 || b < a || b > max) return undefined;
    out.push([a, b]);
  }
  return out.length > 0 ? out : undefined;
}

export function inRanges(n: number, ranges: ReadonlyArray<[number, number]>): boolean {
  return ranges.some(([a, b]) => n >= a && n <= b);
}
