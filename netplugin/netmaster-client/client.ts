/**
 * The agent's client of netmaster's gRPC agent service. `start()` registers (retrying with
 * backoff), keeps the lease alive (a heartbeat every ttl/3; registers again when netmaster
 * answers ttl 0) and follows WatchDesiredState, keeping the host's state: a snapshot replaces
 * it, a group of changes is applied when its commit marker (a change with an empty key) arrives,
 * and every applied update emits 'state' with the new HostState and its revision. When the
 * stream breaks it reconnects with exponential backoff and resumes from the last applied
 * revision. createEndpoint/deleteEndpoint/lookupNetwork for the CNI/CNM front ends; errors come
 * back as NetloomErrors with the server's code and field. TLS: pass the CA (and a client
 * certificate and key for netmaster's mutual TLS).
 *
 * Replicas: `address` may list several netmasters (all on one etcd). The client uses one at a
 * time, starting with the first; when the stream, a registration or a heartbeat fails on it, the
 * next reconnect goes to the next one (round-robin). The revision it resumes from is etcd's, so
 * it is valid on every replica: the new one sends the changes since then, not a new snapshot.
 * A unary call that fails with UNAVAILABLE or DEADLINE_EXCEEDED is retried once on the next
 * replica (every unary call is idempotent). The backoff grows only after a whole round of
 * failed replicas and stays capped. After a while on another replica the client goes back to the
 * first one (the agent's own, which spreads the load) once that one answers a heartbeat again.
 */
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { backoffDelay, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
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
import type { DeleteEndpointResponse__Output } from '../../proto/gen/netloom/v1/DeleteEndpointResponse';
import type { LookupNetworkRequest } from '../../proto/gen/netloom/v1/LookupNetworkRequest';
import type { Network__Output } from '../../proto/gen/netloom/v1/Network';
import { fromServiceError } from '../../proto/status';
import { nextAddressIndex, parseNetmasterAddresses } from './addresses';
import { applyChange, cloneStore, emptyStore, stateOf, storeFromState, type Change, type HostState, type StateStore } from './apply';

export interface ClientTls {
  /** CA that signed netmaster's certificate */
  ca: Buffer;
  /** this agent's certificate and key (netmaster's mutual TLS) */
  cert?: Buffer;
  key?: Buffer;
}

export interface NetmasterClientOptions {
  /**
   * netmaster's gRPC address, host:port; several replicas as a list or comma-separated, in the
   * order to try them
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
   * with several replicas: after this long on another one, go back to the first (the agent's
   * own, so that load stays spread) once it answers a heartbeat again (default 60 s; 0: never)
   */
  returnToFirstAfterMs?: number;
}

export interface ClientEvents {
  state: [state: HostState, revision: string, kind: 'snapshot' | 'changes'];
  registered: [leaseId: string, ttlSeconds: number];
  connected: [];
  disconnected: [reason: string];
}

export class NetmasterClient extends EventEmitter<ClientEvents> {
  /** the replicas' addresses, in the order they are tried */
  readonly addresses: readonly string[];
  private readonly grpcClients: AgentClient[];
  /** the replica the next stream, registration or call goes to */
  private current = 0;
  /** the replica the open stream follows ('' when none is open) */
  private following = '';
  /** when the client left the first replica (monotonic clock ms; meaningful while current !== 0) */
  private leftFirstAt = 0;
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private store: StateStore = emptyStore();
  private pending: Change[] = [];
  private appliedRevision = '0';
  private leaseId = '';
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
    changeGroups: 0,
    changes: 0,
    failovers: 0,
    unaryRetries: 0,
    returnsToFirst: 0,
    /** register or heartbeat calls that failed (each one the lease loop retries) */
    heartbeatFailures: 0,
    /** streams given up because they stayed behind the revision the replica's heartbeats report */
    stalls: 0,
  };

  constructor(private readonly opts: NetmasterClientOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.backoff = { initialMs: opts.backoff?.initialMs ?? 100, maxMs: opts.backoff?.maxMs ?? 5000 };
    this.addresses = parseNetmasterAddresses(opts.address);
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

  /**
   * The replica at `index` failed: the next attempt goes to the next one. Only when `index` is
   * still the current one, so that two loops noticing the same failure advance once.
   */
  private failover(index: number, why: string): void {
    if (this.addresses.length <= 1 || index !== this.current) return;
    this.current = nextAddressIndex(index, this.addresses.length);
    if (index === 0) this.leftFirstAt = this.clock.monotonic();
    this.stats.failovers++;
    this.opts.logger?.warn(
      { failed: this.addresses[index], next: this.addresses[this.current], why },
      'netmaster replica failed: switching to the next one',
    );
    // a replica that stopped answering (heartbeat deadline) may keep its stream open but silent:
    // stop following it, so that the watch loop resumes on the next one
    if (this.stream && this.following === this.addresses[index]) this.stream.cancel();
  }

  /** The last applied revision ('0' before the first snapshot). */
  get revision(): string {
    return this.appliedRevision;
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
    const res = await this.unaryOnce<RegisterResponse__Output>((c, o, cb) => c.register(req, o, cb));
    this.leaseId = res.leaseId;
    this.ttlSeconds = Number(res.leaseTtlSeconds);
    this.cluster = res.clusterId;
    this.stats.registrations++;
    this.emit('registered', this.leaseId, this.ttlSeconds);
    return { leaseId: this.leaseId, ttlSeconds: this.ttlSeconds };
  }

  /** One heartbeat; returns the TTL netmaster answered (0: the lease is gone). */
  async heartbeat(): Promise<number> {
    const req = { host: this.opts.host, leaseId: this.leaseId || '0' };
    const res = await this.unaryOnce<HeartbeatResponse__Output>((c, o, cb) => c.heartbeat(req, o, cb));
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

  /** Register, then keep the lease and follow the desired state until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.loops = [this.leaseLoop(), this.watchLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
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
        }
        failures = 0;
        await this.maybeReturnToFirst();
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
   * After `returnToFirstAfterMs` on another replica: when the first one answers a heartbeat (for
   * the lease the agent holds), make it current again and end the stream on the other one, which
   * the watch loop then resumes on the first (changes since its revision, no snapshot).
   */
  private async maybeReturnToFirst(): Promise<void> {
    const after = this.opts.returnToFirstAfterMs ?? 60_000;
    if (after <= 0 || this.current === 0 || this.addresses.length <= 1 || !this.leaseId) return;
    if (this.clock.monotonic() - this.leftFirstAt < after) return;
    const req = { host: this.opts.host, leaseId: this.leaseId };
    try {
      const res = await this.callOn<HeartbeatResponse__Output>(0, (c, o, cb) => c.heartbeat(req, o, cb));
      if (Number(res.leaseTtlSeconds) === 0 || this.current === 0 || !this.running) return;
    } catch {
      // still down: try again after the next period
      this.leftFirstAt = this.clock.monotonic() - after + Math.min(after, 5000);
      return;
    }
    const from = this.addresses[this.current];
    this.current = 0;
    this.stats.returnsToFirst++;
    this.opts.logger?.info({ from, to: this.addresses[0] }, 'returning to the first netmaster replica');
    if (this.stream && this.following !== '' && this.following !== this.addresses[0]) this.stream.cancel();
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
      const address = this.addresses[index] ?? '';
      const client = this.grpcClients[index] ?? this.grpcClients[0]!;
      const stream = client.watchDesiredState({ host: this.opts.host, resumeFromRevision: this.appliedRevision });
      this.stream = stream;
      let done = false;
      const finish = (reason: string): void => {
        if (done) return;
        done = true;
        this.pending = [];
        this.stream = undefined;
        if (this.following !== '') this.opts.logger?.info({ replica: address, reason }, 'netmaster stream ended');
        this.following = '';
        this.emit('disconnected', reason);
        resolve({ applied, reason });
      };
      stream.on('metadata', () => {
        this.following = address;
        this.opts.logger?.info(
          { replica: address, resumeFrom: this.appliedRevision, replicas: this.addresses.length },
          'following netmaster replica',
        );
        this.emit('connected');
      });
      stream.on('data', (u: DesiredStateUpdate__Output) => {
        let kind: 'snapshot' | 'changes' | undefined;
        try {
          kind = this.onUpdate(u);
        } catch (e) {
          this.opts.logger?.error({ err: errorMessage(e) }, 'bad update from netmaster: reconnecting');
          stream.cancel();
          return;
        }
        if (!kind) return;
        applied = true;
        try {
          this.emit('state', this.state, u.revision, kind);
        } catch (e) {
          // a failing listener is the agent's problem, not the stream's
          this.opts.logger?.error({ err: errorMessage(e) }, 'state listener failed');
        }
      });
      stream.on('error', (e: Error) => finish(errorMessage(e)));
      stream.on('end', () => finish('stream ended'));
    });
  }

  /** Apply one update; says what was applied (a snapshot, or a committed group), else undefined. */
  private onUpdate(u: DesiredStateUpdate__Output): 'snapshot' | 'changes' | undefined {
    if (u.snapshot) {
      this.store = storeFromState(u.snapshot.state ?? stateOf(emptyStore()));
      this.pending = [];
      this.appliedRevision = u.revision;
      this.stats.snapshots++;
      return 'snapshot';
    }
    const c = u.change;
    if (!c) return undefined;
    if (c.key !== '') {
      this.pending.push(c);
      return undefined;
    }
    // commit marker: the group is complete
    const next = cloneStore(this.store);
    for (const ch of this.pending) {
      if (!applyChange(next, ch)) this.opts.logger?.warn({ key: ch.key }, 'change of an unknown kind ignored');
    }
    this.stats.changes += this.pending.length;
    this.stats.changeGroups++;
    this.pending = [];
    this.store = next;
    this.appliedRevision = u.revision;
    return 'changes';
  }
}

/** Whether a call failed because the replica is unreachable or too slow (worth trying another). */
export function isReplicaFailure(e: unknown): boolean {
  const code = (e as Partial<grpc.ServiceError> | undefined)?.code;
  if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) return true;
  return e instanceof NetloomError && (e.code === 'UNAVAILABLE' || e.code === 'TIMEOUT');
}
