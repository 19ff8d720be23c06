/**
 * The lab of simulated hosts: bring it up, take it down, report on it, run commands in it and plug
 * containers into a host's switch. Every resource is recorded in the state file before it is made.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { run, spawnDaemon } from '../../lib/exec';
import { systemClock, waitFor } from '../../lib/clock';
import { isAlive, stopProcess } from '../../lib/process';
import { NetloomError } from '../../lib/errors';
import {
  agentPaths,
  containerNetns,
  containerVethName,
  HostPlan,
  labIndex,
  LabPlan,
  planLab,
  validateContainerName,
  LAB_ROOT,
  ROUTED_UPLINK,
} from './plan';
import { ContainerState, LabApic, LabState, listLabs, loadState, newState, requireState, saveState, withLabLock } from './state';
import { addAddr, addBridge, addNetns, addVeth, delLink, delNetns, linkUp, netnsExists, setMaster } from './netns';
import { ovsEnv, ovsHealthy, ovsPids, restartVswitchd, startOvs, stopOvs } from './ovs-instance';
import { etcdHealth, startEtcdMember, waitEtcdHealthy } from './etcd-cluster';
import { agentNetmaster, agentReady, agentRole, NETPLUGIN_PROGRAM, startAgent, stopAgent, stopAgentGobgpd, waitAgentReady } from './agents';
import { cleanupEngines, unmountUnder } from './engines';
import { leaveSwarm } from './swarm';
import { cleanupAllContainerd, containerdRole, ensureContainerd } from './containerd';
import { etcdClientTls, labRestCredentials, makeLabPki, pkiPaths, writeClientConfig } from './pki';
import { restRequest } from '../../lib/rest-request';
import { KUBE_APISERVER_PROGRAM, KUBE_APISERVER_ROLE, kubeApiHealthy, kubeApiPaths, startKubeApi } from './kube-api';
import { kubeletStatus, startKubelet, stopKubelets, waitKubeletReady, type KubeletStatus } from './kubelets';
import {
  BIRD_PROGRAM,
  BIRD_ROLE,
  birdNeighbors,
  birdPaths,
  birdProtocols,
  birdUp,
  LAB_AS,
  labBgpDefault,
  startBird,
  waitBird,
} from './bird';

export type Progress = (msg: string) => void;
const quiet: Progress = () => undefined;

export interface UpOptions {
  name: string;
  hosts: number;
  etcdMembers: 1 | 3;
  netmasters?: number;
  root?: string;
  progress?: Progress;
  /** start one netplugin per host (the CLI's default; the API's default is a bare lab) */
  agents?: boolean;
  /** agents keep a Docker network NETWORK/TENANT per netloom network (netplugin --docker-networks) */
  dockerNetworks?: boolean;
  /** agents with --one-bridge: eth1 and the VTEP address on br-int, no br-phy (docs/netplugin.md) */
  oneBridge?: boolean;
  /** BIRD on the tor as the hosts' route reflector, and netmaster's matching BGP default (bird.ts) */
  bgp?: boolean;
  /** containerd with its CRI plugin on every host (containerd.ts; else started on demand by `kube HOST`) */
  containerd?: boolean;
  /** the Kubernetes API server stand-in on the lab's etcd, and a kubeconfig for it (kube-api.ts) */
  kubeApi?: boolean;
  /**
   * the lab as a Kubernetes cluster (implies containerd and kubeApi): netmaster and the agents
   * with the lab's kubeconfig, one kubelet stand-in per host (kubelets.ts), a Node per host
   */
  kube?: { tenantPerNamespace?: boolean };
  /**
   * every host's ovs-vswitchd starts with other_config:userspace-tso-enable=true (default true:
   * the lab owns its switches, and OVS reads the setting at start only; netplugin/agent/userspace-tso.ts)
   */
  userspaceTso?: boolean;
  /** netmaster's ACI gateway towards this APIC (docs/aci.md) */
  apic?: LabApic;
}

/** bin/netmaster's entry point (REST + gRPC agent API + leader-elected liveness), in dist/. */
const NETMASTER_JS = resolve(__dirname, '../../netmaster/main.js');

export function etcdEndpoints(plan: LabPlan): string[] {
  return plan.etcd.map((m) => m.clientUrl);
}

/** Bring a lab up. A healthy lab of the same shape is kept as it is; anything else is replaced. */
export async function labUp(given: UpOptions): Promise<LabState> {
  // a cluster needs the API, containerd and the agents
  const opts: UpOptions = given.kube ? { ...given, kubeApi: true, containerd: true } : given;
  const progress = opts.progress ?? quiet;
  const root = opts.root ?? LAB_ROOT;
  const plan = planLab({ name: opts.name, hosts: opts.hosts, etcdMembers: opts.etcdMembers, netmasters: opts.netmasters ?? 1 }, root);
  // two names can share an address slot (labIndex hashes into 1..99): the second lab would take the
  // first one's addresses and ports, and break it
  const sharing = listLabs(root).find((other) => other !== opts.name && labIndex(other) === labIndex(opts.name));
  if (sharing) {
    throw new NetloomError(
      'CONFLICT',
      `lab "${opts.name}" would use the addresses and ports of lab "${sharing}", which is up (both names map to slot ${labIndex(opts.name)}); ` +
        `take "${sharing}" down first, or use another name`,
      { field: 'lab' },
    );
  }
  const existing = loadState(opts.name, root);
  if (existing) {
    const urls = (p: LabPlan) => JSON.stringify([p.etcd.map((m) => m.clientUrl), (p.netmasters ?? []).map((n) => n.url)]);
    const same =
      existing.complete &&
      urls(existing.plan) === urls(plan) &&
      existing.plan.hosts.length === plan.hosts.length &&
      existing.plan.etcd.length === plan.etcd.length &&
      (existing.agents ?? false) === (opts.agents ?? false) &&
      (existing.dockerNetworks ?? false) === (opts.dockerNetworks ?? false) &&
      (existing.oneBridge ?? false) === (opts.oneBridge ?? false) &&
      (existing.bgp ?? false) === (opts.bgp ?? false) &&
      (existing.kubeApi ?? false) === (opts.kubeApi ?? false) &&
      JSON.stringify(existing.kube ?? null) ===
        JSON.stringify(opts.kube ? { tenantPerNamespace: opts.kube.tenantPerNamespace === true } : null) &&
      JSON.stringify(existing.apic ?? null) === JSON.stringify(opts.apic ?? null) &&
      (existing.plan.netmasters ?? []).length === plan.netmasters.length;
    if (same && (await labHealthy(existing))) {
      progress(`lab "${opts.name}" is already up with ${plan.hosts.length} hosts`);
      if (opts.containerd) await withLabLock(existing.plan.dir, () => startContainerds(requireState(opts.name, root), progress));
      return existing;
    }
    progress(`replacing the existing lab "${opts.name}"`);
    await labDown(opts.name, { root, progress });
  }
  if (opts.kube && !opts.agents)
    throw new NetloomError('INVALID_ARGUMENT', '--kube needs agents (not with --no-agents)', { field: 'kube' });
  if (opts.dockerNetworks && !opts.agents)
    throw new NetloomError('INVALID_ARGUMENT', '--docker-networks needs agents (not with --no-agents)', { field: 'docker-networks' });
  if (opts.oneBridge && !opts.agents)
    throw new NetloomError('INVALID_ARGUMENT', '--one-bridge needs agents (not with --no-agents)', { field: 'one-bridge' });
  const state = newState(plan);
  saveState(state);
  try {
    progress(`underlay ${plan.underlayNetns}: management ${plan.mgmtSubnet}, data ${plan.dataSubnet}`);
    await makeNetns(state, plan.underlayNetns);
    await addBridge('br-mgmt', plan.underlayNetns);
    await addBridge('br-data', plan.underlayNetns);

    state.rootLinks.push(plan.rootVeth);
    saveState(state);
    await addVeth(plan.rootVeth, undefined, `${plan.prefix}root-m`, plan.underlayNetns);
    await setMaster(`${plan.prefix}root-m`, 'br-mgmt', plan.underlayNetns);
    await linkUp(`${plan.prefix}root-m`, plan.underlayNetns);
    await addAddr(plan.rootVeth, `${plan.rootMgmtIp}/${plan.prefixLen}`);
    await linkUp(plan.rootVeth);

    progress(`tor ${plan.torNetns}: ${plan.torDataIp}`);
    await makeNetns(state, plan.torNetns);
    await plugIntoUnderlay(plan, plan.torNetns, 'eth0', plan.torPeer, 'br-data', `${plan.torDataIp}/${plan.prefixLen}`);
    // TCP between the tor and containers crosses the hosts' userspace datapath (NAT, published
    // ports), which drops segments whose checksum a veth left to offload (as for containers)
    await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: plan.torNetns });
    if (opts.bgp) {
      state.bgp = true;
      const pid = startBird(plan);
      state.pids.push({ role: BIRD_ROLE, pid, program: BIRD_PROGRAM });
      saveState(state);
      await waitBird(plan, pid);
      progress(`tor: BIRD ${pid}, route reflector for ${plan.hosts.length} host(s), AS ${LAB_AS}`);
    }

    for (const h of plan.hosts) await makeNetns(state, h.netns);
    await Promise.all(
      plan.hosts.map(async (h) => {
        await plugIntoUnderlay(plan, h.netns, 'eth0', h.mgmtPeer, 'br-mgmt', `${h.mgmtIp}/${plan.prefixLen}`);
        await plugIntoUnderlay(plan, h.netns, 'eth1', h.dataPeer, 'br-data', undefined);
        // the routed uplink: routed traffic stays in the kernel, eth1 belongs to the userspace br-phy (docs/bgp.md)
        if (opts.bgp) await plugIntoUnderlay(plan, h.netns, ROUTED_UPLINK, h.routedPeer, 'br-data', `${h.routedIp}/32`);
      }),
    );
    for (const h of plan.hosts) state.ovsDirs.push(h.ovsDir);
    saveState(state);
    await Promise.all(
      plan.hosts.map(async (h) => {
        const inst = await startOvs(h.ovsDir, h.netns, { userspaceTso: opts.userspaceTso !== false });
        state.pids.push({ role: `${h.name}/ovsdb-server`, pid: inst.ovsdbPid, program: 'ovsdb-server' });
        state.pids.push({ role: `${h.name}/ovs-vswitchd`, pid: inst.vswitchdPid, program: 'ovs-vswitchd' });
        progress(`${h.name}: netns ${h.netns}, mgmt ${h.mgmtIp}, data ${h.dataIp}, OVS ${inst.vswitchdPid}`);
      }),
    );
    saveState(state);

    progress(`certificates: ${pkiPaths(plan).dir} (a CA for netloom, one for etcd)`);
    const pki = await makeLabPki(plan);

    progress(`etcd: ${plan.etcd.length} member(s), TLS with client certificates`);
    const token = `${plan.name}-${systemClock.now().toString(36)}`;
    for (const m of plan.etcd) {
      const own = pki.etcdMembers[m.name]!;
      const pid = startEtcdMember(m, plan.etcd, token, `${plan.dir}/log`, { ca: pki.etcdCa.cert, cert: own.cert, key: own.key });
      state.pids.push({ role: m.name, pid, program: 'etcd' });
      saveState(state);
    }
    await waitEtcdHealthy(etcdEndpoints(plan), 30_000, etcdClientTls(plan));

    // before netmaster: with --kube it reads the API (its kubeconfig is written here)
    if (opts.kubeApi) {
      state.kubeApi = true;
      saveState(state);
      const pid = await startKubeApi(plan, etcdEndpoints(plan), opts.kube ? { gracefulPodDeletion: true } : {});
      state.pids.push({ role: KUBE_APISERVER_ROLE, pid, program: KUBE_APISERVER_PROGRAM });
      saveState(state);
      progress(`kubernetes API: ${kubeApiPaths(plan).url} (kubeconfig ${kubeApiPaths(plan).kubeconfig})`);
    }
    if (opts.kube) {
      state.kube = { tenantPerNamespace: opts.kube.tenantPerNamespace === true };
      saveState(state);
    }
    if (opts.apic) {
      state.apic = opts.apic;
      saveState(state);
    }
    for (const nm of plan.netmasters) {
      const pid = startNetmaster(state, nm);
      state.pids.push({ role: nm.name, pid, program: 'netmaster' });
      saveState(state);
    }
    for (const nm of plan.netmasters) {
      await waitFor(`${nm.name} to answer at ${nm.url}`, () => netmasterHealthy(plan, nm.url), { timeoutMs: 30_000, intervalMs: 100 });
      progress(`${nm.name}: REST ${nm.url}`);
    }
    if (opts.bgp && plan.netmasters[0]) {
      await setLabBgpDefault(plan, plan.netmasters[0].url);
      progress(`netmaster: BGP default AS ${LAB_AS}, neighbor ${plan.torDataIp} (hosts need no Bgp object)`);
    }
    if (plan.netmasters[0]) {
      writeFileSync(plan.netmasterUrlFile, `${plan.netmasters[0].url}\n`);
      // netctl finds the credentials the way it finds the URL (netctl/credentials.ts)
      writeClientConfig(
        plan.clientConfigFile,
        plan.netmasters.map((n) => n.url),
        pki,
      );
    }
    if (opts.agents) {
      agentNetmaster(plan, plan.hosts[0]?.name);
      state.agents = true;
      if (opts.dockerNetworks) state.dockerNetworks = true;
      if (opts.oneBridge) state.oneBridge = true;
      saveState(state);
      for (const h of plan.hosts) startAgent(state, h);
      await Promise.all(plan.hosts.map((h) => waitAgentReady(state, h.name)));
      for (const h of plan.hosts) progress(`${h.name}: netplugin ready (CNI ${agentPaths(plan, h.name).cniSocket})`);
    }
    if (opts.containerd) await startContainerds(state, progress);
    if (opts.kube) {
      for (const h of plan.hosts) startKubelet(state, h);
      await Promise.all(plan.hosts.map((h) => waitKubeletReady(state, h.name)));
      progress(`kubelet stand-ins: ${plan.hosts.length} node(s) Ready; make pods with kubectl (spec.nodeName picks the host)`);
    }
    state.complete = true;
    saveState(state);
    progress(`lab "${plan.name}" is up`);
    return state;
  } catch (e) {
    progress(`up failed: ${(e as Error).message}; cleaning up`);
    await labDown(opts.name, { root, progress: quiet });
    throw e;
  }
}

/** containerd with its CRI plugin on every host of the lab (each started unless it answers). */
async function startContainerds(state: LabState, progress: Progress): Promise<void> {
  for (const h of state.plan.hosts) await ensureContainerd(state, h);
  progress(`containerd with its CRI plugin on ${state.plan.hosts.length} host(s)`);
}

/**
 * A replica's command line (pure): etcd over TLS with netmaster's etcd client certificate, REST
 * over HTTPS taking the lab CA's client certificates, the agent API over mutual TLS (host
 * identity enforced), and VTEPs confined to the lab's data subnet. No --insecure.
 */
export function netmasterArgs(plan: LabPlan, nm: LabPlan['netmasters'][number], kubeconfig?: string, apic?: LabApic): string[] {
  const p = pkiPaths(plan);
  return [
    ...['--etcd', etcdEndpoints(plan).join(','), '--etcd-cacert', p.etcdCa.cert, '--etcd-cert', p.etcdNetmaster.cert],
    ...['--etcd-key', p.etcdNetmaster.key],
    ...['--listen-url', nm.listen, '--tls-cert', p.netmaster.cert, '--tls-key', p.netmaster.key, '--tls-client-ca', p.ca.cert],
    ...['--grpc-listen', nm.grpcListen, '--grpc-tls-cert', p.netmaster.cert, '--grpc-tls-key', p.netmaster.key],
    ...['--grpc-client-ca', p.ca.cert, '--vtep-subnets', plan.dataSubnet],
    ...(kubeconfig ? ['--kubeconfig', kubeconfig] : []),
    ...(apic ? ['--apic-url', apic.url, '--apic-user', apic.user, '--apic-password-file', apic.passwordFile] : []),
  ];
}

/** The kubeconfig netmaster and the agents read in a lab made with --kube (else undefined). */
export function labKubeconfigOf(state: LabState): string | undefined {
  return state.kube ? kubeApiPaths(state.plan).kubeconfig : undefined;
}

function startNetmaster(state: LabState, nm: LabPlan['netmasters'][number]): number {
  const plan = state.plan;
  mkdirSync(`${plan.dir}/log`, { recursive: true });
  const fd = openSync(`${plan.dir}/log/${nm.name}.log`, 'a');
  try {
    return spawnDaemon(process.execPath, [NETMASTER_JS, ...netmasterArgs(plan, nm, labKubeconfigOf(state), state.apic)], { logFd: fd });
  } finally {
    closeSync(fd);
  }
}

/** True when the netmaster at `url` answers GET /version to the lab's admin. */
export async function netmasterHealthy(plan: LabPlan, url: string): Promise<boolean> {
  try {
    return (await restRequest(`${url}/version`, { credentials: labRestCredentials(plan), timeoutMs: 2000 })).ok;
  } catch {
    return false;
  }
}

/** The cluster-wide BGP default matching the tor, set on the global object (kept: everything else on it). */
async function setLabBgpDefault(plan: LabPlan, url: string): Promise<void> {
  const credentials = labRestCredentials(plan);
  const got = await restRequest(`${url}/api/v1/globals/global/`, { credentials });
  if (!got.ok) throw new NetloomError('UNAVAILABLE', `reading the global settings: ${got.status} ${got.text}`);
  const body = JSON.stringify({ ...(JSON.parse(got.text) as Record<string, unknown>), ...labBgpDefault(plan) });
  const put = await restRequest(`${url}/api/v1/globals/global/`, { method: 'POST', body, credentials });
  if (!put.ok) throw new NetloomError('UNAVAILABLE', `setting the BGP default: ${put.status} ${put.text}`);
}

async function makeNetns(state: LabState, name: string): Promise<void> {
  if (!state.netns.includes(name)) state.netns.push(name);
  saveState(state);
  await addNetns(name);
}

async function plugIntoUnderlay(
  plan: LabPlan,
  netns: string,
  ifname: string,
  peer: string,
  bridge: string,
  cidr: string | undefined,
): Promise<void> {
  await addVeth(ifname, netns, peer, plan.underlayNetns);
  await setMaster(peer, bridge, plan.underlayNetns);
  await linkUp(peer, plan.underlayNetns);
  if (cidr) await addAddr(ifname, cidr, netns);
  await linkUp(ifname, netns);
}

/** Remove everything the state file records; safe after a crash, a partial up, or twice. */
export async function labDown(name: string, opts: { root?: string; progress?: Progress } = {}): Promise<boolean> {
  const progress = opts.progress ?? quiet;
  const state = loadState(name, opts.root ?? LAB_ROOT);
  if (!state) {
    progress(`no lab "${name}" to remove`);
    return false;
  }
  // container engines first (their containers are DELeted while the agents still answer), then
  // the agents, then the rest in reverse order of start; the kubelets before containerd (they
  // would make the pods again)
  await stopKubelets(state);
  await cleanupAllContainerd(state, progress);
  // swarm first: a service's tasks would come back as they are removed; then the managed plugin
  if ((state.swarmHosts ?? []).length > 0) await leaveSwarm(state);
  await cleanupEngines(state);
  for (const p of state.pids.filter((x) => x.program === NETPLUGIN_PROGRAM)) await stopProcess(p.pid, p.program);
  // the agents' gobgpd outlive them on purpose (BGP sessions survive an agent restart)
  for (const h of state.plan.hosts) await stopAgentGobgpd(state.plan, h.name);
  for (const p of [...state.pids].reverse()) {
    if (p.program === 'ovs-vswitchd' || p.program === 'ovsdb-server') continue; // stopped with their instance below
    await stopProcess(p.pid, p.program);
  }
  await Promise.all(state.ovsDirs.map((d) => stopOvs(d)));
  // PIDs recorded for OVS before a crash may differ from the pidfiles: stop those too.
  for (const p of state.pids) if (isAlive(p.pid)) await stopProcess(p.pid, p.program);
  for (const c of state.containers) await delNetns(c.netns);
  for (const ns of [...state.netns].reverse()) await delNetns(ns);
  for (const l of state.rootLinks) await delLink(l);
  await removeLabDir(state.plan.dir);
  progress(`lab "${name}" removed`);
  return true;
}

/**
 * Remove the lab's directory. A container engine's cleanup can still hold (or make again) a mount
 * below it for a moment after its `rm` returned (podman's overlay): on EBUSY, unmount what is below
 * and try again, for at most ~3 s.
 */
async function removeLabDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 30) throw e;
      await unmountUnder(dir);
      await systemClock.sleep(100);
    }
  }
}

export interface HostStatus {
  name: string;
  netns: string;
  mgmtIp: string;
  dataIp: string;
  ovsRunDir: string;
  pids: { ovsdbServer: number | null; ovsVswitchd: number | null };
  healthy: boolean;
  /** the host's netplugin (absent in a lab without agents) */
  agent?: {
    pid: number | null;
    ready: boolean;
    netmasterGrpc: string;
    cniSocket: string;
    log: string;
    dockerd: number | null;
    containerd: number | null;
  };
}

export interface LabStatus {
  name: string;
  complete: boolean;
  underlay: { netns: string; mgmtSubnet: string; dataSubnet: string; rootIp: string };
  tor: { netns: string; dataIp: string; bird?: BirdStatus };
  hosts: HostStatus[];
  containers: ContainerState[];
  etcd: { endpoints: string[]; members: Array<{ name: string; pid: number | null; endpoint: string; healthy: boolean }> };
  netmasters: Array<{ name: string; pid: number | null; url: string; healthy: boolean }>;
  /** the Kubernetes API (labs made with --kube-api) */
  kubeApi?: { url: string; kubeconfig: string; pid: number | null; healthy: boolean };
  /** the kubelet stand-ins (labs made with --kube) */
  kubelets?: KubeletStatus[];
}

/** The tor's BIRD (labs made with --bgp): its sessions, one per host. */
export interface BirdStatus {
  pid: number | null;
  healthy: boolean;
  as: number;
  config: string;
  socket: string;
  sessions: Array<{ host: string; address: string; as: number; protocol: string; state: string; info: string }>;
}

async function birdStatus(state: LabState): Promise<BirdStatus> {
  const plan = state.plan;
  const rec = state.pids.find((p) => p.role === BIRD_ROLE);
  const pid = rec && isAlive(rec.pid) ? rec.pid : null;
  const healthy = pid !== null && (await birdUp(plan));
  const rows = healthy ? await birdProtocols(plan).catch(() => []) : [];
  const paths = birdPaths(plan);
  return {
    pid,
    healthy,
    as: LAB_AS,
    config: paths.config,
    socket: paths.socket,
    sessions: birdNeighbors(plan).map((n) => {
      const row = rows.find((r) => r.name === n.protocol);
      return { host: n.host, address: n.address, as: n.as, protocol: n.protocol, state: row?.state ?? '', info: row?.info ?? '' };
    }),
  };
}

export async function labStatus(name: string, root: string = LAB_ROOT): Promise<LabStatus> {
  const state = requireState(name, root);
  const plan = state.plan;
  const hosts = await Promise.all(
    plan.hosts.map(async (h): Promise<HostStatus> => {
      const pids = ovsPids(h.ovsDir);
      const nsOk = await netnsExists(h.netns);
      const healthy = nsOk && (await ovsHealthy({ dir: h.ovsDir, netns: h.netns, env: ovsEnv(h.ovsDir) }));
      return {
        name: h.name,
        netns: h.netns,
        mgmtIp: h.mgmtIp,
        dataIp: h.dataIp,
        ovsRunDir: `${h.ovsDir}/run`,
        pids: { ovsdbServer: pids.ovsdb ?? null, ovsVswitchd: pids.vswitchd ?? null },
        healthy,
        ...(state.agents ? { agent: await agentStatus(state, h) } : {}),
      };
    }),
  );
  const health = await etcdHealth(etcdEndpoints(plan), etcdClientTls(plan));
  return {
    name: plan.name,
    complete: state.complete,
    underlay: { netns: plan.underlayNetns, mgmtSubnet: plan.mgmtSubnet, dataSubnet: plan.dataSubnet, rootIp: plan.rootMgmtIp },
    tor: { netns: plan.torNetns, dataIp: plan.torDataIp, ...(state.bgp ? { bird: await birdStatus(state) } : {}) },
    hosts,
    containers: state.containers,
    etcd: {
      endpoints: etcdEndpoints(plan),
      members: plan.etcd.map((m) => {
        const rec = state.pids.find((p) => p.role === m.name);
        return {
          name: m.name,
          pid: rec && isAlive(rec.pid) ? rec.pid : null,
          endpoint: m.clientUrl,
          healthy: health.find((x) => x.endpoint === m.clientUrl)?.healthy ?? false,
        };
      }),
    },
    netmasters: await Promise.all(
      (plan.netmasters ?? []).map(async (nm) => {
        const rec = state.pids.find((p) => p.role === nm.name);
        return { name: nm.name, pid: rec && isAlive(rec.pid) ? rec.pid : null, url: nm.url, healthy: await netmasterHealthy(plan, nm.url) };
      }),
    ),
    ...(state.kubeApi ? { kubeApi: await kubeApiStatus(state) } : {}),
    ...(state.kube ? { kubelets: await kubeletStatus(state) } : {}),
  };
}

async function kubeApiStatus(state: LabState): Promise<NonNullable<LabStatus['kubeApi']>> {
  const rec = state.pids.find((p) => p.role === KUBE_APISERVER_ROLE);
  const paths = kubeApiPaths(state.plan);
  return {
    url: paths.url,
    kubeconfig: paths.kubeconfig,
    pid: rec && isAlive(rec.pid) ? rec.pid : null,
    healthy: await kubeApiHealthy(state.plan),
  };
}

export async function labHealthy(state: LabState): Promise<boolean> {
  try {
    const s = await labStatus(state.plan.name, state.plan.dir.slice(0, state.plan.dir.lastIndexOf('/')));
    return (
      s.hosts.every((h) => h.healthy && (h.agent?.ready ?? true)) &&
      s.etcd.members.every((m) => m.healthy) &&
      s.netmasters.every((m) => m.healthy) &&
      (s.tor.bird?.healthy ?? true) &&
      (s.kubeApi?.healthy ?? true) &&
      (s.kubelets ?? []).every((k) => k.ready)
    );
  } catch {
    return false;
  }
}

export function findHost(plan: LabPlan, host: string): HostPlan {
  const h = plan.hosts.find((x) => x.name === host || x.netns === host);
  if (!h)
    throw new NetloomError('NOT_FOUND', `no host "${host}" in lab "${plan.name}" (hosts: ${plan.hosts.map((x) => x.name).join(', ')})`, {
      field: 'host',
    });
  return h;
}

/** Where `name` (a host, a container, `underlay` or `tor`) runs: its namespace and environment. */
export function resolveTarget(state: LabState, name: string): { netns: string; env: NodeJS.ProcessEnv } {
  const plan = state.plan;
  const container = state.containers.find((c) => c.name === name);
  if (container) return { netns: container.netns, env: ovsEnv(findHost(plan, container.host).ovsDir) };
  if (name === 'underlay') return { netns: plan.underlayNetns, env: process.env };
  if (name === 'tor') return { netns: plan.torNetns, env: process.env };
  const h = plan.hosts.find((x) => x.name === name || x.netns === name);
  if (h) return { netns: h.netns, env: ovsEnv(h.ovsDir) };
  const names = [...plan.hosts.map((x) => x.name), ...state.containers.map((c) => c.name), 'underlay', 'tor'];
  throw new NetloomError('NOT_FOUND', `no host or container "${name}" in lab "${plan.name}" (known: ${names.join(', ')})`, {
    field: 'name',
  });
}

export interface AttachOptions {
  host: string;
  container: string;
  ip: string;
  vlan?: number;
  bridge?: string;
  root?: string;
  labName: string;
}

/**
 * Plug a container namespace into a host's OVS bridge by hand (standalone bridge, NORMAL
 * forwarding), with the userspace-datapath checksum fix applied inside the container.
 */
export async function labAttach(opts: AttachOptions): Promise<ContainerState> {
  validateContainerName(opts.container);
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(opts.ip)) {
    throw new NetloomError('INVALID_ARGUMENT', `--ip must be an IPv4 address with prefix length, like 10.1.1.2/24; got "${opts.ip}"`, {
      field: 'ip',
    });
  }
  if (opts.vlan !== undefined && (!Number.isInteger(opts.vlan) || opts.vlan < 1 || opts.vlan > 4094)) {
    throw new NetloomError('INVALID_ARGUMENT', `--vlan must be 1..4094, got ${opts.vlan}`, { field: 'vlan' });
  }
  const state = requireState(opts.labName, opts.root ?? LAB_ROOT);
  const host = findHost(state.plan, opts.host);
  if (state.containers.some((c) => c.name === opts.container)) {
    throw new NetloomError('ALREADY_EXISTS', `container "${opts.container}" already exists in lab "${state.plan.name}"`, {
      field: 'container',
    });
  }
  const bridge = opts.bridge ?? 'br-int';
  const c: ContainerState = {
    name: opts.container,
    host: host.name,
    netns: containerNetns(state.plan, opts.container),
    hostVeth: containerVethName(host.name, opts.container),
    ip: opts.ip,
    ...(opts.vlan !== undefined ? { vlan: opts.vlan } : {}),
  };
  state.containers.push(c);
  saveState(state);
  const env = ovsEnv(host.ovsDir);
  try {
    await addNetns(c.netns);
    await addVeth(c.hostVeth, host.netns, 'eth0', c.netns);
    await addAddr('eth0', c.ip, c.netns);
    await linkUp('eth0', c.netns);
    await linkUp(c.hostVeth, host.netns);
    await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: c.netns });
    await run('ovs-vsctl', ['--timeout=10', '--may-exist', 'add-br', bridge, '--', 'set', 'bridge', bridge, 'datapath_type=netdev'], {
      netns: host.netns,
      env,
    });
    await linkUp(bridge, host.netns);
    await run(
      'ovs-vsctl',
      [
        '--timeout=10',
        '--may-exist',
        'add-port',
        bridge,
        c.hostVeth,
        ...(opts.vlan !== undefined ? ['--', 'set', 'port', c.hostVeth, `tag=${opts.vlan}`] : []),
      ],
      { netns: host.netns, env },
    );
    return c;
  } catch (e) {
    await labDetach(opts.labName, opts.container, opts.root);
    throw e;
  }
}

/** Remove a container: its OVS port, veth and namespace. */
export async function labDetach(labName: string, container: string, root?: string): Promise<void> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const c = state.containers.find((x) => x.name === container);
  if (!c) throw new NetloomError('NOT_FOUND', `no container "${container}" in lab "${labName}"`, { field: 'container' });
  if (c.containerId !== undefined)
    throw new NetloomError('CONFLICT', `container "${container}" was made by run: remove it with rm (CNI DEL)`, { field: 'container' });
  const host = findHost(state.plan, c.host);
  await run('ovs-vsctl', ['--timeout=10', '--if-exists', 'del-port', c.hostVeth], {
    netns: host.netns,
    env: ovsEnv(host.ovsDir),
    allowFailure: true,
  });
  await delNetns(c.netns);
  await delLink(c.hostVeth, host.netns);
  state.containers = state.containers.filter((x) => x.name !== container);
  saveState(state);
}

function replacePid(state: LabState, role: string, pid: number, program: string): void {
  state.pids = [...state.pids.filter((p) => p.role !== role), { role, pid, program }];
  saveState(state);
}

/** Restart one host's ovs-vswitchd (its database and bridges stay); returns the new PID. */
export async function labRestartOvs(labName: string, host: string, root?: string): Promise<number> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const h = findHost(state.plan, host);
  const pids = ovsPids(h.ovsDir);
  if (pids.vswitchd === undefined || pids.ovsdb === undefined)
    throw new NetloomError('NOT_FOUND', `${host} has no running OVS to restart`, { field: 'host' });
  const next = await restartVswitchd({
    dir: h.ovsDir,
    netns: h.netns,
    runDir: `${h.ovsDir}/run`,
    dbSock: `${h.ovsDir}/run/db.sock`,
    env: ovsEnv(h.ovsDir),
    ovsdbPid: pids.ovsdb,
    vswitchdPid: pids.vswitchd,
  });
  replacePid(state, `${h.name}/ovs-vswitchd`, next.vswitchdPid, 'ovs-vswitchd');
  return next.vswitchdPid;
}

function netmasterByName(state: LabState, which: string): LabPlan['netmasters'][number] {
  const nm = state.plan.netmasters.find((n) => n.name === which);
  if (!nm)
    throw new NetloomError(
      'NOT_FOUND',
      `no netmaster "${which}" in lab "${state.plan.name}" (netmasters: ${state.plan.netmasters.map((n) => n.name).join(', ') || 'none'})`,
      { field: 'netmaster' },
    );
  return nm;
}

/** Stop one netmaster replica (its PID record stays, so `down` and `start` know it). */
export async function labStopNetmaster(labName: string, which: string, root?: string): Promise<void> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const nm = netmasterByName(state, which);
  const rec = state.pids.find((p) => p.role === nm.name);
  if (rec) await stopProcess(rec.pid, 'netmaster');
}

/** Start one netmaster replica that is not running; returns its PID (the running one's if up). */
export async function labStartNetmaster(labName: string, which: string, root?: string): Promise<number> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const nm = netmasterByName(state, which);
  const rec = state.pids.find((p) => p.role === nm.name);
  if (rec && isAlive(rec.pid)) return rec.pid;
  const pid = startNetmaster(state, nm);
  replacePid(state, nm.name, pid, 'netmaster');
  await waitFor(`${nm.name} to answer at ${nm.url}`, () => netmasterHealthy(state.plan, nm.url), { timeoutMs: 30_000, intervalMs: 100 });
  return pid;
}

/** Restart netmaster replicas (all, or the one named); returns the new PIDs. */
export async function labRestartNetmaster(labName: string, which?: string, root?: string): Promise<number[]> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const targets = state.plan.netmasters.filter((n) => which === undefined || n.name === which);
  if (targets.length === 0) {
    throw new NetloomError(
      'NOT_FOUND',
      `no netmaster ${which ?? ''} in lab "${labName}" (netmasters: ${state.plan.netmasters.map((n) => n.name).join(', ') || 'none'})`,
      { field: 'netmaster' },
    );
  }
  const out: number[] = [];
  for (const nm of targets) {
    const rec = state.pids.find((p) => p.role === nm.name);
    if (rec) await stopProcess(rec.pid, 'netmaster');
    const pid = startNetmaster(state, nm);
    replacePid(state, nm.name, pid, 'netmaster');
    await waitFor(`${nm.name} to answer at ${nm.url}`, () => netmasterHealthy(state.plan, nm.url), { timeoutMs: 30_000, intervalMs: 100 });
    out.push(pid);
  }
  return out;
}

async function agentStatus(state: LabState, h: HostPlan): Promise<NonNullable<HostStatus['agent']>> {
  const rec = state.pids.find((p) => p.role === agentRole(h.name));
  const alive = rec !== undefined && isAlive(rec.pid);
  const p = agentPaths(state.plan, h.name);
  const dockerd = state.pids.find((x) => x.role === `${h.name}/dockerd`);
  const containerd = state.pids.find((x) => x.role === containerdRole(h.name));
  return {
    pid: alive ? rec.pid : null,
    ready: alive && (await agentReady(state.plan, h.name)),
    netmasterGrpc: agentNetmaster(state.plan, h.name),
    cniSocket: p.cniSocket,
    log: p.log,
    dockerd: dockerd && isAlive(dockerd.pid) ? dockerd.pid : null,
    containerd: containerd && isAlive(containerd.pid) ? containerd.pid : null,
  };
}

/** Restart one host's netplugin (stop by PID, start again, wait until ready); returns the new PID. */
export async function labRestartNetplugin(labName: string, host: string, root?: string): Promise<number> {
  const dir = requireState(labName, root ?? LAB_ROOT).plan.dir;
  return withLabLock(dir, () => restartNetpluginLocked(labName, host, root));
}

async function restartNetpluginLocked(labName: string, host: string, root?: string): Promise<number> {
  const state = requireState(labName, root ?? LAB_ROOT);
  const h = findHost(state.plan, host);
  if (!state.agents)
    throw new NetloomError('CONFLICT', `lab "${labName}" runs no agents (it was made with --no-agents)`, { field: 'host' });
  await stopAgent(state, h.name);
  const pid = startAgent(state, h);
  await waitAgentReady(state, h.name);
  return pid;
}
