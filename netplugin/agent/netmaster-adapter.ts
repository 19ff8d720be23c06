/**
 * The real control plane behind the agent's two small interfaces: netmaster's gRPC agent service
 * through `NetmasterClient` (netplugin/netmaster-client/). The client's HostState updates are
 * checked with `parseHostState` and handed on; `create` calls CreateEndpoint and completes the
 * answer (prefix length, gateway) from the endpoint's network in the desired state, waiting
 * briefly for the stream to deliver it when the network is new to this host. `lookupNetwork`
 * asks netmaster (LookupNetwork) and checks the answer like a network of the desired state.
 * `realized` acknowledges to netmaster the revision of the state the agent realized (the client
 * runs with manualAck), and progress marks after it once the newest state is realized;
 * `ruleCounters` hands the policy rules' counters to the client, whose heartbeats carry them.
 */
import { systemClock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { NetmasterClient } from '../netmaster-client/client';
import type { RuleCounter } from '../reconcile/rule-counters';
import type { ServiceCounter } from '../reconcile/service-counters';
import { QueryFollower, type QueryHandler } from '../netmaster-client/queries';
import { HostState, Network, parseHostState } from '../state/host-state';
import type { SyncRequest, SyncResponse } from '../ipam/registration';
import type { AddressBlock } from '../state/host-state';
import type {
  AllocatedEndpoint,
  BlockRpc,
  DesiredStateSource,
  EndpointAllocator,
  EndpointRequest,
  NetworkCatalog,
  NetworkLookup,
} from './fabric';

export class NetmasterFabric implements DesiredStateSource, EndpointAllocator, NetworkCatalog, BlockRpc {
  private isConnected = false;
  private state: HostState | undefined;
  private readonly waiters = new Set<() => void>();
  /** the revision of each state handed on, for `realized` */
  private readonly revisions = new WeakMap<HostState, string>();
  /**
   * the newest state handed on, with the newest revision that leaves it unchanged (progress
   * marks move it on), and whether the agent realized it; undefined after a state the agent
   * could not use (it keeps an older one, so nothing newer is realized)
   */
  private newest: { state: HostState; revision: string; realized: boolean } | undefined;

  constructor(
    private readonly client: NetmasterClient,
    private readonly logger?: Logger,
  ) {
    client.on('connected', () => (this.isConnected = true));
    client.on('disconnected', () => (this.isConnected = false));
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Answer netmaster's queries (netctl trace) with `handler` until the follower is stopped. */
  serveQueries(handler: QueryHandler): QueryFollower {
    const f = new QueryFollower(this.client, handler, this.logger ? { logger: this.logger } : {});
    f.start();
    return f;
  }

  /** The netmaster replica the agent follows now ('' while disconnected). */
  get replica(): string {
    return this.client.replica;
  }

  /** Times the client moved to another replica since start. */
  get failovers(): number {
    return this.client.stats.failovers;
  }

  async start(onState: (state: HostState) => void): Promise<void> {
    this.client.on('state', (raw, revision) => {
      let s: HostState;
      try {
        s = parseHostState(raw);
      } catch (e) {
        this.logger?.error(
          { err: (e as Error).message, revision },
          'netmaster sent a host state the agent cannot use; keeping the previous one',
        );
        this.newest = undefined;
        return;
      }
      this.isConnected = true;
      this.state = s;
      this.revisions.set(s, revision);
      this.newest = { state: s, revision, realized: false };
      for (const w of [...this.waiters]) w();
      onState(s);
    });
    this.client.on('progress', (revision) => {
      if (!this.newest) return;
      this.newest.revision = revision;
      // nothing changed for this host since the state already realized
      if (this.newest.realized) this.client.acknowledge(revision);
    });
    this.client.start();
  }

  realized(state: HostState): void {
    const revision = this.revisions.get(state);
    if (revision === undefined) return;
    if (this.newest?.state === state) {
      this.newest.realized = true;
      this.client.acknowledge(this.newest.revision);
    } else {
      this.client.acknowledge(revision);
    }
  }

  ruleCounters(counters: readonly RuleCounter[]): void {
    this.client.setRuleCounters(counters);
  }

  serviceCounters(counters: readonly ServiceCounter[]): void {
    this.client.setServiceCounters(counters);
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  private networkOf(key: string, timeoutMs: number): Promise<{ prefixLength: number; gateway: string }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const n = this.state?.networks.find((x) => x.key === key);
        if (!n) return false;
        this.waiters.delete(check);
        timer.cancel();
        resolve({ prefixLength: n.subnet === '' ? 32 : Number(n.subnet.split('/')[1]), gateway: n.gateway });
        return true;
      };
      const timer = systemClock.after(timeoutMs, () => {
        this.waiters.delete(check);
        reject(
          new NetloomError('UNAVAILABLE', `network ${key} did not arrive from netmaster within ${timeoutMs} ms`, { field: 'network' }),
        );
      });
      this.waiters.add(check);
      check();
    });
  }

  async create(req: EndpointRequest): Promise<AllocatedEndpoint> {
    const ep = await this.client.createEndpoint({
      idempotencyKey: req.idempotencyKey,
      host: req.host,
      tenant: req.tenant,
      network: req.network,
      group: req.group ?? '',
      containerId: req.containerId,
      containerName: req.containerName ?? '',
      intfName: req.ifName,
      requestedIp: req.requestedIp ?? '',
      requestedMac: req.requestedMac ?? '',
      labels: req.labels,
      ...(req.pod ? { pod: req.pod } : {}),
    });
    const key = ep.network.includes(':') ? ep.network : `${req.tenant}:${ep.network}`;
    const net = await this.networkOf(key, 5000);
    const [tenant = req.tenant, network = req.network] = key.split(':');
    return {
      id: ep.id,
      networkKey: key,
      tenant,
      network,
      ip: ep.ip,
      prefixLength: net.prefixLength,
      mac: ep.mac.toLowerCase(),
      gateway: net.gateway,
    };
  }

  async delete(ref: { endpointId?: string; idempotencyKey: string }): Promise<void> {
    await this.client.deleteEndpoint({ id: ref.endpointId ?? '', idempotencyKey: ref.idempotencyKey });
  }

  async setLabels(endpointId: string, labels: Record<string, string>): Promise<void> {
    await this.client.setEndpointLabels(endpointId, labels);
  }

  async claimBlock(networkKey: string, claimId: string): Promise<AddressBlock> {
    const b = await this.client.claimBlock(networkKey, claimId);
    return { network: b.network, cidr: b.cidr, host: b.host, vtepIp: b.vtepIp };
  }

  async releaseBlock(networkKey: string, cidr: string): Promise<boolean> {
    return (await this.client.releaseBlock(networkKey, cidr)).released;
  }

  async syncEndpoints(req: SyncRequest): Promise<SyncResponse> {
    const res = await this.client.syncEndpoints(req);
    const results = (rs: typeof res.registered): SyncResponse['registered'] =>
      rs.map((r) => ({ endpointId: r.endpointId, outcome: r.outcome, message: r.message, conflictingEndpoint: r.conflictingEndpoint }));
    return { deregistered: results(res.deregistered), registered: results(res.registered) };
  }

  onConnected(listener: () => void): () => void {
    this.client.on('connected', listener);
    return () => void this.client.off('connected', listener);
  }

  async listNetworks(): Promise<Network[]> {
    return parseHostState({ networks: await this.client.listNetworks() }).networks;
  }

  async lookupNetwork(ref: NetworkLookup): Promise<Network> {
    const raw = await this.client.lookupNetwork({ tenant: ref.tenant, network: ref.network ?? '', subnet: ref.subnet ?? '' });
    const [n] = parseHostState({ networks: [raw] }).networks;
    if (!n) throw new NetloomError('INTERNAL', 'netmaster answered LookupNetwork without a network');
    return n;
  }
}
