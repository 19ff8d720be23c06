/**
 * An in-memory CnmBackend for unit tests: allocates addresses sequentially per tenant+subnet,
 * records every call, and can be told to fail an operation once.
 */
import { NetloomError } from '../../../lib/errors';
import type {
  AllocateAddressRequest,
  CnmBackend,
  CreateEndpointRequest,
  CreateEndpointResult,
  CreateNetworkRequest,
  EndpointRef,
  JoinRequest,
  JoinResult,
  PoolScope,
  ResolvePoolRequest,
  ResolvePoolResult,
} from '../../../netplugin/cnm/backend';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import ipaddr from 'ipaddr.js';
import { bareAddress, macForAddress, parseSubnet } from '../../../netplugin/cnm/addresses';
import type { NetworkBinding } from '../../../netplugin/cnm/options';
import type { PublishedPort } from '../../../netplugin/state/published-port';

export class FakeBackend implements CnmBackend {
  readonly calls: Array<{ op: string; arg: unknown }> = [];
  readonly used = new Map<string, Set<string>>();
  /** subnet (and gateway) of netloom networks, by tenant/network, for resolvePool */
  readonly networks = new Map<string, ResolvePoolResult>();
  failNext: { op: string; error: Error } | undefined;
  joinGateway: string | undefined;
  joinRoutes: Array<{ destination: string; nextHop?: string }> | undefined;
  /** offer the subnet's network and broadcast addresses first, as a faulty IPAM would (the plugin must skip them) */
  offerNonHost = false;

  private record(op: string, arg: unknown): void {
    this.calls.push({ op, arg });
    if (this.failNext?.op === op) {
      const e = this.failNext.error;
      this.failNext = undefined;
      throw e;
    }
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  async resolvePool(req: ResolvePoolRequest): Promise<ResolvePoolResult> {
    this.record('resolvePool', req);
    const known = req.network !== undefined ? this.networks.get(`${req.tenant}/${req.network}`) : undefined;
    if (known) return known;
    if (req.subnet) return { subnet: req.subnet };
    throw new NetloomError('NOT_FOUND', `no netloom network ${req.tenant}/${req.network ?? '?'}`, { field: 'Options.network' });
  }

  async allocateAddress(req: AllocateAddressRequest): Promise<string> {
    this.record('allocateAddress', req);
    const key = `${req.pool.tenant}|${req.pool.subnet}`;
    const used = this.used.get(key) ?? new Set<string>();
    this.used.set(key, used);
    if (req.preferred) {
      used.add(req.preferred);
      return req.preferred;
    }
    const subnet = parseSubnet(req.pool.subnet, 'subnet');
    const size = 2 ** (32 - subnet.prefix);
    const base = ipaddr.IPv4.parse(subnet.network)
      .toByteArray()
      .reduce((n, b) => n * 256 + b, 0);
    // .0 is the network address and .1 the gateway: endpoints from .2 on (at most 1024 tried)
    const offsets = [
      ...(this.offerNonHost ? [0, size - 1] : []),
      ...Array.from({ length: Math.max(0, Math.min(size - 3, 1024)) }, (_, i) => i + 2),
    ];
    for (const off of offsets) {
      const n = base + off;
      const a = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
    throw new NetloomError('EXHAUSTED', 'pool full');
  }

  async releaseAddress(pool: PoolScope, address: string): Promise<void> {
    this.record('releaseAddress', { pool, address });
    this.used.get(`${pool.tenant}|${pool.subnet}`)?.delete(address);
  }

  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    this.record('createNetwork', req);
  }

  async deleteNetwork(dockerNetworkId: string, binding: NetworkBinding): Promise<void> {
    this.record('deleteNetwork', { dockerNetworkId, binding });
  }

  async createEndpoint(req: CreateEndpointRequest): Promise<CreateEndpointResult> {
    this.record('createEndpoint', req);
    const address = req.address ?? '10.99.0.9/24';
    return { address, macAddress: macForAddress(bareAddress(address, 'address')) };
  }

  async join(req: JoinRequest): Promise<JoinResult> {
    this.record('join', req);
    const names = endpointLinkNames(req.endpointId);
    return {
      srcName: names.container,
      hostIfName: names.host,
      mtu: 1450,
      ...(this.joinGateway ? { gateway: this.joinGateway } : {}),
      ...(this.joinRoutes ? { staticRoutes: this.joinRoutes } : {}),
    };
  }

  async leave(ref: EndpointRef): Promise<void> {
    this.record('leave', ref);
  }

  async deleteEndpoint(ref: EndpointRef): Promise<void> {
    this.record('deleteEndpoint', ref);
  }

  /** host ends that are gone (their container's namespace went) */
  readonly goneHostEnds = new Set<string>();

  async existingHostEnds(hostIfNames: readonly string[]): Promise<Set<string>> {
    return new Set(hostIfNames.filter((n) => !this.goneHostEnds.has(n)));
  }

  async programExternalConnectivity(ref: EndpointRef, ports: PublishedPort[]): Promise<void> {
    this.record('programExternalConnectivity', { ...ref, ports });
  }

  async revokeExternalConnectivity(ref: EndpointRef): Promise<void> {
    this.record('revokeExternalConnectivity', ref);
  }
}
