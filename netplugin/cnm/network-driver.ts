/**
 * The NetworkDriver half of the CNM plugin: Docker networks and endpoints onto netloom through the
 * injected backend. Each handler checks the request against the recorded state, calls the backend,
 * and then records the result, so that a repeated call (Docker retrying, or after a restart of
 * the plugin or dockerd) returns the same answer without redoing work, and a contradicting call
 * gets a clear error.
 */
import { NetloomError } from '../../lib/errors';
import type { CnmBackend, EndpointRef } from './backend';
import { bareAddress, hostAddressProblem, Ipv4Subnet, isMacAddress, parseSubnet, requireHostAddress } from './addresses';
import { listed, shown } from './limits';
import { noteReleased } from './ipam-driver';
import { parsePortMap } from './port-map';
import { bindingFromDriverOptions, genericOptions, hintAgrees, NetworkBinding } from './options';
import { isSwarmNetworkOptions } from './swarm';
import type {
  CreateEndpointRequest,
  CreateEndpointResponse,
  CreateNetworkRequest,
  EndpointOperInfoResponse,
  EndpointRequest,
  ExternalConnectivityRequest,
  JoinRequest,
  JoinResponse,
  NetworkCapabilitiesResponse,
  StaticRoute,
} from './protocol';
import { DEFAULT_ADDRESS_SPACE } from './protocol';
import { entry, type CnmState, type EndpointRecord, type NetworkRecord, type PoolRecord } from './state';

export interface NetworkDriverConfig {
  /**
   * Scope reported to Docker. dockerd 20.10 without swarm refuses to create networks of a
   * `global` driver ("This node is not a swarm manager"), so `local` is the default; netloom's
   * connectivity is multi-host either way (ConnectivityScope global).
   */
  scope: 'local' | 'global';
  /** prefix Docker gives the interface inside the container (it appends a number): eth -> eth0 */
  dstPrefix: string;
}

export const DEFAULT_NETWORK_DRIVER_CONFIG: NetworkDriverConfig = { scope: 'local', dstPrefix: 'eth' };

export function networkCapabilities(config: NetworkDriverConfig): NetworkCapabilitiesResponse {
  return { Scope: config.scope, ConnectivityScope: 'global' };
}

function sameBinding(a: NetworkBinding, b: NetworkBinding): boolean {
  return a.tenant === b.tenant && a.network === b.network && a.group === b.group;
}

/** The IPAM pool (ours) that serves this network's subnet, if the netloom IPAM driver serves it. */
function poolForNetwork(state: CnmState, dockerNetworkId: string, addressSpace: string, subnet: string): PoolRecord | undefined {
  // pools of older state files may carry '' for the default space
  const space = (s: string): string => s || DEFAULT_ADDRESS_SPACE;
  // a swarm manager's pool (swarm.ts) holds swarm's bookkeeping, never a node's network
  const candidates = Object.values(state.pools).filter(
    (p) => p.subnet === subnet && space(p.addressSpace) === space(addressSpace) && p.swarmNetworkId === undefined,
  );
  return (
    candidates.find((p) => p.dockerNetworkId === dockerNetworkId) ??
    candidates.find((p) => p.dockerNetworkId === undefined) ??
    candidates[0]
  );
}

export async function createNetwork(state: CnmState, backend: CnmBackend, req: CreateNetworkRequest): Promise<Record<string, never>> {
  if (req.IPv6Data.length > 0) {
    throw new NetloomError('INVALID_ARGUMENT', 'CreateNetwork: IPv6Data: IPv6 is not supported by netloom yet', { field: 'IPv6Data' });
  }
  if (req.IPv4Data.length > 1) {
    throw new NetloomError('INVALID_ARGUMENT', 'CreateNetwork: IPv4Data: netloom networks have one IPv4 subnet; give one --subnet', {
      field: 'IPv4Data',
    });
  }
  const v4 = req.IPv4Data[0];
  const parsed = v4 ? parseSubnet(v4.Pool, 'IPv4Data.0.Pool') : undefined;
  const subnet = parsed?.cidr;
  const pool = v4 && subnet ? poolForNetwork(state, req.NetworkID, v4.AddressSpace, subnet) : undefined;
  if (pool?.dockerNetworkId !== undefined && pool.dockerNetworkId !== req.NetworkID) {
    throw new NetloomError(
      'CONFLICT',
      `CreateNetwork: IPv4Data.0.Pool: the pool ${pool.subnet} already serves Docker network ${pool.dockerNetworkId.slice(0, 12)}`,
      {
        field: 'IPv4Data.0.Pool',
      },
    );
  }
  const binding = bindingFromDriverOptions(req.NetworkID, req.Options, pool?.hint);
  if (pool && !hintAgrees(pool.hint, binding)) {
    throw new NetloomError(
      'CONFLICT',
      `CreateNetwork: Options: driver options say tenant "${binding.tenant}" network "${binding.network}" but the IPAM options say ` +
        `tenant "${pool.hint.tenant ?? '(any)'}" network "${pool.hint.network ?? '(any)'}"`,
      { field: 'Options' },
    );
  }
  const gateway =
    v4 && parsed && v4.Gateway !== ''
      ? requireHostAddress('CreateNetwork', 'IPv4Data.0.Gateway', bareAddress(v4.Gateway, 'IPv4Data.0.Gateway'), parsed)
      : undefined;
  const record: NetworkRecord = {
    dockerNetworkId: req.NetworkID,
    binding,
    ...(subnet !== undefined ? { subnet } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    ...(pool ? { poolId: pool.poolId } : {}),
    ...(isSwarmNetworkOptions(genericOptions(req.Options)) ? { swarm: true } : {}),
  };
  const existing = entry(state.networks, req.NetworkID);
  if (existing) {
    if (sameBinding(existing.binding, binding) && existing.subnet === subnet) return {};
    throw new NetloomError(
      'CONFLICT',
      `CreateNetwork: NetworkID: network ${req.NetworkID.slice(0, 12)} exists with a different binding or subnet`,
      {
        field: 'NetworkID',
      },
    );
  }
  const auxAddresses: Record<string, string> = {};
  for (const [name, addr] of Object.entries(v4?.AuxAddresses ?? {})) {
    const field = `IPv4Data.0.AuxAddresses.${name}`;
    // parsed is set whenever v4 is
    if (parsed) auxAddresses[name] = requireHostAddress('CreateNetwork', field, bareAddress(addr, field), parsed);
  }
  const space = v4 ? v4.AddressSpace || DEFAULT_ADDRESS_SPACE : undefined;
  await backend.createNetwork({
    dockerNetworkId: req.NetworkID,
    binding,
    ...(subnet !== undefined ? { subnet } : {}),
    ...(gateway !== undefined ? { gateway } : {}),
    auxAddresses,
    ...(v4 && !pool && space !== DEFAULT_ADDRESS_SPACE ? { foreignIpamSpace: space } : {}),
  });
  state.networks[req.NetworkID] = record;
  if (pool) pool.dockerNetworkId = req.NetworkID;
  return {};
}

/**
 * Unbind a Docker network. One that still has endpoints is in use and is refused (Docker deletes
 * its endpoints first and would report "has active endpoints" itself); unknown networks are not an
 * error (Docker repeats deletes).
 */
export async function deleteNetwork(state: CnmState, backend: CnmBackend, networkId: string): Promise<Record<string, never>> {
  const net = entry(state.networks, networkId);
  if (!net) return {};
  const eps = Object.values(state.endpoints).filter((ep) => ep.dockerNetworkId === networkId);
  if (eps.length > 0) {
    const names = eps.map((ep) => `${ep.endpointId.slice(0, 12)}${ep.joined ? ' (joined)' : ''}`);
    throw new NetloomError(
      'IN_USE',
      `DeleteNetwork: NetworkID: network ${networkId.slice(0, 12)} is in use: endpoint${eps.length > 1 ? 's' : ''} ${listed(names)} ` +
        `still exist${eps.length > 1 ? '' : 's'} (disconnect the containers first)`,
      { field: 'NetworkID', details: { endpoints: eps.slice(0, 16).map((ep) => ep.endpointId) } },
    );
  }
  await backend.deleteNetwork(networkId, net.binding);
  for (const pool of Object.values(state.pools)) if (pool.dockerNetworkId === networkId) delete pool.dockerNetworkId;
  delete state.networks[networkId];
  return {};
}

function knownNetwork(state: CnmState, networkId: string, method: string): NetworkRecord {
  const net = entry(state.networks, networkId);
  if (!net) {
    throw new NetloomError(
      'NOT_FOUND',
      `${method}: NetworkID: unknown network ${networkId.slice(0, 12)} (not created through the netloom driver)`,
      {
        field: 'NetworkID',
      },
    );
  }
  return net;
}

function knownEndpoint(state: CnmState, req: EndpointRequest, method: string): EndpointRecord {
  const ep = entry(state.endpoints, req.EndpointID);
  if (!ep)
    throw new NetloomError('NOT_FOUND', `${method}: EndpointID: unknown endpoint ${req.EndpointID.slice(0, 12)}`, { field: 'EndpointID' });
  if (ep.dockerNetworkId !== req.NetworkID) {
    throw new NetloomError(
      'CONFLICT',
      `${method}: NetworkID: endpoint ${req.EndpointID.slice(0, 12)} belongs to network ${ep.dockerNetworkId.slice(0, 12)}`,
      {
        field: 'NetworkID',
      },
    );
  }
  return ep;
}

function endpointRef(net: NetworkRecord, endpointId: string): EndpointRef {
  return { dockerNetworkId: net.dockerNetworkId, endpointId, binding: net.binding };
}

export async function createEndpoint(state: CnmState, backend: CnmBackend, req: CreateEndpointRequest): Promise<CreateEndpointResponse> {
  const net = knownNetwork(state, req.NetworkID, 'CreateEndpoint');
  const existing = entry(state.endpoints, req.EndpointID);
  if (existing) {
    if (existing.dockerNetworkId !== req.NetworkID) knownEndpoint(state, req, 'CreateEndpoint');
    return Object.keys(existing.reply).length > 0 ? { Interface: { ...existing.reply } } : {};
  }
  const given = req.Interface;
  if (given.Address !== '') checkEndpointAddress(state, net, given.Address, false);
  if (given.MacAddress !== '' && !isMacAddress(given.MacAddress)) {
    throw new NetloomError('INVALID_ARGUMENT', `CreateEndpoint: Interface.MacAddress: ${shown(given.MacAddress)} is not a MAC address`, {
      field: 'Interface.MacAddress',
    });
  }
  const res = await backend.createEndpoint({
    ...endpointRef(net, req.EndpointID),
    ...(given.Address !== '' ? { address: given.Address } : {}),
    ...(given.MacAddress !== '' ? { macAddress: given.MacAddress } : {}),
  });
  const address = given.Address !== '' ? given.Address : (res.address ?? '');
  if (address === '') {
    throw new NetloomError('INVALID_ARGUMENT', 'CreateEndpoint: Interface.Address: no IPv4 address from Docker or the backend', {
      field: 'Interface.Address',
    });
  }
  if (given.Address === '') checkEndpointAddress(state, net, address, true);
  const mac = given.MacAddress !== '' ? given.MacAddress : res.macAddress;
  if (!isMacAddress(mac)) throw new NetloomError('INTERNAL', `CreateEndpoint: the backend returned "${mac}", not a MAC address`);
  // Docker refuses a reply that changes what it already set: answer only what it left empty.
  const reply: EndpointRecord['reply'] = {};
  if (given.Address === '') reply.Address = address;
  if (given.MacAddress === '') reply.MacAddress = mac;
  state.endpoints[req.EndpointID] = { endpointId: req.EndpointID, dockerNetworkId: req.NetworkID, address, macAddress: mac, reply };
  return Object.keys(reply).length > 0 ? { Interface: { ...reply } } : {};
}

/**
 * Why an endpoint address cannot be used ('' when it can): it must carry a prefix length, be a host
 * address of the network's subnet (when it has one), and be used by no other endpoint of the network.
 */
function endpointAddressProblem(
  state: CnmState,
  net: NetworkRecord,
  address: string,
): { code: 'INVALID_ARGUMENT' | 'IN_USE'; problem: string } | undefined {
  let cidr: Ipv4Subnet;
  let bare: string;
  try {
    cidr = parseSubnet(address, 'address');
    bare = bareAddress(address, 'address');
  } catch {
    return { code: 'INVALID_ARGUMENT', problem: `${shown(address)} is not an IPv4 address with a prefix length, such as 10.1.0.2/24` };
  }
  if (net.subnet !== undefined) {
    const subnet = parseSubnet(net.subnet, 'subnet');
    if (cidr.prefix !== subnet.prefix) {
      return { code: 'INVALID_ARGUMENT', problem: `${shown(address)} does not have the prefix length of ${subnet.cidr}` };
    }
    const problem = hostAddressProblem(subnet, bare);
    if (problem !== '') return { code: 'INVALID_ARGUMENT', problem };
  }
  const other = Object.values(state.endpoints).find(
    (ep) => ep.dockerNetworkId === net.dockerNetworkId && bareAddress(ep.address, 'address') === bare,
  );
  if (other) return { code: 'IN_USE', problem: `${bare} is already used by endpoint ${other.endpointId.slice(0, 12)}` };
  return undefined;
}

/** Docker's address (Interface.Address) must be usable; one from the backend too, or the backend is at fault. */
function checkEndpointAddress(state: CnmState, net: NetworkRecord, address: string, fromBackend: boolean): void {
  const bad = endpointAddressProblem(state, net, address);
  if (!bad) return;
  if (fromBackend) throw new NetloomError('INTERNAL', `CreateEndpoint: the backend returned an unusable address: ${bad.problem}`);
  throw new NetloomError(bad.code, `CreateEndpoint: Interface.Address: ${bad.problem}`, { field: 'Interface.Address' });
}

export async function deleteEndpoint(state: CnmState, backend: CnmBackend, req: EndpointRequest): Promise<Record<string, never>> {
  const net = entry(state.networks, req.NetworkID);
  const ep = entry(state.endpoints, req.EndpointID);
  if (!net) {
    if (ep) delete state.endpoints[req.EndpointID];
    return {};
  }
  // The backend is asked even for endpoints we do not know, so that leftovers are cleaned up.
  await backend.deleteEndpoint(endpointRef(net, req.EndpointID));
  // its MAC goes with its address when that comes back to our pool (Docker's ReleaseAddress
  // follows), unless Docker gave the MAC (--mac-address: the user's, not for another container)
  const pool = net.poolId !== undefined ? entry(state.pools, net.poolId) : undefined;
  if (ep && pool) noteReleased(pool, bareAddress(ep.address, 'address'), ep.reply.MacAddress);
  delete state.endpoints[req.EndpointID];
  return {};
}

export function endpointOperInfo(state: CnmState, req: EndpointRequest): EndpointOperInfoResponse {
  const ep = knownEndpoint(state, req, 'EndpointOperInfo');
  const net = knownNetwork(state, req.NetworkID, 'EndpointOperInfo');
  const value: Record<string, unknown> = {
    tenant: net.binding.tenant,
    network: net.binding.network,
    address: ep.address,
    macAddress: ep.macAddress,
  };
  if (net.binding.group !== undefined) value.group = net.binding.group;
  if (ep.joined?.hostIfName !== undefined) value.hostInterface = ep.joined.hostIfName;
  return { Value: value };
}

function joinResponse(joined: NonNullable<EndpointRecord['joined']>, config: NetworkDriverConfig): JoinResponse {
  const resp: JoinResponse = { InterfaceName: { SrcName: joined.srcName, DstPrefix: config.dstPrefix }, DisableGatewayService: true };
  if (joined.gateway !== undefined) resp.Gateway = joined.gateway;
  if (joined.staticRoutes && joined.staticRoutes.length > 0) {
    resp.StaticRoutes = joined.staticRoutes.map(
      (r): StaticRoute =>
        r.nextHop !== undefined
          ? { Destination: r.destination, RouteType: 0, NextHop: r.nextHop }
          : { Destination: r.destination, RouteType: 1 },
    );
  }
  return resp;
}

export async function join(state: CnmState, backend: CnmBackend, config: NetworkDriverConfig, req: JoinRequest): Promise<JoinResponse> {
  const ep = knownEndpoint(state, req, 'Join');
  const net = knownNetwork(state, req.NetworkID, 'Join');
  const res = await backend.join({
    ...endpointRef(net, req.EndpointID),
    sandboxKey: req.SandboxKey,
    address: ep.address,
    macAddress: ep.macAddress,
  });
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(res.srcName))
    throw new NetloomError('INTERNAL', `Join: the backend returned "${res.srcName}", not an interface name`);
  const joined: NonNullable<EndpointRecord['joined']> = { sandboxKey: req.SandboxKey, srcName: res.srcName };
  if (res.hostIfName !== undefined) joined.hostIfName = res.hostIfName;
  if (res.gateway !== undefined) joined.gateway = bareAddress(res.gateway, 'gateway');
  if (res.mtu !== undefined) joined.mtu = res.mtu;
  if (res.staticRoutes !== undefined) joined.staticRoutes = res.staticRoutes;
  ep.joined = joined;
  return joinResponse(joined, config);
}

export async function leave(state: CnmState, backend: CnmBackend, req: EndpointRequest): Promise<Record<string, never>> {
  const ep = entry(state.endpoints, req.EndpointID);
  const net = entry(state.networks, req.NetworkID);
  if (!ep || !net) return {};
  await backend.leave(endpointRef(net, req.EndpointID));
  delete ep.joined;
  return {};
}

/**
 * Docker publishes a joined endpoint's ports (`-p`): parse the port map of the sandbox's labels,
 * have the backend publish them, record them (a repeated call replaces them).
 */
export async function programExternalConnectivity(
  state: CnmState,
  backend: CnmBackend,
  req: ExternalConnectivityRequest,
): Promise<Record<string, never>> {
  const method = 'ProgramExternalConnectivity';
  const ep = knownEndpoint(state, req, method);
  const net = knownNetwork(state, req.NetworkID, method);
  const ports = parsePortMap(method, req);
  await backend.programExternalConnectivity(endpointRef(net, req.EndpointID), ports);
  if (ports.length > 0) ep.ports = ports;
  else delete ep.ports;
  return {};
}

/** Docker stops publishing an endpoint's ports (container stop, or another endpoint takes over the gateway). */
export async function revokeExternalConnectivity(
  state: CnmState,
  backend: CnmBackend,
  req: EndpointRequest,
): Promise<Record<string, never>> {
  const ep = entry(state.endpoints, req.EndpointID);
  const net = entry(state.networks, req.NetworkID);
  if (!net) return {};
  await backend.revokeExternalConnectivity(endpointRef(net, req.EndpointID));
  if (ep) delete ep.ports;
  return {};
}
