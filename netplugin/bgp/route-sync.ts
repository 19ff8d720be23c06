/**
 * The one applier of BGP routes to the host's kernel: every change GoBGP reports (RIB watch) runs
 * one sync, which reads the RIB (ListPath), computes the difference to the main table
 * (rib-routes.ts, kernel-routes.ts) and applies it with one `ip -batch`. The table is read at the
 * first sync, after a failure and every `resyncMs`; in between what was applied is trusted (one
 * process fewer on the convergence path). Syncs never overlap;
 * changes arriving during one run one more after it. Nothing is flushed at start: routes learned
 * before an agent or gobgpd restart stay, unwanted ones are deleted only once the RIB has
 * converged (every configured peer established for `settleMs`, or `graceMs` after gobgpd
 * (re)started), while new and changed routes are applied at once.
 */
import { EventEmitter } from 'node:events';
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import type { GobgpClient, Watch } from './gobgp-client';
import { kernelAfter, parseKernelRoutes, planKernelRoutes, type KernelTable, type RoutePlan } from './kernel-routes';
import { ribRoutes } from './rib-routes';
import type { GobgpSupervisor } from './supervisor';

const UPTIME_RESOLUTION_MS = 1000;

export interface RouteSyncOptions {
  supervisor: GobgpSupervisor;
  /** the host's network namespace (default: this process's) */
  netns?: string;
  /** runs `ip` (default lib/exec's run) */
  runner?: CommandRunner;
  /** this host's addresses, never used as next hops */
  selfAddresses?: readonly string[];
  /** the routed uplink: every route goes `via NH dev DEV onlink` (undefined: the kernel picks the device) */
  dev?: string;
  maxPaths?: number;
  /** peers established this long count as converged (default 1000 ms) */
  settleMs?: number;
  /** after a gobgpd (re)start, deletes are allowed after this long whatever the peers (default 30 s) */
  graceMs?: number;
  /** the kernel's table is read again at least this often (default 60 s); in between, what was applied is trusted */
  resyncMs?: number;
  /** delays between retries of a failed sync (default 200 ms doubling to 5 s) */
  retryBackoff?: BackoffPolicy;
  clock?: Clock;
  logger?: Logger;
}

export interface SyncEvents {
  /** a sync changed the kernel (plan.lines not empty) */
  applied: [plan: RoutePlan];
  syncFailed: [error: Error];
}

export class RouteSync extends EventEmitter<SyncEvents> {
  private readonly clock: Clock;
  private readonly runner: CommandRunner;
  private readonly retry: Backoff;
  private watch: Watch | undefined;
  private client: GobgpClient | undefined;
  private startedAt = 0;
  private converged = false;
  private running = false;
  private again = false;
  private stopped = true;
  private idle: Promise<void> = Promise.resolve();
  private timers = new Set<Timer>();
  /** what the kernel holds, as read or as left by the last successful apply */
  private kernel: KernelTable | undefined;
  private kernelReadAt = 0;
  /** peer address -> when the watch saw its session come up (monotonic ms) */
  private readonly establishedAt = new Map<string, number>();
  private readonly onStarted = (c: GobgpClient): void => this.attach(c);

  constructor(private readonly opts: RouteSyncOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.runner = opts.runner ?? run;
    this.retry = new Backoff(opts.retryBackoff ?? { initialMs: 200, maxMs: 5000 }, { clock: this.clock });
  }

  /** Whether unwanted routes are being deleted (the RIB converged since the last gobgpd start). */
  get isConverged(): boolean {
    return this.converged;
  }

  start(): void {
    this.stopped = false;
    this.opts.supervisor.on('started', this.onStarted);
    const c = this.opts.supervisor.client;
    if (c) this.attach(c);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.supervisor.off('started', this.onStarted);
    this.watch?.cancel();
    this.watch = undefined;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    await this.idle;
  }

  private attach(c: GobgpClient): void {
    if (this.stopped) return;
    this.watch?.cancel();
    this.client = c;
    this.startedAt = this.clock.monotonic();
    this.converged = false;
    this.establishedAt.clear();
    this.watch = c.watch(
      (e) => {
        if (e.kind === 'peer') {
          if (e.state !== 'ESTABLISHED') this.establishedAt.delete(e.address);
          else if (!this.establishedAt.has(e.address)) this.establishedAt.set(e.address, this.clock.monotonic());
        }
        this.kick();
      },
      (err) => {
        // gobgpd went away: the supervisor restarts it and we attach again on 'started'
        if (err) this.opts.logger?.debug({ err: err.message }, 'RIB watch ended');
      },
    );
    this.kick();
    this.later(this.opts.graceMs ?? 30_000);
  }

  private later(ms: number): void {
    const t = this.clock.after(ms, () => {
      this.timers.delete(t);
      this.kick();
    });
    this.timers.add(t);
  }

  /** Ask for a sync (runs now, or once more after the one running). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = false;
      }
    })();
  }

  /** Run one sync now and wait for it (tests, and callers that changed routes by hand). */
  async sync(): Promise<void> {
    this.kick();
    await this.idle;
  }

  /**
   * Whether the RIB is complete enough to delete by: every peer established for `settleMs`. The
   * time a session came up is when the watch reported it (GoBGP's uptime has whole seconds only);
   * for sessions already up when we attached (an adopted gobgpd), GoBGP's uptime.
   */
  private async checkConverged(c: GobgpClient): Promise<boolean> {
    if (this.converged) return true;
    const now = this.clock.monotonic();
    if (now - this.startedAt >= (this.opts.graceMs ?? 30_000)) return (this.converged = true);
    const settle = this.opts.settleMs ?? 1000;
    const peers = await c.listPeers();
    const wall = this.clock.now();
    const upFor = peers.map((p) => {
      if (p.state !== 'ESTABLISHED') return -1;
      const seen = this.establishedAt.get(p.address);
      if (seen !== undefined) return now - seen;
      // GoBGP's uptime is truncated to whole seconds: the session may be up to 1 s younger
      return p.uptimeSince !== undefined ? Math.max(0, wall - p.uptimeSince - UPTIME_RESOLUTION_MS) : -1;
    });
    if (peers.length > 0 && upFor.every((u) => u >= settle)) return (this.converged = true);
    // not yet: look again once the last peer up has been up long enough
    if (upFor.every((u) => u >= 0)) this.later(Math.max(50, settle - Math.min(...upFor)));
    return false;
  }

  /** `ip` in the host's namespace: `ip -n NS` enters only the network namespace (`ip netns exec` also remounts /sys). */
  private ip(args: string[], input?: string): ReturnType<CommandRunner> {
    const ns = this.opts.netns ? ['-n', this.opts.netns] : [];
    return this.runner('ip', [...ns, ...args], input === undefined ? {} : { input, allowFailure: true });
  }

  /** Forget what the kernel holds: the next sync reads it again (also done every `resyncMs`). */
  invalidate(): void {
    this.kernel = undefined;
  }

  private async syncOnce(): Promise<void> {
    const c = this.client;
    if (!c || c !== this.opts.supervisor.client) return;
    try {
      // convergence first: a RIB read before it may still be filling
      const deletes = await this.checkConverged(c);
      const rib = await c.listPaths();
      const want = ribRoutes(rib, { selfAddresses: this.opts.selfAddresses, maxPaths: this.opts.maxPaths });
      if (this.clock.monotonic() - this.kernelReadAt >= (this.opts.resyncMs ?? 60_000)) this.kernel = undefined;
      if (!this.kernel) {
        this.kernel = parseKernelRoutes((await this.ip(['-N', '-j', 'route', 'show', 'table', 'main'])).stdout);
        this.kernelReadAt = this.clock.monotonic();
      }
      const before = this.kernel;
      const plan = planKernelRoutes(want, before, { deletes, ...(this.opts.dev ? { dev: this.opts.dev } : {}) });
      if (plan.lines.length === 0) return;
      // unknown until read again, unless every line succeeds
      this.kernel = undefined;
      // -force: one bad line (an unreachable next hop) does not stop the others; the next sync retries it
      const r = await this.ip(['-force', '-batch', '-'], plan.lines.join('\n') + '\n');
      if (r.code === 0) this.kernel = kernelAfter(before, plan, want);
      this.opts.logger?.info({ replaced: plan.replaced, deleted: plan.deleted }, 'BGP routes applied');
      this.emit('applied', plan);
      if (r.code !== 0) throw new Error(`ip -batch: ${r.stderr.trim().slice(0, 500)}`);
      this.retry.reset();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.kernel = undefined;
      this.opts.logger?.warn({ err: errorMessage(err) }, 'BGP route sync failed');
      this.emit('syncFailed', err);
      if (!this.stopped) this.later(this.retry.next());
    }
  }
}
