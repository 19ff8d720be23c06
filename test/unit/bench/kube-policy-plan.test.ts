import { strict as assert } from 'node:assert';
import {
  APPS,
  changes,
  HOSTS,
  KUBE_KINDS,
  namespaceName,
  parseKubePolicyArgs,
  phaseMeansMs,
  podPlan,
  portsHold,
  reconcilePhases,
  REF_KINDS,
  simPodEndpoint,
  simVteps,
  standingPolicies,
  tcpDstPorts,
} from '../../../bench/support/kube-policy-plan';
import { predicateOf } from '../../../tools/agent-sim/conditions';
import type { HostState } from '../../../netplugin/netmaster-client/apply';

describe('kube-policy benchmark plan', () => {
  it('places pods so that every namespace has every app on every host; the first namespace has its own web and client groups', () => {
    const pods = podPlan({ pods: 300, namespaces: 5 });
    assert.equal(pods.length, 300);
    for (let j = 0; j < 5; j++)
      for (const app of APPS)
        assert.deepEqual(
          [...new Set(pods.filter((p) => p.namespace === namespaceName(j) && p.app === app).map((p) => p.host))].sort(),
          [...HOSTS],
          `${namespaceName(j)} ${app}`,
        );
    assert.deepEqual([...new Set(pods.filter((p) => p.group !== '').map((p) => `${p.namespace} ${p.app} ${p.group}`))].sort(), [
      'kbns-0 client kbcli',
      'kbns-0 web kbweb',
    ]);
    assert.equal(new Set(pods.map((p) => p.name)).size, 300);
  });

  it('makes each kind once per round; label changes touch the hosts of what they select only', () => {
    const cfg = { pods: 30, namespaces: 3, rounds: 4 };
    const cs = changes(cfg);
    assert.equal(cs.length, 4 * (KUBE_KINDS.length + REF_KINDS.length));
    for (const k of [...KUBE_KINDS, ...REF_KINDS]) assert.equal(cs.filter((c) => c.kind === k).length, 4, k);
    const podLabel = cs.filter((c) => c.kind === 'podLabel');
    for (const c of podLabel) {
      assert.equal(c.expect.length, 1, 'a pod is on one host');
      const w = c.write as { name: string };
      assert.equal(c.expect[0]!.host, podPlan(cfg).find((p) => p.name === w.name)!.host);
    }
    for (const c of cs.filter((x) => x.kind === 'policyCreate' || x.kind === 'refRuleCreate'))
      assert.deepEqual(
        c.expect.map((e) => e.host),
        [...HOSTS],
      );
    // every port a change shows is its own
    const ports = cs.filter((c) => !c.kind.endsWith('Unlabel') && !c.kind.endsWith('Delete')).map((c) => c.expect[0]!.present[0]);
    assert.equal(new Set(ports).size, ports.length);
    // the standing policies select nothing until a label change: namespace selectors and pod selectors on labels nobody has
    assert.equal(standingPolicies(4).length, 8);
    assert.match(JSON.stringify(standingPolicies(1)), /"namespaceSelector":\{"matchLabels":\{"kbsel":"n0"\}\}/);
  });

  it("says what the simulated agents (web pods of the first namespace) must receive of each change; a pod's label concerns its host only", () => {
    const cs = changes({ pods: 30, namespaces: 3, rounds: 2 });
    for (const c of cs) assert.equal(c.sim === undefined, c.kind === 'podLabel' || c.kind === 'podUnlabel', c.kind);
    const [create, update, del, nsLabel, nsUnlabel] = cs;
    const state = (ports: number[], labels: Record<string, string>) =>
      ({
        policies: [],
        kubePolicies: [{ key: 'kbns-0/kbnp-0', ingress: [{ ports: ports.map((port) => ({ port })) }] }],
        kubeNamespaces: [{ key: 'kbns-1', labels }],
      }) as unknown as HostState;
    const holds = (c: (typeof cs)[number] | undefined, st: HostState) => predicateOf(c!.sim!)(st, 'changes');
    assert.equal(holds(create, state([], {})), false);
    assert.equal(holds(create, state([20000], {})), true);
    assert.equal(holds(update, state([20000, 21000], {})), false, 'the old port is gone');
    assert.equal(holds(update, state([21000], {})), true);
    assert.equal(holds(del, state([21000], {})), false);
    assert.equal(holds(del, state([], {})), true);
    assert.equal(holds(nsLabel, state([], { kbsel: 'n0' })), true);
    assert.equal(holds(nsUnlabel, state([], { kbsel: 'n0' })), false);
  });

  it('gives simulated agents VTEPs of their own in the underlay /24, and a web pod of the first namespace each', () => {
    const v = simVteps('10.213.3.0/24', 234);
    assert.equal(new Set(v).size, 234);
    const last = v.map((a) => Number(a.split('.')[3]));
    assert.ok(last.every((x) => x >= 10 && x <= 253 && !(x >= 100 && x < 110)));
    assert.equal(v[0], '10.213.3.10');
    assert.throws(
      () => simVteps('10.213.3.0/24', 235),
      (e: { field?: string }) => e.field === 'sim-agents',
    );
    assert.throws(() => simVteps('10.213.0.0/16', 1));
    const ep = simPodEndpoint('kbsim-00001', '10.213.3.11') as { homingHost: string; labels: object; pod: { namespace: string } };
    assert.equal(ep.homingHost, 'kbsim-00001');
    assert.deepEqual(ep.labels, { app: 'web' });
    assert.equal(ep.pod.namespace, namespaceName(0));
  });

  it("reads the tcp ports of a table's flows and judges them by whole port numbers", () => {
    const ports = tcpDstPorts([
      {
        match: [
          { field: 'reg3', value: 2 },
          { field: 'eth_type', value: 0x800 },
          { field: 'tcp_dst', value: 22001 },
        ],
      },
      { match: [{ field: 'udp_dst', value: 22002 }] },
      { match: [] },
    ]);
    assert.deepEqual([...ports], [22001]);
    assert.equal(portsHold(ports, { present: [22001], absent: [] }), true);
    assert.equal(portsHold(ports, { present: [2200], absent: [] }), false);
    assert.equal(portsHold(ports, { present: [22002], absent: [] }), false, 'a udp port is no tcp port');
    assert.equal(portsHold(ports, { present: [], absent: [22001] }), false);
    assert.equal(portsHold(ports, { present: [], absent: [22000] }), true);
  });

  it('options: --quick is small; bad values are refused naming the option', () => {
    assert.deepEqual((({ pods, namespaces, rounds }) => ({ pods, namespaces, rounds }))(parseKubePolicyArgs([])), {
      pods: 300,
      namespaces: 5,
      rounds: 10,
    });
    assert.equal(parseKubePolicyArgs(['--quick']).pods, 30);
    assert.equal(parseKubePolicyArgs(['--quick']).simAgents, 200);
    assert.equal(parseKubePolicyArgs(['--sim-agents', '0']).simAgents, 0);
    assert.throws(
      () => parseKubePolicyArgs(['--sim-agents', '235']),
      (e: { field?: string }) => e.field === 'sim-agents',
    );
    assert.throws(
      () => parseKubePolicyArgs(['--pods', '10']),
      (e: { field?: string }) => e.field === 'pods',
    );
    assert.throws(
      () => parseKubePolicyArgs(['--lab', 'Bad!']),
      (e: { field?: string }) => e.field === 'lab',
    );
    assert.throws(
      () => parseKubePolicyArgs(['--rounds', '0']),
      (e: { field?: string }) => e.field === 'rounds',
    );
  });

  it("reads the agents' reconcile phases and averages them per reconcile between two readings", () => {
    const text = (compute: number, apply: number, count: number) =>
      [
        '# HELP netplugin_reconcile_phase_seconds x',
        `netplugin_reconcile_phase_seconds_bucket{le="0.1",phase="compute"} 3`,
        `netplugin_reconcile_phase_seconds_sum{phase="compute"} ${compute}`,
        `netplugin_reconcile_phase_seconds_count{phase="compute"} ${count}`,
        `netplugin_reconcile_phase_seconds_sum{phase="apply"} ${apply}`,
        `netplugin_reconcile_phase_seconds_count{phase="apply"} ${count}`,
        '',
      ].join('\n');
    const before = [reconcilePhases(text(1, 10, 10)), reconcilePhases(text(2, 20, 20))];
    assert.deepEqual(before[0], { compute: { sum: 1, count: 10 }, apply: { sum: 10, count: 10 } });
    // 2 + 3 reconciles after: compute 0.2 + 0.3 s, apply 1.5 + 2.5 s
    const after = [reconcilePhases(text(1.2, 11.5, 12)), reconcilePhases(text(2.3, 22.5, 23))];
    assert.deepEqual(phaseMeansMs(before, after), { reconciles: 5, meanMs: { compute: 100, apply: 800 } });
    assert.deepEqual(reconcilePhases(''), {});
  });
});
