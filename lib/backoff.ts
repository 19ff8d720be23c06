/**
 * The one retry backoff of the product: exponential with a cap, optional jitter (on an injectable
 * random source), reset on success, and waits through the Clock that an AbortSignal cuts short.
 * Every reconnect and retry loop takes its delays from here, each with its own bounds.
 */
import { systemClock, type Clock } from './clock';
import { NetloomError, errorMessage } from './errors';

export interface BackoffPolicy {
  /** delay before the first retry */
  initialMs: number;
  /** no delay is longer than this */
  maxMs: number;
  /** each retry waits this many times longer than the previous one (>= 1; default 2) */
  factor?: number;
  /**
   * 0 (default): exact delays. A fraction f in (0, 1]: each delay is randomised downwards by up to
   * f of it (1 is "full jitter", anywhere in [0, d]). 'decorrelated': anywhere between initialMs
   * and three times the previous delay, capped (spreads many clients retrying the same server).
   */
  jitter?: number | 'decorrelated';
}

export function validateBackoff<P extends BackoffPolicy>(p: P): P {
  const bad = (field: string, why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `backoff ${field} ${why}`, { field: `backoff.${field}` });
  };
  if (!(Number.isFinite(p.initialMs) && p.initialMs >= 0)) bad('initialMs', 'must be a number >= 0');
  if (!(Number.isFinite(p.maxMs) && p.maxMs >= p.initialMs)) bad('maxMs', 'must be >= initialMs');
  const factor = p.factor ?? 2;
  if (!(Number.isFinite(factor) && factor >= 1)) bad('factor', 'must be >= 1');
  const j = p.jitter ?? 0;
  if (j !== 'decorrelated' && !(Number.isFinite(j) && j >= 0 && j <= 1)) bad('jitter', "must be between 0 and 1, or 'decorrelated'");
  return p;
}

/**
 * Delay before retry number `attempt` (0-based), in whole ms. `random` returns a value in [0, 1);
 * `previousMs` is the delay before the previous retry (decorrelated jitter only).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random, previousMs?: number): number {
  const { initialMs, maxMs } = policy;
  if (policy.jitter === 'decorrelated') {
    const upper = Math.max(initialMs, 3 * (previousMs ?? initialMs));
    return Math.round(Math.min(maxMs, initialMs + random() * (upper - initialMs)));
  }
  const n = Math.max(0, Math.floor(attempt));
  const raw = Math.min(maxMs, initialMs * Math.pow(policy.factor ?? 2, Math.min(n, 64)));
  return Math.round(raw * (1 - (policy.jitter ?? 0) * random()));
}

export interface BackoffOptions {
  /** waits through this clock (default the system clock) */
  clock?: Clock;
  /** returns a value in [0, 1) (default Math.random) */
  random?: () => number;
}

/** The delays of one retrying activity: each `next()` is longer, up to the cap, until `reset()`. */
export class Backoff {
  readonly policy: BackoffPolicy;
  private readonly clock: Clock;
  private readonly random: () => number;
  private retries = 0;
  private previous: number | undefined;

  constructor(policy: BackoffPolicy, opts: BackoffOptions = {}) {
    this.policy = validateBackoff(policy);
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
  }

  /** Retries since the last reset (the 0-based number of the next one). */
  get attempt(): number {
    return this.retries;
  }

  /** The delay before the next retry; counts that retry. */
  next(): number {
    const ms = backoffDelay(this.retries, this.policy, this.random, this.previous);
    this.retries++;
    this.previous = ms;
    return ms;
  }

  /** Success (or a fresh start): the next delay is the first one again. */
  reset(): void {
    this.retries = 0;
    this.previous = undefined;
  }

  /** Wait the next delay; false when `signal` aborted (before or during the wait). */
  async wait(signal?: AbortSignal, opts?: { unref?: boolean }): Promise<boolean> {
    if (signal?.aborted) return false;
    await this.clock.sleep(this.next(), signal, opts);
    return !signal?.aborted;
  }
}

export interface RetryOptions extends BackoffOptions {
  policy: BackoffPolicy;
  /** stops retrying: the wait in progress ends and `retry` rejects with UNAVAILABLE */
  signal?: AbortSignal;
  /** attempts in all before the last error is thrown (default: no limit) */
  maxAttempts?: number;
  /** whether a failure is worth another attempt (default: every one is) */
  retryable?: (e: unknown) => boolean;
  /** told before each wait */
  onRetry?: (r: { attempt: number; delayMs: number; error: string }) => void;
}

/** Run `fn` until it resolves, waiting the backoff between failed attempts (0-based `attempt`). */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const backoff = new Backoff(opts.policy, opts);
  let last: unknown;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new NetloomError('UNAVAILABLE', 'retry cancelled', { cause: last });
    try {
      return await fn(attempt);
    } catch (e) {
      last = e;
      if (attempt + 1 >= (opts.maxAttempts ?? Infinity) || !(opts.retryable?.(e) ?? true)) throw e;
      const delayMs = backoff.next();
      opts.onRetry?.({ attempt, delayMs, error: errorMessage(e) });
      await (opts.clock ?? systemClock).sleep(delayMs, opts.signal);
    }
  }
}
