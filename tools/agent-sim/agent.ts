/**
 * One simulated agent: a real NetmasterClient (its own gRPC channel, the same Register, Heartbeat
 * and WatchDesiredState as netplugin) for one host, with no data plane behind it. It records, for
 * every update the client applies, when it was applied (crossProcessNow), its revision and kind,
 * keeps the latest HostState, and tells when a predicate on that state first held. With
 * `compile`, it also does what netplugin does with each state before OVS (compiler.ts: the real
 * computePipeline, flows kept in memory), and watches are judged after each compile, on the
 * compiled state and flows, with the time the compile ended.
 *
 * Watch before causing what you wait for: a watch added when its predicate already holds reports
 * the time of the latest applied update (an upper bound of when it first held).
 */
import type { Logger } from '../../lib/logger';
import { NetmasterClient, type ClientTls, type NetmasterClientOptions } from '../../netplugin/netmaster-client/client';
import type { HostState } from '../../netplugin/netmaster-client/apply';
import { SimulatedCompiler } from './compiler';
import { crossProcessNow, type Predicate } from './conditions';

export interface UpdateRecord {
  /** crossProcessNow() when the client emitted the applied state */
  at: number;
  revision: string;
  kind: 'snapshot' | 'changes';
}

export interface SimulatedAgentOptions {
  host: string;
  /** netmaster gRPC addresses, in the order the client tries them */
  addresses: readonly string[];
  vtepIp?: string;
  /** none: the client logs nothing */
  logger?: Logger;
  heartbeatMs?: number;
  callTimeoutMs?: number;
  /** keep at most this many update records (the oldest are dropped; default 10,000) */
  maxRecords?: number;
  /** extra client options */
  client?: Partial<NetmasterClientOptions>;
  /** compile every state into flows (coalesced), as the agent does before OVS */
  compile?: boolean;
  /** mutual TLS as netplugin speaks it: the CA and this host's certificate (netmaster enforces host identity) */
  tls?: ClientTls;
}

interface Watch {
  predicate: Predicate;
  heldAt: number | undefined;
  onHeld: ((at: number, ownAt: number) => void) | undefined;
}

/** The client's counters, plus heartbeatFailures when the client keeps that count (else undefined). */
export type AgentCounters = Record<string, number> & { heartbeatFailures?: number };

export class SimulatedAgent {
  readonly client: NetmasterClient;
  readonly host: string;
  readonly updates: UpdateRecord[] = [];
  /** updates applied, including those dropped from `updates` */
  updateCount = 0;
  /** the latest applied state (undefined before the first snapshot) */
  latest: HostState | undefined;
  /** crossProcessNow() when start() was called (0 before) */
  startedAt = 0;
  private readonly maxRecords: number;
  private readonly watches = new Map<string, Watch>();
  private nextWatch = 0;
  /** set with `compile` */
  readonly compiler: SimulatedCompiler | undefined;
  /** kind of the newest state given to the compiler that is not compiled yet */
  private compileKind: 'snapshot' | 'changes' = 'snapshot';

  constructor(opts: SimulatedAgentOptions) {
    this.host = opts.host;
    if (opts.compile) this.compiler = new SimulatedCompiler(opts.host, opts.vtepIp ?? '', (state) => this.onCompiled(state as HostState));
    this.maxRecords = opts.maxRecords ?? 10_000;
    this.client = new NetmasterClient({
      address: opts.addresses,
      host: opts.host,
      vtepIp: opts.vtepIp ?? '',
      capabilities: ['vxlan', 'vlan'],
      agentVersion: 'netloom-agent-sim',
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.callTimeoutMs !== undefined ? { callTimeoutMs: opts.callTimeoutMs } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...opts.client,
    });
    this.client.on('state', (state, revision, kind) => this.onState(state, revision, kind));
  }

  private onState(state: HostState, revision: string, kind: 'snapshot' | 'changes'): void {
    const at = crossProcessNow();
    this.latest = state;
    this.updateCount++;
    this.updates.push({ at, revision, kind });
    if (this.updates.length > this.maxRecords) this.updates.splice(0, this.updates.length - this.maxRecords);
    if (this.compiler) {
      // a snapshot among coalesced states makes the compile a snapshot's
      this.compileKind = kind === 'snapshot' ? 'snapshot' : this.compileKind;
      this.compiler.submit(state, at);
      return;
    }
    this.judge(state, kind, at, at);
  }

  private onCompiled(state: HostState): void {
    const kind = this.compileKind;
    this.compileKind = 'changes';
    this.judge(state, kind, crossProcessNow(), this.compiler!.ownDoneAt);
  }

  /**
   * Record, for every watch not held yet, whether it holds now (`at`); `ownAt`: when it would have
   * with a core of its own (compiling agents: arrival + compile CPU; others: `at`).
   */
  private judge(state: HostState, kind: 'snapshot' | 'changes', at: number, ownAt: number): void {
    const compiled = this.compiler?.objects;
    for (const w of this.watches.values()) {
      if (w.heldAt !== undefined) continue;
      let held = false;
      try {
        held = w.predicate(state, kind, compiled);
      } catch {
        held = false;
      }
      if (held) {
        w.heldAt = at;
        w.onHeld?.(at, ownAt);
      }
    }
  }

  /** Start the client (register, heartbeats, the desired-state stream). */
  start(): void {
    this.startedAt = crossProcessNow();
    this.client.start();
  }

  async stop(): Promise<void> {
    for (const w of this.watches.values()) w.onHeld = undefined;
    this.watches.clear();
    await this.client.stop();
  }

  /** The first applied snapshot's record, if any was kept. */
  get firstSnapshot(): UpdateRecord | undefined {
    return this.updates.find((u) => u.kind === 'snapshot');
  }

  /**
   * Call `onHeld(at)` once, when `predicate` first holds on an applied state (at: when that state
   * was applied). Returns the watch's id for unwatch().
   */
  watch(predicate: Predicate, onHeld?: (at: number, ownAt: number) => void, id = `w${this.nextWatch++}`): string {
    const w: Watch = { predicate, heldAt: undefined, onHeld };
    this.watches.set(id, w);
    const last = this.updates[this.updates.length - 1];
    // compiling: judged on the compiled flows (none yet before the first compile)
    if (
      this.latest &&
      last &&
      (!this.compiler || this.compiler.stats.compiles > 0) &&
      predicate(this.latest, last.kind, this.compiler?.objects)
    ) {
      w.heldAt = last.at;
      onHeld?.(last.at, last.at);
    }
    return id;
  }

  unwatch(id: string): void {
    const w = this.watches.get(id);
    if (w) w.onHeld = undefined;
    this.watches.delete(id);
  }

  /** When the watch `id` first held (undefined: not yet). */
  heldAt(id: string): number | undefined {
    return this.watches.get(id)?.heldAt;
  }

  /** Resolves the time `predicate` first held; rejects after `timeoutMs` saying what is missing. */
  waitUntil(predicate: Predicate, timeoutMs: number, what = 'condition'): Promise<number> {
    return new Promise((resolve, reject) => {
      const id = `wait${this.nextWatch++}`;
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.unwatch(id);
        reject(
          new Error(
            `${this.host}: ${what} did not hold within ${timeoutMs} ms (${this.updateCount} updates, revision ${this.client.revision})`,
          ),
        );
      }, timeoutMs);
      this.watch(
        predicate,
        (at) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          // after watch() returned: a watch that held at once is removed here too
          queueMicrotask(() => this.unwatch(id));
          resolve(at);
        },
        id,
      );
    });
  }

  /** The client's counters; heartbeatFailures only when the client counts them. */
  counters(): AgentCounters {
    return { ...(this.client.stats as unknown as Record<string, number>) };
  }
}
