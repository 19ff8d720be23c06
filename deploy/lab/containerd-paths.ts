/**
 * Where a lab host's containerd keeps everything (all under `hosts/HOST/containerd/`), the cgroup of
 * its pods, and the shared mount that lets the host's agent see the pods' network namespaces.
 * Apart from the agent's start (agents.ts), used by containerd.ts. Also what the node's kubelet
 * adds to every pod (its log and cgroup roots, cluster DNS).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import type { LabPlan } from './plan';
import type { NodeConfig } from './cri/kubelet';

export interface ContainerdPaths {
  dir: string;
  config: string;
  root: string;
  state: string;
  socket: string;
  ttrpcSocket: string;
  runcRoot: string;
  log: string;
  cniBin: string;
  cniConf: string;
  conflist: string;
  /** the reference bridge plugin's conf dir (the `bridge` runtime handler's) and conflist */
  bridgeConf: string;
  bridgeConflist: string;
  /** host-local's data dir for the bridge network */
  bridgeIpam: string;
  /** the kubelet's --pod-logs-dir (sandboxes' log directories) */
  podLogs: string;
}

export function containerdPaths(plan: Pick<LabPlan, 'dir'>, host: string): ContainerdPaths {
  const dir = `${plan.dir}/hosts/${host}/containerd`;
  return {
    dir,
    config: `${dir}/config.toml`,
    root: `${dir}/root`,
    state: `${dir}/state`,
    socket: `${dir}/containerd.sock`,
    ttrpcSocket: `${dir}/containerd.sock.ttrpc`,
    runcRoot: `${dir}/runc`,
    log: `${dir}/containerd.log`,
    cniBin: `${dir}/cni/bin`,
    cniConf: `${dir}/cni/net.d`,
    conflist: `${dir}/cni/net.d/10-netloom.conflist`,
    bridgeConf: `${dir}/cni/bridge.d`,
    bridgeConflist: `${dir}/cni/bridge.d/10-bridge.conflist`,
    bridgeIpam: `${dir}/cni/bridge-ipam`,
    podLogs: `${dir}/pods`,
  };
}

/** The cgroup the host's pods live below (the kubelet's /kubepods), one per lab host. */
export function podCgroupRoot(plan: Pick<LabPlan, 'name'>, host: string): string {
  return `/nl-lab-${plan.name}-${host}-pods`;
}

/** Whether `path` is a mount point shared with a peer group (/proc/self/mountinfo's `shared:N`). */
export function isSharedMount(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => {
      const f = l.split(' ');
      return f[4] === path && f.slice(6, f.indexOf('-')).some((o) => o.startsWith('shared:'));
    });
}

/**
 * Make the host's containerd dir a shared mount (a bind mount of itself), so that the pods'
 * network namespaces containerd mounts below it reach the host's agent: `ip netns exec` gave the
 * agent a mount namespace of its own whose mounts are slaves of the root namespace's, and only a
 * shared mount propagates to them (as a DaemonSet's `mountPropagation: HostToContainer`). Must
 * happen before the agent starts; returns whether it had to be made now. Sync: startAgent is.
 */
export function shareContainerdDir(plan: Pick<LabPlan, 'dir'>, host: string): boolean {
  const dir = containerdPaths(plan, host).dir;
  if (isSharedMount(dir)) return false;
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['--make-shared', dir]);
  return true;
}

/** the cluster DNS address pods are given (kubeadm's default; nothing answers it in the lab) */
export const LAB_CLUSTER_DNS = '10.96.0.10';

/** What the lab host's kubelet (`kube HOST run-pod` and the kubelet stand-ins of `up --kube`) adds to every pod (pure). */
export function labNodeConfig(plan: Pick<LabPlan, 'dir' | 'name'>, host: string): NodeConfig {
  return { logRoot: containerdPaths(plan, host).podLogs, cgroupRoot: podCgroupRoot(plan, host), clusterDns: [LAB_CLUSTER_DNS] };
}
