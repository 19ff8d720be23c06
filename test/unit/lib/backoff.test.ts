/** lib/backoff: delays, jitter, reset, cancellation and retry(), on a fake clock. */
import { strict as assert } from 'node:assert';
import { Backoff, backoffDelay, retry, validateBackoff } from '../../../lib/backoff';
import { systemClock } from '../../../lib/clock';
import { isNetloomError } from '../../../lib/errors';
import { FakeClock, flushAsync } from '../../support/fake-clock';

/** A random source that returns the given values in turn. */
const seq =
  (...values: number[]) =>
  (): number =>
    values.shift() ?? 0;

describe('lib/backoff', () => {
  const policy = { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0 };

  it('doubles from the initial delay and stops at the cap', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, policy)),
      [100, 200, 400, 800, 1600, 2000, 2000, 2000],
    );
    assert.equal(backoffDelay(10_000, { initialMs: 1, maxMs: 64 }), 64, 'a huge attempt number neither overflows nor passes the cap');
    assert.deepEqual(
      [0, 1, 2].map((n) => backoffDelay(n, { initialMs: 50, maxMs: 50, factor: 1 })),
      [50, 50, 50],
      'factor 1 is a constant pause',
    );
  });

  it('fraction jitter only shortens a delay, by at most that fraction; full jitter spans [0, d]', () => {
    const p = { ...policy, jitter: 0.5 };
    assert.equal(
      backoffDelay(3, p, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(3, p, () => 0.999999),
      400,
    );
    const full = { ...policy, jitter: 1 };
    assert.equal(
      backoffDelay(3, full, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(3, full, () => 0.999999),
      0,
    );
  });

  it('decorrelated jitter stays between the initial delay and three times the previous one, capped', () => {
    const p = { initialMs: 100, maxMs: 1000, jitter: 'decorrelated' as const };
    assert.equal(
      backoffDelay(0, p, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(0, p, () => 0.5),
      200,
      'no previous delay: the range is [initial, 3 × initial]',
    );
    assert.equal(
      backoffDelay(1, p, () => 0.5, 200),
      350,
      'half way between 100 and 600',
    );
    assert.equal(
      backoffDelay(5, p, () => 0.999, 900),
      1000,
      'capped',
    );
    const b = new Backoff(p, { random: () => 0.999 });
    const delays = [b.next(), b.next(), b.next(), b.next()];
    assert.deepEqual(delays, [300, 899, 1000, 1000], 'each bound follows the previous delay');
  });

  it('rejects a policy that makes no sense, naming the field', () => {
    for (const [bad, field] of [
      [{ ...policy, factor: 0.5 }, 'backoff.factor'],
      [{ ...policy, maxMs: 10 }, 'backoff.maxMs'],
      [{ ...policy, initialMs: -1 }, 'backoff.initialMs'],
      [{ ...policy, jitter: 2 }, 'backoff.jitter'],
      [{ ...policy, initialMs: NaN }, 'backoff.initialMs'],
    ] as const) {
      assert.throws(
        () => validateBackoff(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === field,
        field,
      );
      assert.throws(() => new Backoff(bad), /backoff/);
    }
  });

  it('Backoff grows with each retry and starts over after reset()', () => {
    const b = new Backoff(policy);
    assert.deepEqual([b.next(), b.next(), b.next()], [100, 200, 400]);
    assert.equal(b.attempt, 3);
    b.reset();
    assert.equal(b.attempt, 0);
    assert.deepEqual([b.next(), b.next()], [100, 200]);
  });

  it('Backoff.wait sleeps each delay on the clock, and an abort ends the wait at once with false', async () => {
    const clock = new FakeClock();
    const b = new Backoff(policy, { clock });
    const t0 = clock.monotonic();
    let first: boolean | undefined;
    void b.wait().then((ok) => (first = ok));
    await clock.tick(99);
    assert.equal(first, undefined, 'still waiting at 99 ms');
    await clock.tick(1);
    assert.equal(first, true);
    assert.equal(clock.monotonic() - t0, 100);

    const ac = new AbortController();
    let second: boolean | undefined;
    void b.wait(ac.signal).then((ok) => (second = ok));
    await clock.tick(50);
    assert.equal(second, undefined);
    ac.abort();
    await flushAsync();
    assert.equal(second, false, 'cut short by the abort');
    assert.equal(clock.pending, 0, 'the cancelled sleep left no timer behind');
    assert.equal(await b.wait(ac.signal), false, 'an aborted signal does not wait at all');
  });

  it('retry() runs until success, waiting the backoff between attempts', async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const told: number[] = [];
    const done = retry(
      async (attempt) => {
        at.push(clock.monotonic());
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { policy: { initialMs: 10, maxMs: 25 }, clock, onRetry: (r) => told.push(r.delayMs) },
    );
    await clock.tick(1000);
    assert.equal(await done, 'ok');
    assert.deepEqual(told, [10, 20, 25]);
    assert.deepEqual(
      at.map((t) => t - at[0]!),
      [0, 10, 30, 55],
    );
  });

  it('retry() gives up after maxAttempts or on a failure that is not retryable, with the last error', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const limited = retry(
      async (attempt) => {
        calls++;
        throw new Error(`fail ${attempt}`);
      },
      { policy, clock, maxAttempts: 3 },
    );
    const settled = assert.rejects(limited, /fail 2/);
    await clock.tick(10_000);
    await settled;
    assert.equal(calls, 3);
    await assert.rejects(
      retry(
        async () => {
          throw new Error('final');
        },
        { policy, clock, retryable: () => false },
      ),
      /final/,
    );
  });

  it('retry() rejects with UNAVAILABLE once its signal aborts, during a wait', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const r = retry(
      async () => {
        throw new Error('down');
      },
      { policy: { initialMs: 60_000, maxMs: 60_000 }, clock, signal: ac.signal },
    );
    const check = assert.rejects(r, (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && (e.cause as Error).message === 'down');
    await flushAsync();
    ac.abort();
    await check;
  });

  it('uses the injected random source for every jittered delay', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 1 }, { random: seq(0, 0.5, 0.75) });
    assert.deepEqual([b.next(), b.next(), b.next()], [100, 100, 100]);
  });
});

describe('FakeClock and systemClock', () => {
  it('FakeClock moves wall and monotonic time together and fires timers in due order', () => {
    const clock = new FakeClock(1000, 5);
    const fired: string[] = [];
    clock.after(30, () => fired.push('b'));
    clock.after(10, () => {
      fired.push('a');
      clock.after(5, () => fired.push('a2'));
    });
    const c = clock.after(20, () => fired.push('cancelled'));
    c.cancel();
    clock.advance(16);
    assert.deepEqual(fired, ['a', 'a2']);
    assert.equal(clock.now(), 1016);
    assert.equal(clock.monotonic(), 21);
    assert.equal(clock.nextDueIn, 14);
    clock.advance(100);
    assert.deepEqual(fired, ['a', 'a2', 'b']);
    assert.equal(clock.pending, 0);
  });

  it('systemClock.sleep ends early on abort and monotonic() does not go back', async () => {
    const ac = new AbortController();
    const t0 = systemClock.monotonic();
    const s = systemClock.sleep(60_000, ac.signal);
    ac.abort();
    await s;
    assert.ok(systemClock.monotonic() - t0 < 1000);
    let fired = false;
    const t = systemClock.after(1, () => (fired = true), { unref: true });
    t.cancel();
    await systemClock.sleep(5);
    assert.equal(fired, false);
  });
});
