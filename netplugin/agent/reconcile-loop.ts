/**
 * Runs the agent's reconcile (compute the pipeline, apply it) whenever something changed, one run
 * at a time: bursts of triggers are coalesced into one run after a short quiet time, a failed run is
 * retried with exponential backoff, and callers can wait until a run that started after their
 * trigger has succeeded (`settled`, which skips the quiet time). Time goes through a Clock (a
 * fake one in tests).
 */
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

export interface ReconcileLoopOptions {
  /** quiet time before a run, to coalesce bursts (default 10 ms) */
  coalesceMs?: number;
  /** first retry delay after a failure (default 100 ms), doubled up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** told about every run */
  onRun?: (r: { ok: boolean; ms: number; error?: string }) => void;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: Timer | undefined;
}

export class ReconcileLoop {
  private requested = 0;
  private completed = 0;
  private running = false;
  private timer: Timer | undefined;
  private stopped = false;
  private waiters: Waiter[] = [];
  private readonly clock: Clock;
  /** the pause before retrying a failed run; its attempt is the count of failures in a row */
  private readonly backoff: Backoff;

  constructor(
    private readonly reconcile: () => Promise<void>,
    private readonly opts: ReconcileLoopOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: opts.minBackoffMs ?? 100, maxMs: opts.maxBackoffMs ?? 5000 }, { clock: this.clock });
  }

  private get failures(): number {
    return this.backoff.attempt;
  }

  /**
   * Something changed: make sure a run starts after this call. `now` also cuts short a backoff
   * wait after failures (say the switch is back), instead of waiting for it to end.
   */
  trigger(opts: { now?: boolean } = {}): void {
    if (this.stopped) return;
    this.requested++;
    if (opts.now && this.timer !== undefined && !this.running) {
      this.timer.cancel();
      this.timer = undefined;
      this.backoff.reset();
    }
    if (!this.running && this.timer === undefined) this.schedule(this.opts.coalesceMs ?? 10);
  }

  /**
   * Trigger, and resolve once a run that started after this call succeeded. Somebody waits (a CNI
   * ADD, say), so the run starts without the coalescing quiet time, unless a failure backoff is
   * pending (that one is kept).
   */
  settled(timeoutMs = 10_000): Promise<void> {
    this.trigger();
    if (this.timer !== undefined && !this.running && this.failures === 0) {
      this.timer.cancel();
      this.schedule(0);
    }
    const target = this.requested;
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { target, resolve, reject, timer: undefined };
      w.timer = this.clock.after(timeoutMs, () => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new NetloomError('TIMEOUT', `reconcile did not succeed within ${timeoutMs} ms`));
      });
      this.waiters.push(w);
    });
  }

  get pending(): boolean {
    return this.completed < this.requested;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    for (const w of this.waiters) {
      w.timer?.cancel();
      w.reject(new NetloomError('UNAVAILABLE', 'agent is stopping'));
    }
    this.waiters = [];
  }

  private schedule(ms: number): void {
    this.timer = this.clock.after(ms, () => {
      this.timer = undefined;
      void this.runOnce();
    });
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const target = this.requested;
    const started = this.clock.monotonic();
    let ok = false;
    let retryInMs = 0;
    try {
      await this.reconcile();
      ok = true;
      this.backoff.reset();
      this.completed = Math.max(this.completed, target);
      this.opts.onRun?.({ ok: true, ms: this.clock.monotonic() - started });
    } catch (e) {
      retryInMs = this.backoff.next();
      this.opts.onRun?.({ ok: false, ms: this.clock.monotonic() - started, error: errorMessage(e) });
      this.opts.logger?.warn({ err: errorMessage(e), failures: this.failures }, 'reconcile failed; retrying');
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (ok) {
      const done = this.waiters.filter((w) => w.target <= this.completed);
      this.waiters = this.waiters.filter((w) => w.target > this.completed);
      for (const w of done) {
        w.timer?.cancel();
        w.resolve();
      }
      if (this.requested > this.completed) this.schedule(this.opts.coalesceMs ?? 10);
    } else {
      this.schedule(retryInMs);
    }
  }
}
