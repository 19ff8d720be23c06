/**
 * Pure pieces of the NetworkPolicy realization benchmark (bench/kube-policy.ts): its options, where
 * each pod goes and what it carries, the objects written through the API, and for every measured
 * change the flows it must make or remove on each affected host. No I/O.
 *
 * Every measured change is made so that one tcp port of its own appears in (or leaves) the
 * ingressPolicy table of exactly the hosts it concerns: a rule with no peer or no selected pod
 * compiles to no flow (lib/policy/kubernetes.ts), so a namespace or pod label that makes a rule's
 * peers or targets non-empty shows as that rule's port.
 */
import { NetloomError } from '../../lib/errors';
import type { Condition } from '../../tools/agent-sim/conditions';

export interface KubePolicyBenchConfig {
  lab: string;
  pods: number;
  namespaces: number;
  /** changes of each kind (7 Kubernetes kinds, 2 reference kinds) */
  rounds: number;
  timeoutSeconds: number;
  /** pods made at a time (each batch Running before the next) */
  podBatch: number;
  /** pause between two dumps of a host's flows: back-to-back ovs-ofctl runs load the busy switch they measure */
  pollMs: number;
  /** leave the lab up afterwards (debugging) */
  keep: boolean;
  /** simulated agents (tools/agent-sim over the lab's mutual TLS), each hosting a web pod of the first namespace */
  simAgents: number;
}

export const DEFAULT_KUBE_POLICY_CONFIG: KubePolicyBenchConfig = {
  lab: 'kbpl',
  pods: 300,
  namespaces: 5,
  rounds: 10,
  timeoutSeconds: 60,
  podBatch: 30,
  pollMs: 20,
  keep: false,
  simAgents: 200,
};

/** The most simulated agents: each needs a VTEP of its own in the lab's /24 underlay (simVteps). */
export const MAX_SIM_AGENTS = 234;

export const QUICK_KUBE_POLICY: Partial<KubePolicyBenchConfig> = { pods: 30, namespaces: 3, rounds: 2 };

export const KUBE_POLICY_USAGE = `usage: npm run bench -- kube-policy [--quick] [--lab kbpl] [--pods 300] [--namespaces 5]
  [--rounds 10] [--pod-batch 30] [--timeout-s 60] [--poll-ms 20] [--sim-agents 200] [--keep]
  --quick: 30 pods in 3 namespaces, 2 rounds (a smoke run; still --sim-agents 200)
  --sim-agents: simulated agents (0-${MAX_SIM_AGENTS}), each with one web pod of the first namespace`;

function intOpt(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new NetloomError('INVALID_ARGUMENT', `--${name} must be an integer from ${min} to ${max}, got ${v ?? 'nothing'}`, {
      field: name,
    });
  return n;
}

export function parseKubePolicyArgs(args: readonly string[]): KubePolicyBenchConfig {
  const cfg: KubePolicyBenchConfig = { ...DEFAULT_KUBE_POLICY_CONFIG };
  if (args.includes('--quick')) Object.assign(cfg, QUICK_KUBE_POLICY);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    switch (a) {
      case '--quick':
        break;
      case '--keep':
        cfg.keep = true;
        break;
      case '--lab':
        if (!v || !/^[a-z][a-z0-9]{0,5}$/.test(v))
          throw new NetloomError('INVALID_ARGUMENT', '--lab must be 1-6 lower-case letters or digits, a letter first', { field: 'lab' });
        cfg.lab = v;
        i++;
        break;
      case '--pods':
        cfg.pods = intOpt('pods', v, 9, 1000);
        i++;
        break;
      case '--namespaces':
        cfg.namespaces = intOpt('namespaces', v, 2, 50);
        i++;
        break;
      case '--rounds':
        cfg.rounds = intOpt('rounds', v, 1, 500);
        i++;
        break;
      case '--poll-ms':
        cfg.pollMs = intOpt('poll-ms', v, 0, 1000);
        i++;
        break;
      case '--pod-batch':
        cfg.podBatch = intOpt('pod-batch', v, 1, 1000);
        i++;
        break;
      case '--sim-agents':
        cfg.simAgents = intOpt('sim-agents', v, 0, MAX_SIM_AGENTS);
        i++;
        break;
      case '--timeout-s':
        cfg.timeoutSeconds = intOpt('timeout-s', v, 5, 3600);
        i++;
        break;
      default:
        throw new NetloomError('INVALID_ARGUMENT', `unknown option ${a}\n${KUBE_POLICY_USAGE}`, { field: 'args' });
    }
  }
  // the first namespace needs a web and a client pod on every host
  if (cfg.pods < cfg.namespaces * 9)
    throw new NetloomError('INVALID_ARGUMENT', `--pods must be at least 9 per namespace (${cfg.namespaces * 9})`, { field: 'pods' });
  return cfg;
}

export const HOSTS = ['host1', 'host2', 'host3'] as const;
export const APPS = ['web', 'client', 'db'] as const;
/** the namespace whose policies are measured; the others are peers for namespace label changes */
export const NS_PREFIX = 'kbns-';
export const TENANT = 'kb';
export const NETWORK = 'pods';
/** the pods' group; the first namespace's web and client pods are in groups of their own */
export const DEFAULT_GROUP = 'kbg';
export const WEB_GROUP = 'kbweb';
export const CLIENT_GROUP = 'kbcli';
export const REF_POLICY = 'kbref';
/** every pod's one named port */
export const NAMED_PORT = { name: 'http', containerPort: 8080, protocol: 'TCP' } as const;

export interface PodPlan {
  index: number;
  namespace: string;
  name: string;
  host: (typeof HOSTS)[number];
  app: (typeof APPS)[number];
  /** netloom.io/group annotation ('' for none: the CNI configuration's group) */
  group: string;
}

export const namespaceName = (j: number): string => `${NS_PREFIX}${j}`;

/**
 * Pod i: namespace i mod N, host and app cycling so that every namespace has every app on every
 * host (the first namespace's pods 0, N, 2N are web on host1..3, 3N..5N client, 6N..8N db, ...).
 */
export function podPlan(cfg: Pick<KubePolicyBenchConfig, 'pods' | 'namespaces'>): PodPlan[] {
  const out: PodPlan[] = [];
  for (let i = 0; i < cfg.pods; i++) {
    const j = i % cfg.namespaces;
    const slot = Math.floor(i / cfg.namespaces);
    const app = APPS[Math.floor(slot / HOSTS.length) % APPS.length]!;
    const group = j === 0 && app === 'web' ? WEB_GROUP : j === 0 && app === 'client' ? CLIENT_GROUP : '';
    out.push({ index: i, namespace: namespaceName(j), name: `kbp-${i}`, host: HOSTS[slot % HOSTS.length]!, app, group });
  }
  return out;
}

/** The lab's local image the kubelet stand-ins run (no registry here). */
export const POD_IMAGE = 'netloom.local/pause:1.0';

/**
 * The v1 Pod object of `p`: on its host (no scheduler: spec.nodeName), in the bench's tenant,
 * network and group (netloom.io annotations: the lab's CNI configuration names another network),
 * one container with the named port.
 */
export function podObject(p: PodPlan): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: { app: p.app },
      annotations: { 'netloom.io/tenant': TENANT, 'netloom.io/network': NETWORK, 'netloom.io/group': p.group || DEFAULT_GROUP },
    },
    spec: { nodeName: p.host, containers: [{ name: 'c', image: POD_IMAGE, ports: [{ ...NAMED_PORT }] }] },
  };
}

export type ChangeKind =
  | 'policyCreate'
  | 'policyUpdate'
  | 'policyDelete'
  | 'namespaceLabel'
  | 'namespaceUnlabel'
  | 'podLabel'
  | 'podUnlabel'
  | 'refRuleCreate'
  | 'refRuleDelete';

export const KUBE_KINDS: readonly ChangeKind[] = [
  'policyCreate',
  'policyUpdate',
  'policyDelete',
  'namespaceLabel',
  'namespaceUnlabel',
  'podLabel',
  'podUnlabel',
];
export const REF_KINDS: readonly ChangeKind[] = ['refRuleCreate', 'refRuleDelete'];

/** What one host must show once a change is realized: ports with a flow in ingressPolicy, ports without. */
export interface HostExpectation {
  host: string;
  present: number[];
  absent: number[];
}

/** The API write (or REST call) of a change, as data: the bench's driver performs it. */
export type ChangeWrite =
  | { kind: 'putPolicy'; policy: Record<string, unknown> }
  | { kind: 'deletePolicy'; namespace: string; name: string }
  | { kind: 'namespaceLabel'; namespace: string; key: string; value: string | null }
  | { kind: 'podLabel'; namespace: string; name: string; key: string; value: string | null }
  | { kind: 'refRule'; ruleId: string; port: number | null };

export interface Change {
  kind: ChangeKind;
  round: number;
  write: ChangeWrite;
  expect: HostExpectation[];
  /** what every simulated agent (a web pod of the first namespace each) must receive; undefined: they are not affected */
  sim?: Condition;
}

export const PORTS = { created: 20000, updated: 21000, namespace: 22000, pod: 23000, ref: 24000 } as const;

/** A NetworkPolicy in the first namespace: `podSelector` targets, one ingress rule from `from` (none: anyone) on `port`. */
export function policyObject(
  name: string,
  podSelector: Record<string, string>,
  from: Record<string, unknown> | undefined,
  port: number,
): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: namespaceName(0) },
    spec: {
      podSelector: { matchLabels: podSelector },
      policyTypes: ['Ingress'],
      ingress: [{ ...(from ? { from: [from] } : {}), ports: [{ protocol: 'TCP', port }] }],
    },
  };
}

/** The policies made before the clock starts: one per namespace label round and per pod label round (selecting nothing yet). */
export function standingPolicies(rounds: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let k = 0; k < rounds; k++) {
    out.push(policyObject(`kbnsp-${k}`, { app: 'web' }, { namespaceSelector: { matchLabels: { kbsel: `n${k}` } } }, PORTS.namespace + k));
    out.push(policyObject(`kbpodp-${k}`, { kbsel: `p${k}` }, undefined, PORTS.pod + k));
  }
  return out;
}

const hostsOf = (pods: readonly PodPlan[]): string[] => [...new Set(pods.map((p) => p.host))].sort();

/**
 * The measured changes, round by round, each kind once per round (interleaved, so that load
 * changes hit every kind alike): a policy created, changed, deleted; a namespace labelled into a
 * standing policy's peers and out again; a pod labelled into a standing policy's targets and out
 * again; and the reference, a Contiv rule between the same groups added and removed over REST.
 */
export function changes(cfg: Pick<KubePolicyBenchConfig, 'pods' | 'namespaces' | 'rounds'>): Change[] {
  const pods = podPlan(cfg);
  const first = pods.filter((p) => p.namespace === namespaceName(0));
  const webHosts = hostsOf(first.filter((p) => p.app === 'web'));
  const on = (hosts: readonly string[], present: number[], absent: number[] = []): HostExpectation[] =>
    hosts.map((host) => ({ host, present, absent }));
  const out: Change[] = [];
  for (let k = 0; k < cfg.rounds; k++) {
    const name = `kbnp-${k}`;
    const created = PORTS.created + k;
    const updated = PORTS.updated + k;
    const fromClients = { podSelector: { matchLabels: { app: 'client' } } };
    out.push({
      kind: 'policyCreate',
      round: k,
      write: { kind: 'putPolicy', policy: policyObject(name, { app: 'web' }, fromClients, created) },
      expect: on(webHosts, [created]),
      sim: { kind: 'kubePolicyPorts', present: [created], absent: [] },
    });
    out.push({
      kind: 'policyUpdate',
      round: k,
      write: { kind: 'putPolicy', policy: policyObject(name, { app: 'web' }, fromClients, updated) },
      expect: on(webHosts, [updated], [created]),
      sim: { kind: 'kubePolicyPorts', present: [updated], absent: [created] },
    });
    out.push({
      kind: 'policyDelete',
      round: k,
      write: { kind: 'deletePolicy', namespace: namespaceName(0), name },
      expect: on(webHosts, [], [updated]),
      sim: { kind: 'kubePolicyPorts', present: [], absent: [updated] },
    });
    const peerNs = namespaceName(1 + (k % (cfg.namespaces - 1)));
    out.push({
      kind: 'namespaceLabel',
      round: k,
      write: { kind: 'namespaceLabel', namespace: peerNs, key: 'kbsel', value: `n${k}` },
      expect: on(webHosts, [PORTS.namespace + k]),
      sim: { kind: 'kubeNamespaceLabel', namespace: peerNs, key: 'kbsel', value: `n${k}` },
    });
    out.push({
      kind: 'namespaceUnlabel',
      round: k,
      write: { kind: 'namespaceLabel', namespace: peerNs, key: 'kbsel', value: null },
      expect: on(webHosts, [], [PORTS.namespace + k]),
      sim: { kind: 'kubeNamespaceLabel', namespace: peerNs, key: 'kbsel', value: null },
    });
    const pod = first[k % first.length]!;
    out.push({
      kind: 'podLabel',
      round: k,
      write: { kind: 'podLabel', namespace: pod.namespace, name: pod.name, key: 'kbsel', value: `p${k}` },
      expect: on([pod.host], [PORTS.pod + k]),
    });
    out.push({
      kind: 'podUnlabel',
      round: k,
      write: { kind: 'podLabel', namespace: pod.namespace, name: pod.name, key: 'kbsel', value: null },
      expect: on([pod.host], [], [PORTS.pod + k]),
    });
    out.push({
      kind: 'refRuleCreate',
      round: k,
      write: { kind: 'refRule', ruleId: `r${k}`, port: PORTS.ref + k },
      expect: on(webHosts, [PORTS.ref + k]),
      sim: { kind: 'rules', policy: `${TENANT}:${REF_POLICY}`, ruleIds: [`r${k}`] },
    });
    out.push({
      kind: 'refRuleDelete',
      round: k,
      write: { kind: 'refRule', ruleId: `r${k}`, port: null },
      expect: on(webHosts, [], [PORTS.ref + k]),
      sim: { kind: 'rules', policy: `${TENANT}:${REF_POLICY}`, ruleIds: [`r${k}`], absent: true },
    });
  }
  return out;
}

export const SIM_HOST_PREFIX = 'kbsim-';

/**
 * VTEPs for `n` simulated agents in the lab's /24 underlay `dataSubnet` (netmaster refuses VTEPs
 * outside it): .10-.99 and .110-.253, clear of the lab hosts' (.1-.9), their routed addresses
 * (.101-.109) and the ToR's (.254).
 */
export function simVteps(dataSubnet: string, n: number): string[] {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(dataSubnet);
  if (!m) throw new NetloomError('INVALID_ARGUMENT', `the lab's data subnet must be a /24, got ${dataSubnet}`, { field: 'dataSubnet' });
  const last = [...Array.from({ length: 90 }, (_, i) => 10 + i), ...Array.from({ length: 144 }, (_, i) => 110 + i)];
  if (n > last.length)
    throw new NetloomError('INVALID_ARGUMENT', `--sim-agents must be at most ${last.length}, got ${n}`, { field: 'sim-agents' });
  return last.slice(0, n).map((x) => `${m[1]}.${x}`);
}

/**
 * The endpoint of simulated agent `host` over REST, as its agent's CNI ADD would record it: a web
 * pod of the first namespace (so that the measured NetworkPolicies target it), in the web group
 * (so that the reference Contiv rule reaches it too).
 */
export function simPodEndpoint(host: string, vtepIP: string): Record<string, unknown> {
  const name = `${host}-web`;
  return {
    tenantName: TENANT,
    networkName: NETWORK,
    groupName: WEB_GROUP,
    homingHost: host,
    vtepIP,
    containerID: `${host}-c`,
    labels: { app: 'web' },
    pod: {
      namespace: namespaceName(0),
      name,
      uid: `uid-${name}`,
      namedPorts: [{ name: NAMED_PORT.name, protocol: NAMED_PORT.protocol, port: NAMED_PORT.containerPort }],
    },
  };
}

/**
 * Unmeasured changes made after the setup (a Contiv rule added and removed): once every host shows
 * them, every agent has realized a state that holds all the pods and simulated agents, so the
 * first measured change does not wait behind that backlog.
 */
export function warmUpChanges(cfg: Pick<KubePolicyBenchConfig, 'pods' | 'namespaces'>): Change[] {
  const port = PORTS.ref + 999;
  const hosts = hostsOf(podPlan(cfg).filter((p) => p.group === WEB_GROUP));
  const policy = `${TENANT}:${REF_POLICY}`;
  return [
    {
      kind: 'refRuleCreate',
      round: -1,
      write: { kind: 'refRule', ruleId: 'warm', port },
      expect: hosts.map((host) => ({ host, present: [port], absent: [] })),
      sim: { kind: 'rules', policy, ruleIds: ['warm'] },
    },
    {
      kind: 'refRuleDelete',
      round: -1,
      write: { kind: 'refRule', ruleId: 'warm', port: null },
      expect: hosts.map((host) => ({ host, present: [], absent: [port] })),
      sim: { kind: 'rules', policy, ruleIds: ['warm'], absent: true },
    },
  ];
}

/** The tcp destination ports the flows match on. */
export function tcpDstPorts(flows: ReadonlyArray<{ match: ReadonlyArray<{ field: string; value?: unknown }> }>): Set<number> {
  const out = new Set<number>();
  for (const f of flows) for (const m of f.match) if (m.field === 'tcp_dst' && typeof m.value === 'number') out.add(m.value);
  return out;
}

/** Whether a host's ingressPolicy ports (tcpDstPorts) are what `e` wants. */
export function portsHold(ports: ReadonlySet<number>, e: Pick<HostExpectation, 'present' | 'absent'>): boolean {
  return e.present.every((p) => ports.has(p)) && !e.absent.some((p) => ports.has(p));
}

/** Sums and counts of the agent's reconcile phases (netplugin_reconcile_phase_seconds), by phase. */
export type PhaseTotals = Record<string, { sum: number; count: number }>;

/** The reconcile phase totals in an agent's /metrics text. */
export function reconcilePhases(metrics: string): PhaseTotals {
  const out: PhaseTotals = {};
  const re = /^netplugin_reconcile_phase_seconds_(sum|count)\{phase="([a-z-]+)"\} ([0-9.e+-]+)$/gm;
  for (const m of metrics.matchAll(re)) {
    const t = (out[m[2]!] ??= { sum: 0, count: 0 });
    t[m[1] as 'sum' | 'count'] = Number(m[3]);
  }
  return out;
}

/** Mean ms per reconcile of each phase between two readings of the same agents (summed over hosts). */
export function phaseMeansMs(
  before: readonly PhaseTotals[],
  after: readonly PhaseTotals[],
): { reconciles: number; meanMs: Record<string, number> } {
  const sum: Record<string, number> = {};
  let reconciles = 0;
  after.forEach((a, i) => {
    const b = before[i] ?? {};
    for (const [phase, t] of Object.entries(a)) {
      sum[phase] = (sum[phase] ?? 0) + (t.sum - (b[phase]?.sum ?? 0));
      if (phase === 'compute') reconciles += t.count - (b[phase]?.count ?? 0);
    }
  });
  const meanMs = Object.fromEntries(
    Object.entries(sum).map(([phase, x]) => [phase, reconciles > 0 ? Math.round((x * 1000 * 10) / reconciles) / 10 : Number.NaN]),
  );
  return { reconciles, meanMs };
}
