import { strict as assert } from 'node:assert';
import {
  assembleScaleResult,
  parseScaleArgs,
  percentile,
  runFigures,
  runSuffix,
  summarize,
  type RunResult,
} from '../../../bench/support/scale-report';
import { createServer } from 'node:net';
import { freePort, parseProcStatCpuMs, parseProcStatusMemory, portFree } from '../../../tools/agent-sim/cluster';
import { describeCondition, predicateOf } from '../../../tools/agent-sim/conditions';
import type { HostState } from '../../../netplugin/netmaster-client/apply';

function run(agents: number, replicas: number, cpu: number, extra: Partial<RunResult> = {}): RunResult {
  return {
    agents,
    replicas,
    etcdMembers: replicas > 1 ? 3 : 1,
    workers: 1,
    heartbeatFailures: 1,
    leaseLosses: 0,
    failures: [],
    ruleChange: summarize([10, 20, 30]),
    cpuMsPerChange: cpu,
    ...extra,
  };
}

describe('scale benchmark pieces', () => {
  it('percentiles by nearest rank, ignoring non-finite values', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 shuffled order
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([3, 1, 2], 50), 2);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 99), 15);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.equal(percentile([Number.NaN, 4], 50), 4);
    assert.deepEqual(summarize([5, 1]), { samples: 2, p50: 1, p99: 5, max: 5 });
  });

  it('parses its arguments, --quick first and explicit flags over it', () => {
    const d = parseScaleArgs([]);
    assert.deepEqual(d.agents, [200, 1000]);
    assert.equal(d.replicaAgents, 3000);
    assert.equal(d.replicas, 3);
    assert.equal(d.leaseTtl, 10);
    const q = parseScaleArgs(['--quick', '--held', '100', '--no-replicas']);
    assert.equal(q.quick, true);
    assert.deepEqual(q.agents, [20, 50]);
    assert.equal(q.held, 100);
    assert.equal(q.replicaAgents, 0);
    const c = parseScaleArgs(['--agents', '2000', '--replica-agents', '900', '--replicas', '2', '--workers', '3', '--held-live']);
    assert.deepEqual(c.agents, [2000]);
    assert.equal(c.replicaAgents, 900);
    assert.equal(c.workers, 3);
    assert.equal(c.heldLive, true);
    assert.throws(() => parseScaleArgs(['--agents', 'x']), /not a whole number/);
    assert.throws(() => parseScaleArgs(['--bogus']), /unknown argument/);
    assert.throws(() => parseScaleArgs(['--rate']), /needs a value/);
    assert.throws(() => parseScaleArgs(['--replicas', '0']), /at least 1/);
  });

  it('reads utime+stime from /proc/PID/stat (a command name with spaces and parentheses) and VmRSS/VmHWM', () => {
    const stat = '1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 1000000 5000';
    assert.equal(parseProcStatCpuMs(stat, 100), 3000);
    assert.equal(parseProcStatCpuMs(stat, 1000), 300);
    assert.throws(() => parseProcStatCpuMs('1 (x) S', 100));
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    assert.deepEqual(parseProcStatusMemory(status), { rssMb: 100, hwmMb: 200 });
  });

  it('names the figures of each run, and of its held phase', () => {
    assert.equal(runSuffix(1000, 1), 'Agents1000');
    assert.equal(runSuffix(3000, 3), 'Agents3000Replicas3');
    const f = runFigures(run(1000, 1, 40, { held: 10_000, heldRuleChange: summarize([100, 200]), rssMb: 512.34 }));
    assert.equal(f.ruleChangeP99MsAgents1000, 30);
    assert.equal(f.ruleChangeP50MsAgents1000, 20);
    assert.equal(f.ruleChangeP99MsAgents1000Held10000, 200);
    assert.equal(f.netmasterRssMbAgents1000, 512.3);
    assert.equal(f.burst100ConvergeMsAgents1000, null, 'not measured: null');
    assert.equal(f.heartbeatFailuresAgents1000, 1);
  });

  it('assembles the JSON line: required keys, the 200 → 1,000 slope, totals and failures', () => {
    const cfg = parseScaleArgs([]);
    const out = assembleScaleResult(cfg, [
      run(200, 1, 10),
      run(1000, 1, 55),
      run(3000, 3, 70, { failures: ['connect: 3 of 3000 agents did not get a first snapshot'] }),
    ]);
    assert.equal(out.cpuPerChangeSlope200to1000, 5.5);
    assert.equal(out.linearSlope200to1000, 5);
    assert.equal(out.heartbeatFailures, 3);
    assert.equal(out.ruleChangeP99MsAgents3000Replicas3, 30);
    assert.equal(out.burst100ConvergeMsAgents1000, null);
    assert.equal(out.ok, false);
    assert.deepEqual(out.failures, ['Agents3000Replicas3: connect: 3 of 3000 agents did not get a first snapshot']);
    // JSON-safe: NaN becomes null
    const line = JSON.parse(JSON.stringify(assembleScaleResult(cfg, []))) as Record<string, unknown>;
    assert.equal(line.ruleChangeP99MsAgents1000, null);
    assert.equal(line.cpuPerChangeSlope200to1000, null);
    assert.equal(line.heartbeatFailures, 0);
  });

  it('conditions: predicates on a host state', () => {
    const state = {
      global: null,
      bgp: null,
      tenants: [],
      networks: [],
      groups: [],
      profiles: [],
      vteps: [],
      policies: [{ key: 't:p', tenant: 't', name: 'p', rules: [{ ruleId: 'a' }, { ruleId: 'b' }] }],
      endpoints: [
        { id: 'e1', network: 't:n', containerId: 'c1' },
        { id: 'e2', network: 't:n', containerId: 'c2' },
        { id: 'e3', network: 't:m', containerId: 'c3' },
      ],
    } as unknown as HostState;
    assert.equal(predicateOf({ kind: 'snapshot' })(state, 'snapshot'), true);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:p', ruleIds: ['a', 'b'] })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:p', ruleIds: ['a', 'c'] })(state, 'changes'), false);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:q', ruleIds: ['a'] })(state, 'changes'), false);
    assert.equal(predicateOf({ kind: 'endpointCount', network: 't:n', atLeast: 2 })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'endpointCount', network: 't:n', atLeast: 3 })(state, 'changes'), false);
    assert.equal(predicateOf({ kind: 'endpoint', id: 'e3' })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'endpoint', containerId: 'c2' })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'endpoint', containerId: 'c9' })(state, 'changes'), false);
    assert.throws(() => predicateOf({ kind: 'endpoint' }));
    // agents spread over several networks: endpoints of any network, and any of several containers
    assert.equal(predicateOf({ kind: 'endpointCount', network: '', atLeast: 3 })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'endpointCount', network: '', atLeast: 4 })(state, 'changes'), false);
    assert.equal(predicateOf({ kind: 'endpoint', containerIds: ['c9', 'c3'] })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'endpoint', containerIds: ['c8', 'c9'] })(state, 'changes'), false);
    assert.equal(describeCondition({ kind: 'rules', policy: 't:p', ruleIds: ['a'] }), 'rule a of t:p');
  });

  it('conditions on Kubernetes intent: NetworkPolicy ingress ports, namespace labels; rules absent', () => {
    const state = {
      policies: [{ key: 't:p', rules: [{ ruleId: 'a' }] }],
      kubePolicies: [
        { key: 'ns/x', ingress: [{ ports: [{ port: 80 }, { port: 81 }] }] },
        { key: 'ns/y', ingress: [{ ports: [] }, { ports: [{ port: 90 }] }] },
      ],
      kubeNamespaces: [{ key: 'ns', labels: { team: 'a' } }],
    } as unknown as HostState;
    const ports = (present: number[], absent: number[]) => predicateOf({ kind: 'kubePolicyPorts', present, absent })(state, 'changes');
    assert.equal(ports([80, 90], [82]), true);
    assert.equal(ports([82], []), false);
    assert.equal(ports([], [81]), false);
    const label = (namespace: string, value: string | null) =>
      predicateOf({ kind: 'kubeNamespaceLabel', namespace, key: 'team', value })(state, 'changes');
    assert.equal(label('ns', 'a'), true);
    assert.equal(label('ns', 'b'), false);
    assert.equal(label('ns', null), false);
    assert.equal(label('other', null), true, 'a namespace the host does not have carries no label');
    assert.equal(label('other', 'a'), false);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:p', ruleIds: ['b'], absent: true })(state, 'changes'), true);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:p', ruleIds: ['a'], absent: true })(state, 'changes'), false);
    assert.equal(predicateOf({ kind: 'rules', policy: 't:q', ruleIds: ['a'], absent: true })(state, 'changes'), true);
    assert.equal(describeCondition({ kind: 'kubeNamespaceLabel', namespace: 'ns', key: 'k', value: null }), 'namespace ns without label k');
  });
});

describe('agent-sim control plane ports', () => {
  it('tells a taken port from a free one (a leftover etcd must not be mistaken for a new one)', async () => {
    const port = await freePort();
    assert.equal(await portFree(port), true);
    const s = createServer();
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', () => r()));
    try {
      assert.equal(await portFree(port), false);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
