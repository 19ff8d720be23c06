/**
 * BGP mode's paths for the dataplane benchmark (issue 16), in their own lab `tdbgp` (four hosts,
 * BIRD on the tor as route reflector, no netmaster): on host1 and host2 one real `netplugin` agent
 * each, fed by a fabric file of its own (a `bgp` network with one address block per host, the host's BGP settings
 * towards the tor), containers (`dpb-…`) plugged through the real `bin/netloom-cni` shim, and the
 * routes between hosts learned by BGP (each agent's gobgpd, installed as proto 80). Beside them
 * `kernel-routed`: two namespaces on host3 and host4 laid out as netloom's routed endpoints are
 * (a /32 behind a link-local gateway, proxy ARP on the host end) but routed by plain static kernel
 * routes, no netloom.
 *
 * The hosts are wired as the lab's `up --bgp` hosts are: eth1 is the OVS uplink (a port of the
 * userspace `br-phy`, which holds the data address for VLAN and VXLAN), and routed traffic leaves
 * and arrives on eth2, the routed uplink in the kernel (`netplugin --routed-uplink eth2`, its /32
 * the next hop each host announces; docs/bgp.md). The kernel-routed pair uses the same eth2s.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { labDown, labUp } from '../../deploy/lab/lab';
import { LAB_AS } from '../../deploy/lab/bird';
import { addNetns, addVeth, delNetns } from '../../deploy/lab/netns';
import { ROUTED_UPLINK, type HostPlan, type LabPlan } from '../../deploy/lab/plan';
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { stopProcess } from '../../lib/process';
import { benchAgentDir, benchAgentSocket, plugBenchContainer, startBenchAgent, writeBenchFabric } from './bench-agents';
import { policyRules } from './netloom-paths';
import type { BenchPath } from './reference-paths';

export const BGP_LAB = 'tdbgp';
/** the tenant of the existing policy paths: policyRules names its groups `dp:GROUP` */
const TENANT = 'dp';
const NETWORK = 'rt';
const NET_KEY = `${TENANT}:${NETWORK}`;
const SUBNET = '10.61.0.0/16';
const BLOCK_PREFIX = 26;
/** a `bgp` network's id space (docs/bgp.md: networkId = 0x2000000 | id) */
const NETWORK_ID = 0x2000000 | 1;
export const BGP_POLICY_GROUP = 'polbg';

/**
 * The hosts with a netloom agent, in block order. The policy pair has hosts of its own: an
 * endpoint whose policy can deny turns its host's routed table stateful (conntrack on for every
 * routed packet there: netplugin/routed/policy-model.ts), which the plain pair's hosts must not
 * be, so that each path measures its own case.
 */
export const NETLOOM_BGP_HOSTS = ['host1', 'host2', 'host5', 'host6'] as const;
type NetloomBgpHost = (typeof NETLOOM_BGP_HOSTS)[number];

export interface BgpBenchContainer {
  name: string;
  host: NetloomBgpHost;
  ip: string;
  mac: string;
  group?: string;
}

/** Client on host1, server on host2; the `p` pair (host5 to host6) has the 100-rule policy of its group. */
export const BGP_CONTAINERS: readonly BgpBenchContainer[] = [
  { name: 'bg1', host: 'host1', ip: '10.61.0.1', mac: '02:00:00:61:00:01' },
  { name: 'bg2', host: 'host2', ip: '10.61.0.65', mac: '02:00:00:61:00:41' },
  { name: 'bgp1', host: 'host5', ip: '10.61.0.129', mac: '02:00:00:61:00:81' },
  { name: 'bgp2', host: 'host6', ip: '10.61.0.193', mac: '02:00:00:61:00:c1' },
].map((c) => (c.name.startsWith('bgp') ? { ...c, group: BGP_POLICY_GROUP } : c)) as BgpBenchContainer[];

/** the block of a netloom host (NETLOOM_BGP_HOSTS order): host1 10.61.0.0/26, host2 .64/26, host5 .128/26, host6 .192/26 */
export function hostBlock(host: NetloomBgpHost): string {
  return `10.61.0.${NETLOOM_BGP_HOSTS.indexOf(host) * 64}/${BLOCK_PREFIX}`;
}

/**
 * The kernel-routed reference: a namespace per host, its host end, its /32. On hosts of their own
 * (same lab, same underlay bridge), so that netloom's nftables tables and conntrack on host1 and
 * host2 do not touch the reference's packets.
 */
export const KERNEL_ROUTED = [
  { ns: 'dpkr1', host: 'host3', hostIf: 'krh1', ip: '10.64.0.1' },
  { ns: 'dpkr2', host: 'host4', hostIf: 'krh2', ip: '10.64.0.2' },
] as const;
/** the lab's hosts: host1, host2, host5 and host6 run netloom, host3 and host4 only the kernel-routed pair */
const LAB_HOSTS = 6;
const LINK_LOCAL_GW = '169.254.1.1';
/** the host end's MAC, which the namespace's permanent neighbour entry for the gateway names (as netloom's routed endpoints) */
const HOST_END_MAC = 'ee:ee:ee:ee:ee:ee';

export const bgpContainerNs = (c: Pick<BgpBenchContainer, 'name'>): string => `dpb-${c.name}`;

/**
 * The HostState host `self` reads (pure): the `bgp` network, its group with the 100-rule policy,
 * every endpoint (with its host), one block per host (next hop: the host's data address), and
 * self's BGP settings: iBGP with the tor, AS 65000, as the lab's cluster-wide default gives them.
 */
export function bgpFabricState(
  hosts: ReadonlyArray<Pick<HostPlan, 'name' | 'dataIp'>>,
  self: string,
  torDataIp: string,
  containers: readonly BgpBenchContainer[] = BGP_CONTAINERS,
): unknown {
  const groups = [...new Set(containers.flatMap((c) => (c.group ? [c.group] : [])))].map((g, i) => ({
    key: `${TENANT}:${g}`,
    tenant: TENANT,
    name: g,
    network: NETWORK,
    groupId: i + 1,
    policies: [`p-${g}`],
  }));
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: TENANT, vrfId: 1, ctZone: 1 }],
    groups,
    policies: groups.map((g) => ({ key: `${TENANT}:p-${g.name}`, tenant: TENANT, name: `p-${g.name}`, rules: policyRules(g.name) })),
    networks: [
      {
        key: NET_KEY,
        tenant: TENANT,
        name: NETWORK,
        encap: 'bgp',
        pktTag: NETWORK_ID & 0xffffff,
        subnet: SUBNET,
        networkId: NETWORK_ID,
        blockPrefix: BLOCK_PREFIX,
      },
    ],
    endpoints: containers.map((c) => ({
      id: `ep-${c.name}`,
      network: NET_KEY,
      group: c.group ? `${TENANT}:${c.group}` : '',
      host: c.host,
      ip: c.ip,
      mac: c.mac,
      containerId: `ctr-${c.name}`,
    })),
    vteps: hosts.map((h) => ({ host: h.name, vtepIp: h.dataIp })),
    blocks: hosts.map((h) => ({ network: NET_KEY, cidr: hostBlock(h.name as NetloomBgpHost), host: h.name, vtepIp: h.dataIp })),
    bgp: {
      hostname: self,
      routerIp: '',
      as: LAB_AS,
      neighbor: torDataIp,
      neighborAs: LAB_AS,
      holdTime: 9,
      keepaliveTime: 3,
    },
  };
}

/**
 * The commands (namespace, argv) of the kernel-routed reference (pure): in each namespace a /32
 * on eth0 and a default route through a link-local gateway whose neighbour entry is permanent
 * (the host end's MAC; the lab hosts have no default route, so proxy ARP alone would not answer
 * for the gateway), as netloom's routed endpoints have it; on its host proxy ARP and forwarding
 * on the host end, a /32 route to its namespace, and a /32 route to the other namespace via the
 * other host's routed uplink (eth2, onlink: as netloom's learned routes). The veth pairs are made
 * before these.
 */
export function kernelRoutedCommands(hosts: ReadonlyArray<Pick<HostPlan, 'name' | 'netns' | 'routedIp'>>): Array<[string, string[]]> {
  const cmds: Array<[string, string[]]> = [];
  for (const k of KERNEL_ROUTED) {
    const h = hosts.find((x) => x.name === k.host);
    const other = KERNEL_ROUTED.find((o) => o !== k);
    const otherHost = hosts.find((x) => x.name === other?.host);
    if (!h || !other || !otherHost) throw new NetloomError('NOT_FOUND', `no lab host for ${k.ns}`, { field: 'host' });
    cmds.push(
      [k.ns, ['ip', 'addr', 'add', `${k.ip}/32`, 'dev', 'eth0']],
      [k.ns, ['ip', 'link', 'set', 'eth0', 'up']],
      [k.ns, ['ip', 'neigh', 'replace', LINK_LOCAL_GW, 'lladdr', HOST_END_MAC, 'dev', 'eth0', 'nud', 'permanent']],
      [k.ns, ['ip', 'route', 'add', LINK_LOCAL_GW, 'dev', 'eth0', 'scope', 'link']],
      [k.ns, ['ip', 'route', 'add', 'default', 'via', LINK_LOCAL_GW, 'dev', 'eth0']],
      [h.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', `net.ipv4.conf.${k.hostIf}.proxy_arp=1`]],
      [h.netns, ['ip', 'link', 'set', k.hostIf, 'address', HOST_END_MAC, 'up']],
      [h.netns, ['ip', 'route', 'replace', `${k.ip}/32`, 'dev', k.hostIf, 'scope', 'link']],
      [h.netns, ['ip', 'route', 'replace', `${other.ip}/32`, 'via', otherHost.routedIp, 'dev', ROUTED_UPLINK, 'onlink']],
    );
  }
  return cmds;
}

const PID_FILE = '/tmp/nl-dataplane/bgp-pids.json';

interface Recorded {
  agents: number[];
  gobgpdPidFiles: string[];
}

function record(r: Recorded): void {
  mkdirSync('/tmp/nl-dataplane', { recursive: true });
  writeFileSync(PID_FILE, JSON.stringify(r));
}

async function stopGobgpd(pidFile: string): Promise<void> {
  let pid = 0;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  if (pid > 0) await stopProcess(pid, 'gobgpd');
}

const ALL_NS = [...BGP_CONTAINERS.map(bgpContainerNs), ...KERNEL_ROUTED.map((k) => k.ns)];

/** Stop what a killed earlier run recorded (agents and their gobgpd, only if the PIDs still run them), drop its lab. */
export async function cleanupStaleBgp(): Promise<void> {
  let r: Partial<Recorded> = {};
  try {
    r = JSON.parse(readFileSync(PID_FILE, 'utf8')) as Partial<Recorded>;
  } catch {
    r = {};
  }
  for (const pid of r.agents ?? []) if (typeof pid === 'number') await stopProcess(pid, 'netplugin/main.js');
  for (const f of r.gobgpdPidFiles ?? []) if (typeof f === 'string') await stopGobgpd(f);
  rmSync(PID_FILE, { force: true });
  for (const ns of ALL_NS) await delNetns(ns);
  await labDown(BGP_LAB);
}

export class BgpBench {
  private plan: LabPlan | undefined;
  private readonly agents = new Map<string, number>();

  private get lab(): LabPlan {
    if (!this.plan) throw new NetloomError('UNAVAILABLE', 'lab not up');
    return this.plan;
  }

  private host(name: string): HostPlan {
    const h = this.lab.hosts.find((x) => x.name === name);
    if (!h) throw new NetloomError('NOT_FOUND', `no lab host ${name}`, { field: 'host' });
    return h;
  }

  private netloomHosts(): HostPlan[] {
    return NETLOOM_BGP_HOSTS.map((n) => this.host(n));
  }

  private recorded(): Recorded {
    return {
      agents: [...this.agents.values()],
      gobgpdPidFiles: this.netloomHosts().map((h) => `${benchAgentDir(this.lab, h)}/state/gobgpd.pid`),
    };
  }

  /**
   * Lab up (BIRD on the tor, each host's eth2 the routed uplink); with `netloom`, an agent per
   * host, every container plugged and the other host's block learned; with `kernel`, the
   * kernel-routed pair.
   */
  async up(want: { netloom: boolean; kernel: boolean }): Promise<void> {
    const state = await labUp({ name: BGP_LAB, hosts: LAB_HOSTS, etcdMembers: 1, netmasters: 0, bgp: true });
    this.plan = state.plan;
    const plan = this.plan;
    if (want.kernel) await this.kernelRouted();
    if (!want.netloom) return;
    const netloomHosts = this.netloomHosts();
    for (const h of netloomHosts) writeBenchFabric(plan, h, bgpFabricState(netloomHosts, h.name, plan.torDataIp));
    record(this.recorded());
    // the lab's agent wiring: eth1 in br-phy (userspace), routed traffic through eth2 (kernel)
    await Promise.all(
      netloomHosts.map((h) =>
        startBenchAgent(plan, h, ['--routed-uplink', ROUTED_UPLINK], (pid) => {
          this.agents.set(h.name, pid);
          record(this.recorded());
        }),
      ),
    );
    for (const c of BGP_CONTAINERS) {
      const plug = {
        netns: bgpContainerNs(c),
        containerId: `ctr-${c.name}`,
        tenant: TENANT,
        network: NETWORK,
        ...(c.group ? { group: c.group } : {}),
      };
      await plugBenchContainer(benchAgentSocket(plan, this.host(c.host)), plug);
    }
    // each host of a pair has the other's block from BGP (proto 80), via the other's routed uplink
    for (const [a, b] of [
      ['host1', 'host2'],
      ['host5', 'host6'],
    ] as const)
      for (const [h, other] of [
        [this.host(a), b],
        [this.host(b), a],
      ] as const) {
        const via = this.host(other).routedIp;
        await waitFor(
          `${h.name} learns ${hostBlock(other)} via ${via} dev ${ROUTED_UPLINK}`,
          async () =>
            (await run('ip', ['route', 'show', hostBlock(other), 'proto', '80'], { netns: h.netns })).stdout.includes(
              `via ${via} dev ${ROUTED_UPLINK}`,
            ),
          { timeoutMs: 40_000, intervalMs: 200 },
        );
      }
    for (const [from, to] of [
      ['bg1', 'bg2'],
      ['bgp1', 'bgp2'],
    ] as const) {
      const dst = BGP_CONTAINERS.find((c) => c.name === to) as BgpBenchContainer;
      await waitFor(
        `${from} -> ${to} ping`,
        async () =>
          (
            await run('ping', ['-c', '1', '-W', '1', '-q', dst.ip], {
              netns: bgpContainerNs({ name: from }),
              allowFailure: true,
              timeoutMs: 5000,
            })
          ).code === 0,
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    }
  }

  private async kernelRouted(): Promise<void> {
    for (const k of KERNEL_ROUTED) {
      await addNetns(k.ns);
      await addVeth(k.hostIf, this.host(k.host).netns, 'eth0', k.ns);
    }
    for (const [netns, [cmd, ...args]] of kernelRoutedCommands(this.lab.hosts)) await run(cmd as string, args, { netns });
    const [a, b] = KERNEL_ROUTED;
    await waitFor(
      'kernel-routed ping',
      async () => (await run('ping', ['-c', '1', '-W', '1', '-q', b.ip], { netns: a.ns, allowFailure: true, timeoutMs: 5000 })).code === 0,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  }

  /** The measured paths, host1 -> host2, of those built. */
  paths(): BenchPath[] {
    const none = async (): Promise<void> => undefined;
    const ctr = (name: string, a: string, b: string): BenchPath => {
      const dst = BGP_CONTAINERS.find((c) => c.name === b) as BgpBenchContainer;
      return { name, clientNs: bgpContainerNs({ name: a }), serverNs: bgpContainerNs(dst), serverIp: dst.ip, cleanup: none };
    };
    const [a, b] = KERNEL_ROUTED;
    return [
      ...(this.agents.size > 0 ? [ctr('netloom-bgp', 'bg1', 'bg2'), ctr('netloom-bgp-policy', 'bgp1', 'bgp2')] : []),
      { name: 'kernel-routed', clientNs: a.ns, serverNs: b.ns, serverIp: b.ip, cleanup: none },
    ];
  }

  /**
   * Evidence that each path measured its case: the rule lines of the policy server's host's
   * `inet netloom_policy` table (nftables, the routed endpoints' backend) and those that name the
   * server; and whether the plain pair's hosts hold stateless tables (no ct expression: no
   * conntrack), as hosts whose endpoints have no policy that can deny do.
   */
  async policyEvidence(): Promise<{ serverHostPolicyRules: number; serverHostLinesNamingServer: number; plainHostsStateless: boolean }> {
    const table = async (host: string) =>
      (await run('nft', ['list', 'table', 'inet', 'netloom_policy'], { netns: this.host(host).netns, allowFailure: true })).stdout;
    const server = BGP_CONTAINERS.find((c) => c.name === 'bgp2') as BgpBenchContainer;
    const lines = (await table(server.host)).split('\n').map((l) => l.trim());
    const plain = await Promise.all(['host1', 'host2'].map(table));
    return {
      serverHostPolicyRules: lines.filter((l) => /\b(accept|drop|reject|jump|goto|return)\b/.test(l)).length,
      serverHostLinesNamingServer: lines.filter((l) => l.includes(server.ip)).length,
      plainHostsStateless: plain.every((t) => t.includes('stateless') && !/\bct\b/.test(t)),
    };
  }

  async teardown(): Promise<void> {
    const gobgpd = this.plan ? this.recorded().gobgpdPidFiles : [];
    for (const [host, pid] of [...this.agents]) {
      await stopProcess(pid, 'netplugin/main.js');
      this.agents.delete(host);
    }
    // agents leave their gobgpd running on purpose (sessions survive an agent restart)
    for (const f of gobgpd) await stopGobgpd(f);
    rmSync(PID_FILE, { force: true });
    for (const ns of ALL_NS) await delNetns(ns);
    await labDown(BGP_LAB);
  }
}
