/**
 * Smoke test of the netmaster benchmark: a small run (`npm run bench -- netmaster` as `node
 * dist/bench/run.js`) against its own etcd and netmaster ends its output with one JSON line of
 * positive figures, the machine-readable contract of every benchmark, even though netmaster logs a
 * warning when it is stopped after the figures are taken; the agent registrations phase (issue 15)
 * registers its endpoints with SyncEndpoints and creates as many with CreateEndpoint, each network
 * counting them and the consistency check clean (else the benchmark fails). Its own etcd port
 * (24034), so that it never shares an etcd with a run by hand.
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';

const RUNNER = resolve(__dirname, '../../../bench/run.js');

describe('netmaster benchmark (smoke)', function () {
  this.timeout(90_000);

  it('prints its figures as the last line of its output, in JSON, with a clean consistency check', async () => {
    const args = [
      ...['netmaster', '--objects', '5', '--endpoints', '10', '--rounds', '1', '--concurrency', '2', '--total-endpoints', '20'],
      ...['--registrations', '40', '--registration-batch', '7', '--registration-rounds', '1', '--etcd-port', '24034'],
    ];
    const r = await run(process.execPath, [RUNNER, ...args], { timeoutMs: 80_000, allowFailure: true });
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-2000)}\n${r.stdout.slice(-2000)}`);
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    const figures = JSON.parse(last) as {
      bench: string;
      consistencyClean: boolean;
      endpointsHeld: number;
      rssMiB: number;
      registrations: Record<string, number | boolean | Record<string, number>>;
    };
    assert.equal(figures.bench, 'netmaster');
    assert.equal(figures.consistencyClean, true);
    assert.ok(figures.endpointsHeld >= 20, `endpoints held: ${figures.endpointsHeld}`);
    assert.ok(figures.rssMiB > 0);
    const reg = figures.registrations;
    assert.equal(reg.consistencyClean, true);
    assert.equal(reg.endpointsCounted, 40);
    // 40 endpoints in blocks of 61 usable addresses: at least one claim per agent that had any
    assert.ok(Number(reg.claimsPerRound) >= 3, `claims: ${String(reg.claimsPerRound)}`);
    for (const k of ['registrationsPerSec', 'createsPerSec', 'registrationsVsCreate'])
      assert.ok(Number(reg[k]) > 0, `${k}: ${String(reg[k])}`);
    assert.ok((reg.batchLatencyMs as Record<string, number>).p99! > 0);
  });
});
