/**
 * The agent's allocator for the addresses of its own blocks: pure (no I/O, no clock), so that every
 * decision can be tested and replayed; `ipam-store.ts` makes its snapshot durable.
 *
 * Invariants (checked on every change and when a snapshot is loaded; the property tests rely on them):
 *  I1 one endpoint holds at most one address, and one address of a network is held by at most one
 *     endpoint (never given twice);
 *  I2 every held address lies in a block of the same network held by this host, and is none of the
 *     block's reserved addresses;
 *  I3 blocks of one network do not overlap (so an address belongs to at most one block);
 *  I4 an address is free exactly when it is usable in a held block and no endpoint holds it, so
 *     free + held = usable for every network (nothing leaked, nothing counted twice).
 *
 * Addresses are handed out round-robin per network (the next free one after the last given,
 * wrapping to the lowest), as CNI's host-local and netmaster's own cursor do: an address freed by a
 * DEL is not the next ADD's. A pod made again at once would otherwise take its old address with a
 * new MAC, and its peers' neighbour caches would send to the old MAC until they expire (15-45 s
 * in REACHABLE, then STALE, DELAY and PROBE: the 25-30 s a pod made again under NetworkPolicies
 * was unreachable in the cluster lab).
 *
 * An allocation starts 'local' (recorded, netmaster not told yet) and becomes 'registered' once
 * netmaster confirmed it; within this host's blocks the local record is the authority and netmaster's
 * copy a mirror (see `reconcile.ts`).
 */
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { blockContains, blocksOverlap, hostBlockSchema, parseBlock, usableAddresses, type HostBlock, type ParsedBlock } from './block';
import { formatIpv4, parseIpv4 } from './ipv4';

export const allocationSchema = z.object({
  endpointId: z.string().min(1),
  networkKey: z.string().min(1),
  address: z.string().min(1),
  state: z.enum(['local', 'registered']),
});

export type Allocation = z.infer<typeof allocationSchema>;
export type AllocationState = Allocation['state'];

export const allocatorSnapshotSchema = z.object({
  blocks: z.array(hostBlockSchema),
  allocations: z.array(allocationSchema),
});

export type AllocatorSnapshot = z.infer<typeof allocatorSnapshotSchema>;

const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

interface Held extends Allocation {
  n: number;
}

const blockKey = (networkKey: string, cidr: string): string => `${networkKey}\u0000${cidr}`;
const addrKey = (networkKey: string, n: number): string => `${networkKey}\u0000${n}`;

export class LocalAllocator {
  /** by network key + cidr (tenants' networks may use the same subnet) */
  private readonly blocks = new Map<string, ParsedBlock>();
  private readonly byEndpoint = new Map<string, Held>();
  /** network key + address -> endpoint id (I1) */
  private readonly byAddress = new Map<string, string>();
  /** network key -> the address last given by `allocate` (after a snapshot: the highest held) */
  private readonly cursor = new Map<string, number>();

  /** Rebuild from a snapshot; a snapshot that breaks an invariant is refused (CONFLICT or INVALID_ARGUMENT). */
  static fromSnapshot(snap: AllocatorSnapshot): LocalAllocator {
    const a = new LocalAllocator();
    for (const b of snap.blocks) a.addBlock(b);
    for (const al of snap.allocations) {
      const n = parseIpv4(a.hold(al).address, 'address');
      a.cursor.set(al.networkKey, Math.max(n, a.cursor.get(al.networkKey) ?? -1));
    }
    return a;
  }

  snapshot(): AllocatorSnapshot {
    return {
      blocks: [...this.blocks.values()]
        .sort((x, y) => x.base - y.base || cmp(x.block.networkKey, y.block.networkKey))
        .map((b) => ({ ...b.block, reserved: [...b.block.reserved] })),
      allocations: this.allocations(),
    };
  }

  /** Take a block netmaster gave this host. Giving the same block again is a no-op. */
  addBlock(block: HostBlock): void {
    const parsed = parseBlock(hostBlockSchema.parse(block));
    if (this.blocks.has(blockKey(block.networkKey, block.cidr))) return;
    for (const b of this.blocks.values()) {
      if (b.block.networkKey === block.networkKey && blocksOverlap(b, parsed)) {
        throw new NetloomError(
          'CONFLICT',
          `block ${block.cidr} of network ${block.networkKey} overlaps block ${b.block.cidr} this host holds`,
          {
            field: 'block.cidr',
          },
        );
      }
    }
    this.blocks.set(blockKey(block.networkKey, block.cidr), parsed);
  }

  /** Give a block back; IN_USE while an endpoint holds one of its addresses (I2). */
  removeBlock(networkKey: string, cidr: string): boolean {
    const b = this.blocks.get(blockKey(networkKey, cidr));
    if (!b) return false;
    const users = [...this.byEndpoint.values()].filter((h) => h.networkKey === b.block.networkKey && blockContains(b, h.n));
    if (users.length > 0) {
      throw new NetloomError(
        'IN_USE',
        `block ${cidr} still has ${users.length} address(es) in use (e.g. ${users[0]!.address} by ${users[0]!.endpointId})`,
        {
          field: 'block.cidr',
        },
      );
    }
    this.blocks.delete(blockKey(networkKey, cidr));
    return true;
  }

  blocksOf(networkKey: string): HostBlock[] {
    return this.sortedBlocks(networkKey).map((b) => b.block);
  }

  /**
   * The address of `endpointId` in `networkKey`: the one it already holds (an ADD retried after a
   * lost answer gets the same address), else the next free usable address of the network's blocks
   * after the last one given (wrapping to the lowest), recorded 'local'. EXHAUSTED naming the network when the blocks are full (the caller then asks
   * netmaster, which may have a new block or give an address itself).
   */
  allocate(endpointId: string, networkKey: string): Allocation {
    const had = this.byEndpoint.get(endpointId);
    if (had) {
      if (had.networkKey !== networkKey) {
        throw new NetloomError(
          'CONFLICT',
          `endpoint ${endpointId} already holds ${had.address} in network ${had.networkKey}, not ${networkKey}`,
          {
            field: 'networkKey',
          },
        );
      }
      return this.view(had);
    }
    const last = this.cursor.get(networkKey) ?? -1;
    let wrapped: number | undefined;
    for (const b of this.sortedBlocks(networkKey)) {
      for (const n of usableAddresses(b)) {
        if (this.byAddress.has(addrKey(networkKey, n))) continue;
        if (n > last) return this.give(endpointId, networkKey, n);
        wrapped ??= n;
      }
    }
    if (wrapped !== undefined) return this.give(endpointId, networkKey, wrapped);
    const blocks = this.blocksOf(networkKey).map((b) => b.cidr);
    throw new NetloomError(
      'EXHAUSTED',
      blocks.length === 0
        ? `network ${networkKey}: this host holds no address block`
        : `network ${networkKey}: no free address in this host's blocks (${blocks.join(', ')})`,
      { field: 'network', details: { networkKey, blocks } },
    );
  }

  /**
   * Give `endpointId` exactly `address` (a requested address inside one of this host's blocks):
   * the one it holds already when it is that address; CONFLICT naming the holder when another
   * endpoint holds it, or when the endpoint holds another address; INVALID_ARGUMENT when the
   * address is not usable in this host's blocks (outside them, or reserved: netmaster's to give).
   */
  allocateAt(endpointId: string, networkKey: string, address: string): Allocation {
    const n = parseIpv4(address, 'address');
    const had = this.byEndpoint.get(endpointId);
    if (had) {
      if (had.networkKey === networkKey && had.n === n) return this.view(had);
      throw new NetloomError(
        'CONFLICT',
        `endpoint ${endpointId} already holds ${had.address} in network ${had.networkKey}, not ${address}`,
        {
          field: 'address',
        },
      );
    }
    return this.hold({ endpointId, networkKey, address: formatIpv4(n), state: 'local' });
  }

  /** Netmaster confirmed the endpoint: 'local' -> 'registered'. NOT_FOUND when nothing is held. */
  markRegistered(endpointId: string): Allocation {
    const h = this.byEndpoint.get(endpointId);
    if (!h) throw new NetloomError('NOT_FOUND', `endpoint ${endpointId} holds no address`, { field: 'endpointId' });
    h.state = 'registered';
    return this.view(h);
  }

  /** Free the endpoint's address; false when it held none (a repeated DEL). */
  release(endpointId: string): boolean {
    const h = this.byEndpoint.get(endpointId);
    if (!h) return false;
    this.byEndpoint.delete(endpointId);
    this.byAddress.delete(addrKey(h.networkKey, h.n));
    return true;
  }

  get(endpointId: string): Allocation | undefined {
    const h = this.byEndpoint.get(endpointId);
    return h && this.view(h);
  }

  /** Who holds `address` of `networkKey` here, if anyone. */
  holderOf(networkKey: string, address: string): string | undefined {
    return this.byAddress.get(addrKey(networkKey, parseIpv4(address, 'address')));
  }

  /**
   * Whether this host decides `address` of `networkKey`: it lies in one of its blocks and is not
   * reserved there (reserved addresses are netmaster's: gateway, static ones).
   */
  ownsAddress(networkKey: string, address: string): boolean {
    const n = parseIpv4(address, 'address');
    return this.sortedBlocks(networkKey).some((b) => blockContains(b, n) && !b.reserved.has(n));
  }

  allocations(): Allocation[] {
    return [...this.byEndpoint.values()].map((h) => this.view(h)).sort((x, y) => cmp(x.endpointId, y.endpointId));
  }

  /** Usable addresses of the network's blocks that nobody holds (I4). */
  freeCount(networkKey: string): number {
    let usable = 0;
    for (const b of this.sortedBlocks(networkKey)) usable += b.usable;
    let held = 0;
    for (const h of this.byEndpoint.values()) if (h.networkKey === networkKey) held++;
    return usable - held;
  }

  private sortedBlocks(networkKey: string): ParsedBlock[] {
    return [...this.blocks.values()].filter((b) => b.block.networkKey === networkKey).sort((x, y) => x.base - y.base);
  }

  /** Record an allocation after checking I1 and I2. */
  private hold(al: Allocation): Allocation {
    const a = allocationSchema.parse(al);
    const n = parseIpv4(a.address, 'address');
    const block = this.sortedBlocks(a.networkKey).find((b) => blockContains(b, n));
    if (!block || block.reserved.has(n)) {
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `address ${a.address} of endpoint ${a.endpointId} is not usable in this host's blocks of network ${a.networkKey}`,
        {
          field: 'address',
        },
      );
    }
    const holder = this.byAddress.get(addrKey(a.networkKey, n));
    if (holder !== undefined) {
      throw new NetloomError('CONFLICT', `address ${a.address} of network ${a.networkKey} is held by ${holder}, not ${a.endpointId}`, {
        field: 'address',
      });
    }
    if (this.byEndpoint.has(a.endpointId)) {
      throw new NetloomError('CONFLICT', `endpoint ${a.endpointId} already holds an address`, { field: 'endpointId' });
    }
    const h: Held = { ...a, address: formatIpv4(n), n };
    this.byEndpoint.set(a.endpointId, h);
    this.byAddress.set(addrKey(a.networkKey, n), a.endpointId);
    return this.view(h);
  }

  private give(endpointId: string, networkKey: string, n: number): Allocation {
    const a = this.hold({ endpointId, networkKey, address: formatIpv4(n), state: 'local' });
    this.cursor.set(networkKey, n);
    return a;
  }

  private view(h: Held): Allocation {
    return { endpointId: h.endpointId, networkKey: h.networkKey, address: h.address, state: h.state };
  }
}
