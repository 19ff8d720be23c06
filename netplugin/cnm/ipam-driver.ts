/**
 * The IpamDriver half of the CNM plugin: pools and addresses for Docker networks served by
 * `--ipam-driver netloom`. Order of Docker's calls (seen with dockerd 20.10): RequestPool, then
 * RequestAddress for the gateway (and one per --aux-address), then NetworkDriver.CreateNetwork,
 * later RequestAddress per endpoint; on `docker network rm`: ReleaseAddress (gateway), ReleasePool.
 *
 * The gateway and aux addresses are requested before CreateNetwork says which netloom network the
 * pool belongs to, so they are held here and handed to the backend in createNetwork; endpoint
 * addresses come from the backend (netloom IPAM) in the pool's tenant/network.
 */
import { NetloomError } from '../../lib/errors';
import type { CnmBackend, PoolScope } from './backend';
import {
  bareAddress,
  firstHost,
  hostAddressProblem,
  Ipv4Subnet,
  parseSubnet,
  requireHostAddress,
  subnetContains,
  withPrefix,
} from './addresses';
import { listed, shown } from './limits';
import { DEFAULT_TENANT, poolHintFromIpamOptions, PoolHint } from './options';
import {
  AddressSpacesResponse,
  DEFAULT_ADDRESS_SPACE,
  GATEWAY_ADDRESS_TYPE,
  IpamCapabilitiesResponse,
  REQUEST_ADDRESS_TYPE,
  ReleaseAddressRequest,
  RequestAddressRequest,
  RequestAddressResponse,
  RequestPoolRequest,
  RequestPoolResponse,
} from './protocol';
import { entry, type CnmState, type PoolRecord } from './state';
import { poolOfSwarmNetwork, swarmBookkeepingAddress } from './swarm';

export { DEFAULT_ADDRESS_SPACE };

export function ipamCapabilities(): IpamCapabilitiesResponse {
  return { RequiresMACAddress: false, RequiresRequestReplay: false };
}

export function defaultAddressSpaces(): AddressSpacesResponse {
  return { LocalDefaultAddressSpace: DEFAULT_ADDRESS_SPACE, GlobalDefaultAddressSpace: DEFAULT_ADDRESS_SPACE };
}

/** A pool id that is the same for the same request, so that repeated requests share one pool. */
export function poolIdFor(addressSpace: string, subnet: string, subPool: string, hint: PoolHint): string {
  return ['netloom', addressSpace || DEFAULT_ADDRESS_SPACE, hint.tenant ?? '', hint.network ?? '', subnet, subPool].join('|');
}

/** The netloom tenant/network of a pool: from the network bound to it, else from the IPAM options. */
export function poolScope(state: CnmState, pool: PoolRecord): PoolScope {
  const bound = pool.dockerNetworkId !== undefined ? entry(state.networks, pool.dockerNetworkId) : undefined;
  const tenant = bound?.binding.tenant ?? pool.hint.tenant ?? DEFAULT_TENANT;
  const network = bound?.binding.network ?? pool.hint.network;
  return network === undefined ? { tenant, subnet: pool.subnet } : { tenant, network, subnet: pool.subnet };
}

export async function requestPool(state: CnmState, backend: CnmBackend, req: RequestPoolRequest): Promise<RequestPoolResponse> {
  if (req.V6) throw new NetloomError('INVALID_ARGUMENT', 'RequestPool: V6: IPv6 pools are not supported by netloom yet', { field: 'V6' });
  if (req.Pool === '' && req.SubPool !== '') {
    throw new NetloomError('INVALID_ARGUMENT', 'RequestPool: SubPool: a sub-pool (--ip-range) needs a pool (--subnet)', {
      field: 'SubPool',
    });
  }
  const hint = poolHintFromIpamOptions(req.Options);
  const asked = req.Pool === '' ? undefined : parseSubnet(req.Pool, 'Pool');
  let subnet = asked;
  let backendGateway: string | undefined;
  if (asked === undefined || hint.tenant !== undefined || hint.network !== undefined) {
    const resolved = await backend.resolvePool({
      tenant: hint.tenant ?? DEFAULT_TENANT,
      ...(hint.network !== undefined ? { network: hint.network } : {}),
      ...(asked ? { subnet: asked.cidr } : {}),
    });
    subnet = parseSubnet(resolved.subnet, 'Pool');
    if (asked && asked.cidr !== subnet.cidr) {
      throw new NetloomError('CONFLICT', `RequestPool: Pool: ${asked.cidr} is not the subnet of the netloom network (${subnet.cidr})`, {
        field: 'Pool',
      });
    }
    if (resolved.gateway !== undefined) {
      backendGateway = bareAddress(resolved.gateway, 'gateway');
      const problem = hostAddressProblem(subnet, backendGateway);
      if (problem !== '') throw new NetloomError('CONFLICT', `RequestPool: the netloom network's gateway: ${problem}`, { field: 'Pool' });
    }
  }
  if (subnet === undefined) throw new NetloomError('INTERNAL', 'RequestPool: no subnet');
  let subPool = '';
  if (req.SubPool !== '') {
    const sp = parseSubnet(req.SubPool, 'SubPool');
    if (sp.prefix < subnet.prefix || !subnetContains(subnet, sp.network)) {
      throw new NetloomError('INVALID_ARGUMENT', `RequestPool: SubPool: ${sp.cidr} is not inside ${subnet.cidr}`, { field: 'SubPool' });
    }
    subPool = sp.cidr;
  }
  const baseId = poolIdFor(req.AddressSpace, subnet.cidr, subPool, hint);
  // a pool already bound to a Docker network is not shared with the next network on the same
  // netloom network (e.g. `db/blue` made by --docker-networks and a user's own): it gets one of its own
  let poolId = baseId;
  // a swarm manager's pool neither (swarm.ts: its addresses are swarm's bookkeeping)
  const taken = (id: string): boolean =>
    entry(state.pools, id)?.dockerNetworkId !== undefined || entry(state.pools, id)?.swarmNetworkId !== undefined;
  for (let n = 2; taken(poolId); n++) poolId = `${baseId}|${n}`;
  const existing = entry(state.pools, poolId);
  if (existing) {
    existing.refs++;
  } else {
    const released = takeReleasedOfRemovedPool(state, baseId);
    state.pools[poolId] = {
      poolId,
      addressSpace: req.AddressSpace || DEFAULT_ADDRESS_SPACE,
      subnet: subnet.cidr,
      subPool,
      hint,
      ...(backendGateway !== undefined ? { backendGateway } : {}),
      refs: 1,
      addresses: {},
      ...(released ? { released } : {}),
    };
  }
  return { PoolID: poolId, Pool: subnet.cidr, Data: {} };
}

/**
 * Forget a pool reference; the last one removes the pool. A pool whose endpoint addresses are still
 * allocated is in use (containers hold them) and is refused: Docker releases them (DeleteEndpoint,
 * ReleaseAddress) before the pool. Gateway and aux addresses are the plugin's own and go with the
 * pool. Unknown pools are not an error.
 */
export function releasePool(state: CnmState, poolId: string): Record<string, never> {
  const pool = entry(state.pools, poolId);
  if (!pool) return {};
  if (pool.refs > 1) {
    pool.refs--;
    return {};
  }
  const held = Object.keys(pool.addresses).filter((a) => pool.addresses[a] === 'endpoint');
  if (held.length > 0) {
    throw new NetloomError(
      'IN_USE',
      `ReleasePool: PoolID: pool ${pool.subnet} is in use: endpoint address${held.length > 1 ? 'es' : ''} ${listed(held)} ` +
        'still allocated (remove the containers, or release the addresses, first)',
      { field: 'PoolID', details: { addresses: held.slice(0, 16) } },
    );
  }
  delete state.pools[poolId];
  keepReleasedOfRemovedPool(state, pool);
  return {};
}

/** How many removed pools' released lists are kept (distinct networks made again on this host). */
export const REMOVED_POOLS_KEPT = 32;

/**
 * A removed pool's released addresses (and their MACs) outlive it: the next pool of the same
 * base id hands them out again. Without this, a network that comes and goes (swarm removes a
 * node's network with its last task and makes it again for the next) gives a reused address a
 * new MAC, and a peer that talked to the old holder sends to the old MAC from its ARP cache
 * until the entry expires (tens of seconds: unreachable meanwhile).
 */
function keepReleasedOfRemovedPool(state: CnmState, pool: PoolRecord): void {
  if (!pool.released || pool.released.length === 0) return;
  const key = poolIdFor(pool.addressSpace, pool.subnet, pool.subPool, pool.hint);
  const { [key]: _older, ...rest } = state.releasedOfRemovedPools ?? {};
  // newest last; the oldest beyond the limit go
  const kept = Object.entries({ ...rest, [key]: pool.released }).slice(-REMOVED_POOLS_KEPT);
  state.releasedOfRemovedPools = Object.fromEntries(kept);
}

function takeReleasedOfRemovedPool(state: CnmState, baseId: string): PoolRecord['released'] {
  const kept = state.releasedOfRemovedPools;
  const released = kept ? entry(kept, baseId) : undefined;
  if (!kept || !released) return undefined;
  delete kept[baseId];
  if (Object.keys(kept).length === 0) delete state.releasedOfRemovedPools;
  return released;
}

function knownPool(state: CnmState, poolId: string, method: string): PoolRecord {
  const pool = entry(state.pools, poolId);
  if (!pool)
    throw new NetloomError('NOT_FOUND', `${method}: PoolID: unknown pool ${shown(poolId, 256)} (request a pool first)`, {
      field: 'PoolID',
    });
  return pool;
}

export async function requestAddress(state: CnmState, backend: CnmBackend, req: RequestAddressRequest): Promise<RequestAddressResponse> {
  const pool = knownPool(state, req.PoolID, 'RequestAddress');
  const subnet = parseSubnet(pool.subnet, 'Pool');
  const preferred = req.Address === '' ? undefined : bareAddress(req.Address, 'Address');
  if (preferred !== undefined && !subnetContains(subnet, preferred)) {
    throw new NetloomError('INVALID_ARGUMENT', `RequestAddress: Address: ${preferred} is not inside the pool ${pool.subnet}`, {
      field: 'Address',
    });
  }
  if (preferred !== undefined) requireHostAddress('RequestAddress', 'Address', preferred, subnet);
  const isGateway = req.Options[REQUEST_ADDRESS_TYPE] === GATEWAY_ADDRESS_TYPE;
  // Before CreateNetwork has bound the pool, a plain request is an --aux-address; on a swarm
  // manager's pool, a task's address in swarm's records (swarm.ts)
  const holder = isGateway
    ? 'gateway'
    : pool.swarmNetworkId !== undefined
      ? 'swarm'
      : pool.dockerNetworkId === undefined
        ? 'aux'
        : 'endpoint';
  let address: string;
  if (holder === 'swarm') {
    address = swarmBookkeepingAddress(pool, subnet, preferred);
  } else if (holder === 'endpoint') {
    // on a node of a swarm network the preference is swarm's bookkeeping: netloom gives this host's address
    const wanted = poolOfSwarmNetwork(state, pool) ? undefined : preferred;
    if (wanted !== undefined && pool.addresses[wanted] !== undefined) {
      throw new NetloomError('IN_USE', `RequestAddress: Address: ${wanted} is already in use in ${pool.subnet}`, { field: 'Address' });
    }
    address =
      (wanted === undefined ? await reuseReleased(state, backend, pool, subnet) : undefined) ??
      (await allocateHostAddress(state, backend, pool, subnet, wanted));
    if (pool.addresses[address] !== undefined) {
      throw new NetloomError(
        'CONFLICT',
        `RequestAddress: the backend returned ${address}, which this pool already holds for a ${pool.addresses[address]}`,
      );
    }
  } else {
    address = preferred ?? (holder === 'gateway' ? (pool.backendGateway ?? firstHost(subnet)) : '');
    if (address === '')
      throw new NetloomError('INVALID_ARGUMENT', 'RequestAddress: Address: an auxiliary address must be given', { field: 'Address' });
    const current = pool.addresses[address];
    if (current !== undefined && current !== holder) {
      throw new NetloomError('IN_USE', `RequestAddress: Address: ${address} is already in use in ${pool.subnet} (${current})`, {
        field: 'Address',
      });
    }
  }
  pool.addresses[address] = holder;
  return { Address: withPrefix(address, subnet), Data: {} };
}

/** How many released endpoint addresses a pool remembers for reuse. */
export const RELEASED_KEPT = 16;

/**
 * The pool's most recently released endpoint address, when the backend still has it free, with
 * the MAC its endpoint had; else undefined (and it is forgotten). Docker gives a container's
 * address back when it stops and asks for one, with no preference and nothing naming the
 * container, when it starts again (`docker restart`, a restart of dockerd without live restore):
 * asking for the newest released one first gives the container its own address back, unless
 * something else took it meanwhile, and its MAC (peers' ARP entries stay right). `--ip` is the
 * guarantee for the address.
 */
async function reuseReleased(state: CnmState, backend: CnmBackend, pool: PoolRecord, subnet: Ipv4Subnet): Promise<string | undefined> {
  const released = pool.released ?? [];
  while (released.length > 0) {
    const candidate = released.pop();
    if (!candidate || pool.addresses[candidate.address] !== undefined) continue;
    try {
      return await allocateHostAddress(state, backend, pool, subnet, candidate.address, candidate.mac);
    } catch {
      // taken elsewhere (another host, CNI, netctl) or refused: allocate as usual
      return undefined;
    }
  }
  return undefined;
}

/** Remember `address` (and its endpoint's MAC, when known) as the pool's most recently released one. */
export function noteReleased(pool: PoolRecord, address: string, mac?: string): void {
  const rest = (pool.released ?? []).filter((r) => r.address !== address);
  const known = mac ?? pool.released?.find((r) => r.address === address)?.mac;
  pool.released = [...rest, { address, ...(known !== undefined ? { mac: known } : {}) }].slice(-RELEASED_KEPT);
}

/** Tries of the backend before giving up on getting a host address from it. */
const HOST_ADDRESS_TRIES = 3;

/**
 * An endpoint address from the backend that a host may use: a network or broadcast address the
 * backend hands out is held while asking again (so that it is skipped), then given back.
 */
async function allocateHostAddress(
  state: CnmState,
  backend: CnmBackend,
  pool: PoolRecord,
  subnet: Ipv4Subnet,
  preferred: string | undefined,
  mac?: string,
): Promise<string> {
  const scope = poolScope(state, pool);
  const skipped: string[] = [];
  try {
    for (let i = 0; i < HOST_ADDRESS_TRIES; i++) {
      const got = await backend.allocateAddress({
        pool: scope,
        ...(preferred !== undefined ? { preferred } : {}),
        ...(pool.subPool !== '' ? { range: pool.subPool } : {}),
        ...(mac !== undefined ? { mac } : {}),
      });
      const address = bareAddress(got, 'Address');
      if (!subnetContains(subnet, address)) {
        skipped.push(address);
        throw new NetloomError('INTERNAL', `RequestAddress: the backend returned ${address}, outside the pool ${pool.subnet}`);
      }
      if (hostAddressProblem(subnet, address) === '') return address;
      skipped.push(address);
      if (preferred !== undefined) break;
    }
  } finally {
    for (const a of skipped) await backend.releaseAddress(scope, a);
  }
  throw new NetloomError(
    'EXHAUSTED',
    `RequestAddress: the backend gave only non-host addresses (${listed(skipped)}) in the pool ${pool.subnet}; they were given back`,
    { field: 'PoolID' },
  );
}

/** Give an address back; unknown pools and addresses are not an error (Docker repeats releases). */
export async function releaseAddress(state: CnmState, backend: CnmBackend, req: ReleaseAddressRequest): Promise<Record<string, never>> {
  const pool = entry(state.pools, req.PoolID);
  if (!pool) return {};
  const address = bareAddress(req.Address, 'Address');
  const holder = pool.addresses[address];
  if (holder === undefined) return {};
  if (holder === 'endpoint') {
    // Docker deletes an endpoint before it releases its address: an endpoint holding it now got it
    // again after the plugin released a stale one (stale-endpoints.ts), and this call is late
    const held = Object.values(state.endpoints).some(
      (ep) => ep.dockerNetworkId === pool.dockerNetworkId && bareAddress(ep.address, 'address') === address,
    );
    if (held) return {};
    await backend.releaseAddress(poolScope(state, pool), address);
    noteReleased(pool, address);
  } else if (holder !== 'swarm' && pool.refs > 1) {
    // A pool shared by several requests (same subnet and options) keeps its gateway and aux
    // addresses until the last reference goes: Docker releases them once per network.
    return {};
  }
  delete pool.addresses[address];
  return {};
}
