import assert from 'node:assert/strict';
import { backoffDelay, validateBackoff } from '../../../../ovs/openflow/connection-backoff';
import { isNetloomError } from '../../../../lib/errors';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0 };
  it('doubles from the initial delay and stops at the cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, policy)),
      [100, 200, 400, 800, 1600, 2000, 2000, 2000],
    );
  });
  it('jitter only shortens a delay, by at most the jitter fraction', () => {
    const p = { ...policy, jitter: 0.5 };
    assert.equal(
      backoffDelay(3, p, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(3, p, () => 0.999999),
      400,
    );
  });
  it('rejects a policy that makes no sense, naming the field', () => {
    assert.throws(
      () => validateBackoff({ ...policy, factor: 0.5 }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'backoff.factor',
    );
    assert.throws(
      () => validateBackoff({ ...policy, maxMs: 10 }),
      (e: unknown) => isNetloomError(e) && e.field === 'backoff.maxMs',
    );
  });
});
