/**
 * Bounded retries of optimistic transactions: an attempt returns RETRY when a guard failed (a
 * concurrent change invalidated what it read); the next attempt re-reads after a short jittered
 * backoff. After `maxAttempts` the caller gets CONFLICT and may retry later.
 */
import { NetloomError } from '../../lib/errors';
import type { Clock } from '../../lib/clock';

export const RETRY = Symbol('retry');

export class Retrier {
  /** attempts that had to be retried (since start) */
  conflicts = 0;

  constructor(
    private readonly clock: Clock,
    private readonly maxAttempts: number,
  ) {}

  async run<T>(what: string, fn: (attempt: number) => Promise<T | typeof RETRY>): Promise<T> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const r = await fn(attempt);
      if (r !== RETRY) return r;
      this.conflicts++;
      await this.clock.sleep(Math.random() * 2 ** Math.min(attempt, 6));
    }
    throw new NetloomError('CONFLICT', `${what}: too many concurrent changes, gave up after ${this.maxAttempts} attempts; retry`);
  }
}
