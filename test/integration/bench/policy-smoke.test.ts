/**
 * Smoke test of the policy benchmark: `npm run bench -- policy --quick --phases flows,agents`
 * (the flow counts with the real compiler; 20 simulated agents that compile, on one netmaster
 * with a 3-member etcd on its own ports 28430-28435) ends its output with one JSON line whose
 * figures are there and finite, no failure, and leaves no process behind. The lab phase is left
 * to the benchmark's own runs (it brings up a 3-host lab).
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { listProcesses } from '../../../lib/process';

const RUNNER = resolve(__dirname, '../../../bench/run.js');

describe('policy benchmark (smoke)', function () {
  this.timeout(400_000);

  it('prints the flow counts and the agents figures in the JSON last line', async () => {
    const r = await run(process.execPath, [RUNNER, 'policy', '--quick', '--phases', 'flows,agents', '--etcd-port', '28430'], {
      timeoutMs: 380_000,
      allowFailure: true,
    });
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
    const f = JSON.parse(r.stdout.trimEnd().split('\n').pop() ?? '') as Record<string, unknown> & {
      agents: Record<string, unknown> & { unconcerned: { concerned: number; updates: number } };
    };
    assert.equal(f.benchmark, 'policy');
    assert.deepEqual(f.failures, [], `failures: ${JSON.stringify(f.failures)}`);
    assert.equal(f.flowsPerRule, 120);
    assert.equal(f.flowsFor100Rules, 12_000);
    for (const k of ['realizeP99Ms', 'agentRssMb10k', 'realizeP99MsAgents200', 'groupMembership1000Ms'])
      assert.ok(k in f, `${k} present (null in this run)`);
    for (const k of [
      'realizeP50Ms',
      'realizeP99Ms',
      'realizeOwnCoreP99Ms',
      'membershipAttachP50Ms',
      'membershipAttachOwnCoreP50Ms',
      'membershipDetachP50Ms',
    ])
      assert.ok(Number.isFinite(f.agents[k]) && (f.agents[k] as number) > 0, `agents.${k}: ${String(f.agents[k])}`);
    // the policy used on 10 agents reached those 10 and no other
    assert.deepEqual([f.agents.unconcerned.concerned, f.agents.unconcerned.updates], [10, 10]);
    assert.equal(f.agents.compileErrors, 0);
    const worker = resolve(__dirname, '../../../tools/agent-sim/worker.js');
    const left = listProcesses().filter((p) => p.cmdline.includes('127.0.0.1:28430') || p.cmdline.includes(worker));
    assert.deepEqual(left, [], 'no etcd, netmaster or worker left');
  });
});
