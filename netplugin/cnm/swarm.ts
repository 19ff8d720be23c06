/**
 * Swarm's network allocation (a driver of Scope `global`, the managed plugin's socket). A swarm
 * network is created once, on a manager: swarmkit's allocator asks the network's IPAM driver there
 * for a pool (RequestPool, RequestAddress for the gateway), then this driver's AllocateNetwork with
 * the `-o` options; later, per task, RequestAddress on the same pool. The options AllocateNetwork
 * returns are all a node's CreateNetwork sees of the network (swarmkit stores them as the network's
 * driver state), so they carry the binding and a marker.
 *
 * Addresses: netloom's IPAM is per host (address blocks), and a task's address must be netloom's
 * on the host that runs it, which the manager does not know when it allocates. So the manager's
 * pool keeps swarm's task addresses as bookkeeping only (holder `swarm`, never a netloom endpoint);
 * on the node, where RequestAddress names swarm's address as the preferred one, netloom's IPAM
 * gives the container an address of that host's (the preference is not kept: swarm's record of the
 * task's address differs from the container's). Pure state changes plus backend look-ups.
 */
import { NetloomError } from '../../lib/errors';
import type { CnmBackend } from './backend';
import { bareAddress, hostAddressProblem, Ipv4Subnet, parseSubnet } from './addresses';
import { bindingFromDriverOptions, hintAgrees, SWARM_MARKER_OPTION, type NetworkBinding } from './options';
import { GENERIC_OPTIONS_KEY, type AllocateNetworkRequest } from './protocol';
import { entry, type CnmState, type PoolRecord } from './state';

/** The driver-state option that tells a node's CreateNetwork the network is swarm's. */
export { SWARM_MARKER_OPTION };

/** The binding of a swarm network: `-o tenant=T -o network=N` are required (a default would name nothing the user chose). */
export function swarmBinding(networkId: string, options: Record<string, string>): NetworkBinding {
  for (const key of ['tenant', 'network'] as const) {
    if (options[key] === undefined) {
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `AllocateNetwork: Options.${key}: a swarm network needs -o ${key}=${key.toUpperCase()} (the netloom ${key} it is bound to); nothing was allocated`,
        { field: `Options.${key}` },
      );
    }
  }
  const { [SWARM_MARKER_OPTION]: _marker, ...user } = options;
  return bindingFromDriverOptions(networkId, { [GENERIC_OPTIONS_KEY]: user });
}

/** The manager's pool of a swarm network: one of ours for `subnet`, not yet bound, agreeing with the binding. */
function managerPool(state: CnmState, subnet: string, gateway: string | undefined, binding: NetworkBinding): PoolRecord | undefined {
  const free = Object.values(state.pools).filter(
    (p) => p.subnet === subnet && p.dockerNetworkId === undefined && p.swarmNetworkId === undefined && hintAgrees(p.hint, binding),
  );
  return free.find((p) => gateway !== undefined && p.addresses[gateway] === 'gateway') ?? free[0];
}

export async function allocateNetwork(
  state: CnmState,
  backend: CnmBackend,
  req: AllocateNetworkRequest,
): Promise<{ Options: Record<string, string> }> {
  const binding = swarmBinding(req.NetworkID, req.Options);
  const reply: Record<string, string> = {
    tenant: binding.tenant,
    network: binding.network,
    ...(binding.group !== undefined ? { group: binding.group } : {}),
    [SWARM_MARKER_OPTION]: 'true',
  };
  if (Object.values(state.pools).some((p) => p.swarmNetworkId === req.NetworkID)) return { Options: reply };
  if (req.IPv6Data.length > 0) {
    throw new NetloomError('INVALID_ARGUMENT', 'AllocateNetwork: IPv6Data: IPv6 is not supported by netloom yet', { field: 'IPv6Data' });
  }
  const v4 = req.IPv4Data[0];
  if (!v4 || req.IPv4Data.length > 1) {
    throw new NetloomError('INVALID_ARGUMENT', 'AllocateNetwork: IPv4Data: a swarm network on netloom has exactly one IPv4 pool', {
      field: 'IPv4Data',
    });
  }
  const subnet = parseSubnet(v4.Pool, 'IPv4Data.0.Pool');
  const resolved = await backend.resolvePool({ tenant: binding.tenant, network: binding.network });
  if (resolved.subnet !== subnet.cidr) {
    throw new NetloomError(
      'CONFLICT',
      `AllocateNetwork: IPv4Data.0.Pool: swarm allocated ${subnet.cidr}, but netloom network ${binding.tenant}/${binding.network} ` +
        `has ${resolved.subnet}: create the network with --ipam-driver set to this plugin (and --ipam-opt tenant=, network=)`,
      { field: 'IPv4Data.0.Pool' },
    );
  }
  const gateway = v4.Gateway !== '' ? bareAddress(v4.Gateway, 'IPv4Data.0.Gateway') : undefined;
  const pool = managerPool(state, subnet.cidr, gateway, binding);
  if (!pool) {
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `AllocateNetwork: IPv4Data.0.Pool: ${subnet.cidr} was not given by netloom's IPAM: create the swarm network with ` +
        "--ipam-driver set to this plugin (--ipam-opt tenant=, network=): task addresses must be netloom's",
      { field: 'IPv4Data.0.Pool' },
    );
  }
  pool.swarmNetworkId = req.NetworkID;
  return { Options: reply };
}

/** The swarm network is gone (its pool is released right after, by ReleaseAddress/ReleasePool). */
export function freeNetwork(state: CnmState, networkId: string): Record<string, never> {
  for (const pool of Object.values(state.pools)) if (pool.swarmNetworkId === networkId) delete pool.swarmNetworkId;
  return {};
}

/** Whether a node's CreateNetwork options say the network is swarm's. */
export function isSwarmNetworkOptions(generic: Record<string, unknown>): boolean {
  return generic[SWARM_MARKER_OPTION] === 'true';
}

/**
 * A task's address in swarm's own records (the manager's pool): `preferred` when it is a free host
 * address (swarm replays its allocations after a leader change), else the lowest free one.
 */
export function swarmBookkeepingAddress(pool: PoolRecord, subnet: Ipv4Subnet, preferred: string | undefined): string {
  if (preferred !== undefined) {
    if (pool.addresses[preferred] !== undefined) {
      throw new NetloomError('IN_USE', `RequestAddress: Address: ${preferred} is already in use in ${pool.subnet}`, { field: 'Address' });
    }
    return preferred;
  }
  const size = 2 ** (32 - subnet.prefix);
  const base = ipToNumber(subnet.network);
  for (let i = 1; i < size - 1; i++) {
    const candidate = numberToIp(base + i);
    if (pool.addresses[candidate] === undefined && hostAddressProblem(subnet, candidate) === '') return candidate;
  }
  throw new NetloomError('EXHAUSTED', `RequestAddress: PoolID: no free address left in ${pool.subnet} for swarm's tasks`, {
    field: 'PoolID',
  });
}

/** The pool's network record says swarm made it on this node. */
export function poolOfSwarmNetwork(state: CnmState, pool: PoolRecord): boolean {
  const net = pool.dockerNetworkId !== undefined ? entry(state.networks, pool.dockerNetworkId) : undefined;
  return net?.swarm === true;
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}
