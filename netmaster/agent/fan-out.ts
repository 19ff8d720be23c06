/**
 * The send side of every desired-state stream of one server, off the etcd watch callback. The
 * view engine only marks keys dirty (cheap, proportional to the change); streams with something
 * to send queue here and are flushed in slices of a few milliseconds between which the event
 * loop runs (heartbeats, REST), so no amount of fan-out delays a heartbeat or an API answer.
 * A stream whose client reads slowly (its write buffer is full) is skipped until it drains and
 * then sends the latest value of each key that changed meanwhile (coalesced, memory bounded by
 * its view). A stream sends at most one group per `minIntervalMs` (50 ms): an isolated change
 * goes at once, a storm of changes (a thousand agents registering) reaches each stream as a few
 * groups a second instead of one per change. Every `progressMs` the streams with nothing to send get a progress mark when etcd's
 * revision moved on, so that an agent can tell a quiet stream from a stalled one.
 */
import { performance } from 'node:perf_hooks';
import { systemClock, type Clock, type Timer } from '../../lib/clock';

/** One stream as the fan-out drives it. */
export interface FanOutStream {
  /** send what is dirty (one group and its commit marker) */
  flush(): void;
  /** send a progress mark when nothing is pending and the stream is behind `revision`; whether it did */
  progress(revision: string): boolean;
}

/** The shortest time between two groups of one stream, by default. */
export const DEFAULT_MIN_INTERVAL_MS = 50;

export interface FanOutOptions {
  /** the longest run of flushes before yielding to the event loop (default 8 ms) */
  sliceMs?: number;
  /** how often idle streams get a progress mark (default 1000 ms; 0: never) */
  progressMs?: number;
  /** the shortest time between two groups of one stream (default 50 ms; 0: no limit) */
  minIntervalMs?: number;
  clock?: Clock;
  /** the revision progress marks carry (the cluster cache's) */
  revision: () => string;
  /** called before streams are flushed or marked (the view engine applies what it holds) */
  settle?: () => void;
}

export class FanOut {
  private readonly ready = new Set<FanOutStream>();
  private readonly streams = new Set<FanOutStream>();
  /** streams that flushed less than minIntervalMs ago, waiting for their next turn */
  private readonly deferred = new Set<FanOutStream>();
  private readonly lastFlush = new WeakMap<FanOutStream, number>();
  private deferTimer: Timer | undefined;
  private scheduled = false;
  private progressTimer: Timer | undefined;
  private stopped = false;
  /** counts for metrics and tests */
  readonly stats = { flushes: 0, slices: 0, progressMarks: 0 };

  constructor(private readonly opts: FanOutOptions) {
    this.armProgress();
  }

  /** A stream to drive (progress marks) until `remove`. */
  add(s: FanOutStream): void {
    this.streams.add(s);
  }

  remove(s: FanOutStream): void {
    this.streams.delete(s);
    this.ready.delete(s);
    this.deferred.delete(s);
  }

  private get clock(): Clock {
    return this.opts.clock ?? systemClock;
  }

  /** `s` has something to send: flush it soon (once, however often this is called). */
  enqueue(s: FanOutStream): void {
    if (this.stopped || this.ready.has(s) || this.deferred.has(s)) return;
    const min = this.opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    const last = this.lastFlush.get(s);
    if (min > 0 && last !== undefined && this.clock.monotonic() - last < min) {
      this.deferred.add(s);
      // one timer for every deferred stream, due when the earliest of them may send again
      this.deferTimer ??= this.clock.after(Math.max(1, last + min - this.clock.monotonic()), () => this.releaseDeferred());
      return;
    }
    this.ready.add(s);
    this.schedule();
  }

  private releaseDeferred(): void {
    this.deferTimer = undefined;
    if (this.stopped) return;
    const min = this.opts.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
    const now = this.clock.monotonic();
    let next = Infinity;
    for (const s of this.deferred) {
      const due = (this.lastFlush.get(s) ?? 0) + min;
      if (due <= now) {
        this.deferred.delete(s);
        this.ready.add(s);
      } else next = Math.min(next, due);
    }
    if (next !== Infinity) this.deferTimer = this.clock.after(Math.max(1, next - now), () => this.releaseDeferred());
    if (this.ready.size > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  /** Streams waiting to be flushed. */
  get backlog(): number {
    return this.ready.size + this.deferred.size;
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.stats.slices++;
    this.opts.settle?.();
    const until = performance.now() + (this.opts.sliceMs ?? 8);
    for (const s of this.ready) {
      this.ready.delete(s);
      this.stats.flushes++;
      this.lastFlush.set(s, this.clock.monotonic());
      s.flush();
      if (performance.now() >= until) break;
    }
    if (this.ready.size > 0) this.schedule();
  }

  private armProgress(): void {
    const every = this.opts.progressMs ?? 1000;
    if (every <= 0 || this.stopped) return;
    const clock = this.opts.clock ?? systemClock;
    this.progressTimer = clock.after(
      every,
      () => {
        this.opts.settle?.();
        const rev = this.opts.revision();
        for (const s of this.streams) if (s.progress(rev)) this.stats.progressMarks++;
        this.armProgress();
      },
      { unref: true },
    );
  }

  stop(): void {
    this.stopped = true;
    this.progressTimer?.cancel();
    this.deferTimer?.cancel();
    this.deferred.clear();
    this.ready.clear();
    this.streams.clear();
  }
}
