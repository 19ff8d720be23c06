/**
 * One simulated agent of the netmaster benchmark's registrations phase: a real NetmasterClient
 * (Register, heartbeats and the desired-state stream, as netplugin runs it) plus the agent's own
 * pure block allocator (netplugin/ipam/local-allocator.ts). It hands out addresses from its
 * blocks the way netplugin does (lowest free first), claims one more block when they are full,
 * and mints each endpoint's id and MAC as netplugin does, so that what it sends with SyncEndpoints
 * is what a real agent sends. No data plane, no durable store: only netmaster's side is measured.
 */
import { waitFor } from '../../lib/clock';
import { endpointId } from '../../lib/endpoint-id';
import { isNetloomError } from '../../lib/errors';
import { randomMac } from '../../lib/mac';
import { reservedInBlock } from '../../netplugin/ipam/block';
import { LocalAllocator } from '../../netplugin/ipam/local-allocator';
import type { Registration } from '../../netplugin/ipam/registration';
import { NetmasterClient } from '../../netplugin/netmaster-client/client';

export interface BenchNetwork {
  tenant: string;
  /** the network's name within the tenant */
  network: string;
  subnet: string;
  gateway: string;
}

export class BlockAgent {
  readonly client: NetmasterClient;
  private readonly allocator = new LocalAllocator();
  /** allocations (and the claims they need) one at a time, as the agent's ADDs share one allocator */
  private chain: Promise<unknown> = Promise.resolve();
  private claimSeq = 0;
  /** ClaimBlock calls made */
  claims = 0;

  constructor(
    readonly host: string,
    grpcAddress: string,
    vtepIp: string,
  ) {
    this.client = new NetmasterClient({
      address: grpcAddress,
      host,
      vtepIp,
      capabilities: ['vxlan', 'vlan', 'cni'],
      agentVersion: 'netloom-bench',
    });
  }

  /** Register (and keep the lease, follow the desired state) until stop(). */
  async start(timeoutMs = 15_000): Promise<void> {
    this.client.start();
    await waitFor(`agent ${this.host} registered`, () => this.client.lease.id !== '', { timeoutMs, intervalMs: 20 });
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  /** The registrations of the endpoints with these idempotency keys, addresses from this host's blocks. */
  allocate(net: BenchNetwork, keys: readonly string[]): Promise<Registration[]> {
    const next = this.chain.then(() => this.allocateNow(net, keys));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async allocateNow(net: BenchNetwork, keys: readonly string[]): Promise<Registration[]> {
    const netKey = `${net.tenant}:${net.network}`;
    const out: Registration[] = [];
    for (const key of keys) {
      const id = endpointId(netKey, key);
      out.push({
        id,
        idempotencyKey: key,
        tenant: net.tenant,
        network: net.network,
        group: '',
        containerId: key,
        containerName: '',
        intfName: 'eth0',
        ip: (await this.allocateOne(net, netKey, id)).address,
        mac: randomMac(),
        labels: {},
      });
    }
    return out;
  }

  private async allocateOne(net: BenchNetwork, netKey: string, id: string): Promise<{ address: string }> {
    try {
      return this.allocator.allocate(id, netKey);
    } catch (e) {
      if (!isNetloomError(e, 'EXHAUSTED')) throw e;
    }
    // the blocks are full: one more (netplugin claims ahead below a low-water mark; here on demand)
    const block = await this.client.claimBlock(netKey, `${this.host}-${netKey}-${this.claimSeq++}`);
    this.claims++;
    this.allocator.addBlock({ cidr: block.cidr, networkKey: netKey, reserved: reservedInBlock(block.cidr, net.subnet, net.gateway) });
    return this.allocator.allocate(id, netKey);
  }
}
