/**
 * Smoke test of the scale benchmark: `npm run bench -- scale --quick` (20 and 50 simulated agents
 * on one netmaster, 60 on 3 replicas with a 3-member etcd, 500 held endpoints) on its own ports
 * (28410-28415) ends its output with one JSON line carrying every family of figures as finite
 * numbers, no failure, and leaves no process behind.
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { listProcesses } from '../../../lib/process';

const RUNNER = resolve(__dirname, '../../../bench/run.js');

describe('scale benchmark (smoke)', function () {
  this.timeout(360_000);

  it('prints every family of figures as finite numbers in the JSON last line', async () => {
    const dir = '/tmp/nl-scale/smoke';
    const r = await run(process.execPath, [RUNNER, 'scale', '--quick', '--base-port', '28410', '--dir', dir], {
      timeoutMs: 340_000,
      allowFailure: true,
    });
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
    const last = r.stdout.trimEnd().split('\n').pop() ?? '';
    const f = JSON.parse(last) as Record<string, unknown>;
    assert.equal(f.bench, 'scale');
    assert.deepEqual(f.failures, [], `failures: ${JSON.stringify(f.failures)}`);
    for (const k of [
      'ruleChangeP99MsAgents1000',
      'burst100ConvergeMsAgents1000',
      'netmasterRssMbAgents1000',
      'ruleChangeP99MsAgents3000Replicas3',
    ])
      assert.ok(k in f, `${k} present (null in a quick run)`);
    const families = [
      'snapshotMs',
      'allEndpointsMs',
      'ruleChangeP50Ms',
      'ruleChangeP99Ms',
      'endpointAddP50Ms',
      'endpointAddP99Ms',
      'burst100ConvergeMs',
      'versionMaxMsDuringBurst',
      'cpuMsPerChange',
      'idleCpuPct',
      'netmasterRssMb',
      'netmasterPeakRssMb',
      'heartbeatFailures',
    ];
    for (const suffix of ['Agents20', 'Agents50', 'Agents60Replicas3']) {
      for (const fam of families) assert.ok(Number.isFinite(f[`${fam}${suffix}`]), `${fam}${suffix}: ${String(f[`${fam}${suffix}`])}`);
      for (const fam of ['ruleChangeP99Ms', 'snapshotMs', 'cpuMsPerChange'])
        assert.ok(Number.isFinite(f[`${fam}${suffix}Held500`]), `${fam}${suffix}Held500: ${String(f[`${fam}${suffix}Held500`])}`);
    }
    assert.ok(Number.isFinite(f.cpuPerChangeSlope20to50));
    assert.ok(Number.isFinite(f.heartbeatFailures));
    assert.ok((f.netmasterRssMbAgents50 as number) > 0);
    assert.ok((f.ruleChangeP99MsAgents50 as number) > 0);
    const worker = resolve(__dirname, '../../../tools/agent-sim/worker.js');
    const left = listProcesses().filter(
      (p) => p.cmdline.includes(dir) || p.cmdline.includes('127.0.0.1:28410') || p.cmdline.includes(worker),
    );
    assert.deepEqual(left, [], 'no etcd, netmaster or worker left');
  });
});
