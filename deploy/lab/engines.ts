/**
 * Real container engines on a lab host, started on demand and private to the lab:
 *
 * - docker: one dockerd per host INSIDE the host's network namespace, in its own mount namespace
 *   where the host's docker dir is bound over /mnt and `<docker dir>/run` over /run, so dockerd
 *   finds exactly one plugin, `/run/docker/plugins/netloom.sock` = the host agent's CNM socket.
 *   Own data root, exec root, pid file, API socket, daemon.json and cgroup parent; no iptables,
 *   masquerading or default bridge. Its PID goes into the state file before anything waits on it.
 * - podman 4.3: run per command with `nsenter --net=` into the host's namespace, a containers.conf
 *   and root/runroot/tmpdir of the lab's, `--network-backend cni` and a CNI config dir holding one
 *   conflist per netloom network named on the command line as `--network TENANT/NETWORK`.
 *
 * Both get an image `netloom/busybox` made once from the machine's /bin/busybox.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
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
import { dirname, join, resolve } from 'node:path';
import { run, spawnDaemon } from '../../lib/exec';
import { waitFor } from '../../lib/clock';
import { isAlive, stopProcess } from '../../lib/process';
import { NetloomError } from '../../lib/errors';
import { CNI_PLUGIN_COMPILED } from './cni-call';
import { agentPaths, HostPlan, LabPlan } from './plan';
import { LabState, requireState, saveState, withLabLock } from './state';

export const LAB_IMAGE = 'netloom/busybox';
export const DOCKER_CLIENT = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
const BIN_DIR = resolve(__dirname, '../../../bin');

/**
 * The containers.conf podman 4.3 needs on this machine kind: ulimits within what runc may set
 * here (no CAP_SYS_RESOURCE), cgroupfs, file events, and CNI plugins from `binDir` first.
 */
export function podmanContainersConf(binDir: string): string {
  return [
    '[containers]',
    'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    '[network]',
    `cni_plugin_dirs = ["${binDir}", "/usr/lib/cni"]`,
    '',
  ].join('\n');
}
const BUSYBOX_APPLETS = ['sh', 'ip', 'ping', 'sleep', 'cat', 'nc', 'echo', 'hostname', 'ifconfig', 'wc', 'timeout', 'ls'];

export function dockerRole(host: string): string {
  return `${host}/dockerd`;
}

export function dockerSocket(plan: Pick<LabPlan, 'dir'>, host: string): string {
  return `${agentPaths(plan, host).dockerDir}/docker.sock`;
}

/** The cgroup directory (under each hierarchy) that a lab host's dockerd puts containers in. */
export function dockerCgroupParent(plan: Pick<LabPlan, 'name'>, host: string): string {
  return `nl-lab-${plan.name}-${host}`;
}

/** The client environment for a host's dockerd (the installed client is newer than the engine). */
export function dockerEnv(plan: Pick<LabPlan, 'dir'>, host: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: `unix://${dockerSocket(plan, host)}`, DOCKER_API_VERSION: '1.41' };
}

/**
 * The file that pins a host's dockerd mount namespace (`unshare --mount=FILE`), in a directory made a
 * private bind mount of itself (the kernel refuses to pin a namespace on a shared mount). Docker's
 * container network namespaces are bind mounts in that namespace (`/run/docker/netns/...`): a
 * dockerd restarted with live restore must find them, so it is started again inside the same one.
 */
export function dockerMountNsFile(plan: Pick<LabPlan, 'dir'>, host: string): string {
  return `${agentPaths(plan, host).dockerDir}/ns/mnt`;
}

/** The dockerd command line; every path is under /mnt, the host's docker dir in its mount namespace (pure). */
export function dockerdExec(plan: Pick<LabPlan, 'name'>, host: string): string {
  return (
    `exec dockerd --config-file /mnt/daemon.json --data-root /mnt/data --exec-root /mnt/exec ` +
    `--pidfile /mnt/dockerd.pid -H unix:///mnt/docker.sock --iptables=false --ip-masq=false --bridge=none --storage-driver=overlay2 ` +
    `--cgroup-parent /${dockerCgroupParent(plan, host)}`
  );
}

/** The shell line run inside a new mount namespace (pure): the host's docker dir over /mnt, its run dir over /run, then dockerd. */
export function dockerdScript(plan: Pick<LabPlan, 'dir' | 'name'>, host: string): string {
  const d = agentPaths(plan, host).dockerDir;
  return `mount --bind ${d} /mnt && mount --bind /mnt/run /run && ${dockerdExec(plan, host)}`;
}

/** Whether something is mounted at `path` (per /proc/mounts). */
function mountedAt(path: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === path);
}

/**
 * nsenter's arguments that start the host's dockerd (pure): inside its pinned mount namespace,
 * whose /mnt and /run mounts are still there, when `pinned` (a restart); else in a new mount
 * namespace pinned at dockerMountNsFile, with those mounts made first (first start).
 */
export function dockerdNsenterArgs(plan: Pick<LabPlan, 'dir' | 'name'>, h: Pick<HostPlan, 'name' | 'netns'>, pinned: boolean): string[] {
  const nsFile = dockerMountNsFile(plan, h.name);
  const net = `--net=/run/netns/${h.netns}`;
  if (pinned) return [net, `--mount=${nsFile}`, 'sh', '-c', dockerdExec(plan, h.name)];
  return [net, 'unshare', `--mount=${nsFile}`, '--propagation', 'private', 'sh', '-c', dockerdScript(plan, h.name)];
}

/** dockerdNsenterArgs for the namespace as it is; on a first start, the private directory for the pin made. */
async function dockerdArgv(plan: LabPlan, h: HostPlan): Promise<string[]> {
  const nsFile = dockerMountNsFile(plan, h.name);
  if (mountedAt(nsFile)) return dockerdNsenterArgs(plan, h, true);
  const nsDir = dirname(nsFile);
  mkdirSync(nsDir, { recursive: true });
  if (!mountedAt(nsDir)) {
    await run('mount', ['--bind', nsDir, nsDir]);
    await run('mount', ['--make-private', nsDir]);
  }
  writeFileSync(nsFile, '');
  return dockerdNsenterArgs(plan, h, false);
}

/** `<dir>/rootfs`: the machine's static busybox with the applets containers here use (made once). */
export function makeRootfs(dir: string): string {
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  if (!existsSync(join(rootfs, 'bin', 'busybox'))) copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const a of BUSYBOX_APPLETS) if (!existsSync(join(rootfs, 'bin', a))) symlinkSync('busybox', join(rootfs, 'bin', a));
  return rootfs;
}

async function dockerAnswers(plan: LabPlan, host: string): Promise<boolean> {
  if (!existsSync(dockerSocket(plan, host))) return false;
  const r = await run(DOCKER_CLIENT, ['version', '--format', '{{.Server.Version}}'], {
    env: dockerEnv(plan, host),
    allowFailure: true,
    timeoutMs: 10_000,
  });
  return r.code === 0;
}

/** Start the host's dockerd unless it runs; import the lab image once. */
export async function ensureDockerd(state: LabState, h: HostPlan): Promise<void> {
  const rec = state.pids.find((p) => p.role === dockerRole(h.name));
  if (rec && isAlive(rec.pid) && (await dockerAnswers(state.plan, h.name))) return;
  if (!state.agents)
    throw new NetloomError('CONFLICT', `lab "${state.plan.name}" runs no agents, so no netloom plugin for Docker (made with --no-agents)`, {
      field: 'lab',
    });
  if (rec) await stopProcess(rec.pid, 'dockerd', 20_000);
  const p = agentPaths(state.plan, h.name);
  for (const sub of ['data', 'exec', 'run/docker/plugins']) mkdirSync(join(p.dockerDir, sub), { recursive: true });
  // the host's /etc/docker/daemon.json is not read; dockerd 20.10's trust key stays here too; live
  // restore keeps containers (and their netloom endpoints) running across a restart of this dockerd
  // swarm mode refuses live restore ("incompatible with swarm mode"): a swarm host's dockerd runs without
  const liveRestore = !(state.swarmHosts ?? []).includes(h.name);
  writeFileSync(
    join(p.dockerDir, 'daemon.json'),
    `${JSON.stringify({ 'deprecated-key-path': '/mnt/key.json', 'live-restore': liveRestore })}\n`,
  );
  const argv = await dockerdArgv(state.plan, h);
  const fd = openSync(join(p.dockerDir, 'dockerd.log'), 'a');
  let pid: number;
  try {
    // nsenter, unshare and sh exec into dockerd: this PID is dockerd's
    pid = spawnDaemon('nsenter', argv, { logFd: fd });
  } finally {
    closeSync(fd);
  }
  state.pids = [...state.pids.filter((x) => x.role !== dockerRole(h.name)), { role: dockerRole(h.name), pid, program: 'dockerd' }];
  saveState(state);
  await waitFor(
    `dockerd on ${h.name} (log ${p.dockerDir}/dockerd.log)`,
    async () => {
      if (!isAlive(pid)) throw new NetloomError('COMMAND_FAILED', `dockerd on ${h.name} exited; see ${p.dockerDir}/dockerd.log`);
      return dockerAnswers(state.plan, h.name);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  const has = await run(DOCKER_CLIENT, ['image', 'inspect', LAB_IMAGE], { env: dockerEnv(state.plan, h.name), allowFailure: true });
  if (has.code !== 0) {
    const rootfs = makeRootfs(p.dockerDir);
    await run('sh', ['-c', `tar -C ${rootfs} -c . | ${DOCKER_CLIENT} import - ${LAB_IMAGE}`], {
      env: dockerEnv(state.plan, h.name),
      timeoutMs: 60_000,
    });
  }
}

/**
 * Stop the host's dockerd (by its recorded PID) and start it again; with live restore (the lab's
 * daemon.json) its containers keep running and keep their networks. Returns the new PID.
 */
export async function restartDockerd(state: LabState, h: HostPlan): Promise<number> {
  const rec = state.pids.find((p) => p.role === dockerRole(h.name));
  if (!rec || !isAlive(rec.pid))
    throw new NetloomError('NOT_FOUND', `no dockerd runs on ${h.name} (start it with \`netloom-lab docker ${h.name} -- ...\`)`, {
      field: 'host',
    });
  await stopProcess(rec.pid, 'dockerd', 20_000);
  await ensureDockerd(state, h);
  const now = state.pids.find((p) => p.role === dockerRole(h.name));
  if (!now) throw new NetloomError('INTERNAL', `dockerd on ${h.name} has no recorded PID after its start`);
  return now.pid;
}

/** Run the docker client against the host's dockerd with the terminal attached; returns its exit code. */
export async function labDocker(state: LabState, h: HostPlan, args: string[]): Promise<number> {
  await withLabLock(state.plan.dir, () => ensureDockerd(reload(state), h));
  const r = spawnSync(DOCKER_CLIENT, args, { stdio: 'inherit', env: dockerEnv(state.plan, h.name) });
  if (r.error) throw new NetloomError('COMMAND_FAILED', `could not run docker: ${r.error.message}`);
  return r.status ?? 1;
}

/** The state file as it is now (another command may have changed it since `state` was read). */
function reload(state: LabState): LabState {
  return requireState(state.plan.name, dirname(state.plan.dir));
}

// ---------------------------------------------------------------- podman

export interface PodmanPaths {
  dir: string;
  conf: string;
  cniDir: string;
  /** podman's --runroot; default `<dir>/runroot` */
  runroot?: string;
}

/** Where the lab's podman run roots live: podman 4.3 refuses a runroot longer than 50 characters. */
export const PODMAN_RUNROOT_BASE = '/run/nlpm';
/** podman's limit on the runroot's length (conmon's socket paths live below it). */
export const PODMAN_RUNROOT_MAX = 50;

/**
 * A host's podman runroot: short whatever the lab's directory (the default lab's
 * `<dir>/hosts/host1/podman/runroot` is 51 characters), and distinct per lab directory and host
 * (FNV-1a of both), so labs side by side never share one. Pure.
 */
export function podmanRunroot(plan: Pick<LabPlan, 'dir'>, host: string): string {
  let h = 2166136261;
  for (const ch of `${plan.dir}/${host}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return `${PODMAN_RUNROOT_BASE}/${h.toString(16).padStart(8, '0')}`;
}

export function podmanPaths(plan: Pick<LabPlan, 'dir'>, host: string): PodmanPaths {
  const dir = agentPaths(plan, host).podmanDir;
  return { dir, conf: `${dir}/containers.conf`, cniDir: `${dir}/cni.d`, runroot: podmanRunroot(plan, host) };
}

/** podman's CNI network name for a netloom network (pure). */
export function podmanNetworkName(tenant: string, network: string): string {
  return `nl.${tenant}.${network}`;
}

/** The conflist of a netloom network for podman 4.3 (pure): cniVersion 1.0.0, the host agent's socket. */
export function podmanConflist(plan: Pick<LabPlan, 'dir'>, host: string, tenant: string, network: string): Record<string, unknown> {
  return netloomConflist(podmanNetworkName(tenant, network), agentPaths(plan, host).cniSocket, tenant, network);
}

/**
 * A CNI network `name` whose one plugin is netloom-cni talking to the agent at `agentSocket` (pure);
 * cniVersion 1.0.0, the newest podman 4.3's libcni knows.
 */
export function netloomConflist(name: string, agentSocket: string, tenant: string, network: string): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [{ type: 'netloom-cni', agentSocket, tenant, network, capabilities: { ips: true, mac: true, portMappings: true } }],
  };
}

/**
 * Rewrite `--network TENANT/NETWORK` (also `--network=`, `--net`) in podman's arguments to the
 * generated CNI network name; returns the new arguments and the netloom networks named (pure).
 */
export function rewritePodmanNetworks(args: string[]): { args: string[]; networks: Array<{ tenant: string; network: string }> } {
  const out: string[] = [];
  const networks: Array<{ tenant: string; network: string }> = [];
  const map = (v: string): string => {
    const m = /^([A-Za-z0-9_.-]{1,64})\/([A-Za-z0-9_.-]{1,64})$/.exec(v);
    if (!m) return v;
    networks.push({ tenant: m[1] ?? '', network: m[2] ?? '' });
    return podmanNetworkName(m[1] ?? '', m[2] ?? '');
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const eq = /^(--network|--net)=(.*)$/.exec(a);
    if (eq) out.push(`${eq[1] ?? ''}=${map(eq[2] ?? '')}`);
    else if ((a === '--network' || a === '--net') && i + 1 < args.length) {
      out.push(a, map(args[i + 1] ?? ''));
      i++;
    } else out.push(a);
  }
  return { args: out, networks };
}

export function podmanBaseArgs(plan: Pick<LabPlan, 'dir'>, host: string): string[] {
  return podmanDirArgs(podmanPaths(plan, host));
}

/** podman's arguments that keep all its state under `p.dir` and take CNI networks from `p.cniDir` (pure). */
export function podmanDirArgs(p: PodmanPaths): string[] {
  return [
    '--root',
    `${p.dir}/root`,
    '--runroot',
    p.runroot ?? `${p.dir}/runroot`,
    '--tmpdir',
    `${p.dir}/tmp`,
    '--storage-driver=overlay',
    '--network-backend',
    'cni',
    '--network-config-dir',
    p.cniDir,
  ];
}

function podmanEnv(plan: Pick<LabPlan, 'dir'>, host: string): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: podmanPaths(plan, host).conf };
}

/** The podman command in the host's namespace (nsenter keeps /sys, unlike ip netns exec). */
function podmanArgv(h: HostPlan, plan: LabPlan, args: string[]): string[] {
  return [`--net=/run/netns/${h.netns}`, 'podman', ...podmanBaseArgs(plan, h.name), ...args];
}

/** What podman and libcni keep outside --root/--runroot; removed on down when the lab made them. */
export const PODMAN_OUTSIDE = ['/var/lib/cni/results', '/var/lib/cni', '/var/lib/containers/cache', '/var/lib/containers'];

async function preparePodman(state: LabState, h: HostPlan, networks: Array<{ tenant: string; network: string }>): Promise<void> {
  const p = podmanPaths(state.plan, h.name);
  if (state.podmanMade === undefined) {
    state.podmanMade = PODMAN_OUTSIDE.filter((d) => !existsSync(d));
    saveState(state);
  }
  for (const d of ['root', 'tmp', 'cni.d']) mkdirSync(join(p.dir, d), { recursive: true });
  mkdirSync(p.runroot ?? join(p.dir, 'runroot'), { recursive: true });
  if (!existsSync(p.conf)) {
    // the compiled plugin when it is built (podman takes the first netloom-cni it finds)
    writeFileSync(p.conf, podmanContainersConf(existsSync(CNI_PLUGIN_COMPILED) ? dirname(CNI_PLUGIN_COMPILED) : BIN_DIR));
  }
  for (const n of networks) {
    const file = join(p.cniDir, `${podmanNetworkName(n.tenant, n.network)}.conflist`);
    if (!existsSync(file)) writeFileSync(file, `${JSON.stringify(podmanConflist(state.plan, h.name, n.tenant, n.network), null, 2)}\n`);
  }
  const has = await run('nsenter', podmanArgv(h, state.plan, ['image', 'exists', LAB_IMAGE]), {
    env: podmanEnv(state.plan, h.name),
    allowFailure: true,
    timeoutMs: 30_000,
  });
  if (has.code !== 0) {
    const rootfs = makeRootfs(p.dir);
    await run('sh', ['-c', `tar -C ${rootfs} -c . | nsenter ${podmanArgv(h, state.plan, ['import', '-', LAB_IMAGE]).join(' ')}`], {
      env: podmanEnv(state.plan, h.name),
      timeoutMs: 60_000,
    });
  }
  if (!state.podmanHosts?.includes(h.name)) {
    state.podmanHosts = [...(state.podmanHosts ?? []), h.name];
    saveState(state);
  }
}

/** Run podman on the host with the terminal attached; returns its exit code. */
export async function labPodman(state: LabState, h: HostPlan, args: string[]): Promise<number> {
  if (!state.agents)
    throw new NetloomError('CONFLICT', `lab "${state.plan.name}" runs no agents (made with --no-agents)`, { field: 'lab' });
  const rw = rewritePodmanNetworks(args);
  await withLabLock(state.plan.dir, () => preparePodman(reload(state), h, rw.networks));
  const r = spawnSync('nsenter', podmanArgv(h, state.plan, rw.args), { stdio: 'inherit', env: podmanEnv(state.plan, h.name) });
  if (r.error) throw new NetloomError('COMMAND_FAILED', `could not run podman: ${r.error.message}`);
  return r.status ?? 1;
}

// ---------------------------------------------------------------- cleanup

/** Lazily unmount every mount below `dir`, deepest first. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m], { allowFailure: true });
}

/** `name` under the cgroup v2 root and under every v1 hierarchy. */
export function cgroupDirs(name: string): string[] {
  const root = '/sys/fs/cgroup';
  const hierarchies = existsSync(root) ? readdirSync(root).filter((x) => !x.includes('.')) : [];
  return [join(root, name), ...hierarchies.map((x) => join(root, x, name))];
}

/**
 * Stop the engines' containers and daemons and undo their mounts, cgroups and CNI caches; called
 * by `down` before the agents stop (so DEL still reaches them).
 */
export async function cleanupEngines(state: LabState): Promise<void> {
  for (const host of state.podmanHosts ?? []) {
    const h = state.plan.hosts.find((x) => x.name === host);
    if (!h) continue;
    await run('nsenter', podmanArgv(h, state.plan, ['rm', '-af', '-t', '0']), {
      env: podmanEnv(state.plan, host),
      allowFailure: true,
      timeoutMs: 60_000,
    });
    const p = podmanPaths(state.plan, host);
    await unmountUnder(p.dir);
    if (p.runroot !== undefined) {
      await unmountUnder(p.runroot);
      rmSync(p.runroot, { recursive: true, force: true });
    }
    const results = '/var/lib/cni/results';
    if (existsSync(results)) for (const f of readdirSync(results)) if (f.startsWith('nl.')) rmSync(join(results, f), { force: true });
  }
  removePodmanOutside(state.podmanMade ?? []);
  try {
    if ((state.podmanHosts ?? []).length > 0 && existsSync(PODMAN_RUNROOT_BASE)) rmdirSync(PODMAN_RUNROOT_BASE);
  } catch {
    // another lab's podman run roots are still there
  }
  for (const rec of state.pids.filter((p) => p.program === 'dockerd')) {
    const host = rec.role.split('/')[0] ?? '';
    if (isAlive(rec.pid))
      await run(DOCKER_CLIENT, ['rm', '-f', '-v', ...(await dockerContainers(state.plan, host))], {
        env: dockerEnv(state.plan, host),
        allowFailure: true,
        timeoutMs: 60_000,
      });
    await stopProcess(rec.pid, 'dockerd', 20_000);
    await unmountUnder(agentPaths(state.plan, host).dockerDir);
    for (const d of cgroupDirs(dockerCgroupParent(state.plan, host))) {
      try {
        if (existsSync(d)) rmdirSync(d);
      } catch {
        // still in use by a container that outlived its engine: left for the operator
      }
    }
  }
}

/** Remove the dirs of PODMAN_OUTSIDE in `made` (those we made): a cache with its content, others only when empty. */
export function removePodmanOutside(made: readonly string[]): void {
  for (const d of made) {
    if (!existsSync(d)) continue;
    if (d.endsWith('/cache')) rmSync(d, { recursive: true, force: true });
    else
      try {
        rmdirSync(d);
      } catch {
        // another user of podman keeps files there now
      }
  }
}

async function dockerContainers(plan: LabPlan, host: string): Promise<string[]> {
  const r = await run(DOCKER_CLIENT, ['ps', '-aq'], { env: dockerEnv(plan, host), allowFailure: true, timeoutMs: 20_000 });
  return r.stdout.split('\n').filter((s) => s.trim() !== '');
}
