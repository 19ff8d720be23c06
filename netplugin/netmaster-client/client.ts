/**
 * The agent's client of netmaster's gRPC agent service. `start()` registers (retrying with
 * backoff), keeps the lease alive (a heartbeat every ttl/3; registers again when netmaster
 * answers ttl 0) and follows WatchDesiredState, keeping the host's state: a snapshot replaces
 * it (one sent in parts, `more`, is applied when its last part arrives), a group of changes is
 * applied when its commit marker (a change with an empty key) arrives, a progress mark between
 * groups advances the revision, and every applied snapshot or group emits 'state' with the new
 * HostState and its revision ('progress' for a progress mark). A change in the middle of a
 * snapshot in parts, or a progress mark in the middle of a group, breaks the protocol: the client
 * drops what it had not applied and reconnects. When the stream breaks it reconnects with
 * exponential backoff and resumes from the last applied revision. createEndpoint/deleteEndpoint/
 * lookupNetwork for the CNI/CNM front ends; errors come back as NetloomErrors with the server's
 * code and field. TLS: pass the CA (and a client certificate and key for netmaster's mutual TLS).
 *
 * Acknowledgements: every heartbeat carries the acknowledged revision (`acknowledge()`; without
 * `manualAck` the client acknowledges each revision it applies, with it the agent does once it has
 * realized a state), so that netmaster can tell what each host has realized, and the policy rules'
 * counters the agent last read (`setRuleCounters`).
 *
 * Replicas: `address` may list several netmasters (all on one etcd). The client uses one at a
 * time, starting with its home replica (a stable hash of the host name over the sorted
 * addresses, so that agents spread over the replicas; `homeReplica` forces it); when the stream,
 * a registration or a heartbeat fails on it, the next reconnect goes to the next one
 * (round-robin). The revision it resumes
 * from is etcd's, so it is valid on every replica: the new one sends the changes since then, not a
 * new snapshot. A unary call that fails with UNAVAILABLE or DEADLINE_EXCEEDED is retried once on
 * the next replica (every unary call is idempotent). The backoff grows only after a whole round
 * of failed replicas and stays capped. After a while on another replica the client goes back home
 * once the home replica answers a heartbeat again.
 *
 * Stalled streams: a heartbeat answer carries the newest etcd revision the replica has seen. A
 * stream that stays behind such a revision for `stallTimeoutMs` (or no stream open for that long
 * while heartbeats answer) is stalled, although its replica looks alive: the client moves the
 * stream to the next replica. A quiet stream is not behind: the server sends progress marks when
 * etcd moves on without changes for this host.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { backoffDelay, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { NetloomError, errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { loadAgentProto } from '../../proto/loader';
import type { AgentClient } from '../../proto/gen/netloom/v1/Agent';
import type { CreateEndpointRequest } from '../../proto/gen/netloom/v1/CreateEndpointRequest';
import type { DeleteEndpointRequest } from '../../proto/gen/netloom/v1/DeleteEndpointRequest';
import type { DesiredStateUpdate__Output } from '../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { Endpoint__Output } from '../../proto/gen/netloom/v1/Endpoint';
import type { RegisterResponse__Output } from '../../proto/gen/netloom/v1/RegisterResponse';
import type { HeartbeatResponse__Output } from '../../proto/gen/netloom/v1/HeartbeatResponse';
import type { HeartbeatRequest } from '../../proto/gen/netloom/v1/HeartbeatRequest';
import type { RuleCounter } from '../../proto/gen/netloom/v1/RuleCounter';
import type { ServiceCounter } from '../../proto/gen/netloom/v1/ServiceCounter';
import { MAX_RULE_COUNTERS } from '../../proto/rule-counters';
import type { DeleteEndpointResponse__Output } from '../../proto/gen/netloom/v1/DeleteEndpointResponse';
import type { ListNetworksResponse__Output } from '../../proto/gen/netloom/v1/ListNetworksResponse';
import type { LookupNetworkRequest } from '../../proto/gen/netloom/v1/LookupNetworkRequest';
import type { Network__Output } from '../../proto/gen/netloom/v1/Network';
import type { AgentQuery__Output } from '../../proto/gen/netloom/v1/AgentQuery';
import type { QueryAnswer } from '../../proto/gen/netloom/v1/QueryAnswer';
import type { QueryAnswerAck__Output } from '../../proto/gen/netloom/v1/QueryAnswerAck';
import type { AddressBlock__Output } from '../../proto/gen/netloom/v1/AddressBlock';
import type { ReleaseBlockResponse__Output } from '../../proto/gen/netloom/v1/ReleaseBlockResponse';
import type { SyncEndpointsRequest } from '../../proto/gen/netloom/v1/SyncEndpointsRequest';
import type { SyncEndpointsResponse__Output } from '../../proto/gen/netloom/v1/SyncEndpointsResponse';
import { fromServiceError } from '../../proto/status';
import { homeReplicaIndex, nextAddressIndex, parseNetmasterAddresses } from './addresses';
import { addToStore, applyChange, checkChange, emptyStore, stateOf, type Change, type HostState, type StateStore } from './apply';

/** The most per-provider service counters one heartbeat carries (sorted by service and endpoint: the rest are left out). */
export const MAX_SERVICE_COUNTERS = 4096;

export interface ClientTls {
  /** CA that signed netmaster's certificate */
  ca: Buffer;
  /** this agent's certificate and key (netmaster's mutual TLS) */
  cert?: Buffer;
  key?: Buffer;
}

export interface NetmasterClientOptions {
  /**
   * netmaster's gRPC address, host:port; several replicas as a list or comma-separated (tried
   * round-robin from the home replica)
   */
  address: string | readonly string[];
  host: string;
  vtepIp?: string;
  mgmtIp?: string;
  capabilities?: string[];
  agentVersion?: string;
  tls?: ClientTls;
  clock?: Clock;
  logger?: Logger;
  /** reconnect backoff: first pause and cap (default 100 ms .. 5 s, doubling) */
  backoff?: { initialMs?: number; maxMs?: number };
  /** heartbeat period (default a third of the lease TTL) */
  heartbeatMs?: number;
  /** deadline of unary calls (default 10 s) */
  callTimeoutMs?: number;
  /**
   * with several replicas: the index in `address` of the one to start on and return to (default:
   * picked by a hash of `host` among the addresses sorted, which spreads agents evenly and stays
   * the same for a host whatever the order of the list)
   */
  homeReplica?: number;
  /**
   * with several replicas: after this long on another one, go back home (so that load stays
   * spread) once the home replica answers a heartbeat again (default 60 s; 0: never)
   */
  returnHomeAfterMs?: number;
  /**
   * a stream still behind the etcd revision a heartbeat reported this long after (or no stream
   * open this long while heartbeats answer) is stalled: move it to another replica (default 15 s;
   * 0: never)
   */
  stallTimeoutMs?: number;
  /**
   * when true, the revision heartbeats acknowledge is only what `acknowledge()` was given (the
   * agent calls it once a state is realized); by default every applied revision is acknowledged
   */
  manualAck?: boolean;
}

export interface ClientEvents {
  state: [state: HostState, revision: string, kind: 'snapshot' | 'changes'];
  /** a progress mark: nothing for this host up to `revision` (the state is unchanged) */
  progress: [revision: string];
  registered: [leaseId: string, ttlSeconds: number];
  /** the replica (index in `addresses`) that took the latest registration */
  registeredAt: [index: number];
  connected: [];
  disconnected: [reason: string];
}

export class NetmasterClient extends EventEmitter<ClientEvents> {
  /** the replicas' addresses, as given */
  readonly addresses: readonly string[];
  /** the index of the replica this agent starts on and returns to */
  readonly home: number;
  private readonly grpcClients: AgentClient[];
  /** the replica the next stream, registration or call goes to */
  private current: number;
  /** the replica the open stream follows ('' when none is open) */
  private following = '';
  /** the replica the stream in progress (open or opening) was called on */
  private streamIndex: number | undefined;
  /** when the client left its home replica (monotonic clock ms; meaningful while current !== home) */
  private leftHomeAt = 0;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly stallTimeoutMs: number;
  private store: StateStore = emptyStore();
  private pending: Change[] = [];
  /** the parts of a snapshot received so far (more = true), applied with the last one */
  private partial: { revision: string; store: StateStore; parts: number } | undefined;
  private appliedRevision = '0';
  /** what heartbeats report as applied (see acknowledge) */
  private acked = 0n;
  /** what heartbeats report as the policy rules' counters (see setRuleCounters) */
  private ruleCounters: RuleCounter[] = [];
  /** what heartbeats report as the services' per-provider counters (see setServiceCounters) */
  private serviceCounters: ServiceCounter[] = [];
  /**
   * an etcd revision a heartbeat reported while the stream was behind it, since when, and the
   * timer that checks the stream has reached it stallTimeoutMs later
   */
  private behind: { revision: bigint; since: number; timer: Timer } | undefined;
  /** monotonic time of the last message received on a stream (-Infinity: none yet) */
  private lastStreamData = -Infinity;
  /**
   * stalls on the home replica since a stream there last caught up: a stalled replica still
   * answers heartbeats, so going back to it is put off longer each time (returnHomeAfterMs
   * doubled per stall, up to 16 times) instead of losing stallTimeoutMs of updates every round
   */
  private homeStalls = 0;
  /** since when no stream has been open (monotonic ms; undefined while one is) */
  private noStreamSince: number | undefined;
  private leaseId = '';
  /** the replica that took the registration the agent holds (undefined before one) */
  private registeredIndex: number | undefined;
  private cluster = '';
  private ttlSeconds = 0;
  private running = false;
  private stream: grpc.ClientReadableStream<DesiredStateUpdate__Output> | undefined;
  /** aborted by stop(): ends the pause in progress */
  private stopping = new AbortController();
  private loops: Promise<void>[] = [];
  /** counts for tests and metrics */
  readonly stats = {
    registrations: 0,
    reconnects: 0,
    snapshots: 0,
    /** snapshot parts received (a snapshot in one message is one part) */
    snapshotParts: 0,
    changeGroups: 0,
    changes: 0,
    progressMarks: 0,
    /** updates that broke the protocol (the stream was dropped and resumed) */
    protocolErrors: 0,
    failovers: 0,
    unaryRetries: 0,
    returnsHome: 0,
    /** register or heartbeat calls that failed (each one the lease loop retries) */
    heartbeatFailures: 0,
    /** streams given up because they stayed behind the revision the replica's heartbeats report */
    stalls: 0,
  };

  constructor(private readonly opts: NetmasterClientOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.backoff = { initialMs: opts.backoff?.initialMs ?? 100, maxMs: opts.backoff?.maxMs ?? 5000 };
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 15_000;
    this.addresses = parseNetmasterAddresses(opts.address);
    const forced = opts.homeReplica;
    if (forced !== undefined && !(Number.isInteger(forced) && forced >= 0 && forced < this.addresses.length))
      throw new NetloomError('INVALID_ARGUMENT', `homeReplica must be an index in 0..${this.addresses.length - 1}, got ${forced}`, {
        field: 'homeReplica',
      });
    // hashed over the addresses in sorted order, so that a host picks the same replica however
    // the list is ordered (deployments often list each host's own replica first)
    const sorted = [...this.addresses].sort();
    this.home = forced ?? this.addresses.indexOf(sorted[homeReplicaIndex(opts.host, sorted.length)]!);
    this.current = this.home;
    const Agent = loadAgentProto().netloom.v1.Agent;
    const creds = opts.tls
      ? grpc.credentials.createSsl(opts.tls.ca, opts.tls.key ?? null, opts.tls.cert ?? null)
      : grpc.credentials.createInsecure();
    // gRPC's own reconnect backoff (up to 2 minutes by default) must not keep a replica that came
    // back marked unavailable for longer than our own backoff
    const channelOptions = {
      'grpc.initial_reconnect_backoff_ms': Math.min(1000, opts.backoff?.initialMs ?? 100),
      'grpc.max_reconnect_backoff_ms': opts.backoff?.maxMs ?? 5000,
    };
    this.grpcClients = this.addresses.map((a) => new Agent(a, creds, channelOptions));
  }

  /** The replica the open stream follows ('' while none is open). */
  get replica(): string {
    return this.following;
  }

  /** The replica the next stream, registration or call goes to. */
  get preferredReplica(): string {
    return this.addresses[this.current] ?? '';
  }

  /** The replica this agent starts on and returns to. */
  get homeReplica(): string {
    return this.addresses[this.home] ?? '';
  }

  /**
   * The replica at `index` failed: the next attempt goes to the next one. Only when `index` is
   * still the current one, so that two loops noticing the same failure advance once.
   */
  private failover(index: number, why: string): void {
    if (this.addresses.length <= 1 || index !== this.current) return;
    this.current = nextAddressIndex(index, this.addresses.length);
    if (index === this.home) this.leftHomeAt = this.clock.monotonic();
    this.stats.failovers++;
    this.opts.logger?.warn(
      { failed: this.addresses[index], next: this.addresses[this.current], why },
      'netmaster replica failed: switching to the next one',
    );
    // a replica that stopped answering (heartbeat deadline) may keep its stream open but silent,
    // or never open it: stop following it, so that the watch loop resumes on the next one
    if (this.stream && this.streamIndex === index) this.stream.cancel();
  }

  /** The last applied revision ('0' before the first snapshot). */
  get revision(): string {
    return this.appliedRevision;
  }

  /** The revision heartbeats acknowledge ('0' before any). */
  get acknowledgedRevision(): string {
    return String(this.acked);
  }

  /**
   * The agent has realized the desired state up to `revision`: the next heartbeats report it.
   * Never goes back (an older state realized late does not undo a newer acknowledgement).
   */
  acknowledge(revision: string | number | bigint): void {
    const r = toRevision(revision);
    if (r > this.acked) this.acked = r;
  }

  get state(): HostState {
    return stateOf(this.store);
  }

  /** the cluster id netmaster answered at registration ('' before) */
  get clusterId(): string {
    return this.cluster;
  }

  get lease(): { id: string; ttlSeconds: number } {
    return { id: this.leaseId, ttlSeconds: this.ttlSeconds };
  }

  private deadline(): grpc.CallOptions {
    // a gRPC deadline is a point in real wall time, whatever clock paces our loops
    return { deadline: new Date(Date.now() + (this.opts.callTimeoutMs ?? 10_000)) };
  }

  /** One call on the replica at `index`; gRPC errors come back raw (with their status code). */
  private callOn<Res>(
    index: number,
    invoke: (c: AgentClient, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown,
  ): Promise<Res> {
    const client = this.grpcClients[index] ?? this.grpcClients[0]!;
    return new Promise((resolve, reject) => {
      invoke(client, this.deadline(), (err, res) =>
        err ? reject(err) : res === undefined ? reject(new NetloomError('INTERNAL', 'empty response')) : resolve(res),
      );
    });
  }

  /** One call on the current replica, no retry (register and heartbeat: their loop retries). */
  private async unaryOnce<Res>(invoke: (c: AgentClient, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown): Promise<Res> {
    const index = this.current;
    try {
      return await this.callOn(index, invoke);
    } catch (e) {
      if (isReplicaFailure(e)) this.failover(index, errorMessage(e));
      throw e instanceof NetloomError ? e : fromServiceError(e);
    }
  }

  /**
   * A call on the current replica; when that replica is unreachable (UNAVAILABLE, or the deadline
   * passed) it is retried once on the next one. Only for idempotent calls.
   */
  private async unary<Res>(
    what: string,
    invoke: (c: AgentClient, opts: grpc.CallOptions, cb: grpc.requestCallback<Res>) => unknown,
  ): Promise<Res> {
    const index = this.current;
    try {
      return await this.callOn(index, invoke);
    } catch (e) {
      if (!isReplicaFailure(e) || this.addresses.length <= 1) throw e instanceof NetloomError ? e : fromServiceError(e);
      this.failover(index, errorMessage(e));
      const retry = this.current === index ? nextAddressIndex(index, this.addresses.length) : this.current;
      this.stats.unaryRetries++;
      this.opts.logger?.warn(
        { rpc: what, failed: this.addresses[index], retry: this.addresses[retry], err: errorMessage(e) },
        'netmaster call failed on one replica: retrying on the next',
      );
      try {
        return await this.callOn(retry, invoke);
      } catch (e2) {
        if (isReplicaFailure(e2)) this.failover(retry, errorMessage(e2));
        throw e2 instanceof NetloomError ? e2 : fromServiceError(e2);
      }
    }
  }

  /** Register once (no retry). */
  async register(): Promise<{ leaseId: string; ttlSeconds: number }> {
    const req = {
      host: this.opts.host,
      vtepIp: this.opts.vtepIp ?? '',
      mgmtIp: this.opts.mgmtIp ?? '',
      capabilities: this.opts.capabilities ?? [],
      agentVersion: this.opts.agentVersion ?? '',
    };
    const index = this.current;
    const res = await this.unaryOnce<RegisterResponse__Output>((c, o, cb) => c.register(req, o, cb));
    this.leaseId = res.leaseId;
    this.registeredIndex = index;
    this.ttlSeconds = Number(res.leaseTtlSeconds);
    this.cluster = res.clusterId;
    this.stats.registrations++;
    this.emit('registered', this.leaseId, this.ttlSeconds);
    this.emit('registeredAt', index);
    return { leaseId: this.leaseId, ttlSeconds: this.ttlSeconds };
  }

  /**
   * The counters the next heartbeats carry (the latest replace the previous ones; the first
   * MAX_RULE_COUNTERS by rule id when there are more).
   */
  setRuleCounters(counters: readonly { ruleId: string; packets: bigint; bytes: bigint }[]): void {
    const sorted = [...counters].sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0));
    if (sorted.length > MAX_RULE_COUNTERS)
      this.opts.logger?.warn({ rules: sorted.length, sent: MAX_RULE_COUNTERS }, 'more rule counters than a heartbeat carries');
    this.ruleCounters = sorted
      .slice(0, MAX_RULE_COUNTERS)
      .map((c) => ({ ruleId: c.ruleId, packets: String(c.packets), bytes: String(c.bytes) }));
  }

  /**
   * The services' per-provider counters the next heartbeats carry (the latest replace the previous
   * ones; the first MAX_SERVICE_COUNTERS by service and endpoint when there are more).
   */
  setServiceCounters(
    counters: readonly { service: string; endpointId: string; packets: bigint; bytes: bigint; connections: bigint }[],
  ): void {
    if (counters.length > MAX_SERVICE_COUNTERS)
      this.opts.logger?.warn({ providers: counters.length, sent: MAX_SERVICE_COUNTERS }, 'more service counters than a heartbeat carries');
    this.serviceCounters = counters.slice(0, MAX_SERVICE_COUNTERS).map((c) => ({
      service: c.service,
      endpointId: c.endpointId,
      packets: String(c.packets),
      bytes: String(c.bytes),
      connections: String(c.connections),
    }));
  }

  private heartbeatRequest(): HeartbeatRequest {
    return {
      host: this.opts.host,
      leaseId: this.leaseId || '0',
      appliedRevision: String(this.acked),
      ruleCounters: this.ruleCounters,
      serviceCounters: this.serviceCounters,
    };
  }

  /**
   * One heartbeat; returns the TTL netmaster answered (0: the lease is gone). The etcd revision in
   * the answer feeds the stall detection.
   */
  async heartbeat(): Promise<number> {
    const req = this.heartbeatRequest();
    const res = await this.unaryOnce<HeartbeatResponse__Output>((c, o, cb) => c.heartbeat(req, o, cb));
    this.noteEtcdRevision(res.revision);
    return Number(res.leaseTtlSeconds);
  }

  createEndpoint(req: Omit<CreateEndpointRequest, 'host'> & { host?: string }): Promise<Endpoint__Output> {
    const full = { ...req, host: req.host ?? this.opts.host };
    return this.unary<Endpoint__Output>('CreateEndpoint', (c, o, cb) => c.createEndpoint(full, o, cb));
  }

  async deleteEndpoint(req: Omit<DeleteEndpointRequest, 'host'> & { host?: string }): Promise<{ existed: boolean }> {
    const full = { ...req, host: req.host ?? this.opts.host };
    const res = await this.unary<DeleteEndpointResponse__Output>('DeleteEndpoint', (c, o, cb) => c.deleteEndpoint(full, o, cb));
    return { existed: res.existed };
  }

  /** One network by tenant and name (or subnet), whether or not this host carries it; NOT_FOUND when there is none. */
  lookupNetwork(req: Omit<LookupNetworkRequest, 'host'> & { host?: string }): Promise<Network__Output> {
    const full = { ...req, host: req.host ?? this.opts.host };
    return this.unary<Network__Output>('LookupNetwork', (c, o, cb) => c.lookupNetwork(full, o, cb));
  }

  /** Replace the labels of one of this host's endpoints. */
  setEndpointLabels(id: string, labels: Record<string, string>): Promise<Endpoint__Output> {
    const full = { host: this.opts.host, id, labels };
    return this.unary<Endpoint__Output>('SetEndpointLabels', (c, o, cb) => c.setEndpointLabels(full, o, cb));
  }

  /** Every network of the cluster, sorted by key (for --docker-networks). */
  async listNetworks(): Promise<Network__Output[]> {
    const full = { host: this.opts.host };
    const res = await this.unary<ListNetworksResponse__Output>('ListNetworks', (c, o, cb) => c.listNetworks(full, o, cb));
    return res.networks;
  }

  /** Claim one more address block of `network` (tenant:network) for this host; idempotent by `claimId`. */
  claimBlock(network: string, claimId: string): Promise<AddressBlock__Output> {
    const full = { host: this.opts.host, network, claimId };
    return this.unary<AddressBlock__Output>('ClaimBlock', (c, o, cb) => c.claimBlock(full, o, cb));
  }

  /** Give back one of this host's blocks (only when no endpoint holds an address in it). */
  async releaseBlock(network: string, cidr: string): Promise<{ released: boolean }> {
    const full = { host: this.opts.host, network, cidr };
    const res = await this.unary<ReleaseBlockResponse__Output>('ReleaseBlock', (c, o, cb) => c.releaseBlock(full, o, cb));
    return { released: res.released };
  }

  /** Register and deregister endpoints this host allocated from its blocks (one result per item). */
  syncEndpoints(req: Omit<SyncEndpointsRequest, 'host'>): Promise<SyncEndpointsResponse__Output> {
    const full = { ...req, host: this.opts.host };
    return this.unary<SyncEndpointsResponse__Output>('SyncEndpoints', (c, o, cb) => c.syncEndpoints(full, o, cb));
  }

  /** The replica that took the registration the agent holds (undefined before one). */
  get registeredReplica(): number | undefined {
    return this.leaseId === '' ? undefined : this.registeredIndex;
  }

  /** Open the query stream (netmaster -> agent queries) on the replica at `index`. */
  openQueries(index: number): grpc.ClientReadableStream<AgentQuery__Output> {
    const client = this.grpcClients[index] ?? this.grpcClients[0]!;
    return client.queries({ host: this.opts.host });
  }

  /** Answer a query on the replica at `index` (the one that asked). */
  async answerQuery(index: number, answer: Omit<QueryAnswer, 'host'>): Promise<void> {
    try {
      await this.callOn<QueryAnswerAck__Output>(index, (c, o, cb) => c.answerQuery({ ...answer, host: this.opts.host }, o, cb));
    } catch (e) {
      throw e instanceof NetloomError ? e : fromServiceError(e);
    }
  }

  /** Register, then keep the lease and follow the desired state until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.noStreamSince = this.clock.monotonic();
    this.loops = [this.leaseLoop(), this.watchLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.clearBehind();
    this.stream?.cancel();
    await Promise.all(this.loops);
    for (const c of this.grpcClients) c.close();
  }

  /** Sleep unless stopped first; resolves false when stopped. */
  private async pause(ms: number): Promise<boolean> {
    if (!this.running) return false;
    const signal = this.stopping.signal;
    await this.clock.sleep(ms, signal);
    return !signal.aborted && this.running;
  }

  /** The pause before retry `attempt` (0-based): doubling from the first pause up to the cap, no jitter. */
  private backoffMs(attempt: number): number {
    return backoffDelay(attempt, this.backoff);
  }

  private async leaseLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        if (!this.leaseId) {
          await this.register();
          this.opts.logger?.info({ host: this.opts.host, leaseId: this.leaseId, ttl: this.ttlSeconds }, 'registered with netmaster');
        } else {
          const ttl = await this.heartbeat();
          if (ttl === 0) {
            this.opts.logger?.warn({ host: this.opts.host, leaseId: this.leaseId }, 'lease lost: registering again');
            this.leaseId = '';
            continue;
          }
          this.checkNoStream();
        }
        failures = 0;
        // back home with a registration that lives on the replica left: register at home now
        if (await this.maybeReturnHome()) continue;
        const period = this.opts.heartbeatMs ?? Math.max(200, (this.ttlSeconds * 1000) / 3);
        if (!(await this.pause(period))) return;
      } catch (e) {
        failures++;
        this.stats.heartbeatFailures++;
        this.opts.logger?.warn({ err: errorMessage(e), failures, replica: this.addresses[this.current] }, 'register/heartbeat failed');
        if (!(await this.pause(this.retryPauseMs(failures)))) return;
      }
    }
  }

  /**
   * After `returnHomeAfterMs` on another replica: when the home one answers a heartbeat (for the
   * lease the agent holds), make it current again and end the stream on the other one, which the
   * watch loop then resumes at home (changes since its revision, no snapshot).
   */
  private async maybeReturnHome(): Promise<boolean> {
    const after = this.opts.returnHomeAfterMs ?? 60_000;
    if (after <= 0 || this.current === this.home || this.addresses.length <= 1 || !this.leaseId) return false;
    const wait = after * 2 ** Math.min(this.homeStalls, 4);
    if (this.clock.monotonic() - this.leftHomeAt < wait) return false;
    const req = this.heartbeatRequest();
    let registeredThere: boolean;
    try {
      const res = await this.callOn<HeartbeatResponse__Output>(this.home, (c, o, cb) => c.heartbeat(req, o, cb));
      if (this.current === this.home || !this.running) return false;
      // a registration lives on the replica that took it: home answers 0 for one made elsewhere
      registeredThere = Number(res.leaseTtlSeconds) > 0;
    } catch {
      // still down: try again after the next period
      this.leftHomeAt = this.clock.monotonic() - wait + Math.min(wait, 5000);
      return false;
    }
    const from = this.addresses[this.current];
    this.current = this.home;
    this.stats.returnsHome++;
    this.opts.logger?.info({ from, to: this.addresses[this.home] }, 'returning to the home netmaster replica');
    if (this.stream && this.streamIndex !== this.home) this.stream.cancel();
    if (registeredThere) return false;
    this.leaseId = '';
    return true;
  }

  /**
   * A heartbeat answered etcd revision `reported` (0 from a server that does not say). When the
   * stream is behind it, remember it and check stallTimeoutMs later that the stream got there. The
   * first revision it is behind is kept: a newer one each heartbeat would push the check back
   * forever under steady load.
   */
  private noteEtcdRevision(reported: string): void {
    const etcd = toRevision(reported);
    if (etcd === 0n || this.stallTimeoutMs <= 0 || !this.running) return;
    const applied = toRevision(this.appliedRevision);
    if (this.behind && applied >= this.behind.revision) this.clearBehind();
    if (applied >= etcd || this.behind) return;
    const timer = this.clock.after(this.stallTimeoutMs, () => this.checkStalled(), { unref: true });
    this.behind = { revision: etcd, since: this.clock.monotonic(), timer };
  }

  private clearBehind(): void {
    this.behind?.timer.cancel();
    this.behind = undefined;
  }

  /** stallTimeoutMs after the stream was seen behind etcd: still behind that revision is a stall. */
  private checkStalled(): void {
    const b = this.behind;
    this.behind = undefined;
    if (!b || !this.running || toRevision(this.appliedRevision) >= b.revision) return;
    // a stream that is behind but still delivering (a replica under load working through a
    // backlog) is not stalled: moving every such agent would only carry the load elsewhere and
    // make each start over; the next heartbeat looks again
    if (this.lastStreamData > b.since) return;
    this.stalled('stream behind etcd', String(b.revision), this.clock.monotonic() - b.since);
  }

  /** After a heartbeat answered: no stream open for stallTimeoutMs is a stall too. */
  private checkNoStream(): void {
    if (this.stallTimeoutMs <= 0 || this.following !== '' || this.noStreamSince === undefined) return;
    const waited = this.clock.monotonic() - this.noStreamSince;
    if (waited < this.stallTimeoutMs) return;
    // the next replica gets its own stallTimeoutMs
    this.noStreamSince = this.clock.monotonic();
    this.stalled('no stream open', '', waited);
  }

  /** The stream is stalled although its replica answers heartbeats: move it to the next replica. */
  private stalled(why: string, etcdRevision: string, forMs: number): void {
    const index = this.streamIndex ?? this.current;
    this.stats.stalls++;
    if (index === this.home) this.homeStalls++;
    this.opts.logger?.warn(
      {
        replica: this.addresses[index],
        streamRevision: this.appliedRevision,
        etcdRevision,
        forMs: Math.round(forMs),
        why,
        next: this.addresses.length > 1 ? this.addresses[nextAddressIndex(index, this.addresses.length)] : this.addresses[index],
      },
      'netmaster stream stalled: moving it to another replica',
    );
    this.failover(index, why);
    // failover leaves a stream on a replica that is no longer current (or the only one) alone:
    // this one is stalled wherever it is, so the watch loop must start another
    if (this.stream && this.streamIndex === index) this.stream.cancel();
  }

  /**
   * The pause before the next attempt after `failures` failures in a row: the backoff grows only
   * once every replica has failed (a whole round), so the next replica is tried at once.
   */
  private retryPauseMs(failures: number): number {
    return this.backoffMs(Math.floor(Math.max(0, failures - 1) / this.addresses.length));
  }

  private async watchLoop(): Promise<void> {
    let failures = 0;
    for (let round = 0; this.running && round < Number.MAX_SAFE_INTEGER; round++) {
      const index = this.current;
      const { applied, reason } = await this.followOnce(index);
      if (!this.running) return;
      failures = applied ? 0 : failures + 1;
      this.stats.reconnects++;
      // the stream ended on this replica (it stopped, or it cannot serve): resume on the next
      this.failover(index, reason);
      if (!(await this.pause(applied ? this.backoffMs(0) : this.retryPauseMs(failures)))) return;
    }
  }

  /** One stream on the replica at `index`, until it ends; resolves whether anything was applied, and why it ended. */
  private followOnce(index: number): Promise<{ applied: boolean; reason: string }> {
    return new Promise((resolve) => {
      let applied = false;
      this.pending = [];
      this.partial = undefined;
      const address = this.addresses[index] ?? '';
      const client = this.grpcClients[index] ?? this.grpcClients[0]!;
      const stream = client.watchDesiredState({ host: this.opts.host, resumeFromRevision: this.appliedRevision });
      this.stream = stream;
      this.streamIndex = index;
      let done = false;
      const opened = (): void => {
        if (this.following === address) return;
        this.following = address;
        this.noStreamSince = undefined;
        // a new stream gets the whole stallTimeoutMs to catch up
        this.clearBehind();
        this.opts.logger?.info(
          { replica: address, resumeFrom: this.appliedRevision, replicas: this.addresses.length },
          'following netmaster replica',
        );
        this.emit('connected');
      };
      const finish = (reason: string): void => {
        if (done) return;
        done = true;
        // a group without its commit marker, or a snapshot without its last part, is never applied
        this.pending = [];
        this.partial = undefined;
        this.stream = undefined;
        this.streamIndex = undefined;
        if (this.following !== '') this.opts.logger?.info({ replica: address, reason }, 'netmaster stream ended');
        this.following = '';
        this.noStreamSince = this.clock.monotonic();
        this.emit('disconnected', reason);
        resolve({ applied, reason });
      };
      stream.on('metadata', opened);
      stream.on('data', (u: DesiredStateUpdate__Output) => {
        this.lastStreamData = this.clock.monotonic();
        opened();
        let kind: 'snapshot' | 'changes' | 'progress' | undefined;
        try {
          kind = this.onUpdate(u);
        } catch (e) {
          this.stats.protocolErrors++;
          this.opts.logger?.error(
            { err: errorMessage(e), replica: address, resumeFrom: this.appliedRevision },
            'bad update from netmaster: reconnecting',
          );
          stream.cancel();
          return;
        }
        if (!kind) return;
        applied = true;
        if (!this.opts.manualAck) this.acknowledge(this.appliedRevision);
        if (this.behind && toRevision(this.appliedRevision) >= this.behind.revision) {
          this.clearBehind();
          // the home replica streams again: going back there needs no extra wait
          if (index === this.home) this.homeStalls = 0;
        }
        try {
          if (kind === 'progress') this.emit('progress', u.revision);
          else this.emit('state', this.state, u.revision, kind);
        } catch (e) {
          // a failing listener is the agent's problem, not the stream's
          this.opts.logger?.error({ err: errorMessage(e) }, 'state listener failed');
        }
      });
      stream.on('error', (e: Error) => finish(errorMessage(e)));
      stream.on('end', () => finish('stream ended'));
    });
  }

  /**
   * Apply one update; says what was applied (a snapshot, a committed group, a progress mark), else
   * undefined. Throws for an update that breaks the protocol (the caller drops the stream).
   */
  private onUpdate(u: DesiredStateUpdate__Output): 'snapshot' | 'changes' | 'progress' | undefined {
    const kind = u.kind ?? (u.snapshot ? 'snapshot' : u.change ? 'change' : u.progress ? 'progress' : u.changes ? 'changes' : undefined);
    if (kind === 'snapshot' && u.snapshot) {
      // a snapshot replaces everything, a group in progress included
      this.pending = [];
      const p = this.partial ?? { revision: u.revision, store: emptyStore(), parts: 0 };
      if (p.revision !== u.revision)
        throw new NetloomError('DECODE_ERROR', `snapshot part at revision ${u.revision} continues a snapshot at ${p.revision}`);
      addToStore(p.store, u.snapshot.state ?? {});
      p.parts++;
      this.stats.snapshotParts++;
      if (u.snapshot.more) {
        this.partial = p;
        return undefined;
      }
      this.partial = undefined;
      this.store = p.store;
      this.appliedRevision = u.revision;
      this.stats.snapshots++;
      return 'snapshot';
    }
    if (kind === 'progress') {
      if (this.partial) throw new NetloomError('DECODE_ERROR', `progress mark at revision ${u.revision} inside a snapshot in parts`);
      if (this.pending.length > 0)
        throw new NetloomError('DECODE_ERROR', `progress mark at revision ${u.revision} inside a group of ${this.pending.length} changes`);
      // only forward: a mark older than a group already applied says nothing new
      if (toRevision(u.revision) > toRevision(this.appliedRevision)) this.appliedRevision = u.revision;
      this.stats.progressMarks++;
      return 'progress';
    }
    if (kind === 'changes' && u.changes) {
      if (this.partial) throw new NetloomError('DECODE_ERROR', `changes at revision ${u.revision} inside a snapshot in parts`);
      for (const c of u.changes.changes) {
        if (c.key === '') throw new NetloomError('DECODE_ERROR', 'a change without a key inside a batch of changes');
        this.pending.push(c);
      }
      return u.changes.commit ? this.commitGroup(u.revision) : undefined;
    }
    const c = u.change;
    if (kind !== 'change' || !c) return undefined;
    if (this.partial) throw new NetloomError('DECODE_ERROR', `change '${c.key}' inside a snapshot in parts`);
    if (c.key !== '') {
      this.pending.push(c);
      return undefined;
    }
    // commit marker: the group is complete
    return this.commitGroup(u.revision);
  }

  /** Apply the pending group (complete now) at `revision`. */
  private commitGroup(revision: string): 'changes' {
    // checked whole before any is applied, so that a bad change leaves the state as it was; then
    // applied in place (a copy of the whole state per group costs its size on every change)
    for (const ch of this.pending) checkChange(ch);
    const next = this.store;
    for (const ch of this.pending) {
      if (!applyChange(next, ch)) this.opts.logger?.warn({ key: ch.key }, 'change of an unknown kind ignored');
    }
    this.stats.changes += this.pending.length;
    this.stats.changeGroups++;
    this.pending = [];
    this.appliedRevision = revision;
    return 'changes';
  }
}

/** An etcd revision from the wire (int64 as a decimal string) or from the agent, comparable. */
function toRevision(r: string | number | bigint): bigint {
  if (typeof r === 'bigint') return r;
  if (typeof r === 'number') return BigInt(Math.trunc(r));
  return r === '' ? 0n : BigInt(r);
}

/** Whether a call failed because the replica is unreachable or too slow (worth trying another). */
export function isReplicaFailure(e: unknown): boolean {
  const code = (e as Partial<grpc.ServiceError> | undefined)?.code;
  if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) return true;
  return e instanceof NetloomError && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT');
}
