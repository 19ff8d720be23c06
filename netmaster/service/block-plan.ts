/**
 * Which address block of a network a host may claim next (issue 15): a pure plan over what one
 * read at one revision saw (the network's subnet and gateway, its existing blocks, the addresses
 * netmaster holds). Blocks are aligned to the block prefix inside the subnet's CIDR, so a block
 * never straddles two others and its key can be derived from its base address.
 *
 * Rules (decided here, blocks.ts relies on them):
 * - a subnet whose prefix is longer than the block prefix (a /28 with /26 blocks) is not split:
 *   the plan says `whole` and netmaster keeps allocating it address by address as today;
 * - a candidate block is skipped when it overlaps any existing block, of any prefix (the block
 *   prefix may have changed since older blocks were claimed);
 * - a candidate block is skipped when netmaster already holds an address inside it (an endpoint
 *   or service address allocated the old way, or a static `--ip`): that address is not the host's
 *   to give, and a block is only useful when every usable address in it is the host's;
 * - the gateway is the one exception: it is reserved for the network's lifetime, so the block
 *   around it is still handed out, with the gateway left out of its usable addresses (else the
 *   first block of almost every network would never be used);
 * - a block's usable addresses are its addresses inside the subnet's usable range (so the
 *   subnet's network and broadcast addresses, and addresses outside a Contiv range subnet such as
 *   `10.1.1.10-20/24`, are never usable) minus the gateway; block edges are not subnet edges, so
 *   a block's own first and last addresses are usable;
 * - the lowest free blocks come first; the claimer spreads retries over the first few.
 */
import { NetloomError } from '../../lib/errors';
import { formatV4, maskOf, type V4Subnet } from '../model/net';

/** IPv4 block size when neither the network nor the global settings name one. */
export const DEFAULT_BLOCK_PREFIX = 26;

export interface BlockRef {
  /** network address of the block */
  base: number;
  prefix: number;
}

export interface PlannedBlock extends BlockRef {
  /** `a.b.c.d/len` */
  cidr: string;
  /** usable addresses, inclusive ranges in ascending order (the gateway splits one in two) */
  ranges: Array<[number, number]>;
  /** how many addresses the ranges hold */
  size: number;
}

export interface BlockPlanInput {
  subnet: V4Subnet;
  /** the network's gateway, if it has one */
  gateway: number | undefined;
  blockPrefix: number;
  /** blocks already claimed in this network, by any host */
  blocks: readonly BlockRef[];
  /** addresses netmaster holds in this network (its `alloc/ip` keys, the gateway among them) */
  held: readonly number[];
}

export type BlockPlan =
  /** the subnet is smaller than a block: netmaster serves it whole */
  | { kind: 'whole' }
  /** free blocks, lowest first (at most the number asked for, at least one) */
  | { kind: 'blocks'; blocks: PlannedBlock[] };

/** Check a block prefix given by a caller or a setting; INVALID_ARGUMENT naming `field`. */
export function checkBlockPrefix(prefix: number, field = 'blockPrefix'): number {
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 32) {
    throw new NetloomError('INVALID_ARGUMENT', `${field} must be a whole number from 1 to 32, not ${String(prefix)}`, { field });
  }
  return prefix;
}

/** The first and last address of a block (its whole span, network to broadcast). */
export function blockSpan(b: BlockRef): [number, number] {
  return [b.base, b.base + 2 ** (32 - b.prefix) - 1];
}

export function blockCidr(b: BlockRef): string {
  return `${formatV4(b.base)}/${b.prefix}`;
}

/**
 * Up to `want` free blocks of `input.blockPrefix`, lowest first; `whole` when the subnet is
 * smaller than a block. EXHAUSTED (field `networkName`) when no block is free.
 */
export function planBlocks(input: BlockPlanInput, want = 1, where = 'the network'): BlockPlan {
  const { subnet, gateway, blocks, held } = input;
  const prefix = checkBlockPrefix(input.blockPrefix);
  if (subnet.prefix > prefix) return { kind: 'whole' };
  const size = 2 ** (32 - prefix);
  const base = (subnet.base & maskOf(subnet.prefix)) >>> 0;
  const indexOf = (addr: number) => Math.floor((addr - base) / size);
  // candidate indexes covering the usable range; the rest hold no usable address
  const firstIdx = indexOf(subnet.first);
  const lastIdx = indexOf(subnet.last);
  // taken index intervals: existing blocks (a larger one covers several) and held addresses
  const taken: Array<[number, number]> = [];
  for (const b of blocks) {
    const [lo, hi] = blockSpan(b);
    if (hi < base || lo > base + 2 ** (32 - subnet.prefix) - 1) continue;
    taken.push([indexOf(Math.max(lo, base)), indexOf(Math.min(hi, base + 2 ** (32 - subnet.prefix) - 1))]);
  }
  for (const a of held) if (a !== gateway && a >= subnet.first && a <= subnet.last) taken.push([indexOf(a), indexOf(a)]);
  taken.sort((x, y) => x[0] - y[0]);
  const out: PlannedBlock[] = [];
  let t = 0;
  // each step either passes a taken interval or yields a block: bounded by taken.length + want
  // (plus blocks with nothing usable, which only a /31 or /32 block around the gateway can be)
  for (let i = firstIdx; i <= lastIdx && out.length < want; i++) {
    while (t < taken.length && (taken[t]?.[1] ?? -1) < i) t++;
    const iv = taken[t];
    if (iv && iv[0] <= i) {
      i = iv[1];
      continue;
    }
    const block = usableBlock(base + i * size, prefix, subnet, gateway);
    if (block) out.push(block);
  }
  if (out.length === 0) {
    throw new NetloomError('EXHAUSTED', `no free /${prefix} address block left in ${where}`, { field: 'networkName' });
  }
  return { kind: 'blocks', blocks: out };
}

/** The block at `blockBase` with its usable addresses, or undefined when it has none. */
export function usableBlock(blockBase: number, prefix: number, subnet: V4Subnet, gateway: number | undefined): PlannedBlock | undefined {
  const [lo, hi] = blockSpan({ base: blockBase, prefix });
  const a = Math.max(lo, subnet.first);
  const b = Math.min(hi, subnet.last);
  if (a > b) return undefined;
  const ranges: Array<[number, number]> = [];
  if (gateway !== undefined && gateway >= a && gateway <= b) {
    if (a < gateway) ranges.push([a, gateway - 1]);
    if (gateway < b) ranges.push([gateway + 1, b]);
  } else ranges.push([a, b]);
  const size = ranges.reduce((n, [x, y]) => n + y - x + 1, 0);
  if (size === 0) return undefined;
  return { base: blockBase, prefix, cidr: blockCidr({ base: blockBase, prefix }), ranges, size };
}
