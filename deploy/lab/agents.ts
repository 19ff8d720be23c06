/**
 * One netplugin per lab host: started detached INSIDE the host's namespace against the host's
 * private OVS and every netmaster replica's agent API (its own replica first), its PID recorded
 * in the state file at once; ready when its CNI STATUS (through the real shim) answers 0; stopped
 * by PID.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnDaemon } from '../../lib/exec';
import { waitFor } from '../../lib/clock';
import { isAlive, stopProcess } from '../../lib/process';
import { NetloomError } from '../../lib/errors';
import { agentPaths, HostPlan, LabPlan, ROUTED_UPLINK } from './plan';
import { LabState, saveState } from './state';
import { cniCall } from './cni-call';
import { dockerSocket } from './engines';
import { pkiPaths } from './pki';
import { shareContainerdDir } from './containerd-paths';
import { kubeApiPaths } from './kube-api';

/** The compiled agent entry point. */
const NETPLUGIN_JS = resolve(__dirname, '../../netplugin/main.js');
export const NETPLUGIN_PROGRAM = 'netplugin/main.js';

export function agentRole(host: string): string {
  return `${host}/netplugin`;
}

/**
 * A host's own netmaster replica, the one its agent follows first: replicas are dealt out
 * round-robin by host number, so with 2 replicas host1 and host3 start on netmaster1 and host2 on
 * netmaster2 (see docs/lab.md). The agent moves to the next replica when this one fails.
 */
export function agentNetmaster(plan: LabPlan, host?: string): string {
  return agentNetmasters(plan, host)[0] ?? '';
}

/**
 * Every replica's agent address in the order host's agent tries them: its own replica first,
 * then the others in round-robin order (host2 of 3 replicas: netmaster2, netmaster3, netmaster1).
 */
export function agentNetmasters(plan: LabPlan, host?: string): string[] {
  const n = plan.netmasters.length;
  if (n === 0)
    throw new NetloomError('INVALID_ARGUMENT', 'agents need a netmaster: use --netmasters 1 or more, or --no-agents', {
      field: 'netmasters',
    });
  const own =
    Math.max(
      0,
      plan.hosts.findIndex((h) => h.name === host),
    ) % n;
  return Array.from({ length: n }, (_, k) => plan.netmasters[(own + k) % n]!.grpcListen);
}

/** The agent's options that tie it to its lab host (pure): name, the host's OVS (userspace datapath), uplink eth1, VTEP address. */
export function hostAgentArgs(plan: Pick<LabPlan, 'prefixLen'>, h: HostPlan): string[] {
  return [
    '--host',
    h.name,
    '--ovs-rundir',
    `${h.ovsDir}/run`,
    '--datapath',
    'netdev',
    '--uplink',
    'eth1',
    '--vtep-ip',
    `${h.dataIp}/${plan.prefixLen}`,
  ];
}

/** How often a lab agent with --docker-networks compares netloom's networks with its dockerd's. */
export const LAB_DOCKER_NETWORKS_INTERVAL = '1';

/**
 * The lab agent's options (pure): its host, every netmaster replica (mutual TLS with the host's
 * own certificate: it acts for this host only), its sockets, state and metrics; with
 * `dockerNetworks`, --docker-networks against the host's private dockerd (started on demand by
 * `docker HOST`: until then the agent retries).
 */
export function agentArgs(
  plan: LabPlan,
  h: HostPlan,
  opts: { dockerNetworks?: boolean; bgp?: boolean; oneBridge?: boolean; kube?: { kubeconfig: string; tenantPerNamespace: boolean } } = {},
): string[] {
  const p = agentPaths(plan, h.name);
  const pki = pkiPaths(plan);
  const own = pki.hosts[h.name]!;
  return [
    ...hostAgentArgs(plan, h),
    // up --bgp: routed traffic leaves through eth2, in the kernel (docs/bgp.md)
    ...(opts.bgp ? ['--routed-uplink', ROUTED_UPLINK] : []),
    ...(opts.oneBridge ? ['--one-bridge'] : []),
    '--netmaster-grpc',
    agentNetmasters(plan, h.name).join(','),
    ...['--tls-ca', pki.ca.cert, '--tls-cert', own.cert, '--tls-key', own.key],
    '--cni-socket',
    p.cniSocket,
    '--cnm-socket',
    p.cnmSocket,
    // the managed plugin's relay (swarm) connects here: /run/netloom/cnm-swarm.sock for the host's dockerd
    '--cnm-swarm-socket',
    p.cnmSwarmSocket,
    '--cnm-state',
    p.cnmState,
    '--state-dir',
    p.stateDir,
    '--metrics-listen',
    p.metricsListen,
    '--log-level',
    'info',
    // the host's private dockerd (started on demand by `docker HOST`): short-form networks are remade with netloom's IPAM
    '--docker-socket',
    dockerSocket(plan, h.name),
    ...(opts.dockerNetworks ? ['--docker-networks', '--docker-networks-interval', LAB_DOCKER_NETWORKS_INTERVAL] : []),
    // up --kube: pods take their identity from the API (the node is the lab host)
    ...(opts.kube
      ? [
          '--kubeconfig',
          opts.kube.kubeconfig,
          '--kube-node-name',
          h.name,
          ...(opts.kube.tenantPerNamespace ? ['--kube-tenant-per-namespace'] : []),
        ]
      : []),
  ];
}

/** Start host's agent and record its PID (replacing an older record of the same role). */
export function startAgent(state: LabState, h: HostPlan): number {
  const p = agentPaths(state.plan, h.name);
  mkdirSync(p.dir, { recursive: true });
  mkdirSync(resolve(p.cnmSocket, '..'), { recursive: true });
  mkdirSync(resolve(p.cnmSwarmSocket, '..'), { recursive: true });
  for (const s of [p.cniSocket, p.cnmSocket, p.cnmSwarmSocket]) if (existsSync(s)) rmSync(s, { force: true });
  // before the agent's mount namespace is made: the pods' network namespaces of containerd must reach it
  shareContainerdDir(state.plan, h.name);
  const kube = state.kube
    ? { kubeconfig: kubeApiPaths(state.plan).kubeconfig, tenantPerNamespace: state.kube.tenantPerNamespace }
    : undefined;
  const pid = spawnAgent(
    h,
    agentArgs(state.plan, h, {
      dockerNetworks: state.dockerNetworks === true,
      bgp: state.bgp === true,
      oneBridge: state.oneBridge === true,
      ...(kube ? { kube } : {}),
    }),
    p.log,
  );
  state.pids = [...state.pids.filter((x) => x.role !== agentRole(h.name)), { role: agentRole(h.name), pid, program: NETPLUGIN_PROGRAM }];
  saveState(state);
  return pid;
}

/** Spawn netplugin with `args`, detached in the host's namespace, its output appended to `log`; its PID. */
export function spawnAgent(h: HostPlan, args: string[], log: string): number {
  const fd = openSync(log, 'a');
  try {
    // runtimes do not pass NODE_EXTRA_CA_CERTS; it only slows the start
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
    return spawnDaemon(process.execPath, [NETPLUGIN_JS, ...args], { netns: h.netns, logFd: fd, env });
  } finally {
    closeSync(fd);
  }
}

/** Wait until the agent `pid` of `host` has made `socket`; fails at once, naming `log`, when the agent exits. */
export async function waitForAgentSocket(host: string, pid: number, socket: string, log: string): Promise<void> {
  await waitFor(
    `netplugin on ${host}`,
    () => {
      if (!isAlive(pid)) throw new NetloomError('UNAVAILABLE', `netplugin on ${host} exited; see ${log}`);
      return existsSync(socket);
    },
    { timeoutMs: 15_000, intervalMs: 20 },
  );
}

/** True when the agent answers CNI STATUS with success (connected to OVS and to netmaster). */
export async function agentReady(plan: LabPlan, host: string): Promise<boolean> {
  const p = agentPaths(plan, host);
  if (!existsSync(p.cniSocket)) return false;
  const r = await cniCall(
    { command: 'STATUS', socket: p.cniSocket, containerId: 'lab-status', tenant: 'default', network: 'status' },
    5_000,
  );
  return r.code === 0;
}

export async function waitAgentReady(state: LabState, host: string, timeoutMs = 30_000): Promise<void> {
  const rec = state.pids.find((x) => x.role === agentRole(host));
  const log = agentPaths(state.plan, host).log;
  await waitFor(
    `netplugin on ${host} to be ready (CNI STATUS 0)`,
    async () => {
      if (rec && !isAlive(rec.pid)) throw new NetloomError('COMMAND_FAILED', `netplugin on ${host} exited; see ${log}`);
      return agentReady(state.plan, host);
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/**
 * Stop the gobgpd an agent started for BGP (issue 16): it runs detached so that it outlives agent
 * restarts, so the lab stops it itself (the agent's PID file names it) when the lab goes down.
 */
export async function stopAgentGobgpd(plan: LabPlan, host: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(`${agentPaths(plan, host).stateDir}/gobgpd.pid`, 'utf8').trim());
  } catch {
    return;
  }
  if (pid > 0) await stopProcess(pid, 'gobgpd');
}

export async function stopAgent(state: LabState, host: string): Promise<void> {
  const rec = state.pids.find((x) => x.role === agentRole(host));
  if (rec) await stopProcess(rec.pid, rec.program);
}
