/**
 * Smoke test of the netmaster benchmark: a small run (`npm run bench -- netmaster` as `node
 * dist/bench/run.js`) against its own etcd and netmaster ends its output with one JSON line of
 * positive figures, the machine-readable contract of every benchmark, even though netmaster logs a
 * warning when it is stopped after the figures are taken.
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';

const RUNNER = resolve(__dirname, '../../../bench/run.js');

describe('netmaster benchmark (smoke)', function () {
  this.timeout(90_000);

  it('prints its figures as the last line of its output, in JSON, with a clean consistency check', async () => {
    const args = ['netmaster', '--objects', '5', '--endpoints', '10', '--rounds', '1', '--concurrency', '2', '--total-endpoints', '20'];
    const r = await run(process.execPath, [RUNNER, ...args], { timeoutMs: 80_000, allowFailure: true });
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    const figures = JSON.parse(last) as { bench: string; consistencyClean: boolean; endpointsHeld: number; rssMiB: number };
    assert.equal(figures.bench, 'netmaster');
    assert.equal(figures.consistencyClean, true);
    assert.ok(figures.endpointsHeld >= 20, `endpoints held: ${figures.endpointsHeld}`);
    assert.ok(figures.rssMiB > 0);
  });
});
