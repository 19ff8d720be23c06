/**
 * A serviceLB's address. It lives where endpoints' addresses live (`alloc/ip/<tenant:network>/`,
 * value `service:<tenant:service>`), so an address is never both a service's and an endpoint's:
 * taken by the endpoints' allocator from the network's subnet when none is given (the gateway is
 * reserved there already), or checked when given (inside the subnet, not the gateway: validate.ts;
 * not taken: here). It is kept across updates (an update without an address keeps it), moved when
 * the network or the given address changes, and released when the service is deleted. The writes
 * go into the service's own guarded commit.
 */
import { NetloomError } from '../../lib/errors';
import { formatV4, parseV4, parseV4Subnet } from '../model/net';
import type { Network, ServiceLB } from '../model/schemas';
import type { EtcdKV, Guard, WriteOp } from '../store/kv';
import { heldBlocks, noBlockAround, withoutSpans } from './block-guards';
import { blockKeys } from './block-keys';
import { layout } from '../store/layout';

/** The value of a service's address key. */
export const serviceIpOwner = (key: string): string => `service:${key}`;

export type PickIp = (
  prefix: string,
  keyOfN: (n: number) => string,
  ranges: ReadonlyArray<[number, number]>,
  field: string,
  what: string,
  hex?: boolean,
) => Promise<number | undefined>;

export interface ServiceIpPlan {
  /** the config to store: its ipAddress is the service's address */
  config: ServiceLB;
  guards: Guard[];
  writes: WriteOp[];
  /** a number claimed through `pick` (the caller unclaims it) */
  claimed?: { prefix: string; n: number };
}

/** The writes that release a service's address (nothing when the key is no longer its own). */
export async function releaseServiceIp(
  kv: Pick<EtcdKV, 'get'>,
  key: string,
  s: ServiceLB,
): Promise<{ guards: Guard[]; writes: WriteOp[] }> {
  const ip = s.ipAddress ? parseV4(s.ipAddress) : undefined;
  if (ip === undefined || !s.networkName) return { guards: [], writes: [] };
  const ipKey = layout.ip(`${s.tenantName}:${s.networkName}`, ip);
  const held = await kv.get(ipKey);
  if (!held || held.value !== serviceIpOwner(key)) return { guards: [], writes: [] };
  return { guards: [{ kind: 'modEquals', key: ipKey, modRevision: held.modRevision }], writes: [{ kind: 'delete', key: ipKey }] };
}

/**
 * The address of service `key` for this create or update; undefined when `pick` gave up (the
 * caller retries). `nw` is the service's network as the check loaded it (its revision is guarded).
 */
export async function planServiceIp(
  kv: Pick<EtcdKV, 'get' | 'list'>,
  key: string,
  s: ServiceLB,
  prev: ServiceLB | undefined,
  nw: Network,
  pick: PickIp,
): Promise<ServiceIpPlan | undefined> {
  const netKey = `${s.tenantName}:${s.networkName}`;
  const sameNet = prev !== undefined && prev.networkName === s.networkName;
  const want = s.ipAddress || (sameNet ? prev.ipAddress : '');
  if (sameNet && want !== '' && want === prev.ipAddress) return { config: { ...s, ipAddress: want }, guards: [], writes: [] };
  const plan: ServiceIpPlan = { config: s, guards: [], writes: [] };
  if (prev) {
    const r = await releaseServiceIp(kv, key, prev);
    plan.guards.push(...r.guards);
    plan.writes.push(...r.writes);
  }
  const owner = serviceIpOwner(key);
  const sub = parseV4Subnet(nw.subnet);
  if (!sub) throw new NetloomError('INTERNAL', `network ${netKey} has a bad subnet ${nw.subnet}`);
  // addresses inside hosts' address blocks are those hosts' agents' to give (issue 15)
  const blocks = heldBlocks(netKey, (await kv.list(blockKeys.prefix(netKey))).kvs);
  let n: number | undefined;
  if (want !== '') {
    n = parseV4(want);
    if (n === undefined) throw new NetloomError('INVALID_ARGUMENT', `ipAddress '${want}' must be an IPv4 address`, { field: 'ipAddress' });
    const held = await kv.get(layout.ip(netKey, n));
    if (held && held.value !== owner) {
      const by = held.value === 'gateway' ? 'the gateway' : held.value.startsWith('service:') ? held.value : `endpoint ${held.value}`;
      throw new NetloomError('CONFLICT', `ipAddress ${want} is already in use in network ${netKey} (by ${by})`, { field: 'ipAddress' });
    }
    const at = n;
    const inBlock = blocks.find((b) => at >= b.span[0] && at <= b.span[1]);
    if (inBlock) {
      throw new NetloomError(
        'CONFLICT',
        `ipAddress ${want} is inside address block ${inBlock.cidr} of host ${inBlock.host} in network ${netKey}`,
        {
          field: 'ipAddress',
        },
      );
    }
    plan.guards.push({ kind: 'modEquals', key: layout.ip(netKey, n), modRevision: held?.modRevision ?? '0' });
  } else {
    const prefix = layout.ipPrefix(netKey);
    n = await pick(
      prefix,
      (x) => layout.ip(netKey, x),
      withoutSpans(
        [[sub.first, sub.last]],
        blocks.map((b) => b.span),
      ),
      'networkName',
      `address in network ${netKey} (subnet ${nw.subnet})`,
      true,
    );
    if (n === undefined) return undefined;
    plan.claimed = { prefix, n };
    plan.guards.push({ kind: 'modEquals', key: layout.ip(netKey, n), modRevision: '0' });
  }
  plan.guards.push(...noBlockAround(netKey, n, sub.prefix));
  plan.writes.push({ kind: 'put', key: layout.ip(netKey, n), value: owner });
  plan.config = { ...s, ipAddress: formatV4(n) };
  return plan;
}
