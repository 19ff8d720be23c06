/**
 * Pods on a lab host through its containerd's CRI, as a node's kubelet makes them (cri/pods.ts),
 * for `netloom-lab kube HOST ...`: run-pod, rm-pod, pods, exec, gc. containerd starts on demand;
 * pods get their network from bin/netloom-cni and the host's agent (containerd.ts).
 */
import { randomUUID } from 'node:crypto';
import { NetloomError } from '../../lib/errors';
import { checkLabels } from '../../lib/labels';
import { LAB_ROOT, type LabPlan } from './plan';
import { requireState, withLabLock } from './state';
import { findHost } from './lab';
import { criClient, ensureContainerd } from './containerd';
import { containerdPaths, labNodeConfig } from './containerd-paths';
import { LAB_IMAGES, type LabImageName } from './cri/images';
import type { ContainerPort, PodSpec } from './cri/kubelet';
import {
  deletePod,
  execInPod,
  findPod,
  listPods,
  removeNotReadySandboxes,
  runPod,
  type ExecResult,
  type PodView,
  type RunPodResult,
} from './cri/pods';
import { runCniGc, validAttachments, type GcOutcome } from './cri/cni-gc';
import type { CriClient } from './cri/client';
import type { Protocol } from './cri/types';

// the node's kubelet settings live beside containerd's paths (the kubelet stand-ins use them too)
export { LAB_CLUSTER_DNS, labNodeConfig } from './containerd-paths';

const PORT_RE = /^(?:([a-z0-9-]*[a-z][a-z0-9-]*):)?(\d{1,5})(?:\/(tcp|udp|sctp))?(?::(\d{1,5}))?$/i;

/** `[NAME:]PORT[/TCP|UDP|SCTP][:HOSTPORT]` (`--port`) as a container port (pure); errors name `--port`. */
export function parsePortSpec(spec: string): ContainerPort {
  const m = PORT_RE.exec(spec);
  const port = Number(m?.[2]);
  const hostPort = m?.[4] === undefined ? undefined : Number(m[4]);
  const bad = (why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `--port "${spec}": ${why}`, { field: 'port' });
  };
  if (!m) return bad('expected [NAME:]PORT[/TCP|UDP|SCTP][:HOSTPORT], e.g. http:80/TCP or dns:53/UDP:5353');
  if (port < 1 || port > 65535) bad('PORT must be 1..65535');
  if (hostPort !== undefined && (hostPort < 1 || hostPort > 65535)) bad('HOSTPORT must be 1..65535');
  const name = m[1];
  if (name !== undefined && (name.length > 15 || name.startsWith('-') || name.endsWith('-') || name.includes('--')))
    bad('NAME must be an IANA service name (at most 15 letters, digits and single inner dashes, at least one letter)');
  return {
    ...(name !== undefined ? { name: name.toLowerCase() } : {}),
    containerPort: port,
    protocol: (m[3] ?? 'TCP').toUpperCase() as Protocol,
    ...(hostPort !== undefined ? { hostPort } : {}),
  };
}

/** `k=v` pairs (`--label`, `--annotation`) into a map; a pair without `=` names the option. */
export function parseKeyValues(pairs: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new NetloomError('INVALID_ARGUMENT', `${option} "${p}" must be KEY=VALUE`, { field: option.replace(/^-+/, '') });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

export interface KubeRunPodOptions {
  labName: string;
  host: string;
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports?: ContainerPort[];
  image?: LabImageName;
  root?: string;
}

/**
 * The pod a user describes on the command line (pure): one container named after the image;
 * agnhost serves TCP and UDP on each declared port (80 when none), pause only sleeps.
 */
export function labPodSpec(o: Omit<KubeRunPodOptions, 'labName' | 'host' | 'root'>): PodSpec {
  const image = o.image ?? 'agnhost';
  if (o.labels) checkLabels(o.labels, '--label');
  const ports = o.ports ?? [];
  const served = [...new Set(ports.map((p) => p.containerPort))];
  return {
    name: o.name,
    namespace: o.namespace ?? 'default',
    uid: o.uid ?? randomUUID(),
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    containers: [
      {
        name: image,
        image: LAB_IMAGES[image],
        ...(image === 'agnhost' ? { args: ['serve', ...served.flatMap((p) => ['--port', String(p)])] } : {}),
        ports,
      },
    ],
  };
}

/** A CRI client on the host's containerd, started first when it is not running. */
export async function labCri(labName: string, host: string, root: string = LAB_ROOT): Promise<{ cri: CriClient; plan: LabPlan }> {
  const state = requireState(labName, root);
  const h = findHost(state.plan, host);
  await withLabLock(state.plan.dir, () => ensureContainerd(requireState(labName, root), h));
  return { cri: criClient(state.plan, h.name), plan: state.plan };
}

async function withCri<T>(
  labName: string,
  host: string,
  root: string | undefined,
  fn: (cri: CriClient, plan: LabPlan) => Promise<T>,
): Promise<T> {
  const { cri, plan } = await labCri(labName, host, root);
  try {
    return await fn(cri, plan);
  } finally {
    cri.close();
  }
}

export interface LabPod extends RunPodResult {
  namespace: string;
  name: string;
  uid: string;
  host: string;
}

/** Run a pod on a lab host through its containerd (the kubelet's calls); its sandbox's address. */
export async function labKubeRunPod(o: KubeRunPodOptions): Promise<LabPod> {
  const pod = labPodSpec(o);
  return withCri(o.labName, o.host, o.root, async (cri, plan) => {
    if ((await listPods(cri)).some((p) => p.namespace === pod.namespace && p.name === pod.name))
      throw new NetloomError('ALREADY_EXISTS', `pod ${pod.namespace}/${pod.name} already runs on ${o.host}`, { field: 'name' });
    const r = await runPod(cri, pod, labNodeConfig(plan, o.host));
    return { ...r, namespace: pod.namespace, name: pod.name, uid: pod.uid, host: o.host };
  });
}

/** Stop and remove a pod (StopPodSandbox: CNI DEL; RemovePodSandbox). */
export async function labKubeRmPod(
  labName: string,
  host: string,
  namespace: string,
  name: string,
  graceSeconds = 2,
  root?: string,
): Promise<void> {
  await withCri(labName, host, root, (cri) => deletePod(cri, namespace, name, graceSeconds));
}

export async function labKubePods(labName: string, host: string, root?: string): Promise<Array<PodView & { host: string }>> {
  return withCri(labName, host, root, async (cri) => (await listPods(cri)).map((p) => ({ ...p, host })));
}

export async function labKubeExec(
  labName: string,
  host: string,
  namespace: string,
  name: string,
  cmd: string[],
  opts: { container?: string; timeoutSeconds?: number; root?: string } = {},
): Promise<ExecResult> {
  if (cmd.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'exec needs a command after --', { field: 'command' });
  return withCri(labName, host, opts.root, async (cri) => execInPod(cri, await findPod(cri, namespace, name), cmd, opts));
}

export interface LabGcResult {
  /** not-ready sandboxes stopped and removed first, as the kubelet's sync and garbage collector do */
  removed: string[];
  /** sandboxes kept: the valid attachments of the CNI GC */
  kept: number;
  outcomes: GcOutcome[];
}

/**
 * The node's clean-up after a crash: not-ready sandboxes stopped (CNI DEL) and removed, then CNI GC
 * of the pod network with the sandboxes containerd still lists as the valid attachments.
 */
export async function labKubeGc(labName: string, host: string, root?: string): Promise<LabGcResult> {
  return withCri(labName, host, root, async (cri, plan) => {
    const removed = await removeNotReadySandboxes(cri);
    const sandboxes = await cri.listPodSandbox();
    const p = containerdPaths(plan, host);
    return { removed, kept: sandboxes.length, outcomes: await runCniGc(p.conflist, p.cniBin, validAttachments(sandboxes)) };
  });
}

/** `NAMESPACE/NAME` or `NAME` (with the default namespace) (pure). */
export function podRef(ref: string, namespace?: string): { namespace: string; name: string } {
  const i = ref.indexOf('/');
  return i < 0 ? { namespace: namespace ?? 'default', name: ref } : { namespace: ref.slice(0, i), name: ref.slice(i + 1) };
}
