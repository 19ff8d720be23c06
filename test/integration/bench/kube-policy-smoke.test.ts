/**
 * Smoke test of the NetworkPolicy realization benchmark: `npm run bench -- kube-policy --quick
 * --lab kbsm` (a 3-host lab with the Kubernetes API, 30 pods, 2 rounds, 200 simulated agents over
 * the lab's mutual TLS) ends its output with one JSON line whose figures are there and finite, the
 * simulated agents' receipt timed for every change that concerns them, no failure, and leaves
 * neither the lab nor a pod's network namespace behind.
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { listNetns } from '../../../deploy/lab/netns';

const RUNNER = resolve(__dirname, '../../../bench/run.js');
const LAB_BIN = resolve(__dirname, '../../../../bin/netloom-lab');

describe('kube-policy benchmark (smoke)', function () {
  this.timeout(600_000);

  after(async function () {
    this.timeout(120_000);
    await run(LAB_BIN, ['--lab', 'kbsm', 'down'], { allowFailure: true, timeoutMs: 110_000 });
  });

  it('times Kubernetes changes and the Contiv reference to the flows of every affected host, JSON last', async () => {
    const r = await run(process.execPath, [RUNNER, 'kube-policy', '--quick', '--lab', 'kbsm'], { timeoutMs: 580_000, allowFailure: true });
    assert.equal(r.code, 0, `benchmark failed: ${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
    const f = JSON.parse(r.stdout.trimEnd().split('\n').pop() ?? '') as {
      benchmark: string;
      failures: string[];
      kube: { samples: number; p50: number; p99: number };
      simAgents: number;
      kubeRealHosts: { samples: number; p99: number };
      kubeSimAgents: { samples: number; p50: number; p99: number };
      reference: { samples: number; p50: number };
      ratioP50: number;
      byKind: Record<string, { samples: number }>;
    };
    assert.equal(f.benchmark, 'kube-policy');
    assert.deepEqual(f.failures, []);
    assert.equal(f.kube.samples, 14, '7 kinds x 2 rounds');
    assert.equal(f.reference.samples, 4);
    assert.equal(f.simAgents, 200);
    assert.equal(f.kubeRealHosts.samples, 14);
    // a pod's label concerns its host only: 5 of the 7 kinds reach the simulated agents' web pods
    assert.equal(f.kubeSimAgents.samples, 10, '5 kinds x 2 rounds');
    assert.ok(f.kube.p99 >= f.kubeRealHosts.p99 && f.kube.p99 >= f.kubeSimAgents.p99, 'a change is realized when the last of both has it');
    for (const k of ['policyCreate', 'policyUpdate', 'policyDelete', 'namespaceLabel', 'namespaceUnlabel', 'podLabel', 'podUnlabel'])
      assert.equal(f.byKind[k]?.samples, 2, k);
    for (const x of [f.kube.p50, f.kube.p99, f.reference.p50, f.ratioP50, f.kubeSimAgents.p50])
      assert.ok(Number.isFinite(x) && x > 0, String(x));
    assert.deepEqual(
      (await listNetns()).filter((n) => n.startsWith('kbsm-')),
      [],
      'no lab or pod namespace left',
    );
  });
});
