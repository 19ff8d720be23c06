/**
 * NetworkPolicy realization (issue 19): from a write to the Kubernetes API until the flows are on
 * every affected host. A lab of 3 hosts with real agents on real OVS (`up --kube`: netmaster's
 * controller and the agents' pod caches on the API stand-in, containerd and a kubelet stand-in per
 * host), --pods pods (default 300) in --namespaces namespaces made through the API and run by the
 * kubelets (containerd's CNI ADD names the pod: the agent reads it from the API and registers a
 * pod endpoint);
 * then, round by round, each change kind of support/kube-policy-plan.ts: a NetworkPolicy created,
 * changed, deleted; a namespace labelled into a standing policy's peers and out; a pod labelled
 * into one's targets and out. Each is timed from just before the API write until every affected
 * host's ingressPolicy table shows it (ovs-ofctl dumps back to back, a few ms each). The reference,
 * measured in the same run and interleaved: a Contiv rule between the same pods' groups added and
 * removed through netmaster's REST API. Progress goes to stderr; a summary and the JSON line
 * (last) to stdout. Root.
 */
import { loadavg } from 'node:os';
import { errorMessage } from '../lib/errors';
import { KubePolicyCluster } from './support/kube-policy-lab';
import {
  changes,
  KUBE_KINDS,
  KUBE_POLICY_USAGE,
  parseKubePolicyArgs,
  phaseMeansMs,
  podPlan,
  REF_KINDS,
  standingPolicies,
  warmUpChanges,
  type ChangeKind,
} from './support/kube-policy-plan';
import { summarize, type LatencySummary } from './support/scale-report';
import { runIfMain } from './support/standalone';

export const description =
  'kube-policy: NetworkPolicy and label changes through the Kubernetes API to flows on every affected host (3 lab hosts, 300 pods), against Contiv rules over REST';

function progress(msg: string): void {
  process.stderr.write(`[kube-policy ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

const fmt = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : String(Math.round(x)));
const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);
const ratio = (a: number, b: number): number => (b > 0 && Number.isFinite(a) ? Math.round((a / b) * 100) / 100 : Number.NaN);

export async function run(args: string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${KUBE_POLICY_USAGE}\n`);
    return;
  }
  const cfg = parseKubePolicyArgs(args);
  const started = performance.now();
  const loadStart = load();
  const pods = podPlan(cfg);
  const plan = changes(cfg);
  const lat = new Map<ChangeKind, number[]>();
  /** the same changes until the last real host's flows only, and until the last simulated agent's receipt only */
  const realLat = new Map<ChangeKind, number[]>();
  const simLat = new Map<ChangeKind, number[]>();
  const push = (m: Map<ChangeKind, number[]>, k: ChangeKind, x: number | undefined): void => {
    if (x !== undefined) m.set(k, [...(m.get(k) ?? []), x]);
  };
  const failures: string[] = [];
  const setup: Record<string, number> = {};
  let agentReconcile: ReturnType<typeof phaseMeansMs> | undefined;
  /** the real agents' reconciles while they take in the simulated agents (their joins, then the warm-up rule) */
  let burstReconcile: ReturnType<typeof phaseMeansMs> | undefined;
  let simCpuMsPerChange: number | undefined;
  let cluster: KubePolicyCluster | undefined;
  try {
    cluster = await KubePolicyCluster.up(cfg, progress);
    let t = performance.now();
    await cluster.netloomObjects();
    await cluster.kubeObjects(cfg.rounds);
    setup.apiObjectsMs = performance.now() - t;
    progress(
      `${cfg.namespaces} namespaces, ${standingPolicies(cfg.rounds).length} standing policies; the kubelets make ${pods.length} pods, ${cfg.podBatch} at a time`,
    );
    t = performance.now();
    await cluster.makePods(pods, 600_000, progress);
    setup.podsRunningMs = performance.now() - t;
    progress(`${pods.length} pods Running in ${fmt(setup.podsRunningMs / 1000)} s; ${plan.length} changes`);
    const phasesBeforeBurst = await cluster.agentPhases();
    t = performance.now();
    await cluster.startSimAgents(cfg.simAgents, pods.length, 300_000, progress);
    setup.simAgentsMs = performance.now() - t;
    t = performance.now();
    for (const c of warmUpChanges(cfg)) await cluster.measure(c, 300_000);
    setup.warmUpMs = performance.now() - t;
    burstReconcile = phaseMeansMs(phasesBeforeBurst, await cluster.agentPhases());
    progress(`warmed up in ${fmt(setup.warmUpMs)} ms: every host realized the whole setup`);
    // nothing of the standing policies shows yet (each selects no peer or no pod)
    await cluster.settle(
      plan.filter((c) => c.kind === 'namespaceUnlabel' || c.kind === 'podUnlabel').flatMap((c) => c.expect),
      120_000,
    );
    const timeoutMs = cfg.timeoutSeconds * 1000;
    const phasesBefore = await cluster.agentPhases();
    const simCpuBefore = (await cluster.sim?.stats())?.cpuMs;
    for (const c of plan) {
      try {
        const m = await cluster.measure(c, timeoutMs);
        push(lat, c.kind, m.ms);
        push(realLat, c.kind, m.realMs);
        push(simLat, c.kind, m.simMs);
      } catch (e) {
        failures.push(`${c.kind} ${c.round}: ${errorMessage(e)}`);
        progress(`${c.kind} ${c.round}: FAILED: ${errorMessage(e)}`);
        // the next change of this round may depend on this one: wait for it, then go on
        await cluster.settle(c.expect, timeoutMs).catch(() => undefined);
      }
      if (c.kind === 'refRuleDelete') progress(`round ${c.round + 1}/${cfg.rounds} done (load ${loadavg()[0]!.toFixed(1)})`);
    }
    // where the agents' time went during the changes: each host's reconciles, by phase
    agentReconcile = phaseMeansMs(phasesBefore, await cluster.agentPhases());
    // the simulator's own CPU (one process for every simulated agent) delays the last receipt of a change
    const simCpuAfter = (await cluster.sim?.stats())?.cpuMs;
    if (simCpuBefore !== undefined && simCpuAfter !== undefined) simCpuMsPerChange = Math.round((simCpuAfter - simCpuBefore) / plan.length);
  } catch (e) {
    failures.push(errorMessage(e));
    progress(`FAILED: ${errorMessage(e)}`);
  } finally {
    await cluster?.down(progress);
  }
  const byKind: Partial<Record<ChangeKind, LatencySummary>> = {};
  for (const [k, xs] of lat) byKind[k] = summarize(xs);
  const all = (kinds: readonly ChangeKind[], m = lat) => summarize(kinds.flatMap((k) => m.get(k) ?? []));
  const kube = all(KUBE_KINDS);
  const ref = all(REF_KINDS);
  const loadEnd = load();
  const result = {
    benchmark: 'kube-policy',
    hosts: 3,
    simAgents: cfg.simAgents,
    pods: pods.length,
    namespaces: cfg.namespaces,
    rounds: cfg.rounds,
    kube,
    reference: ref,
    kubeRealHosts: all(KUBE_KINDS, realLat),
    kubeSimAgents: all(KUBE_KINDS, simLat),
    ratioP50: ratio(kube.p50, ref.p50),
    ratioP99: ratio(kube.p99, ref.p99),
    goalP99Ms: 1000,
    policyCreateVsRuleCreateP50: ratio(byKind.policyCreate?.p50 ?? NaN, byKind.refRuleCreate?.p50 ?? NaN),
    policyDeleteVsRuleDeleteP50: ratio(byKind.policyDelete?.p50 ?? NaN, byKind.refRuleDelete?.p50 ?? NaN),
    byKind,
    agentReconcile: agentReconcile ?? null,
    burstReconcile: burstReconcile ?? null,
    // taking in the simulated agents (one unmeasured rule until every host shows it) against one rule change of the same run
    warmUpVsRuleP50: ratio(setup.warmUpMs ?? NaN, ref.p50),
    simCpuMsPerChange: simCpuMsPerChange ?? null,
    setupMs: Object.fromEntries(Object.entries(setup).map(([k, v]) => [k, Math.round(v)])),
    loadAvg: { start: loadStart, end: loadEnd },
    durationS: Math.round((performance.now() - started) / 1000),
    failures,
  };
  if (agentReconcile)
    progress(
      `agents: ${agentReconcile.reconciles} reconciles over the 3 hosts during the changes, mean ms by phase ${JSON.stringify(agentReconcile.meanMs)}`,
    );
  if (burstReconcile)
    progress(
      `agents: ${burstReconcile.reconciles} reconciles over the 3 hosts while taking in the simulated agents, mean ms by phase ${JSON.stringify(burstReconcile.meanMs)}`,
    );
  for (const [k, s] of Object.entries(byKind)) progress(`${k}: p50 ${fmt(s.p50)} p99 ${fmt(s.p99)} max ${fmt(s.max)} ms (${s.samples})`);
  progress(
    `Kubernetes changes: real hosts' flows p50 ${fmt(result.kubeRealHosts.p50)} p99 ${fmt(result.kubeRealHosts.p99)} ms; simulated agents' receipt p50 ${fmt(result.kubeSimAgents.p50)} p99 ${fmt(result.kubeSimAgents.p99)} ms`,
  );
  process.stdout.write(
    `NetworkPolicy realization, API write to flows on every affected host (${pods.length} pods, 3 hosts, ${cfg.simAgents} simulated agents): ` +
      `p50 ${fmt(kube.p50)} p99 ${fmt(kube.p99)} ms over ${kube.samples} changes (goal p99 <= 1000); ` +
      `Contiv rule over REST p50 ${fmt(ref.p50)} p99 ${fmt(ref.p99)} ms (${ref.samples}); ratio p50 ${result.ratioP50} p99 ${result.ratioP99}; ` +
      `load ${loadStart[0]} -> ${loadEnd[0]}${failures.length ? `; FAILED: ${failures.slice(0, 5).join('; ')}` : ''}\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runIfMain(module, run);
