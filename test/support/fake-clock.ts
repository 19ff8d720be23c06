/**
 * A Clock for tests: time stands still until the test moves it, and then the timers and sleeps
 * that fall due fire in due-time order (ties in the order they were armed), so code that retries,
 * backs off or times out runs in microseconds and the same way every time.
 */
import type { Clock, Timer } from '../../lib/clock';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/** Let promise callbacks and I/O callbacks already queued run (a few turns of the event loop). */
export async function flushAsync(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private elapsed = 0;
  private seq = 0;
  private timers: Pending[] = [];

  /** `wallStart`: what now() says before time moves; monotonic() starts at `monotonicStart` */
  constructor(
    private readonly wallStart = Date.UTC(2026, 0, 1),
    private readonly monotonicStart = 1_000_000,
  ) {}

  now(): number {
    return this.wallStart + this.elapsed;
  }

  monotonic(): number {
    return this.monotonicStart + this.elapsed;
  }

  after(ms: number, fn: () => void): Timer {
    const timer = { id: ++this.seq, at: this.elapsed + Math.max(0, ms), fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((x) => x !== timer)) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const wake = (): void => {
        timer.cancel();
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = this.after(ms, wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  /** Timers and sleeps not fired (nor cancelled) yet. */
  get pending(): number {
    return this.timers.length;
  }

  /** ms from now until the next timer is due (undefined when none is armed). */
  get nextDueIn(): number | undefined {
    const next = this.nextDue(Infinity);
    return next === undefined ? undefined : next.at - this.elapsed;
  }

  /**
   * Move time forward by `ms` at once, firing the due timers in order (timers they arm fire too
   * if due). Callbacks run synchronously; code that awaits a sleep goes on only when the test
   * lets promises run, so a loop that sleeps again needs `tick` instead.
   */
  advance(ms: number): void {
    const end = this.elapsed + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const next = this.nextDue(end);
      if (!next) break;
      this.fire(next);
    }
    this.elapsed = end;
  }

  /**
   * Move time forward by `ms` one due timer at a time, letting promise callbacks run after each,
   * so a loop that awaits a sleep, does something and sleeps again is followed step by step.
   */
  async tick(ms: number): Promise<void> {
    const end = this.elapsed + ms;
    await flushAsync();
    for (let guard = 0; guard < 100_000; guard++) {
      const next = this.nextDue(end);
      if (!next) break;
      this.fire(next);
      await flushAsync();
    }
    this.elapsed = end;
    await flushAsync();
  }

  private nextDue(until: number): Pending | undefined {
    let next: Pending | undefined;
    for (const x of this.timers)
      if (x.at <= until && (next === undefined || x.at < next.at || (x.at === next.at && x.id < next.id))) next = x;
    return next;
  }

  private fire(t: Pending): void {
    this.timers = this.timers.filter((x) => x !== t);
    this.elapsed = Math.max(this.elapsed, t.at);
    t.fn();
  }
}
