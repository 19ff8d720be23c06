/** ReconcileLoop: bursts coalesce into one run, failures retry with backoff, settled() waits for a later run (on a fake clock). */
import { strict as assert } from 'node:assert';
import { ReconcileLoop } from '../../../netplugin/agent/reconcile-loop';
import { FakeClock } from '../../support/fake-clock';

describe('agent ReconcileLoop', () => {
  it('coalesces a burst of triggers into one run', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const loop = new ReconcileLoop(async () => void runs++, { coalesceMs: 5, clock });
    for (let i = 0; i < 50; i++) loop.trigger();
    const settled = loop.settled(1000);
    await clock.tick(5);
    await settled;
    assert.equal(runs, 1);
    loop.stop();
  });

  it('settled() starts the run without the quiet time that plain triggers wait', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const loop = new ReconcileLoop(async () => void runs++, { coalesceMs: 5000, clock });
    loop.trigger();
    const t0 = clock.monotonic();
    const settled = loop.settled(1000);
    await clock.tick(0);
    await settled;
    assert.equal(runs, 1, 'one run for the trigger and the settled() together');
    assert.ok(clock.monotonic() - t0 < 1000, 'did not wait the 5 s quiet time');
    loop.trigger();
    await clock.tick(20);
    assert.equal(runs, 1, 'a plain trigger still waits its quiet time');
    loop.stop();
  });

  it('runs again when triggered during a run, never two at once', async () => {
    const clock = new FakeClock();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const loop = new ReconcileLoop(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs++;
        await clock.sleep(20);
        running--;
      },
      { coalesceMs: 1, clock },
    );
    loop.trigger();
    await clock.tick(8); // first run in progress
    assert.equal(running, 1);
    const later = loop.settled(1000);
    await clock.tick(100);
    await later;
    assert.equal(runs, 2, 'the trigger during the first run caused a second run');
    assert.equal(maxRunning, 1);
    loop.stop();
  });

  it('retries a failed run with growing backoff until it succeeds, and settled() resolves then', async () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const results: boolean[] = [];
    const loop = new ReconcileLoop(
      async () => {
        times.push(clock.monotonic());
        if (times.length < 4) throw new Error('switch not there');
      },
      { coalesceMs: 1, minBackoffMs: 10, maxBackoffMs: 1000, onRun: (r) => results.push(r.ok), clock },
    );
    const settled = loop.settled(2000);
    await clock.tick(2000);
    await settled;
    assert.deepEqual(results, [false, false, false, true]);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 9 && gaps[1]! >= 19 && gaps[2]! >= 39, `backoff gaps ${gaps.join(',')}`);
    assert.deepEqual(gaps, [10, 20, 40], 'exactly the doubling backoff');
    assert.equal(loop.pending, false);
    loop.stop();
  });

  it('settled() times out while every run fails, and stop() rejects waiters', async () => {
    const clock = new FakeClock();
    const loop = new ReconcileLoop(async () => Promise.reject(new Error('down')), { coalesceMs: 1, minBackoffMs: 5, clock });
    const timedOut = assert.rejects(loop.settled(50), /did not succeed within 50 ms/);
    await clock.tick(50);
    await timedOut;
    const w = loop.settled(5000);
    loop.stop();
    await assert.rejects(w, /stopping/);
    assert.equal(clock.pending, 0, 'stop() left no timer armed');
  });
});

describe('agent ReconcileLoop trigger({now})', () => {
  it('cuts a long backoff short when the cause is gone', async () => {
    const clock = new FakeClock();
    let up = false;
    let runs = 0;
    const loop = new ReconcileLoop(
      async () => {
        runs++;
        if (!up) throw new Error('switch down');
      },
      { coalesceMs: 1, minBackoffMs: 5000, maxBackoffMs: 5000, clock },
    );
    loop.trigger();
    await clock.tick(20); // first run failed; the retry is 5 s away
    assert.equal(runs, 1);
    assert.equal(clock.nextDueIn, 5000 - 19, 'the retry waits the backoff');
    up = true;
    const t0 = clock.monotonic();
    const done = loop.settled(3000);
    loop.trigger({ now: true });
    await clock.tick(10);
    await done;
    assert.ok(clock.monotonic() - t0 < 500, `took ${clock.monotonic() - t0} ms`);
    assert.equal(runs, 2);
    loop.stop();
  });
});
