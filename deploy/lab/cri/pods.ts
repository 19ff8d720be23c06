/**
 * Pods through a CRI runtime, call for call as the kubelet makes them: run (RunPodSandbox, then
 * for each container ImageStatus, CreateContainer, StartContainer), kill (StopContainer with the
 * grace period, then StopPodSandbox: the runtime's CNI DEL), remove (RemoveContainer,
 * RemovePodSandbox), list and exec. Knows nothing of the lab: a kubelet stand-in calls these with
 * the pods it reads from the API server, `netloom-lab kube` with the pod a user describes.
 */
import { mkdirSync } from 'node:fs';
import { systemClock } from '../../../lib/clock';
import { NetloomError } from '../../../lib/errors';
import type { CriClient } from './client';
import { containerConfig, NodeConfig, podSandboxConfig, PodSpec, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from './kubelet';
import type { ContainerState, PodSandbox, PodSandboxState } from './types';

/** The CRI calls the pod functions make (a CriClient; a fake in unit tests). */
export type PodRuntime = Pick<
  CriClient,
  | 'listPodSandbox'
  | 'podSandboxStatus'
  | 'runPodSandbox'
  | 'stopPodSandbox'
  | 'removePodSandbox'
  | 'imageStatus'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'listContainers'
  | 'execSync'
>;

export interface PodContainerView {
  name: string;
  id: string;
  image: string;
  state: ContainerState;
}

/** A pod as the runtime has it: its newest sandbox, its address and containers. */
export interface PodView {
  namespace: string;
  name: string;
  uid: string;
  sandboxId: string;
  attempt: number;
  state: PodSandboxState;
  /** PodSandboxStatus network.ip ('' when the sandbox has none, e.g. stopped) */
  ip: string;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containers: PodContainerView[];
}

export interface RunPodResult {
  sandboxId: string;
  ip: string;
  containers: Array<{ name: string; id: string }>;
  /** ms from RunPodSandbox to a ready sandbox with an address (PodSandboxStatus) */
  sandboxReadyMs: number;
}

/** The sandboxes of a pod (by its UID label, as the kubelet looks them up), newest first. */
export async function podSandboxes(cri: PodRuntime, uid: string): Promise<PodSandbox[]> {
  const items = await cri.listPodSandbox({ labelSelector: { [POD_UID_LABEL]: uid } });
  return items.sort(newestFirst);
}

/** Sandboxes by creation time (nanoseconds as a decimal string), newest first. */
function newestFirst(a: PodSandbox, b: PodSandbox): number {
  const d = BigInt(b.createdAt) - BigInt(a.createdAt);
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

/**
 * Run `pod`: a new sandbox (attempt = the pod's sandboxes so far), then its containers. An image
 * the runtime does not have is an error (no registry to pull from). On failure what was made is
 * removed again, as the kubelet's next sync would.
 */
export async function runPod(
  cri: PodRuntime,
  pod: PodSpec,
  node: NodeConfig,
  opts: { cleanUpFailed?: boolean } = {},
): Promise<RunPodResult> {
  const attempt = (await podSandboxes(cri, pod.uid)).length;
  const config = podSandboxConfig(pod, node, attempt);
  for (const c of pod.containers)
    if (!(await cri.imageStatus(c.image)))
      throw new NetloomError('NOT_FOUND', `image ${c.image} of container ${c.name} is not in the runtime (no registry here)`, {
        field: 'image',
      });
  // the kubelet makes the pod's log directory before RunPodSandbox
  mkdirSync(config.logDirectory ?? node.logRoot, { recursive: true });
  const t0 = systemClock.monotonic();
  let sandboxId: string;
  try {
    sandboxId = await cri.runPodSandbox(config);
  } catch (e) {
    // containerd keeps a failed sandbox (not ready) until someone stops and removes it: the
    // kubelet's next sync does, and so does this, at once (StopPodSandbox retries the CNI DEL)
    if (opts.cleanUpFailed !== false) await removeFailedSandboxes(cri, pod.uid, attempt).catch(() => undefined);
    throw e;
  }
  try {
    const status = (await cri.podSandboxStatus(sandboxId)).status;
    const sandboxReadyMs = systemClock.monotonic() - t0;
    if (status?.state !== 'SANDBOX_READY')
      throw new NetloomError('COMMAND_FAILED', `sandbox ${sandboxId} of pod ${pod.namespace}/${pod.name} is ${status?.state ?? 'gone'}`);
    const containers: RunPodResult['containers'] = [];
    for (const c of pod.containers) {
      const id = await cri.createContainer(sandboxId, containerConfig(pod, c), config);
      containers.push({ name: c.name, id });
      await cri.startContainer(id);
    }
    return { sandboxId, ip: status.network?.ip ?? '', containers, sandboxReadyMs };
  } catch (e) {
    await killSandbox(cri, sandboxId, 0).catch(() => undefined);
    await removeSandbox(cri, sandboxId).catch(() => undefined);
    throw e;
  }
}

/** Stop and remove the pod's not-ready sandboxes of `attempt` (what a failed RunPodSandbox left). */
async function removeFailedSandboxes(cri: PodRuntime, uid: string, attempt: number): Promise<void> {
  for (const s of await podSandboxes(cri, uid)) {
    if (s.state === 'SANDBOX_READY' || (s.metadata?.attempt ?? 0) !== attempt) continue;
    await killSandbox(cri, s.id, 0).catch(() => undefined);
    await removeSandbox(cri, s.id).catch(() => undefined);
  }
}

/**
 * What the kubelet does with sandboxes that are not ready (a failed RunPodSandbox, a pause process
 * that died, a sandbox found after a runtime crash): its sync stops them (StopPodSandbox: the CNI
 * DEL again) and its garbage collector removes them. Returns the sandboxes removed.
 */
export async function removeNotReadySandboxes(cri: PodRuntime, graceSeconds = 0): Promise<string[]> {
  const removed: string[] = [];
  for (const s of await cri.listPodSandbox()) {
    if (s.state === 'SANDBOX_READY') continue;
    await killSandbox(cri, s.id, graceSeconds);
    await removeSandbox(cri, s.id);
    removed.push(s.id);
  }
  return removed;
}

/** Stop a sandbox's containers (grace period in seconds), then the sandbox: the runtime tears its network down (CNI DEL). */
export async function killSandbox(cri: PodRuntime, sandboxId: string, graceSeconds: number): Promise<void> {
  for (const c of await cri.listContainers({ podSandboxId: sandboxId }))
    if (c.state !== 'CONTAINER_EXITED') await cri.stopContainer(c.id, graceSeconds);
  await cri.stopPodSandbox(sandboxId);
}

/** Remove a stopped sandbox's containers, then the sandbox. */
export async function removeSandbox(cri: PodRuntime, sandboxId: string): Promise<void> {
  for (const c of await cri.listContainers({ podSandboxId: sandboxId })) await cri.removeContainer(c.id);
  await cri.removePodSandbox(sandboxId);
}

/** The pods the runtime runs for the kubelet (sandboxes with the pod labels), newest sandbox of each. */
export async function listPods(cri: PodRuntime): Promise<PodView[]> {
  const byUid = new Map<string, PodSandbox[]>();
  for (const s of await cri.listPodSandbox()) {
    const uid = s.labels[POD_UID_LABEL];
    if (uid === undefined) continue;
    byUid.set(uid, [...(byUid.get(uid) ?? []), s]);
  }
  const containers = await cri.listContainers();
  const out: PodView[] = [];
  for (const [uid, sandboxes] of byUid) {
    const s = sandboxes.sort(newestFirst)[0];
    if (!s) continue;
    const status = (await cri.podSandboxStatus(s.id)).status;
    out.push({
      namespace: s.labels[POD_NAMESPACE_LABEL] ?? s.metadata?.namespace ?? '',
      name: s.labels[POD_NAME_LABEL] ?? s.metadata?.name ?? '',
      uid,
      sandboxId: s.id,
      attempt: s.metadata?.attempt ?? 0,
      state: s.state,
      ip: status?.network?.ip ?? '',
      createdAt: new Date(Number(BigInt(s.createdAt) / 1_000_000n)).toISOString(),
      labels: s.labels,
      annotations: s.annotations,
      containers: containers
        .filter((c) => c.podSandboxId === s.id)
        .map((c) => ({ name: c.metadata?.name ?? '', id: c.id, image: c.image?.image ?? '', state: c.state })),
    });
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

/** The pod `namespace/name` (its newest sandbox), or a NOT_FOUND naming it. */
export async function findPod(cri: PodRuntime, namespace: string, name: string): Promise<PodView> {
  const p = (await listPods(cri)).find((x) => x.namespace === namespace && x.name === name);
  if (!p) throw new NetloomError('NOT_FOUND', `no pod ${namespace}/${name} in the runtime`, { field: 'pod' });
  return p;
}

/** Kill and remove every sandbox of the pod `namespace/name` (the kubelet's pod deletion). */
export async function deletePod(cri: PodRuntime, namespace: string, name: string, graceSeconds = 30): Promise<void> {
  const pod = await findPod(cri, namespace, name);
  for (const s of await podSandboxes(cri, pod.uid)) {
    await killSandbox(cri, s.id, graceSeconds);
    await removeSandbox(cri, s.id);
  }
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** ExecSync in a container of the pod (its first one unless named). */
export async function execInPod(
  cri: PodRuntime,
  pod: PodView,
  cmd: string[],
  opts: { container?: string; timeoutSeconds?: number } = {},
): Promise<ExecResult> {
  const c = opts.container === undefined ? pod.containers[0] : pod.containers.find((x) => x.name === opts.container);
  if (!c)
    throw new NetloomError('NOT_FOUND', `pod ${pod.namespace}/${pod.name} has no container ${opts.container ?? ''} to exec in`, {
      field: 'container',
    });
  const r = await cri.execSync(c.id, cmd, opts.timeoutSeconds ?? 30);
  return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
