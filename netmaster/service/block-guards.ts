/**
 * What netmaster's own address allocation (CreateEndpoint, issue 15) needs to know of blocks, as
 * pure helpers: the blocks a read found, address ranges with the blocks' spans taken out (the
 * free search skips every block), and the guards that no block around an address appeared since
 * it was chosen (one absent-key compare per aligned enclosing block, so claims elsewhere in the
 * network never make an endpoint create fail).
 */
import { maskOf } from '../model/net';
import type { Guard, KeyValue } from '../store/kv';
import { blockKeys, blockOfKey } from './block-keys';
import { blockCidr, blockSpan } from './block-plan';
import { readBlockValue } from './blocks';

export interface HeldBlock {
  cidr: string;
  host: string;
  span: [number, number];
}

/** The blocks among `kvs` (a read of `blockKeys.prefix(netKey)`); unreadable values count, owned by '?'. */
export function heldBlocks(netKey: string, kvs: readonly KeyValue[]): HeldBlock[] {
  return kvs.flatMap((kv) => {
    const b = blockOfKey(netKey, kv.key);
    if (!b) return [];
    return [{ cidr: blockCidr(b), host: readBlockValue(kv.key, kv.value)?.host ?? '?', span: blockSpan(b) }];
  });
}

/** `ranges` (inclusive, any order) without the addresses of `spans`, ascending. */
export function withoutSpans(ranges: ReadonlyArray<[number, number]>, spans: ReadonlyArray<[number, number]>): Array<[number, number]> {
  let out: Array<[number, number]> = [...ranges].sort((a, b) => a[0] - b[0]);
  for (const [lo, hi] of spans) {
    const next: Array<[number, number]> = [];
    for (const [a, b] of out) {
      if (hi < a || lo > b) {
        next.push([a, b]);
        continue;
      }
      if (a < lo) next.push([a, lo - 1]);
      if (b > hi) next.push([hi + 1, b]);
    }
    out = next;
  }
  return out;
}

/** Guards that no block of any prefix from `subnetPrefix` to 32 holds `ip` in network `netKey`. */
export function noBlockAround(netKey: string, ip: number, subnetPrefix: number): Guard[] {
  const guards: Guard[] = [];
  for (let p = Math.max(1, subnetPrefix); p <= 32; p++) {
    guards.push({ kind: 'modEquals', key: blockKeys.key(netKey, { base: (ip & maskOf(p)) >>> 0, prefix: p }), modRevision: '0' });
  }
  return guards;
}
