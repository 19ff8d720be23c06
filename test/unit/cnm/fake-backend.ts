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
import { bareAddress, macForAddress } from '../../../netplugin/cnm/addresses';
import type { NetworkBinding } from '../../../netplugin/cnm/options';

export class FakeBackend implements CnmBackend {
  readonly calls: Array<{ op: string; arg: unknown }> = [];
  readonly used = new Map<string, Set<string>>();
  /** subnet (and gateway) of netloom networks, by tenant/network, for resolvePool */
  readonly networks = new Map<string, ResolvePoolResult>();
  failNext: { op: string; error: Error } | undefined;
  joinGateway: string | undefined;
  joinRoutes: Array<{ destination: string; nextHop?: string }> | undefined;

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
    const base = req.pool.subnet.split('/')[0]!.split('.').map(Number);
    for (let i = 2; i < 255; i++) {
      const a = `${base[0]}.${base[1]}.${base[2]}.${i}`;
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
}
