/**
 * The lab as a Kubernetes cluster (`up --kube`): one kubelet stand-in per host (tools/kubelet, run
 * by path: deploy does not import tools) against the lab's API and the host's containerd, its PID
 * recorded in the state file, its log under log/; ready when the API shows its Node Ready. Stopped
 * by PID before containerd's clean-up on down (a running kubelet would make the pods again).
 */
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { spawnDaemon } from '../../lib/exec';
import { isAlive, stopProcess } from '../../lib/process';
import { restRequest } from '../../lib/rest-request';
import type { HostPlan, LabPlan } from './plan';
import { saveState, type LabState } from './state';
import { containerdPaths, labNodeConfig, LAB_CLUSTER_DNS } from './containerd-paths';
import { kubeApiPaths } from './kube-api';
import { pkiPaths } from './pki';

/** tools/kubelet's entry point in dist/ (spawned by path). */
export const KUBELET_JS = resolve(__dirname, '../../tools/kubelet/main.js');
export const KUBELET_PROGRAM = 'kubelet/main.js';

export function kubeletRole(host: string): string {
  return `${host}/kubelet`;
}

export function kubeletLog(plan: Pick<LabPlan, 'dir'>, host: string): string {
  return `${plan.dir}/log/${host}-kubelet.log`;
}

/** The stand-in's command line for `h` (pure): the lab's kubeconfig, the host's containerd, node name and address. */
export function kubeletArgs(plan: LabPlan, h: HostPlan): string[] {
  const node = labNodeConfig(plan, h.name);
  return [
    KUBELET_JS,
    ...['--kubeconfig', kubeApiPaths(plan).kubeconfig, '--hostname-override', h.name],
    ...['--container-runtime-endpoint', containerdPaths(plan, h.name).socket, '--node-ip', h.mgmtIp],
    ...['--pod-logs-dir', node.logRoot, '--cgroup-root', node.cgroupRoot, '--cluster-dns', LAB_CLUSTER_DNS],
  ];
}

/** Start the host's kubelet (replacing a record of the same role) and record its PID. */
export function startKubelet(state: LabState, h: HostPlan): number {
  mkdirSync(`${state.plan.dir}/log`, { recursive: true });
  const fd = openSync(kubeletLog(state.plan, h.name), 'a');
  let pid: number;
  try {
    pid = spawnDaemon(process.execPath, kubeletArgs(state.plan, h), { logFd: fd });
  } finally {
    closeSync(fd);
  }
  state.pids = [...state.pids.filter((x) => x.role !== kubeletRole(h.name)), { role: kubeletRole(h.name), pid, program: KUBELET_PROGRAM }];
  saveState(state);
  return pid;
}

/** The bearer token of the lab's admin (kube-api.ts writes it first in the token file). */
function adminToken(plan: LabPlan): string {
  return readFileSync(kubeApiPaths(plan).tokens, 'utf8').split(',')[0] ?? '';
}

/** True when the API has the host's Node with condition Ready True (its kubelet follows its pods). */
export async function nodeReady(plan: LabPlan, host: string): Promise<boolean> {
  try {
    const r = await restRequest(`${kubeApiPaths(plan).url}/api/v1/nodes/${host}`, {
      credentials: { ca: readFileSync(pkiPaths(plan).ca.cert), token: adminToken(plan) },
      timeoutMs: 2000,
    });
    if (!r.ok) return false;
    const node = JSON.parse(r.text) as { status?: { conditions?: Array<{ type: string; status: string }> } };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  } catch {
    return false;
  }
}

export async function waitKubeletReady(state: LabState, host: string, timeoutMs = 60_000): Promise<void> {
  const rec = state.pids.find((x) => x.role === kubeletRole(host));
  await waitFor(
    `the kubelet of ${host} (node Ready in the API)`,
    async () => {
      if (rec && !isAlive(rec.pid))
        throw new NetloomError('COMMAND_FAILED', `the kubelet of ${host} exited; see ${kubeletLog(state.plan, host)}`);
      return nodeReady(state.plan, host);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/**
 * Stop the host's kubelet by its PID (if it runs) and start it again; its pods keep running and
 * it takes them back (it removes only the sandboxes of pods the API no longer has). The new PID.
 */
export async function restartKubelet(state: LabState, h: HostPlan): Promise<number> {
  if (!state.kube)
    throw new NetloomError('CONFLICT', `lab "${state.plan.name}" runs no kubelets (bring it up with: netloom-lab up --kube)`, {
      field: 'host',
    });
  const rec = state.pids.find((x) => x.role === kubeletRole(h.name));
  if (rec) await stopProcess(rec.pid, rec.program);
  const pid = startKubelet(state, h);
  await waitKubeletReady(state, h.name);
  return pid;
}

export async function stopKubelets(state: LabState): Promise<void> {
  for (const p of state.pids.filter((x) => x.program === KUBELET_PROGRAM)) await stopProcess(p.pid, p.program);
}

export interface KubeletStatus {
  host: string;
  pid: number | null;
  /** its Node is Ready in the API */
  ready: boolean;
  log: string;
}

export async function kubeletStatus(state: LabState): Promise<KubeletStatus[]> {
  return Promise.all(
    state.plan.hosts.map(async (h) => {
      const rec = state.pids.find((x) => x.role === kubeletRole(h.name));
      const pid = rec && isAlive(rec.pid) ? rec.pid : null;
      return { host: h.name, pid, ready: pid !== null && (await nodeReady(state.plan, h.name)), log: kubeletLog(state.plan, h.name) };
    }),
  );
}
