/**
 * Runs the agent's reconcile (compute the pipeline, apply it) whenever something changed, one run
 * at a time: bursts of triggers are coalesced into one run after a short quiet time, a failed run is
 * retried with exponential backoff, and callers can wait until a run that started after their
 * trigger has succeeded (`settled`, which skips the quiet time). Timers are injectable for tests.
 */
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

export interface LoopTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LoopTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ReconcileLoopOptions {
  /** quiet time before a run, to coalesce bursts (default 10 ms) */
  coalesceMs?: number;
  /** first retry delay after a failure (default 100 ms), doubled up to maxBackoffMs */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  timers?: LoopTimers;
  logger?: Logger;
  /** told about every run */
  onRun?: (r: { ok: boolean; ms: number; error?: string }) => void;
}

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: unknown;
}

export class ReconcileLoop {
  private requested = 0;
  private completed = 0;
  private running = false;
  private timer: unknown;
  private failures = 0;
  private stopped = false;
  private waiters: Waiter[] = [];
  private readonly timers: LoopTimers;

  constructor(
    private readonly reconcile: () => Promise<void>,
    private readonly opts: ReconcileLoopOptions = {},
  ) {
    this.timers = opts.timers ?? realTimers;
  }

  /**
   * Something changed: make sure a run starts after this call. `now` also cuts short a backoff
   * wait after failures (say the switch is back), instead of waiting for it to end.
   */
  trigger(opts: { now?: boolean } = {}): void {
    if (this.stopped) return;
    this.requested++;
    if (opts.now && this.timer !== undefined && !this.running) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
      this.failures = 0;
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
      this.timers.clearTimeout(this.timer);
      this.schedule(0);
    }
    const target = this.requested;
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { target, resolve, reject, timer: undefined };
      w.timer = this.timers.setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new NetloomError('TIMEOUT', `reconcile did not succeed within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  get pending(): boolean {
    return this.completed < this.requested;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) {
      this.timers.clearTimeout(w.timer);
      w.reject(new NetloomError('UNAVAILABLE', 'agent is stopping'));
    }
    this.waiters = [];
  }

  private schedule(ms: number): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      void this.runOnce();
    }, ms);
  }

  private async runOnce(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    const target = this.requested;
    const started = Date.now();
    let ok = false;
    try {
      await this.reconcile();
      ok = true;
      this.failures = 0;
      this.completed = Math.max(this.completed, target);
      this.opts.onRun?.({ ok: true, ms: Date.now() - started });
    } catch (e) {
      this.failures++;
      this.opts.onRun?.({ ok: false, ms: Date.now() - started, error: errorMessage(e) });
      this.opts.logger?.warn({ err: errorMessage(e), failures: this.failures }, 'reconcile failed; retrying');
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    if (ok) {
      const done = this.waiters.filter((w) => w.target <= this.completed);
      this.waiters = this.waiters.filter((w) => w.target > this.completed);
      for (const w of done) {
        this.timers.clearTimeout(w.timer);
        w.resolve();
      }
      if (this.requested > this.completed) this.schedule(this.opts.coalesceMs ?? 10);
    } else {
      const min = this.opts.minBackoffMs ?? 100;
      const max = this.opts.maxBackoffMs ?? 5000;
      this.schedule(Math.min(max, min * 2 ** Math.min(this.failures - 1, 20)));
    }
  }
}
