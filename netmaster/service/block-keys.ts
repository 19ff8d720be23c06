/**
 * The etcd keys of address blocks (issue 15): `/netloom/v1/alloc/block/<tenant:network>/<base>-<len>`
 * with the base as 8 hex digits (as `alloc/ip` keys are, so key order is address order) and the
 * prefix length as 2 digits, valued `{"host", "claimedAt", "cidr", "claimId"}` (claimId: the agent's id of
 * the claim, so that a retried claim finds the block its first attempt made). Also the key prefixes that
 * cover an aligned address span exactly, which is how a claim guards "nothing appeared inside
 * this block" without guarding (and so conflicting with) the rest of the network.
 */
import { NetloomError } from '../../lib/errors';
import { maskOf } from '../model/net';
import { ROOT } from '../store/layout';
import { blockCidr, type BlockRef } from './block-plan';

export interface BlockValue {
  host: string;
  /** ISO time of the claim */
  claimedAt: string;
  /** `a.b.c.d/len`, for people reading etcd */
  cidr: string;
  /** the claim id the agent gave (absent on blocks claimed without one) */
  claimId?: string;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

export const blockKeys = {
  /** every block of every network */
  root: `${ROOT}alloc/block/`,
  prefix: (netKey: string) => `${ROOT}alloc/block/${netKey}/`,
  key: (netKey: string, b: BlockRef) => `${ROOT}alloc/block/${netKey}/${hex8(b.base)}-${String(b.prefix).padStart(2, '0')}`,
};

const SUFFIX_RE = /^([0-9a-f]{8})-(\d{2})$/;

/** The block a key names, or undefined when the key is not a block key of `netKey`. */
export function blockOfKey(netKey: string, key: string): BlockRef | undefined {
  const prefix = blockKeys.prefix(netKey);
  if (!key.startsWith(prefix)) return undefined;
  const m = SUFFIX_RE.exec(key.slice(prefix.length));
  if (!m) return undefined;
  const base = parseInt(m[1] ?? '', 16);
  const len = Number(m[2]);
  // a block is aligned to its prefix; anything else is not a key this layout writes
  if (len > 32 || (base & maskOf(len)) >>> 0 !== base) return undefined;
  return { base, prefix: len };
}

export function encodeBlockValue(host: string, b: BlockRef, at: Date, claimId = ''): string {
  const v: BlockValue = { host, claimedAt: at.toISOString(), cidr: blockCidr(b), ...(claimId ? { claimId } : {}) };
  return JSON.stringify(v);
}

/** A stored block value; INTERNAL naming the key when it is not one. */
export function decodeBlockValue(key: string, text: string): BlockValue {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const o = v as Partial<BlockValue> | undefined;
  if (!o || typeof o !== 'object' || typeof o.host !== 'string' || typeof o.claimedAt !== 'string' || typeof o.cidr !== 'string') {
    throw new NetloomError('INTERNAL', `stored block ${key} is not a block record`, { field: 'key' });
  }
  const claimId = typeof o.claimId === 'string' && o.claimId !== '' ? { claimId: o.claimId } : {};
  return { host: o.host, claimedAt: o.claimedAt, cidr: o.cidr, ...claimId };
}

/**
 * The hex key prefixes (of 8-hex-digit address keys under `dir`) that together cover exactly the
 * aligned span of block `b`: one per 16^k addresses, so at most 8 for any prefix length.
 */
export function spanKeyPrefixes(dir: string, b: BlockRef): string[] {
  const hostBits = 32 - b.prefix;
  const digits = 8 - Math.floor(hostBits / 4);
  const step = 16 ** Math.floor(hostBits / 4);
  const out: string[] = [];
  const end = b.base + 2 ** hostBits;
  for (let v = b.base; v < end; v += step) out.push(dir + hex8(v).slice(0, digits));
  return out;
}

/** The network key and block a key under `blockKeys.root` names (undefined when it is not a block key). */
export function parseBlockKey(key: string): { netKey: string; block: BlockRef } | undefined {
  if (!key.startsWith(blockKeys.root)) return undefined;
  const rest = key.slice(blockKeys.root.length);
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) return undefined;
  const netKey = rest.slice(0, slash);
  const block = blockOfKey(netKey, key);
  return block ? { netKey, block } : undefined;
}
