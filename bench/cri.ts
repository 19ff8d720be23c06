/**
 * CRI benchmark: pod sandbox ready time through containerd's CRI, the kubelet's RunPodSandbox until
 * PodSandboxStatus says READY with an address, with netloom (bin/netloom-cni and the host's agent:
 * OVS, netmaster) against the CNI reference `bridge` plugin with host-local IPAM, on the same
 * containerd in the same run: the lab host's containerd has a runtime handler `bridge` whose CNI
 * conf dir holds the bridge conflist, so the two alternate sandbox by sandbox. Each sandbox is
 * stopped and removed (its CNI DEL) before the next; teardown times are reported beside. One pod of
 * each kind stays up throughout, as on a node in service (the host carries the pod network; the
 * bridge exists), so no measured sandbox pays for the first one's set-up.
 * Goal (issue 19): netloom's p50 at most 1.1x the reference's. Lab `kcbn` (1 host). Needs root.
 * Usage: npm run bench -- cri [--iterations N]
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { labDown, labUp } from '../deploy/lab/lab';
import { BRIDGE_RUNTIME, criClient } from '../deploy/lab/containerd';
import { labNodeConfig, labPodSpec } from '../deploy/lab/kube';
import { podSandboxConfig } from '../deploy/lab/cri/kubelet';
import type { CriClient } from '../deploy/lab/cri/client';
import { NetloomError } from '../lib/errors';
import { runIfMain } from './support/standalone';
import { reconcileProfile, scrapeAgentMetrics, type MetricSample } from './support/agent-profile';
import { agentPaths } from '../deploy/lab/plan';

export const description = 'pod sandbox ready time through containerd CRI: netloom-cni vs the reference bridge plugin, same containerd';

const LAB = 'kcbn';
const WARMUP = 3;

interface Figures {
  readyP50: number;
  readyP99: number;
  readyMean: number;
  teardownP50: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}
const r1 = (x: number): number => Math.round(x * 10) / 10;

function parseArgs(args: string[]): { iterations: number } {
  let iterations = 30;
  for (let i = 0; i < args.length; i++) {
    const v = Number(args[i + 1]);
    if (args[i] === '--iterations' && Number.isInteger(v) && v > 0) iterations = v;
    else
      throw new NetloomError('INVALID_ARGUMENT', `unknown or bad argument ${args[i] ?? ''} (usage: cri [--iterations N])`, {
        field: args[i] ?? '',
      });
    i++;
  }
  return { iterations };
}

/** One sandbox through the CRI: ms until ready with an address, then ms to stop and remove it. */
async function oneSandbox(
  cri: CriClient,
  plan: Parameters<typeof labNodeConfig>[0],
  handler: string,
  i: number,
): Promise<[number, number]> {
  const pod = labPodSpec({ name: `bench-${handler || 'netloom'}-${i}`, namespace: 'bench', uid: randomUUID(), image: 'pause' });
  const config = podSandboxConfig(pod, labNodeConfig(plan, 'host1'));
  const t0 = performance.now();
  const id = await cri.runPodSandbox(config, handler);
  const st = (await cri.podSandboxStatus(id)).status;
  const ready = performance.now() - t0;
  if (st?.state !== 'SANDBOX_READY' || !st.network?.ip)
    throw new NetloomError(
      'COMMAND_FAILED',
      `sandbox ${id} (${handler || 'netloom'}) is ${st?.state ?? 'gone'} with address "${st?.network?.ip ?? ''}"`,
    );
  const t1 = performance.now();
  await cri.stopPodSandbox(id);
  await cri.removePodSandbox(id);
  return [ready, performance.now() - t1];
}

export async function run(args: string[]): Promise<void> {
  const { iterations } = parseArgs(args);
  if (process.getuid?.() !== 0) throw new NetloomError('PERMISSION_DENIED', 'the CRI benchmark needs root (a lab)');
  process.stderr.write(`bringing up lab ${LAB} (1 host, etcd, netmaster, netplugin, containerd)...\n`);
  const state = await labUp({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1, agents: true, containerd: true });
  const cri = criClient(state.plan, 'host1');
  try {
    const handlers: Array<[string, string]> = [
      ['netloom', ''],
      ['bridge', BRIDGE_RUNTIME],
    ];
    const host = state.plan.hosts[0]!;
    const scrape = (): Promise<MetricSample> => scrapeAgentMetrics(host.netns, agentPaths(state.plan, host.name).metricsListen);
    let before: MetricSample | undefined;
    const ready = new Map(handlers.map(([label]) => [label, [] as number[]]));
    const teardown = new Map(handlers.map(([label]) => [label, [] as number[]]));
    // a node in service: one pod of each kind stays (the host carries the pod network, the bridge exists)
    for (const [label, handler] of handlers) {
      const pod = labPodSpec({ name: `resident-${label}`, namespace: 'bench', image: 'pause' });
      await cri.runPodSandbox(podSandboxConfig(pod, labNodeConfig(state.plan, 'host1')), handler);
    }
    for (let i = 0; i < WARMUP + iterations; i++) {
      if (i === WARMUP) before = await scrape();
      // alternate which goes first, so that neither always follows the other's teardown
      for (const [label, handler] of i % 2 === 0 ? handlers : [...handlers].reverse()) {
        const [r, t] = await oneSandbox(cri, state.plan, handler, i);
        if (i < WARMUP) continue;
        ready.get(label)?.push(r);
        teardown.get(label)?.push(t);
      }
    }
    const figures = (label: string): Figures => {
      const r = ready.get(label) ?? [];
      return {
        readyP50: r1(pct(r, 50)),
        readyP99: r1(pct(r, 99)),
        readyMean: r1(r.reduce((a, b) => a + b, 0) / r.length),
        teardownP50: r1(pct(teardown.get(label) ?? [], 50)),
      };
    };
    // the agent's own share of netloom's sandboxes: its CNI requests, arrival to answer
    const profile = before ? reconcileProfile(before, await scrape(), iterations) : undefined;
    const agent = profile?.requestMeanMs ?? {};
    const n = figures('netloom');
    const b = figures('bridge');
    const ratio = Math.round((n.readyP50 / b.readyP50) * 100) / 100;
    const goalMet = ratio <= 1.1;
    const load = Math.round((loadavg()[0] ?? 0) * 10) / 10;
    const row = (name: string, f: Figures) =>
      `${name.padEnd(36)}${String(f.readyP50).padStart(9)}${String(f.readyP99).padStart(9)}${String(f.readyMean).padStart(9)}${String(f.teardownP50).padStart(14)}`;
    process.stdout.write(
      [
        `pod sandbox ready time through containerd 1.6 CRI (RunPodSandbox to PodSandboxStatus READY with an IP), ${iterations} sandboxes each after ${WARMUP} warm-up, alternating, one resident pod each; ms`,
        `${'CNI'.padEnd(36)}${'p50'.padStart(9)}${'p99'.padStart(9)}${'mean'.padStart(9)}${'teardown p50'.padStart(14)}`,
        row('netloom-cni (agent, OVS, netmaster)', n),
        row('bridge + host-local', b),
        `in netloom's agent, mean ms from a CNI request's arrival to its answer: ${JSON.stringify(agent)}; ` +
          `an ADD's steps, mean ms from its start: ${JSON.stringify(profile?.addStepMeanMs ?? {})}`,
        `p50 ratio netloom / bridge: ${ratio} (goal <= 1.1: ${goalMet ? 'met' : 'NOT met'}); load average at the end: ${load}`,
        '',
      ].join('\n'),
    );
    process.stdout.write(
      `${JSON.stringify({ benchmark: 'cri', iterations, netloom: n, bridge: b, agentRequestMeanMs: agent, agentAddStepMeanMs: profile?.addStepMeanMs ?? {}, readyP50Ratio: ratio, goal: 1.1, goalMet, loadAverage1m: load })}\n`,
    );
  } finally {
    cri.close();
    await labDown(LAB);
  }
}

runIfMain(module, run);
