/**
 * The one clock of the product: wall time for timestamps, monotonic time for anything measured
 * (elapsed times, deadlines), and the timers that wait. Logic with time in it takes a Clock so
 * that tests drive time by hand (test/support/fake-clock.ts) instead of waiting.
 */

/** A timer armed with `Clock.after`; `cancel` is safe to call more than once or after it fired. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** wall time in ms since the epoch: for timestamps only (it jumps when the system time is set) */
  now(): number;
  /** ms from an arbitrary origin that never goes back: for elapsed times and deadlines */
  monotonic(): number;
  /**
   * Resolves after `ms`, or as soon as `signal` aborts (it never rejects: check `signal.aborted`).
   * `unref`: the sleep alone does not keep the process alive.
   */
  sleep(ms: number, signal?: AbortSignal, opts?: { unref?: boolean }): Promise<void>;
  /**
   * Runs `fn` once after `ms` unless cancelled first. `unref`: the timer alone does not keep the
   * process alive (for keepalives and timeouts of something else that does).
   */
  after(ms: number, fn: () => void, opts?: { unref?: boolean }): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal, opts) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      if (opts?.unref) t.unref();
      signal?.addEventListener('abort', done, { once: true });
    }),
  after: (ms, fn, opts) => {
    const t = setTimeout(fn, ms);
    if (opts?.unref) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Poll `check` until it returns a truthy value or `timeoutMs` passes; returns the value or throws. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  opts: { timeoutMs?: number; intervalMs?: number; clock?: Clock } = {},
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.monotonic() + (opts.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (clock.monotonic() >= deadline) {
      const suffix = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}${suffix}`);
    }
    await clock.sleep(opts.intervalMs ?? 100);
  }
}
