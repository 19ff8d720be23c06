/**
 * Runs one host's gobgpd and keeps it at the desired configuration. gobgpd starts with no config
 * file (`--api-hosts API --pprof-disable`, inside the host's namespace when given) and is only
 * ever configured through its API. It runs detached from the agent with its PID in a file, so an
 * agent restart adopts the running daemon (sessions and routes stay up) instead of starting a
 * second one. When gobgpd dies it is started again after the product's one backoff (reset once a
 * run lasted `stableMs`), and after every start or adoption, and every `setDesired`, one reconcile
 * reads what gobgpd holds and applies the difference (speaker-plan.ts). A failed reconcile is
 * retried with its own backoff.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import { inNetns } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { isOurProcess, processCmdline, stopProcess } from '../../lib/process';
import { GobgpClient } from './gobgp-client';
import { localPaths, planIsEmpty, planSpeaker, type SpeakerPlan } from './speaker-plan';
import { parseSpeakerConfig, type SpeakerConfig } from './speaker-config';

export interface GobgpSupervisorOptions {
  /** gobgpd's API address, given to `--api-hosts` and dialled: `127.0.0.1:PORT`, or `unix:///PATH` */
  api: string;
  /** run gobgpd in this network namespace */
  netns?: string;
  /** the gobgpd program (default `gobgpd` on PATH) */
  binary?: string;
  /** gobgpd's output is appended here (default: discarded) */
  logFile?: string;
  /** where the PID of the running gobgpd is kept, for adoption after an agent restart */
  pidFile?: string;
  /** delays between restarts of a dying gobgpd (default 200 ms doubling to 10 s) */
  restartBackoff?: BackoffPolicy;
  /** delays between retries of a failed reconcile (default 200 ms doubling to 5 s) */
  reconcileBackoff?: BackoffPolicy;
  /** a run this long resets the restart backoff (default 30 s) */
  stableMs?: number;
  /** how often an adopted gobgpd (not our child, no exit event) is checked (default 500 ms) */
  adoptedPollMs?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface SupervisorEvents {
  /** gobgpd answers on its API (after a start, a restart or an adoption); `run` counts them from 1 */
  started: [client: GobgpClient, run: number];
  /** gobgpd ended without being asked to */
  exited: [info: { pid: number; code: number | null; signal: string | null; run: number }];
  reconciled: [plan: SpeakerPlan];
  reconcileFailed: [error: Error];
}

interface Running {
  pid: number;
  child: ChildProcess | undefined;
  startedAt: number;
  run: number;
}

const DEFAULT_RESTART: BackoffPolicy = { initialMs: 200, maxMs: 10_000 };
const DEFAULT_RECONCILE: BackoffPolicy = { initialMs: 200, maxMs: 5_000 };

export class GobgpSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly clock: Clock;
  private readonly restartBackoff: Backoff;
  private readonly reconcileBackoff: Backoff;
  private desired: SpeakerConfig | undefined;
  private running: Running | undefined;
  private current: GobgpClient | undefined;
  private runs = 0;
  private stopping = false;
  private timers = new Set<Timer>();
  private chain: Promise<unknown> = Promise.resolve();
  private retryArmed = false;

  constructor(private readonly opts: GobgpSupervisorOptions) {
    super();
    if (!/^(unix:\/\/\/\S+|[0-9.]+:\d{1,5})$/.test(opts.api))
      throw new NetloomError('INVALID_ARGUMENT', 'gobgp supervisor: api must be HOST:PORT or unix:///PATH', { field: 'api' });
    this.clock = opts.clock ?? systemClock;
    this.restartBackoff = new Backoff(opts.restartBackoff ?? DEFAULT_RESTART, { clock: this.clock });
    this.reconcileBackoff = new Backoff(opts.reconcileBackoff ?? DEFAULT_RECONCILE, { clock: this.clock });
  }

  /** The client of the gobgpd now running (undefined while it is down). */
  get client(): GobgpClient | undefined {
    return this.current;
  }

  /** PID of the gobgpd now running. */
  get pid(): number | undefined {
    return this.running?.pid;
  }

  /** How many times gobgpd was started or adopted. */
  get runCount(): number {
    return this.runs;
  }

  /**
   * Start supervising: adopt the gobgpd of a previous agent when the PID file names one of ours
   * on the same API, else start one; resolves once it answers and the desired state (if set) is applied.
   */
  async start(desired?: unknown): Promise<void> {
    if (desired !== undefined) this.desired = parseSpeakerConfig(desired);
    this.stopping = false;
    const adopted = this.adopt();
    if (!adopted) this.spawnDaemon();
    await this.connect();
  }

  /** Set the desired configuration (validated: INVALID_ARGUMENT naming the field) and reconcile to it. */
  async setDesired(desired: unknown): Promise<SpeakerPlan | undefined> {
    this.desired = parseSpeakerConfig(desired);
    return this.reconcile();
  }

  /**
   * Stop supervising. gobgpd is stopped too unless `keepDaemon` (an agent shutting down for a
   * restart: the sessions and the announced routes stay, the next agent adopts it).
   */
  async stop(opts: { keepDaemon?: boolean } = {}): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    this.current?.close();
    this.current = undefined;
    const r = this.running;
    this.running = undefined;
    if (r && !opts.keepDaemon) {
      await stopProcess(r.pid, 'gobgpd');
      if (this.opts.pidFile) rmSync(this.opts.pidFile, { force: true });
    }
    await this.chain.catch(() => undefined);
  }

  /** Read what gobgpd holds and apply the difference to the desired state (serialized). */
  reconcile(): Promise<SpeakerPlan | undefined> {
    const p = this.chain.then(() => this.reconcileOnce());
    this.chain = p.catch(() => undefined);
    return p;
  }

  private after(ms: number, fn: () => void): void {
    const t = this.clock.after(ms, () => {
      this.timers.delete(t);
      fn();
    });
    this.timers.add(t);
  }

  private adopt(): boolean {
    const file = this.opts.pidFile;
    if (!file) return false;
    let pid: number;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      return false;
    }
    // only a gobgpd serving our API address: a recycled PID or another host's daemon is left alone
    if (!(pid > 0) || !isOurProcess(pid, 'gobgpd') || !(processCmdline(pid) ?? []).includes(this.opts.api)) return false;
    const run = ++this.runs;
    this.running = { pid, child: undefined, startedAt: this.clock.monotonic(), run };
    this.opts.logger?.info({ pid, api: this.opts.api }, 'adopted running gobgpd');
    const poll = (): void => {
      if (this.stopping || this.running?.run !== run) return;
      if (isOurProcess(pid, 'gobgpd')) this.after(this.opts.adoptedPollMs ?? 500, poll);
      else this.exited(run, null, null);
    };
    this.after(this.opts.adoptedPollMs ?? 500, poll);
    return true;
  }

  private spawnDaemon(): void {
    const api = this.opts.api;
    // a unix socket left by a killed gobgpd makes the next one fail to listen
    if (api.startsWith('unix://')) rmSync(api.slice('unix://'.length), { force: true });
    const [file, argv] = inNetns(this.opts.netns, this.opts.binary ?? 'gobgpd', ['--api-hosts', api, '--pprof-disable']);
    const fd = this.opts.logFile ? openSync(this.opts.logFile, 'a') : undefined;
    let child: ChildProcess;
    try {
      // detached: gobgpd outlives an agent that stops with keepDaemon (or crashes)
      child = spawn(file, argv, { detached: true, stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'] });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const pid = child.pid;
    // a program that cannot be run reports it as an 'error' event too: without a listener it would end the agent
    if (pid === undefined) {
      child.once('error', () => undefined);
      throw new NetloomError('COMMAND_FAILED', `could not start ${file} ${argv.join(' ')}`);
    }
    child.unref();
    const run = ++this.runs;
    this.running = { pid, child, startedAt: this.clock.monotonic(), run };
    child.once('exit', (code, signal) => this.exited(run, code, signal));
    child.once('error', (e) => this.opts.logger?.error({ err: errorMessage(e) }, 'gobgpd spawn failed'));
    if (this.opts.pidFile) writeFileSync(this.opts.pidFile, `${pid}\n`);
    this.opts.logger?.info({ pid, run, api }, 'started gobgpd');
  }

  private exited(run: number, code: number | null, signal: string | null): void {
    const r = this.running;
    if (this.stopping || !r || r.run !== run) return;
    this.running = undefined;
    this.current?.close();
    this.current = undefined;
    if (this.clock.monotonic() - r.startedAt >= (this.opts.stableMs ?? 30_000)) this.restartBackoff.reset();
    const delay = this.restartBackoff.next();
    this.opts.logger?.warn({ pid: r.pid, code, signal, restartInMs: delay }, 'gobgpd exited');
    this.emit('exited', { pid: r.pid, code, signal, run });
    this.after(delay, () => {
      if (this.stopping) return;
      try {
        this.spawnDaemon();
      } catch (e) {
        this.opts.logger?.error({ err: errorMessage(e) }, 'gobgpd restart failed');
        this.exited(run, null, null);
        return;
      }
      this.connect().catch((e) => this.opts.logger?.warn({ err: errorMessage(e) }, 'gobgpd not ready after restart'));
    });
  }

  /** Dial the running gobgpd until it answers (it dies: the exit path takes over), then reconcile. */
  private async connect(): Promise<void> {
    const r = this.running;
    if (!r) throw new NetloomError('UNAVAILABLE', 'gobgpd is not running');
    const client = new GobgpClient(this.opts.api);
    for (;;) {
      if (this.stopping || this.running?.run !== r.run) {
        client.close();
        throw new NetloomError('UNAVAILABLE', `gobgpd (pid ${r.pid}) ended before its API answered`);
      }
      try {
        await client.waitReady(1000);
        await client.getBgp();
        break;
      } catch {
        // not listening yet
        await this.clock.sleep(50);
      }
    }
    this.current = client;
    this.emit('started', client, r.run);
    try {
      await this.reconcile();
    } catch {
      // reported and retried by reconcileOnce
    }
  }

  private async reconcileOnce(): Promise<SpeakerPlan | undefined> {
    const desired = this.desired;
    const c = this.current;
    if (!desired || !c || this.stopping) return undefined;
    try {
      const global = await c.getBgp();
      const actual = {
        global,
        peers: global ? await c.listPeers() : [],
        paths: global ? localPaths(await c.listPaths()) : [],
      };
      const plan = planSpeaker(desired, actual);
      if (plan.stop) await c.stopBgp();
      if (plan.start) await c.startBgp(desired.global);
      for (const a of plan.deletePeers) await c.deletePeer(a);
      for (const p of plan.addPeers) await c.addPeer(p);
      for (const p of plan.deletePaths) await c.deletePath(p);
      for (const p of plan.addPaths) await c.addPath(p);
      this.reconcileBackoff.reset();
      if (!planIsEmpty(plan)) this.opts.logger?.info({ plan }, 'gobgp reconciled');
      this.emit('reconciled', plan);
      return plan;
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.opts.logger?.warn({ err: err.message }, 'gobgp reconcile failed');
      this.emit('reconcileFailed', err);
      if (!this.retryArmed && !this.stopping) {
        this.retryArmed = true;
        this.after(this.reconcileBackoff.next(), () => {
          this.retryArmed = false;
          this.reconcile().catch(() => undefined);
        });
      }
      throw err;
    }
  }
}
