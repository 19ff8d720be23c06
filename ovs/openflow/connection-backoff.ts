/**
 * The reconnect schedule of an active connection: exponential backoff with a cap and optional
 * jitter, as a pure function of the attempt number (0 for the first retry).
 */
import { NetloomError } from '../../lib/errors';

export interface BackoffPolicy {
  /** delay before the first retry */
  initialMs: number;
  /** no delay is longer than this */
  maxMs: number;
  /** each retry waits this many times longer than the previous one (>= 1) */
  factor: number;
  /** fraction of the delay that is randomised downwards (0 = none, 0.5 = delay in [d/2, d]) */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 8000, factor: 2, jitter: 0.2 };

export function validateBackoff(p: BackoffPolicy): BackoffPolicy {
  const bad = (field: string, why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `backoff ${field} ${why}`, { field: `backoff.${field}` });
  };
  if (!(Number.isFinite(p.initialMs) && p.initialMs >= 0)) bad('initialMs', 'must be a number >= 0');
  if (!(Number.isFinite(p.maxMs) && p.maxMs >= p.initialMs)) bad('maxMs', 'must be >= initialMs');
  if (!(Number.isFinite(p.factor) && p.factor >= 1)) bad('factor', 'must be >= 1');
  if (!(Number.isFinite(p.jitter) && p.jitter >= 0 && p.jitter <= 1)) bad('jitter', 'must be between 0 and 1');
  return p;
}

/** Delay before retry number `attempt` (0-based). `random` returns a value in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(0, Math.floor(attempt));
  const raw = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.min(n, 64)));
  const jittered = raw * (1 - policy.jitter * random());
  return Math.round(jittered);
}
