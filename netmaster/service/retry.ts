/**
 * Bounded retries of optimistic transactions: an attempt returns RETRY when a guard failed (a
 * concurrent change invalidated what it read); the next attempt re-reads after a short jittered
 * backoff. After `maxAttempts` the caller gets CONFLICT and may retry later.
 */
import { Backoff } from '../../lib/backoff';
import type { Clock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';

/** 1 ms doubling to 64 ms, full jitter: contenders for the same keys spread out at once. */
const CONFLICT_BACKOFF = { initialMs: 1, maxMs: 64, jitter: 1 };

export const RETRY = Symbol('retry');

export class Retrier {
  /** attempts that had to be retried (since start) */
  conflicts = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxAttempts: number,
  ) {}

  async run<T>(what: string, fn: (attempt: number) => Promise<T | typeof RETRY>): Promise<T> {
    const backoff = new Backoff(CONFLICT_BACKOFF, { clock: this.clock });
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const r = await fn(attempt);
      if (r !== RETRY) return r;
      this.conflicts++;
      await backoff.wait();
    }
    throw new NetloomError('CONFLICT', `${what}: too many concurrent changes, gave up after ${this.maxAttempts} attempts; retry`);
  }
}
