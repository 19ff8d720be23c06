/**
 * The interface between the CNM protocol server and the per-host agent that does the real work
 * (netloom IPAM through netmaster, veth pairs, OVS ports). The server validates Docker's calls,
 * keeps and persists the Docker-id -> netloom mapping and calls these methods; the agent
 * implements them. Every method must be idempotent: the server may repeat a call after a restart
 * (of itself, the agent or dockerd) with the same arguments, and must get the same result.
 * Throw NetloomError (code + field) to make Docker show a clear error.
 */
import type { PublishedPort } from '../state/published-port';
import type { NetworkBinding } from './options';

/** The netloom side of an IPAM pool. `network` is absent when the pool is only known by subnet. */
export interface PoolScope {
  tenant: string;
  network?: string;
  /** IPv4 CIDR of the pool (the netloom network's subnet) */
  subnet: string;
}

export interface ResolvePoolRequest {
  tenant: string;
  network?: string;
  /** the subnet the user asked for (`--subnet`); absent: the backend picks the network's subnet */
  subnet?: string;
}
export interface ResolvePoolResult {
  /** IPv4 CIDR */
  subnet: string;
  /** the netloom network's gateway, when it has one */
  gateway?: string;
}

export interface AllocateAddressRequest {
  pool: PoolScope;
  /** a specific address (`docker run --ip`), bare */
  preferred?: string;
  /** restrict to this CIDR inside the pool (`--ip-range`) */
  range?: string;
  /** the MAC the endpoint should get (a restarted container's own, with its address) */
  mac?: string;
}

export interface CreateNetworkRequest {
  dockerNetworkId: string;
  binding: NetworkBinding;
  /** IPv4 CIDR, when Docker supplied IPv4Data */
  subnet?: string;
  /** bare address the IPAM side holds as the gateway */
  gateway?: string;
  /** auxiliary addresses (`--aux-address`), bare */
  auxAddresses: Record<string, string>;
  /**
   * The address space of Docker's IPv4 pool when another IPAM driver than netloom's serves the
   * network (Docker's default IPAM: `docker network create -d netloom` without --ipam-driver);
   * absent when netloom's IPAM serves it or there is no pool.
   */
  foreignIpamSpace?: string;
}

export interface EndpointRef {
  dockerNetworkId: string;
  endpointId: string;
  binding: NetworkBinding;
}

export interface CreateEndpointRequest extends EndpointRef {
  /** address with prefix (10.55.0.2/24) that Docker's IPAM gave, when it gave one */
  address?: string;
  /** MAC address Docker asked for, when it asked for one */
  macAddress?: string;
}
export interface CreateEndpointResult {
  /** address with prefix; only used when Docker gave none */
  address?: string;
  macAddress: string;
}

export interface JoinRequest extends EndpointRef {
  sandboxKey: string;
  /** address with prefix */
  address: string;
  macAddress: string;
}
export interface JoinResult {
  /** the container-side interface, in dockerd's network namespace, that Docker moves into the sandbox */
  srcName: string;
  /** bare gateway address for the container's default route; absent: no default route from us */
  gateway?: string;
  /** extra routes for the container */
  staticRoutes?: Array<{ destination: string; nextHop?: string }>;
  /** the MTU the interface was created with (informational) */
  mtu?: number;
  /** the host-side interface (informational; shown by EndpointOperInfo) */
  hostIfName?: string;
}

export interface CnmBackend {
  /** Which subnet (and gateway) a pool for this tenant/network/subnet has; throw when it does not fit. */
  resolvePool(req: ResolvePoolRequest): Promise<ResolvePoolResult>;
  /** Reserve one address in the pool; returns it bare. */
  allocateAddress(req: AllocateAddressRequest): Promise<string>;
  /** Give an address back; unknown addresses are not an error. */
  releaseAddress(pool: PoolScope, address: string): Promise<void>;
  /** Bind a Docker network to a netloom network (which the agent may create or look up). */
  createNetwork(req: CreateNetworkRequest): Promise<void>;
  deleteNetwork(dockerNetworkId: string, binding: NetworkBinding): Promise<void>;
  createEndpoint(req: CreateEndpointRequest): Promise<CreateEndpointResult>;
  /** Create the veth pair, plug the host side into the fabric, return the container side. */
  join(req: JoinRequest): Promise<JoinResult>;
  leave(ref: EndpointRef): Promise<void>;
  deleteEndpoint(ref: EndpointRef): Promise<void>;
  /**
   * Publish exactly these ports for a joined endpoint (Docker's `-p`), replacing what it published
   * before; throw CONFLICT when another endpoint of the host has one of the host ports.
   */
  programExternalConnectivity(ref: EndpointRef, ports: PublishedPort[]): Promise<void>;
  /** Publish nothing for the endpoint any more (unknown endpoints are not an error). */
  revokeExternalConnectivity(ref: EndpointRef): Promise<void>;
  /** Of these host ends (JoinResult.hostIfName), the ones that exist now (stale-endpoints.ts). */
  existingHostEnds(hostIfNames: readonly string[]): Promise<Set<string>>;
}

/**
 * Interface names for an endpoint: both start with `prefix` and carry the first hex digits of the
 * endpoint id, so that they are unique per endpoint and fit Linux's 15-character limit.
 */
export function endpointLinkNames(endpointId: string, prefix = 'nlc'): { host: string; container: string } {
  const tag = endpointId.replace(/[^0-9a-zA-Z]/g, '').slice(0, 15 - prefix.length - 1);
  return { host: `${prefix}${tag}h`, container: `${prefix}${tag}c` };
}
