/**
 * The agent simulator: N SimulatedAgents (hosts sim-00000, sim-00001, ...) against a list of
 * netmaster gRPC addresses, started at a steady rate, watched together for a Condition and
 * stopped together. With `workers: 0` they run in this process; with `workers: W` they run in W
 * child processes (child_process.fork of the compiled worker.js next to this file), so that a few
 * thousand agents use another core; the times they record cross the IPC channel as
 * crossProcessNow() values, comparable with the parent's.
 *
 * With several addresses and `spread` (the default), agent i gets the list rotated by i, so that
 * the agents spread over the replicas (each client starts with, and returns to, its first).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { errorMessage } from '../../lib/errors';
import { crossProcessNow, describeCondition, type Condition } from './conditions';
import { AgentGroup, type AgentSpec, type GroupOptions, type GroupStats } from './group';
import type { FromWorker, ToWorker } from './messages';

export interface SimulatorOptions extends GroupOptions {
  /** netmaster gRPC addresses (host:port) */
  addresses: readonly string[];
  agents: number;
  /** host names are `${hostPrefix}${index padded to 5 digits}` (default 'sim-') */
  hostPrefix?: string;
  /** index of the first agent (default 0) */
  firstIndex?: number;
  /** worker processes (default 0: the agents run in this process) */
  workers?: number;
  /** rotate each agent's address list (default true) */
  spread?: boolean;
  /** Node options of the workers (default none) */
  workerExecArgv?: string[];
  /** each agent's VTEP, by position (default simVtepIp(index): a lab's netmaster wants them in its underlay subnet) */
  vtepIps?: readonly string[];
}

export interface WaitResult {
  what: string;
  /** every agent held the condition before the deadline */
  ok: boolean;
  agents: number;
  held: number;
  /** per agent (by position in the simulation): when the condition first held, NaN when it did not */
  times: number[];
  /** the latest of `times` (NaN when none held) */
  lastAt: number;
  /** the same as if every agent had a core of its own (compiling agents: arrival + compile CPU; else lastAt) */
  lastOwnAt: number;
  /** hosts that did not get there (at most 10) and how many */
  missing: string[];
  missingCount: number;
}

export interface SimulatorStats extends GroupStats {
  /** worker processes that died or did not answer */
  workerErrors: string[];
}

export function simHostName(index: number, prefix = 'sim-'): string {
  return `${prefix}${String(index).padStart(5, '0')}`;
}

/** A made-up underlay address, distinct per index (< 65536). */
export function simVtepIp(index: number): string {
  return `172.20.${(index >> 8) & 255}.${index & 255}`;
}

/** One group of agents, in this process or in a worker. */
interface GroupHandle {
  start(): Promise<void>;
  watch(id: string, cond: Condition, onHeld: (index: number, at: number, ownAt: number) => void): Promise<void>;
  unwatch(id: string): void;
  stats(): Promise<GroupStats | undefined>;
  stop(): Promise<void>;
  readonly error: string | undefined;
}

class LocalGroup implements GroupHandle {
  readonly error = undefined;
  private readonly group: AgentGroup;
  constructor(specs: AgentSpec[], opts: GroupOptions) {
    this.group = new AgentGroup(specs, opts);
  }
  start(): Promise<void> {
    return this.group.start();
  }
  watch(id: string, cond: Condition, onHeld: (index: number, at: number, ownAt: number) => void): Promise<void> {
    this.group.watch(id, cond, onHeld);
    return Promise.resolve();
  }
  unwatch(id: string): void {
    this.group.unwatch(id);
  }
  stats(): Promise<GroupStats> {
    return Promise.resolve(this.group.stats());
  }
  stop(): Promise<void> {
    return this.group.stop();
  }
}

class WorkerGroup implements GroupHandle {
  error: string | undefined;
  private readonly child: ChildProcess;
  private exited = false;
  private stopping = false;
  private readonly waiters = new Map<string, (m: FromWorker) => void>();
  private readonly onHeld = new Map<string, (index: number, at: number, ownAt: number) => void>();
  private req = 0;
  private readonly ready: Promise<void>;

  constructor(
    private readonly specs: AgentSpec[],
    private readonly opts: GroupOptions,
    execArgv: string[],
  ) {
    this.child = fork(join(__dirname, 'worker.js'), [], { execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => this.waiters.set('ready', () => resolve()));
    this.child.on('message', (m: FromWorker) => this.onMessage(m));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      if (!this.stopping) this.error ??= `agent-sim worker ${this.child.pid} exited (${signal ?? code})`;
      for (const w of this.waiters.values()) w({ t: 'error', message: this.error ?? 'worker exited' });
      this.waiters.clear();
    });
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case 'held': {
        const f = this.onHeld.get(m.id);
        if (f) for (const [index, at, ownAt] of m.held) f(index, at, ownAt);
        return;
      }
      case 'error':
        this.error ??= `agent-sim worker ${this.child.pid}: ${m.message}`;
        return;
      case 'ready':
      case 'started':
        this.take(m.t, m);
        return;
      case 'watching':
        this.take(`watching:${m.id}`, m);
        return;
      case 'stats':
      case 'stopped':
        this.take(`${m.t}:${m.req}`, m);
        return;
    }
  }

  private take(key: string, m: FromWorker): void {
    const w = this.waiters.get(key);
    this.waiters.delete(key);
    w?.(m);
  }

  private send(m: ToWorker): void {
    if (!this.exited && this.child.connected) this.child.send(m);
  }

  /** Wait for the message `key` (or the worker's exit), at most `timeoutMs`. */
  private expect(key: string, timeoutMs: number): Promise<FromWorker | undefined> {
    return new Promise((resolve) => {
      if (this.exited) return resolve(undefined);
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async start(): Promise<void> {
    await Promise.race([this.ready, new Promise((r) => setTimeout(r, 30_000))]);
    const started = this.expect('started', 3_600_000);
    this.send({ t: 'start', specs: this.specs, opts: this.opts });
    const m = await started;
    if (m?.t !== 'started') throw new Error(this.error ?? 'agent-sim worker did not start its agents');
  }

  async watch(id: string, cond: Condition, onHeld: (index: number, at: number, ownAt: number) => void): Promise<void> {
    this.onHeld.set(id, onHeld);
    const ack = this.expect(`watching:${id}`, 30_000);
    this.send({ t: 'watch', id, cond });
    await ack;
  }

  unwatch(id: string): void {
    this.onHeld.delete(id);
    this.send({ t: 'unwatch', id });
  }

  async stats(): Promise<GroupStats | undefined> {
    const req = ++this.req;
    const answer = this.expect(`stats:${req}`, 15_000);
    this.send({ t: 'stats', req });
    const m = await answer;
    return m?.t === 'stats' ? m.stats : undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    const req = ++this.req;
    const exited = new Promise<void>((resolve) => (this.exited ? resolve() : this.child.once('exit', () => resolve())));
    this.send({ t: 'stop', req });
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    if (!done && !this.exited) {
      this.child.kill('SIGKILL');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
  }
}

/** Agents watched for one condition; `wait` resolves when all held it or the deadline passed. */
export class AgentWatch {
  readonly times: number[];
  readonly ownTimes: number[];
  held = 0;
  private notify: (() => void) | undefined;

  constructor(
    readonly id: string,
    readonly cond: Condition,
    private readonly sim: AgentSimulator,
  ) {
    this.times = new Array<number>(sim.count).fill(Number.NaN);
    this.ownTimes = new Array<number>(sim.count).fill(Number.NaN);
  }

  /** @internal */
  record(position: number, at: number, ownAt = at): void {
    if (position < 0 || position >= this.times.length || !Number.isNaN(this.times[position])) return;
    this.times[position] = at;
    this.ownTimes[position] = ownAt;
    this.held++;
    if (this.held === this.times.length) this.notify?.();
  }

  /** Resolves when every agent held the condition or `timeoutMs` passed (never rejects); then unwatches. */
  async wait(timeoutMs: number): Promise<WaitResult> {
    if (this.held < this.times.length) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.notify = undefined;
          resolve();
        }, timeoutMs);
        this.notify = () => {
          clearTimeout(timer);
          this.notify = undefined;
          resolve();
        };
      });
    }
    this.sim.unwatch(this.id);
    let lastAt = Number.NaN;
    const missing: string[] = [];
    let missingCount = 0;
    this.times.forEach((t, i) => {
      if (Number.isNaN(t)) {
        missingCount++;
        if (missing.length < 10) missing.push(this.sim.hosts[i]!);
      } else if (!(t <= lastAt)) lastAt = t;
    });
    const lastOwnAt = this.ownTimes.reduce((m, t) => (Number.isNaN(t) || t <= m ? m : t), Number.NaN);
    return {
      what: describeCondition(this.cond),
      ok: missingCount === 0,
      agents: this.times.length,
      held: this.held,
      times: [...this.times],
      lastAt,
      lastOwnAt,
      missing,
      missingCount,
    };
  }
}

export class AgentSimulator {
  readonly hosts: string[];
  readonly count: number;
  private readonly groups: GroupHandle[] = [];
  private readonly watches = new Map<string, AgentWatch>();
  private nextWatch = 0;
  private readonly firstIndex: number;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: SimulatorOptions) {
    if (opts.addresses.length === 0) throw new Error('agent simulator: no netmaster address');
    this.count = Math.max(0, Math.floor(opts.agents));
    this.firstIndex = opts.firstIndex ?? 0;
    this.hosts = Array.from({ length: this.count }, (_, i) => simHostName(this.firstIndex + i, opts.hostPrefix));
  }

  /** The specs of every agent, split over `groups` round-robin (so each group's ramp interleaves). */
  private specs(groups: number): AgentSpec[][] {
    const out: AgentSpec[][] = Array.from({ length: groups }, () => []);
    const addrs = this.opts.addresses;
    const spread = this.opts.spread ?? true;
    for (let i = 0; i < this.count; i++) {
      const index = this.firstIndex + i;
      const shift = spread ? i % addrs.length : 0;
      out[i % groups]!.push({
        index,
        host: this.hosts[i]!,
        addresses: [...addrs.slice(shift), ...addrs.slice(0, shift)],
        vtepIp: this.opts.vtepIps?.[i] ?? simVtepIp(index),
      });
    }
    return out;
  }

  /**
   * Start every agent (ramped at `ratePerSec` in all); resolves once the last one was started
   * (not when they are connected: wait for the 'snapshot' condition for that).
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('agent simulator already started');
    this.started = true;
    const workers = Math.min(Math.max(0, Math.floor(this.opts.workers ?? 0)), this.count);
    const n = Math.max(1, workers);
    const groupOpts: GroupOptions = {
      ...(this.opts.logFile !== undefined ? { logFile: this.opts.logFile } : {}),
      ...(this.opts.heartbeatMs !== undefined ? { heartbeatMs: this.opts.heartbeatMs } : {}),
      ...(this.opts.callTimeoutMs !== undefined ? { callTimeoutMs: this.opts.callTimeoutMs } : {}),
      ...(this.opts.maxRecords !== undefined ? { maxRecords: this.opts.maxRecords } : {}),
      ...(this.opts.compile ? { compile: true } : {}),
      ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      ratePerSec: (this.opts.ratePerSec ?? 200) / n,
    };
    for (const specs of this.specs(n)) {
      this.groups.push(
        workers === 0 ? new LocalGroup(specs, groupOpts) : new WorkerGroup(specs, groupOpts, this.opts.workerExecArgv ?? []),
      );
    }
    // watches made before start() apply to the new groups too
    await Promise.all(this.groups.map((g) => Promise.all([...this.watches.values()].map((w) => this.watchOn(g, w)))));
    await Promise.all(this.groups.map((g) => g.start()));
  }

  private watchOn(g: GroupHandle, w: AgentWatch): Promise<void> {
    return g.watch(w.id, w.cond, (index, at, ownAt) => w.record(index - this.firstIndex, at, ownAt));
  }

  /**
   * Watch every agent for `cond`. Resolves once every group watches it: do this BEFORE causing the
   * change (an agent where it already holds reports the time of its latest update).
   */
  async watchAll(cond: Condition): Promise<AgentWatch> {
    const w = new AgentWatch(`c${this.nextWatch++}`, cond, this);
    this.watches.set(w.id, w);
    await Promise.all(this.groups.map((g) => this.watchOn(g, w)));
    return w;
  }

  /** Watch, then wait (for what is already under way, e.g. the first snapshots). */
  async waitAll(cond: Condition, timeoutMs: number): Promise<WaitResult> {
    return (await this.watchAll(cond)).wait(timeoutMs);
  }

  /** @internal */
  unwatch(id: string): void {
    this.watches.delete(id);
    for (const g of this.groups) g.unwatch(id);
  }

  /** Counters summed over the agents; CPU and RSS summed over the processes that run them. */
  async stats(): Promise<SimulatorStats> {
    const all = await Promise.all(this.groups.map((g) => g.stats().catch(() => undefined)));
    const total: SimulatorStats = {
      agents: 0,
      withState: 0,
      registrations: 0,
      reconnects: 0,
      snapshots: 0,
      changeGroups: 0,
      changes: 0,
      failovers: 0,
      heartbeatFailures: 0,
      heartbeatFailuresFrom: 'client',
      leaseLosses: 0,
      warnings: 0,
      updates: 0,
      cpuMs: 0,
      rssMb: 0,
      compiles: 0,
      compileMs: 0,
      compileMaxMs: 0,
      compileErrors: 0,
      workerErrors: [],
    };
    for (const [i, s] of all.entries()) {
      const g = this.groups[i]!;
      if (g.error) total.workerErrors.push(g.error);
      if (!s) {
        if (!g.error) total.workerErrors.push(`agent group ${i} did not answer`);
        continue;
      }
      for (const k of [
        'agents',
        'withState',
        'registrations',
        'reconnects',
        'snapshots',
        'changeGroups',
        'changes',
        'failovers',
        'heartbeatFailures',
        'leaseLosses',
        'warnings',
        'updates',
        'cpuMs',
        'rssMb',
        'compiles',
        'compileMs',
        'compileErrors',
      ] as const)
        total[k] += s[k];
      total.compileMaxMs = Math.max(total.compileMaxMs, s.compileMaxMs);
      if (s.heartbeatFailuresFrom === 'log') total.heartbeatFailuresFrom = 'log';
    }
    // in-process: one process, counted once per group; several local groups never happen
    return total;
  }

  /** Stop every agent (and worker). Safe to call more than once, and before start(). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of this.watches.values()) this.unwatch(w.id);
    await Promise.all(
      this.groups.map((g) =>
        g.stop().catch((e: unknown) => {
          process.stderr.write(`agent-sim: stopping a group failed: ${errorMessage(e)}\n`);
        }),
      ),
    );
  }

  /** crossProcessNow(), for callers that time against the agents' records */
  now(): number {
    return crossProcessNow();
  }
}
