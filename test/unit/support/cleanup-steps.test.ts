/** CleanupSteps runs every step and fails once, naming each failed step. */
import { strict as assert } from 'node:assert';
import { CleanupSteps } from '../../support/cleanup-steps';

describe('CleanupSteps', () => {
  it('runs the steps after a failed one and names every failure in one error', async () => {
    const steps = new CleanupSteps();
    const ran: string[] = [];
    await steps.attempt('stop a', async () => {
      ran.push('a');
      throw new Error('a is stuck');
    });
    await steps.attempt('stop b', async () => ran.push('b'));
    await steps.attempt('stop c', () => Promise.reject(new Error('c is gone')));
    assert.deepEqual(ran, ['a', 'b']);
    assert.equal(steps.failed, true);
    assert.throws(() => steps.throwIfFailed(), { message: 'stop a: a is stuck; stop c: c is gone' });
  });

  it('does not throw when every step worked', async () => {
    const steps = new CleanupSteps();
    await steps.attempt('fine', async () => undefined);
    assert.equal(steps.failed, false);
    steps.throwIfFailed();
  });
});
