/**
 * Per-host address blocks, netmaster side (issue 15; docs/ipam.md). Served to agents by
 * ClaimBlock/ReleaseBlock (agent/server.ts), released with a dead host (agent/liveness.ts).
 *
 * Why: today every endpoint address costs the agent a round trip to netmaster and an etcd commit
 * on the ADD's critical path. With blocks, a host claims a whole aligned slice of a network's
 * subnet (default /26) once, in one etcd transaction, and then gives addresses from it locally.
 *
 * Keys (block-keys.ts): `/netloom/v1/alloc/block/<tenant:network>/<8-hex base>-<len>` valued
 * `{"host", "claimedAt", "cidr"}`. A block belongs to exactly one host. Addresses netmaster hands
 * out itself stay under `alloc/ip/` as today; which block is free is decided by block-plan.ts.
 *
 * Claim transaction: read at one revision R the network, every block of the network and the
 * network's `alloc/ip` keys; plan the lowest free block (on a retry, a random one of the first
 * few, so that hosts claiming together stop colliding); commit the block key guarded by
 *   - the network's mod_revision (it still exists with the subnet and gateway the plan used),
 *   - the block key absent (compare-and-create: of two hosts claiming the same block, one wins),
 *   - no block key with a base inside the block created or changed since R (a block of another
 *     size inside it), and no larger enclosing block key created since R,
 *   - no `alloc/ip` key inside the block created or changed since R (netmaster did not give an
 *     address in it meanwhile).
 * The range guards cover only the block's own span (a few hex key prefixes), so endpoint creates
 * and claims elsewhere in the network never make a claim fail. A failed guard writes nothing and
 * the claim starts again from the read (Retrier: bounded, jittered).
 *
 * Release deletes the block key if the caller's host owns it, guarded by its mod_revision. It does
 * not touch addresses: any `alloc/ip` key left inside keeps the block from being planned again
 * until it is freed.
 */
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { LIMITS } from '../../lib/kinds/limits';
import { formatV4, maskOf, parseV4, parseV4Subnet, type V4Subnet } from '../model/net';
import type { Global, Network } from '../model/schemas';
import type { EtcdKV, Guard } from '../store/kv';
import { layout, numberOfKey } from '../store/layout';
import { checkIntentKv } from '../store/stored-values';
import { blockKeys, blockOfKey, decodeBlockValue, encodeBlockValue, parseBlockKey, spanKeyPrefixes, type BlockValue } from './block-keys';
import { blockCidr, checkBlockPrefix, planBlocks, usableBlock, type BlockRef, type PlannedBlock } from './block-plan';
import { effectiveBlockPrefix } from './block-prefix';
import { RETRY, type Retrier } from './retry';

export interface BlockDeps {
  kv: EtcdKV;
  clock: Clock;
  log: Logger;
  retrier: Retrier;
}

export interface ClaimedBlock {
  block: PlannedBlock;
  host: string;
  claimedAt: string;
  /** etcd revision of the claim */
  revision: string;
  /** an earlier claim with the same claim id made it */
  existing: boolean;
}

export interface StoredBlock extends BlockRef {
  cidr: string;
  host: string;
  claimedAt: string;
}

/** How many of the lowest free blocks a retried claim picks among. */
const SPREAD = 4;

export class BlockService {
  constructor(private readonly deps: BlockDeps) {}

  /**
   * Claim the next free block of network `netKey` for `host`. `whole` when the network is smaller
   * than a block (netmaster keeps serving it address by address); EXHAUSTED when no block is free.
   * `claimId` makes the claim idempotent: a block of `host` in the network that a claim with the
   * same id made is returned as it is (a retry after a lost answer gets no second block).
   * `blockPrefix` defaults to the network's effective one (block-prefix.ts).
   */
  async claim(
    netKey: string,
    host: string,
    opts: { claimId?: string; blockPrefix?: number } = {},
  ): Promise<ClaimedBlock | { whole: true }> {
    checkHost(host);
    const claimId = opts.claimId ?? '';
    if (claimId.length > LIMITS.name) {
      throw new NetloomError('INVALID_ARGUMENT', `claim_id must be at most ${LIMITS.name} characters`, { field: 'claim_id' });
    }
    if (opts.blockPrefix !== undefined) checkBlockPrefix(opts.blockPrefix);
    const netCfg = layout.cfg('network', netKey);
    return this.deps.retrier.run(`block claim in ${netKey} for ${host}`, async (attempt) => {
      const { revision, results } = await this.deps.kv.read([
        { kind: 'get', key: netCfg },
        { kind: 'prefix', prefix: blockKeys.prefix(netKey) },
        { kind: 'prefix', prefix: layout.ipPrefix(netKey), keysOnly: true },
        { kind: 'get', key: layout.cfg('global', 'global') },
      ]);
      const nwKv = results[0]?.kvs[0];
      if (!nwKv) throw new NetloomError('NOT_FOUND', `network ${netKey} does not exist`, { field: 'networkName' });
      const nw = this.deps.kv.badValues.need(nwKv.key, () => checkIntentKv<Network>(nwKv)).config;
      const subnet = parseV4Subnet(nw.subnet);
      if (!subnet) throw new NetloomError('INTERNAL', `network ${netKey} has a bad subnet ${nw.subnet}`);
      const blockKvs = results[1]?.kvs ?? [];
      if (claimId !== '') {
        for (const kv of blockKvs) {
          const b = blockOfKey(netKey, kv.key);
          const v = b ? readBlockValue(kv.key, kv.value) : undefined;
          if (!b || v?.host !== host || v.claimId !== claimId) continue;
          return { block: describeBlock(b, subnet, nw.gateway), host, claimedAt: v.claimedAt, revision: kv.modRevision, existing: true };
        }
      }
      const gKv = results[3]?.kvs[0];
      const global = gKv ? this.deps.kv.badValues.take(gKv.key, () => checkIntentKv<Global>(gKv))?.config : undefined;
      const blockPrefix = opts.blockPrefix ?? effectiveBlockPrefix(nw, global);
      if (blockPrefix === 0) return { whole: true as const };
      const blocks = blockKvs.flatMap((kv) => blockOfKey(netKey, kv.key) ?? []);
      const held = (results[2]?.kvs ?? []).map((kv) => numberOfKey(kv.key, true));
      const plan = planBlocks(
        { subnet, gateway: nw.gateway ? parseV4(nw.gateway) : undefined, blockPrefix, blocks, held },
        attempt === 0 ? 1 : SPREAD,
        `network ${netKey} (subnet ${nw.subnet})`,
      );
      if (plan.kind === 'whole') return { whole: true as const };
      const block = plan.blocks[Math.floor(Math.random() * plan.blocks.length)] ?? plan.blocks[0];
      if (!block) return RETRY;
      const at = new Date(this.deps.clock.now());
      const key = blockKeys.key(netKey, block);
      const r = await this.deps.kv.commit(claimGuards(netKey, nwKv.modRevision, block, subnet.prefix, revision), [
        { kind: 'put', key, value: encodeBlockValue(host, block, at, claimId) },
      ]);
      if (!r.ok) return RETRY;
      this.deps.log.debug({ network: netKey, block: block.cidr, host, claimId }, 'address block claimed');
      return { block, host, claimedAt: at.toISOString(), revision: r.revision, existing: false };
    });
  }

  /**
   * Give back a block `host` owns. Releasing a block that is not there succeeds (idempotent);
   * releasing another host's block is a CONFLICT naming `host`; a block with an address still
   * allocated inside (an `alloc/ip` key other than the gateway) is IN_USE naming its holder.
   */
  async release(netKey: string, block: BlockRef, host: string): Promise<{ released: boolean }> {
    checkHost(host);
    const key = blockKeys.key(netKey, block);
    return this.deps.retrier.run(`block release ${blockCidr(block)} in ${netKey}`, async () => {
      const spans = spanKeyPrefixes(layout.ipPrefix(netKey), block);
      const { revision, results } = await this.deps.kv.read([
        { kind: 'get', key },
        ...spans.map((prefix) => ({ kind: 'prefix' as const, prefix, limit: 2 })),
      ]);
      const kv = results[0]?.kvs[0];
      if (!kv) return { released: false };
      const owner = readBlockValue(key, kv.value)?.host;
      if (owner !== undefined && owner !== host) {
        throw new NetloomError('CONFLICT', `block ${blockCidr(block)} of network ${netKey} belongs to host ${owner}, not ${host}`, {
          field: 'host',
        });
      }
      const holder = results
        .slice(1)
        .flatMap((r) => r.kvs)
        .find((x) => x.value !== 'gateway');
      if (holder) {
        const ip = formatV4(numberOfKey(holder.key, true));
        throw new NetloomError('IN_USE', `block ${blockCidr(block)} of network ${netKey} still holds ${ip} (${holder.value})`, {
          field: 'cidr',
        });
      }
      const guards: Guard[] = [{ kind: 'modEquals', key, modRevision: kv.modRevision }];
      for (const prefix of spans) guards.push({ kind: 'rangeUnchangedSince', prefix, revision });
      const r = await this.deps.kv.commit(guards, [{ kind: 'delete', key }]);
      if (!r.ok) return RETRY;
      this.deps.log.debug({ network: netKey, block: blockCidr(block), host }, 'address block released');
      return { released: true };
    });
  }

  /**
   * Release every block of `host` (a dead host, after its endpoints were released); a block that
   * still holds an address stays (reported by the consistency check). Returns the released CIDRs.
   */
  async releaseHost(host: string): Promise<Array<{ network: string; cidr: string }>> {
    const { kvs } = await this.deps.kv.list(blockKeys.root);
    const out: Array<{ network: string; cidr: string }> = [];
    for (const kv of kvs) {
      const parsed = parseBlockKey(kv.key);
      if (!parsed || readBlockValue(kv.key, kv.value)?.host !== host) continue;
      try {
        if ((await this.release(parsed.netKey, parsed.block, host)).released)
          out.push({ network: parsed.netKey, cidr: blockCidr(parsed.block) });
      } catch (e) {
        this.deps.log.warn(
          { host, network: parsed.netKey, block: blockCidr(parsed.block), err: errorMessage(e) },
          'block of a dead host kept',
        );
      }
    }
    return out;
  }

  /** Every block of a network, in address order (keys this layout did not write are left out). */
  async list(netKey: string): Promise<StoredBlock[]> {
    const { kvs } = await this.deps.kv.list(blockKeys.prefix(netKey));
    return kvs.flatMap((kv) => {
      const b = blockOfKey(netKey, kv.key);
      if (!b) return [];
      const v = decodeBlockValue(kv.key, kv.value);
      return [{ ...b, cidr: blockCidr(b), host: v.host, claimedAt: v.claimedAt }];
    });
  }
}

/** The guards of a claim read at `revision` (see the note at the top). */
export function claimGuards(netKey: string, networkRevision: string, block: BlockRef, subnetPrefix: number, revision: string): Guard[] {
  const guards: Guard[] = [
    { kind: 'modEquals', key: layout.cfg('network', netKey), modRevision: networkRevision },
    { kind: 'modEquals', key: blockKeys.key(netKey, block), modRevision: '0' },
  ];
  for (const prefix of spanKeyPrefixes(blockKeys.prefix(netKey), block)) guards.push({ kind: 'rangeUnchangedSince', prefix, revision });
  for (let p = subnetPrefix; p < block.prefix; p++) {
    const enclosing = { base: (block.base & maskOf(p)) >>> 0, prefix: p };
    guards.push({ kind: 'modEquals', key: blockKeys.key(netKey, enclosing), modRevision: '0' });
  }
  for (const prefix of spanKeyPrefixes(layout.ipPrefix(netKey), block)) guards.push({ kind: 'rangeUnchangedSince', prefix, revision });
  return guards;
}

/** A stored block value, or undefined when it is not one (never thrown: a bad value is the consistency check's). */
export function readBlockValue(key: string, text: string): BlockValue | undefined {
  try {
    return decodeBlockValue(key, text);
  } catch {
    return undefined;
  }
}

/** A block with its usable addresses in a network (none usable: an empty range list). */
export function describeBlock(b: BlockRef, subnet: V4Subnet, gateway: string | undefined): PlannedBlock {
  const gw = gateway ? parseV4(gateway) : undefined;
  return usableBlock(b.base, b.prefix, subnet, gw) ?? { ...b, cidr: blockCidr(b), ranges: [], size: 0 };
}

function checkHost(host: string): void {
  if (typeof host !== 'string' || host === '' || host.length > LIMITS.name || host.includes('/')) {
    throw new NetloomError('INVALID_ARGUMENT', `host must be a host name of 1 to ${LIMITS.name} characters without '/'`, {
      field: 'host',
    });
  }
}
