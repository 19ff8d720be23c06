/**
 * Finding free numbers (VLAN ids, VNIs, group ids, IPv4 addresses) without reading a bitmap:
 * allocations are one key each, in numeric key order, so a keys-only scan from a cursor finds
 * the first gaps. The caller then claims a candidate with a compare-and-create in its commit;
 * losing a race only means trying again. Scans are bounded in pages.
 */
import type { EtcdKV, ReadOp, ReadResult } from './kv';
import { numberOfKey } from './layout';

export interface ScanSpec {
  /** prefix holding the allocation keys */
  prefix: string;
  /** the key of number n */
  keyOf: (n: number) => string;
  hex?: boolean;
  /** inclusive ranges numbers may come from */
  ranges: ReadonlyArray<[number, number]>;
}

const PAGE = 512;
const MAX_PAGES = 4096;

/**
 * Up to `want` free numbers, searching from `cursor` to the end of the ranges and then from the
 * start (one wrap), skipping numbers in `exclude` (claims in flight in this process).
 */
export async function findFree(kv: EtcdKV, spec: ScanSpec, cursor: number, want: number, exclude: ReadonlySet<number>): Promise<number[]> {
  const segments: Array<[number, number]> = [];
  const sorted = [...spec.ranges].sort((a, b) => a[0] - b[0]);
  for (const [a, b] of sorted) if (b >= cursor) segments.push([Math.max(a, cursor), b]);
  for (const [a, b] of sorted) if (a < cursor) segments.push([a, Math.min(b, cursor - 1)]);
  const out: number[] = [];
  let pages = 0;
  for (const [a, b] of segments) {
    let next = a;
    while (next <= b && out.length < want && pages < MAX_PAGES) {
      pages++;
      const res = await kv.read([{ kind: 'prefix', prefix: spec.prefix, from: spec.keyOf(next), limit: PAGE, keysOnly: true }]);
      const used = (res.results[0]?.kvs ?? []).map((k) => numberOfKey(k.key, spec.hex)).filter((n) => n >= next && n <= b);
      const pageEnd = res.results[0]?.more && used.length > 0 ? (used[used.length - 1] ?? b) : b;
      let ui = 0;
      for (let n = next; n <= pageEnd && out.length < want; n++) {
        while (ui < used.length && (used[ui] ?? Infinity) < n) ui++;
        if (used[ui] === n) continue;
        if (!exclude.has(n)) out.push(n);
      }
      next = pageEnd + 1;
      if (!res.results[0]?.more) next = Math.max(next, b + 1);
    }
    if (out.length >= want) break;
  }
  return out;
}

/** A keys-only read of one page of allocation keys from `cursor`, to fold into another read. */
export function scanPageOp(spec: Pick<ScanSpec, 'prefix' | 'keyOf'>, cursor: number): ReadOp {
  return { kind: 'prefix', prefix: spec.prefix, from: spec.keyOf(cursor), limit: 64, keysOnly: true };
}

/**
 * Free numbers (at most `want`) in `ranges` from `cursor` up to the end of what one scanned page
 * covers. Pure; an empty answer means "scan further" (findFree), not "exhausted".
 */
export function freeInPage(page: ReadResult | undefined, spec: Pick<ScanSpec, 'hex' | 'ranges'>, cursor: number, want: number): number[] {
  if (!page) return [];
  const used = page.kvs.map((k) => numberOfKey(k.key, spec.hex)).filter((n) => n >= cursor);
  const pageEnd = page.more ? (used[used.length - 1] ?? cursor) : Infinity;
  const usedSet = new Set(used);
  const out: number[] = [];
  for (const [a, b] of [...spec.ranges].sort((x, y) => x[0] - y[0])) {
    for (let n = Math.max(a, cursor); n <= Math.min(b, pageEnd) && out.length < want; n++) if (!usedSet.has(n)) out.push(n);
    if (out.length >= want) break;
  }
  return out;
}
