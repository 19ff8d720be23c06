import { strict as assert } from 'node:assert';
import { distribution, parseBgpBenchArgs, summarizeBgp } from '../../../bench/support/bgp-report';

describe('bench bgp: arguments and summary', () => {
  it('defaults, flags, and bad values refused naming the flag', () => {
    assert.deepEqual(parseBgpBenchArgs([]), { rounds: 20, deaths: 3, holdTimeS: 9 });
    assert.deepEqual(parseBgpBenchArgs(['--rounds', '5', '--deaths', '0', '--hold-time', '6']), { rounds: 5, deaths: 0, holdTimeS: 6 });
    assert.throws(() => parseBgpBenchArgs(['--rounds', '0']), { field: '--rounds' });
    assert.throws(() => parseBgpBenchArgs(['--hold-time', '2']), { field: '--hold-time' });
    assert.throws(() => parseBgpBenchArgs(['--what']), { field: '--what' });
  });

  it('p50/p99/max per phase; withinHoldTime only when every frozen-host withdrawal took at most the hold time', () => {
    assert.deepEqual(distribution([30, 10, 20]), { n: 3, p50Ms: 20, p99Ms: 30, maxMs: 30 });
    assert.deepEqual(distribution([]), { n: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    const c = { rounds: 2, deaths: 1, holdTimeS: 9 };
    const r = summarizeBgp(c, { convergence: [100, 200], release: [50], frozen: [8000], killed: [90] });
    assert.equal(r.withinHoldTime, true);
    assert.equal(r.convergence.p50Ms, 200);
    assert.equal(summarizeBgp(c, { convergence: [], release: [], frozen: [9500], killed: [] }).withinHoldTime, false);
  });
});
