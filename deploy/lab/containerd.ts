/**
 * containerd with its CRI plugin on a lab host, started on demand (`kube HOST ...`, `up
 * --containerd`) and private to the lab: one containerd per host INSIDE the host's network
 * namespace (nsenter --net, not `ip netns exec`, which remounts /sys and hides the cgroup mounts
 * runc needs), in the root mount namespace (the agent must open the pods' network namespaces,
 * which containerd mounts under its state dir), with its own config, root, state, sockets, runc
 * root and log under `hosts/HOST/containerd/`. Its CRI plugin reads CNI from a conf dir holding one
 * conflist (netloom-cni against the host's agent) and a bin dir of links to bin/netloom-cni and the
 * reference plugins; `sandbox_image` is the lab's local pause image, imported with `ctr`.
 *
 * Traps found on this machine kind (docs/kubernetes.md lists them): runc cannot set the sandbox's
 * oom_score_adj of -998 without CAP_SYS_RESOURCE (restrict_oom_score_adj); a runtime entry needs
 * its runtime_type; the shims' sockets are always `/run/containerd/s/<sha256(address/ns/id)>`
 * (containerd 1.6 hard-codes the directory); shims and their pods outlive a killed containerd.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { run, spawnDaemon } from '../../lib/exec';
import { systemClock, waitFor } from '../../lib/clock';
import { isAlive, listProcesses, signalIfOurs, stopProcess } from '../../lib/process';
import { errorMessage, NetloomError } from '../../lib/errors';
import { restRequest } from '../../lib/rest-request';
import { agentPaths, HostPlan, LabPlan } from './plan';
import { containerdPaths, ContainerdPaths, podCgroupRoot, shareContainerdDir } from './containerd-paths';
import { agentRole, startAgent, stopAgent, waitAgentReady } from './agents';
import { LabState, saveState } from './state';
import { cgroupDirs, unmountUnder } from './engines';
import { labRestCredentials } from './pki';
import { CriClient } from './cri/client';
import { ensureLabImages, LAB_IMAGES, PAUSE_IMAGE } from './cri/images';

export const CONTAINERD_PROGRAM = 'containerd';
/** the containerd namespace of the CRI plugin */
export const CRI_NAMESPACE = 'k8s.io';
/** the CNI network name of the pods' conflist (GC is per network name) */
export const POD_CNI_NETWORK = 'netloom';
/** the netloom tenant and network of the lab's pods (until pods are mapped from the Kubernetes API) */
export const POD_TENANT = 'default';
export const POD_NETWORK = 'pods';
export const POD_SUBNET = '10.244.0.0/16';
export const POD_GATEWAY = '10.244.0.1';
/** the runtime handler whose pods get the reference bridge plugin (its own CNI conf dir) */
export const BRIDGE_RUNTIME = 'bridge';
export const BRIDGE_SUBNET = '10.245.0.0/16';
/** the reference plugins linked into each host's CNI bin dir (loopback: containerd's CRI adds `lo` itself) */
export const REFERENCE_PLUGINS = ['loopback', 'bridge', 'host-local', 'portmap'];
const REFERENCE_DIR = '/usr/lib/cni';
const NETLOOM_CNI = resolve(__dirname, '../../../bin/netloom-cni');
/** containerd 1.6 puts every shim's socket here, whatever its config says */
export const SHIM_SOCKET_DIR = '/run/containerd/s';

export function containerdRole(host: string): string {
  return `${host}/containerd`;
}

/** containerd's config (pure): everything under the host's containerd dir; the CRI plugin on the lab's CNI and pause image. */
export function containerdConfig(p: ContainerdPaths, sandboxImage: string = PAUSE_IMAGE): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = "${p.root}"`,
    `state = "${p.state}"`,
    'oom_score = 0',
    // /opt/containerd and snapshotters the lab does not use stay untouched
    'disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]',
    '[grpc]',
    `  address = "${p.socket}"`,
    '[ttrpc]',
    `  address = "${p.ttrpcSocket}"`,
    `[${cri}]`,
    `  sandbox_image = "${sandboxImage}"`,
    // the pods' network namespaces under the state dir, not the machine's /var/run/netns
    '  netns_mounts_under_state_dir = true',
    // no CAP_SYS_RESOURCE here: runc cannot lower a sandbox's oom_score_adj below containerd's own
    '  restrict_oom_score_adj = true',
    '  disable_apparmor = true',
    '  stream_server_address = "127.0.0.1"',
    `[${cri}.cni]`,
    `  bin_dir = "${p.cniBin}"`,
    `  conf_dir = "${p.cniConf}"`,
    '  max_conf_num = 1',
    `[${cri}.containerd]`,
    '  default_runtime_name = "runc"',
    '  snapshotter = "overlayfs"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    `  Root = "${p.runcRoot}"`,
    // RunPodSandbox with runtime_handler "bridge": the same runc, pods on the reference bridge plugin
    `[${cri}.containerd.runtimes.${BRIDGE_RUNTIME}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `  cni_conf_dir = "${p.bridgeConf}"`,
    '  cni_max_conf_num = 1',
    `[${cri}.containerd.runtimes.${BRIDGE_RUNTIME}.options]`,
    `  Root = "${p.runcRoot}"`,
    '',
  ].join('\n');
}

/**
 * The pods' conflist (pure): netloom-cni against the host's agent. cniVersion 1.0.0, the newest
 * containerd 1.6's libcni knows; `cniVersions` lets a CNI 1.1 caller (the lab's GC) use 1.1.0.
 * Only portMappings is declared: containerd passes a capability's runtimeConfig only when the
 * plugin declares it, and netloom refuses runtimeConfig keys it does not implement.
 */
export function podConflist(agentSocket: string, tenant = POD_TENANT, network = POD_NETWORK): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    cniVersions: ['1.0.0', '1.1.0'],
    name: POD_CNI_NETWORK,
    plugins: [{ type: 'netloom-cni', agentSocket, tenant, network, capabilities: { portMappings: true } }],
  };
}

/**
 * The conflist of the `bridge` runtime handler (pure): the CNI reference bridge plugin with
 * host-local IPAM, for comparisons with netloom on the same containerd (bench cri).
 */
export function bridgeConflist(p: Pick<ContainerdPaths, 'bridgeIpam'>): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'reference-bridge',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni-ref0',
        isGateway: true,
        ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: BRIDGE_SUBNET }]], dataDir: p.bridgeIpam, routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
}

/** The socket path containerd 1.6 gives the shim of sandbox `id` (runtime/v2/shim.SocketAddress). */
export function shimSocketPath(containerdSocket: string, id: string, namespace = CRI_NAMESPACE): string {
  return `${SHIM_SOCKET_DIR}/${createHash('sha256').update(`${containerdSocket}/${namespace}/${id}`).digest('hex')}`;
}

/** A CRI client on the host's containerd (close it when done). */
export function criClient(plan: Pick<LabPlan, 'dir'>, host: string): CriClient {
  return new CriClient(containerdPaths(plan, host).socket);
}

/** True when the host's containerd answers the CRI and its CNI config is loaded (NetworkReady). */
export async function containerdReady(plan: Pick<LabPlan, 'dir'>, host: string): Promise<boolean> {
  if (!existsSync(containerdPaths(plan, host).socket)) return false;
  const cri = criClient(plan, host);
  try {
    const s = await cri.status(false, 3_000);
    return (s.status?.conditions ?? []).every((c) => c.status);
  } catch {
    return false;
  } finally {
    cri.close();
  }
}

function prepareDirs(plan: LabPlan, h: HostPlan): ContainerdPaths {
  const p = containerdPaths(plan, h.name);
  for (const d of [p.root, p.state, p.runcRoot, p.cniBin, p.cniConf, p.bridgeConf, p.podLogs]) mkdirSync(d, { recursive: true });
  writeFileSync(p.config, containerdConfig(p));
  const links: Array<[string, string]> = [
    ['netloom-cni', NETLOOM_CNI],
    ...REFERENCE_PLUGINS.map((n): [string, string] => [n, `${REFERENCE_DIR}/${n}`]),
  ];
  for (const [name, target] of links) {
    rmSync(join(p.cniBin, name), { force: true });
    symlinkSync(target, join(p.cniBin, name));
  }
  writeFileSync(p.conflist, `${JSON.stringify(podConflist(agentPaths(plan, h.name).cniSocket), null, 2)}\n`);
  writeFileSync(p.bridgeConflist, `${JSON.stringify(bridgeConflist(p), null, 2)}\n`);
  return p;
}

/** The lab's pod network in netmaster, made when missing (VXLAN, POD_SUBNET). */
export async function ensurePodNetwork(plan: LabPlan): Promise<void> {
  const nm = plan.netmasters[0];
  if (!nm) throw new NetloomError('CONFLICT', `lab "${plan.name}" runs no netmaster, so pods have no network`, { field: 'lab' });
  const credentials = labRestCredentials(plan);
  const url = `${nm.url}/api/v1/networks/${POD_TENANT}:${POD_NETWORK}/`;
  const got = await restRequest(url, { credentials });
  if (got.ok) return;
  const body = JSON.stringify({
    tenantName: POD_TENANT,
    networkName: POD_NETWORK,
    encap: 'vxlan',
    subnet: POD_SUBNET,
    gateway: POD_GATEWAY,
  });
  const made = await restRequest(url, { method: 'POST', body, credentials });
  // another command may have made it meanwhile
  if (!made.ok && !(await restRequest(url, { credentials })).ok)
    throw new NetloomError('UNAVAILABLE', `creating the pod network ${POD_TENANT}/${POD_NETWORK}: ${made.status} ${made.text}`);
}

/** Restart the host's agent (when it runs) so that its mount namespace has the shared containerd dir. */
async function restartAgentForPods(state: LabState, h: HostPlan): Promise<void> {
  const rec = state.pids.find((x) => x.role === agentRole(h.name));
  if (!rec || !isAlive(rec.pid)) return;
  await stopAgent(state, h.name);
  startAgent(state, h);
  await waitAgentReady(state, h.name);
}

/** Import the lab images the CRI does not have yet. */
async function importImages(p: ContainerdPaths): Promise<void> {
  const files = await ensureLabImages();
  const cri = new CriClient(p.socket);
  try {
    for (const [short, name] of Object.entries(LAB_IMAGES) as Array<[keyof typeof LAB_IMAGES, string]>) {
      if (await cri.imageStatus(name)) continue;
      await run('ctr', ['--address', p.socket, '-n', CRI_NAMESPACE, 'images', 'import', files.archives[short]], { timeoutMs: 60_000 });
    }
  } finally {
    cri.close();
  }
}

/** Start the host's containerd unless it answers; then its images and the pod network. Call holding the lab lock. */
export async function ensureContainerd(state: LabState, h: HostPlan): Promise<void> {
  const rec = state.pids.find((p) => p.role === containerdRole(h.name));
  if (rec && isAlive(rec.pid) && (await containerdReady(state.plan, h.name))) return;
  if (!state.agents)
    throw new NetloomError('CONFLICT', `lab "${state.plan.name}" runs no agents, so pods have no CNI plugin (made with --no-agents)`, {
      field: 'lab',
    });
  if (rec) await stopProcess(rec.pid, CONTAINERD_PROGRAM, 20_000);
  // an agent started before its host's containerd dir was shared cannot see the pods' namespaces
  if (shareContainerdDir(state.plan, h.name)) await restartAgentForPods(state, h);
  await ensurePodNetwork(state.plan);
  if (state.containerdMadeRun === undefined) state.containerdMadeRun = !existsSync('/run/containerd');
  if (!state.containerdHosts?.includes(h.name)) state.containerdHosts = [...(state.containerdHosts ?? []), h.name];
  saveState(state);
  const p = prepareDirs(state.plan, h);
  const fd = openSync(p.log, 'a');
  let pid: number;
  try {
    // nsenter execs containerd: this PID is containerd's
    pid = spawnDaemon('nsenter', [`--net=/run/netns/${h.netns}`, 'containerd', '--config', p.config], { logFd: fd });
  } finally {
    closeSync(fd);
  }
  state.pids = [
    ...state.pids.filter((x) => x.role !== containerdRole(h.name)),
    { role: containerdRole(h.name), pid, program: CONTAINERD_PROGRAM },
  ];
  saveState(state);
  await waitFor(
    `containerd on ${h.name} (log ${p.log})`,
    async () => {
      if (!isAlive(pid)) throw new NetloomError('COMMAND_FAILED', `containerd on ${h.name} exited; see ${p.log}`);
      return containerdReady(state.plan, h.name);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await importImages(p);
}

/** Stop the host's containerd by its PID (its shims and pods keep running) and start it again; the new PID. */
export async function restartContainerd(state: LabState, h: HostPlan): Promise<number> {
  const rec = state.pids.find((p) => p.role === containerdRole(h.name));
  if (!rec)
    throw new NetloomError('NOT_FOUND', `no containerd was started on ${h.name} (start it with \`kube ${h.name} pods\`)`, {
      field: 'host',
    });
  await stopProcess(rec.pid, CONTAINERD_PROGRAM, 20_000);
  await ensureContainerd(state, h);
  const now = state.pids.find((p) => p.role === containerdRole(h.name));
  if (!now) throw new NetloomError('INTERNAL', `containerd on ${h.name} has no recorded PID after its start`);
  return now.pid;
}

/** Processes whose command line names the host's containerd socket: its shims (`-address SOCKET`). */
export function shimPids(p: Pick<ContainerdPaths, 'socket'>): number[] {
  return listProcesses()
    .filter((x) => x.cmdline.startsWith('/usr/bin/containerd-shim') && x.cmdline.includes(`-address ${p.socket}`))
    .map((x) => x.pid);
}

/** PIDs in the cgroups below `root` (any hierarchy): the host's pods' processes. */
function podProcesses(root: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    try {
      for (const l of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (/^\d+$/.test(l)) pids.add(Number(l));
    } catch {
      // not a cgroup directory
    }
    for (const e of entries) walk(join(dir, e));
  };
  for (const d of cgroupDirs(root)) walk(d);
  return [...pids];
}

/** Remove a cgroup tree below `root` in every hierarchy, deepest first (empty cgroups only). */
function removeCgroupTree(root: string): void {
  const rm = (dir: string): void => {
    let subs: string[] = [];
    try {
      subs = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => join(dir, e.name));
    } catch {
      return;
    }
    for (const s of subs) rm(s);
    try {
      rmdirSync(dir);
    } catch {
      // still in use: left for the operator
    }
  };
  for (const d of cgroupDirs(root)) if (existsSync(d)) rm(d);
}

/**
 * Tear down the host's pods through the CRI as the kubelet would (containers stopped, then the
 * sandbox: CNI DEL reaches the agent), then everything containerd left: its process, shims and the
 * pods' processes (after a crash), mounts, cgroups, its shim sockets, the directory.
 */
export async function cleanupContainerd(state: LabState, host: string, progress: (msg: string) => void = () => undefined): Promise<void> {
  const p = containerdPaths(state.plan, host);
  const rec = state.pids.find((x) => x.role === containerdRole(host));
  if (rec && isAlive(rec.pid) && existsSync(p.socket)) {
    const cri = new CriClient(p.socket, { timeoutMs: 30_000 });
    try {
      for (const s of await cri.listPodSandbox()) {
        for (const c of await cri.listContainers({ podSandboxId: s.id })) await cri.stopContainer(c.id, 2).catch(() => undefined);
        await cri.stopPodSandbox(s.id).catch(() => undefined);
        await cri.removePodSandbox(s.id).catch(() => undefined);
      }
    } catch (e) {
      progress(`${host}: removing pods through the CRI: ${errorMessage(e)} (killing what is left)`);
    } finally {
      cri.close();
    }
  }
  if (rec) await stopProcess(rec.pid, CONTAINERD_PROGRAM, 20_000);
  // what a killed containerd left running: pods' processes first (their shims then exit), then shims
  const cgRoot = podCgroupRoot(state.plan, host);
  // every process in the host's pod cgroups was started by its containerd (any command line)
  for (const pid of podProcesses(cgRoot)) signalIfOurs(pid, '', 'SIGKILL');
  for (const pid of shimPids(p)) await stopProcess(pid, p.socket, 2_000);
  await waitFor('the pods of the host to exit', () => podProcesses(cgRoot).length === 0, { timeoutMs: 10_000, intervalMs: 50 }).catch(
    () => undefined,
  );
  const tasks = join(p.state, 'io.containerd.runtime.v2.task', CRI_NAMESPACE);
  if (existsSync(tasks)) for (const id of readdirSync(tasks)) rmSync(shimSocketPath(p.socket, id), { force: true });
  await unmountUnder(p.dir);
  await run('umount', ['-l', p.dir], { allowFailure: true });
  removeCgroupTree(cgRoot);
  // overlay mounts can linger a moment after their shim exits
  for (let i = 0; i < 20; i++) {
    try {
      rmSync(p.dir, { recursive: true, force: true });
      break;
    } catch {
      await unmountUnder(p.dir);
      await run('umount', ['-l', p.dir], { allowFailure: true });
      await systemClock.sleep(100);
    }
  }
}

/** Every host's containerd and pods (down calls it while the agents still answer DEL), and the shared dirs. */
export async function cleanupAllContainerd(state: LabState, progress: (msg: string) => void = () => undefined): Promise<void> {
  for (const host of state.containerdHosts ?? []) await cleanupContainerd(state, host, progress);
  // every agent's start shared its host's containerd dir, also where no containerd ran
  for (const h of state.plan.hosts) {
    const dir = containerdPaths(state.plan, h.name).dir;
    if (existsSync(dir)) await run('umount', ['-l', dir], { allowFailure: true });
  }
  if (state.containerdMadeRun) {
    for (const d of [SHIM_SOCKET_DIR, '/run/containerd']) {
      try {
        rmdirSync(d);
      } catch {
        // another containerd (another lab's) keeps files there
      }
    }
  }
}
