/**
 * The lab's layout as plain data: names, addresses and ports follow from the lab's name, its index
 * and the host count alone, so `up`, `down`, `status` and the tests all agree without asking the
 * system. Pure; no I/O.
 *
 *   root netns ── <root veth> ──┐
 *                               │  underlay netns: Linux bridges br-mgmt and br-data
 *   hostN netns: eth0 ──────────┤  (br-mgmt carries control traffic: etcd, netmaster, agents)
 *                eth1 ──────────┤  (br-data carries the fabric: VLAN-tagged frames, VXLAN, BGP)
 *                eth2 ──────────┤  (up --bgp only: on br-data too, the kernel's routed uplink)
 *   tor netns:   eth0 ──────────┘  (on br-data; BIRD, the hosts' BGP peer, with up --bgp)
 */
import { NetloomError } from '../../lib/errors';
import { DEFAULT_LAB, DEFAULT_LAB_ROOT, isLabName, labClientConfigFile, labDir, labNetmasterUrlFile } from '../../lib/lab-paths';

export { DEFAULT_LAB };
export const LAB_ROOT = process.env.NETLOOM_LAB_ROOT ?? DEFAULT_LAB_ROOT;
export const MAX_HOSTS = 50;
/** host i's routed uplink address is .(100 + i) of the data subnet (hosts take .1-.50, the tor .254) */
const ROUTED_IP_BASE = 100;
/** the routed uplink's name in a lab host (up --bgp) */
export const ROUTED_UPLINK = 'eth2';

export interface LabPlanInput {
  name: string;
  hosts: number;
  etcdMembers: 1 | 3;
  /** netmaster replicas (0: none) */
  netmasters?: number;
}

export const MAX_NETMASTERS = 3;

export interface NetmasterPlan {
  name: string;
  /** host:port of the REST API, on the root namespace's management address */
  listen: string;
  url: string;
  /** host:port of the agents' gRPC service */
  grpcListen: string;
}

export interface HostPlan {
  name: string;
  netns: string;
  mgmtIp: string;
  dataIp: string;
  /**
   * up --bgp: the address of eth2, the routed uplink (netplugin --routed-uplink): a /32 in the data
   * subnet, so that the data subnet's connected route stays on br-phy (docs/bgp.md)
   */
  routedIp: string;
  /** underlay-side veth names for eth0 (mgmt), eth1 (data) and eth2 (routed uplink) */
  mgmtPeer: string;
  dataPeer: string;
  routedPeer: string;
  ovsDir: string;
}

export interface EtcdMemberPlan {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}

export interface LabPlan {
  name: string;
  index: number;
  dir: string;
  stateFile: string;
  prefix: string;
  underlayNetns: string;
  torNetns: string;
  mgmtSubnet: string;
  dataSubnet: string;
  prefixLen: 24;
  /** the root namespace's address on the management network (where etcd listens) */
  rootMgmtIp: string;
  rootVeth: string;
  torDataIp: string;
  torPeer: string;
  hosts: HostPlan[];
  etcd: EtcdMemberPlan[];
  netmasters: NetmasterPlan[];
  /** where `netctl` finds the lab's netmaster (first line: its URL) */
  netmasterUrlFile: string;
  /** netctl's client config: the netmasters' URLs and the admin's credentials (lib/rest-credentials.ts) */
  clientConfigFile: string;
}

/** A stable small number for a lab name: the default lab is 0, others 1..99. */
export function labIndex(name: string): number {
  if (name === DEFAULT_LAB) return 0;
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 1 + (h % 99);
}

export function validateLabName(name: string): void {
  if (!isLabName(name)) {
    throw new NetloomError('INVALID_ARGUMENT', `lab name "${name}" must be 1-6 lowercase letters or digits, starting with a letter`, {
      field: 'name',
    });
  }
}

export function planLab(input: LabPlanInput, root: string = LAB_ROOT): LabPlan {
  validateLabName(input.name);
  if (!Number.isInteger(input.hosts) || input.hosts < 1 || input.hosts > MAX_HOSTS) {
    throw new NetloomError('INVALID_ARGUMENT', `--hosts must be an integer from 1 to ${MAX_HOSTS}, got ${input.hosts}`, { field: 'hosts' });
  }
  if (input.etcdMembers !== 1 && input.etcdMembers !== 3) {
    throw new NetloomError('INVALID_ARGUMENT', `--etcd-members must be 1 or 3, got ${String(input.etcdMembers)}`, { field: 'etcdMembers' });
  }
  const nm = input.netmasters ?? 1;
  if (!Number.isInteger(nm) || nm < 0 || nm > MAX_NETMASTERS) {
    throw new NetloomError('INVALID_ARGUMENT', `--netmasters must be an integer from 0 to ${MAX_NETMASTERS}, got ${nm}`, {
      field: 'netmasters',
    });
  }
  const index = labIndex(input.name);
  const prefix = index === 0 ? '' : `${input.name}-`;
  const dir = labDir(root, input.name);
  const mgmtNet = `10.213.${index * 2}`;
  const dataNet = `10.213.${index * 2 + 1}`;
  const rootMgmtIp = `${mgmtNet}.254`;
  const hosts: HostPlan[] = [];
  for (let i = 1; i <= input.hosts; i++) {
    const name = `host${i}`;
    hosts.push({
      name,
      netns: `${prefix}${name}`,
      mgmtIp: `${mgmtNet}.${i}`,
      dataIp: `${dataNet}.${i}`,
      routedIp: `${dataNet}.${ROUTED_IP_BASE + i}`,
      mgmtPeer: `${prefix}${name}-m`,
      dataPeer: `${prefix}${name}-d`,
      routedPeer: `${prefix}${name}-r`,
      ovsDir: `${dir}/hosts/${name}/ovs`,
    });
  }
  // below the kernel's ephemeral range (32768+) and clear of the ports tests use (24000-26999)
  const portBase = 13000 + index * 100;
  const etcd: EtcdMemberPlan[] = [];
  for (let i = 1; i <= input.etcdMembers; i++) {
    etcd.push({
      name: `etcd${i}`,
      // TLS with client certificates, clients and peers alike (pki.ts)
      clientUrl: `https://${rootMgmtIp}:${portBase + i * 10}`,
      peerUrl: `https://127.0.0.1:${portBase + i * 10 + 1}`,
      dataDir: `${dir}/etcd/etcd${i}`,
    });
  }
  const netmasters: NetmasterPlan[] = [];
  for (let i = 1; i <= nm; i++) {
    const port = portBase + 50 + i;
    netmasters.push({
      name: `netmaster${i}`,
      listen: `${rootMgmtIp}:${port}`,
      url: `https://${rootMgmtIp}:${port}`,
      grpcListen: `${rootMgmtIp}:${portBase + 60 + i}`,
    });
  }
  return {
    name: input.name,
    index,
    dir,
    stateFile: `${dir}/state.json`,
    prefix,
    underlayNetns: `${prefix}underlay`,
    torNetns: `${prefix}tor`,
    mgmtSubnet: `${mgmtNet}.0/24`,
    dataSubnet: `${dataNet}.0/24`,
    prefixLen: 24,
    rootMgmtIp,
    rootVeth: `nl${index}mgmt`,
    torDataIp: `${dataNet}.254`,
    torPeer: `${prefix}tor-d`,
    hosts,
    etcd,
    netmasters,
    netmasterUrlFile: labNetmasterUrlFile(root, input.name),
    clientConfigFile: labClientConfigFile(root, input.name),
  };
}

/** Where one host's agent (netplugin) keeps its sockets, state and log; all under the lab dir. */
export interface AgentPaths {
  dir: string;
  cniSocket: string;
  /** the CNM socket sits where the host's private dockerd looks for plugins: `<dockerRun>/docker/plugins` */
  cnmSocket: string;
  /** the agent's Scope-global CNM socket for the managed plugin (swarm): `/run/netloom/cnm-swarm.sock` in dockerd's mount namespace */
  cnmSwarmSocket: string;
  cnmState: string;
  stateDir: string;
  log: string;
  /** the /run bound over the host's private dockerd's mount namespace */
  dockerRun: string;
  dockerDir: string;
  podmanDir: string;
  /** metrics inside the host's namespace */
  metricsListen: string;
}

export function agentPaths(plan: Pick<LabPlan, 'dir'>, host: string): AgentPaths {
  const hostDir = `${plan.dir}/hosts/${host}`;
  const dir = `${hostDir}/agent`;
  const dockerRun = `${hostDir}/docker/run`;
  return {
    dir,
    cniSocket: `${dir}/cni.sock`,
    cnmSocket: `${dockerRun}/docker/plugins/netloom.sock`,
    cnmSwarmSocket: `${dockerRun}/netloom/cnm-swarm.sock`,
    cnmState: `${dir}/cnm-state.json`,
    stateDir: `${dir}/state`,
    log: `${dir}/netplugin.log`,
    dockerRun,
    dockerDir: `${hostDir}/docker`,
    podmanDir: `${hostDir}/podman`,
    metricsListen: '127.0.0.1:9731',
  };
}

/** The namespace of a container in this lab. */
export function containerNetns(plan: Pick<LabPlan, 'prefix'>, container: string): string {
  return `${plan.prefix}c-${container}`;
}

const CONTAINER_RE = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
export function validateContainerName(name: string): void {
  if (!CONTAINER_RE.test(name)) {
    throw new NetloomError('INVALID_ARGUMENT', `container name "${name}" must be 1-32 of a-z 0-9 _ . - starting with a letter or digit`, {
      field: 'container',
    });
  }
}

/** Host-side veth name for a container: short, unique per host and container. */
export function containerVethName(host: string, container: string): string {
  let h = 2166136261;
  for (const ch of `${host}/${container}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return `nlv${h.toString(16).padStart(8, '0')}`;
}
