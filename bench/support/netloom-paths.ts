/**
 * netloom's own dataplane for the benchmark: the lab `tdp` (two simulated hosts, each with its own
 * Open vSwitch in userspace), one real `netplugin` agent per host fed by a fabric file (no
 * netmaster), and containers (namespaces `dpc-…`) plugged through the real `bin/netloom-cni` shim.
 * One fabric holds a VLAN network and a VXLAN network at once, so both modes are measured with one
 * lab. `fabricState` is pure; `NetloomBench.teardown` stops every agent by PID, deletes the
 * container namespaces and takes the lab down, also after a partial setup.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { labDown, labUp } from '../../deploy/lab/lab';
import { delNetns } from '../../deploy/lab/netns';
import type { HostPlan, LabPlan } from '../../deploy/lab/plan';
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { stopProcess } from '../../lib/process';
import type { Encap } from '../../netplugin/state/host-state';
import { table, type TableName } from '../../netplugin/pipeline/tables';
import { benchAgentSocket, plugBenchContainer, startBenchAgent, writeBenchFabric } from './bench-agents';
import { runConnectLoop, type ConnectLoopResult } from './connect-loop';
import type { BenchPath } from './reference-paths';

export const LAB_NAME = 'tdp';
const TENANT = 'dp';

export interface BenchContainer {
  name: string;
  host: 'host1' | 'host2';
  network: 'vl' | 'vx' | 'eg' | 'en' | 'sv';
  ip: string;
  mac: string;
  /** the group (of its network) whose 100-rule policy applies to it; none: no policy */
  group?: string;
  /** a provider of the service (SERVICE) */
  provider?: true;
}

/**
 * Client on host1, server on host2, in each network; the `p` pairs are the same paths with the
 * 100-rule policy of their network's group on both ends (policyRules).
 */
export const CONTAINERS: readonly BenchContainer[] = [
  { name: 'vl1', host: 'host1', network: 'vl', ip: '10.60.1.1', mac: '02:00:00:60:01:01' },
  { name: 'vl2', host: 'host2', network: 'vl', ip: '10.60.1.2', mac: '02:00:00:60:01:02' },
  { name: 'vx1', host: 'host1', network: 'vx', ip: '10.60.2.1', mac: '02:00:00:60:02:01' },
  { name: 'vx2', host: 'host2', network: 'vx', ip: '10.60.2.2', mac: '02:00:00:60:02:02' },
  { name: 'vlp1', host: 'host1', network: 'vl', ip: '10.60.1.11', mac: '02:00:00:60:01:11', group: 'polvl' },
  { name: 'vlp2', host: 'host2', network: 'vl', ip: '10.60.1.12', mac: '02:00:00:60:01:12', group: 'polvl' },
  { name: 'vxp1', host: 'host1', network: 'vx', ip: '10.60.2.11', mac: '02:00:00:60:02:11', group: 'polvx' },
  { name: 'vxp2', host: 'host2', network: 'vx', ip: '10.60.2.12', mac: '02:00:00:60:02:12', group: 'polvx' },
  // to the tor through host1's gateway port: masqueraded (eg), and routed without NAT (en; the tor routes 10.60.4.0/24 to host1)
  { name: 'eg1', host: 'host1', network: 'eg', ip: '10.60.3.1', mac: '02:00:00:60:03:01' },
  { name: 'en1', host: 'host1', network: 'en', ip: '10.60.4.1', mac: '02:00:00:60:04:01' },
  // the service: clients on host1 (sv1 through the service, sv2 directly: see servicePaths), three providers on host2
  { name: 'sv1', host: 'host1', network: 'sv', ip: '10.60.5.1', mac: '02:00:00:60:05:01' },
  { name: 'sv2', host: 'host1', network: 'sv', ip: '10.60.5.2', mac: '02:00:00:60:05:02' },
  { name: 'sp1', host: 'host2', network: 'sv', ip: '10.60.5.11', mac: '02:00:00:60:05:11', provider: true },
  { name: 'sp2', host: 'host2', network: 'sv', ip: '10.60.5.12', mac: '02:00:00:60:05:12', provider: true },
  { name: 'sp3', host: 'host2', network: 'sv', ip: '10.60.5.13', mac: '02:00:00:60:05:13', provider: true },
];

/**
 * The service of the `sv` network: qperf's control and test ports (the test port fixed with `-ip`),
 * iperf3's, and the connect loop's (80 to 8080, so the port is translated too).
 */
export const SERVICE = {
  key: `${TENANT}:svc`,
  ip: '10.60.5.100',
  qperfDataPort: 19766,
  connectPort: 80,
  connectTargetPort: 8080,
  ports: [
    { port: 19765, targetPort: 19765, protocol: 'tcp' },
    { port: 19766, targetPort: 19766, protocol: 'tcp' },
    { port: 5201, targetPort: 5201, protocol: 'tcp' },
    { port: 80, targetPort: 8080, protocol: 'tcp' },
  ],
} as const;

/**
 * The namespace whose servers answer for every provider. qperf and iperf3 open a control and a
 * test connection, which the service balances independently (each new connection is hashed to a
 * provider): with a server per provider they would land on different servers. So the providers'
 * interfaces are gathered in the first provider's namespace, each still its own endpoint (OVS
 * port, address, MAC), and one server there answers whichever provider a connection was given.
 */
export const PROVIDER_NS = 'dpc-sp1';

/**
 * The `ip` commands (namespace, argv) that move the other providers' interfaces into PROVIDER_NS,
 * with their addresses, and route each address's answers out of its own interface (the switch
 * drops a packet whose source is not the port's endpoint). Pure.
 */
export function gatherProviders(providers: ReadonlyArray<Pick<BenchContainer, 'name' | 'ip'>>): Array<[string | undefined, string[]]> {
  const cmds: Array<[string | undefined, string[]]> = [[PROVIDER_NS, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']]];
  providers.forEach((p, i) => {
    const ns = containerNs(p);
    const dev = i === 0 ? 'eth0' : `eth${i}`;
    if (i > 0) {
      cmds.push(
        [undefined, ['ip', '-n', ns, 'link', 'set', 'eth0', 'down']],
        [undefined, ['ip', '-n', ns, 'link', 'set', 'eth0', 'name', dev]],
        [undefined, ['ip', '-n', ns, 'link', 'set', dev, 'netns', PROVIDER_NS]],
        [undefined, ['ip', '-n', PROVIDER_NS, 'link', 'set', dev, 'up']],
        [undefined, ['ip', '-n', PROVIDER_NS, 'addr', 'add', `${p.ip}/24`, 'dev', dev]],
      );
    }
    const t = String(100 + i);
    cmds.push(
      [undefined, ['ip', '-n', PROVIDER_NS, 'route', 'replace', SERVICE_SUBNET, 'dev', dev, 'src', p.ip, 'table', t]],
      [undefined, ['ip', '-n', PROVIDER_NS, 'rule', 'add', 'from', p.ip, 'table', t]],
    );
  });
  return cmds;
}

const SERVICE_SUBNET = '10.60.5.0/24';

/** The subnet of the network without NAT, which the tor routes back to host1. */
export const NO_NAT_SUBNET = '10.60.4.0/24';

/** Rules in each policy group's policy. */
export const POLICY_RULES = 100;

/**
 * The policy of group `group` (HostState rule shape): 100 rules that are all evaluated but let
 * the group's own traffic through. On the server's host (ingress): deny everything at priority
 * 1, allow from the group at 90, and denies of other tcp ports and other sources at priorities
 * 2-99 (above and below the allow); on the client's host (egress): denies of udp ports. Pure.
 */
export function policyRules(group: string): Array<Record<string, unknown>> {
  const rules: Array<Record<string, unknown>> = [
    { ruleId: 'deny-all', direction: 'in', priority: 1, action: 'deny' },
    { ruleId: 'allow-group', direction: 'in', priority: 90, action: 'allow', fromGroup: `${TENANT}:${group}` },
  ];
  for (let i = 0; rules.length < POLICY_RULES; i++) {
    const priority = 2 + (i % 98);
    if (i % 3 === 0) rules.push({ ruleId: `in-tcp-${i}`, direction: 'in', priority, action: 'deny', protocol: 'tcp', port: 2000 + i });
    else if (i % 3 === 1)
      rules.push({ ruleId: `out-udp-${i}`, direction: 'out', priority, action: 'deny', protocol: 'udp', port: 3000 + i });
    else rules.push({ ruleId: `in-src-${i}`, direction: 'in', priority, action: 'deny', fromIp: `10.99.${i}.0/24` });
  }
  return rules;
}

export const containerNs = (c: Pick<BenchContainer, 'name'>): string => `dpc-${c.name}`;

/** Each netloom path's client and server container (`tor`: the lab's tor namespace). */
export const PATH_ENDS: Readonly<Record<string, readonly [string, string]>> = {
  'netloom-vlan': ['vl1', 'vl2'],
  'netloom-vxlan': ['vx1', 'vx2'],
  'netloom-vlan-policy': ['vlp1', 'vlp2'],
  'netloom-vxlan-policy': ['vxp1', 'vxp2'],
  'netloom-egress': ['en1', 'tor'],
  'netloom-egress-nat': ['eg1', 'tor'],
  'netloom-service': ['sv1', 'sp1'],
  'netloom-service-direct': ['sv2', 'sp1'],
};

/**
 * The containers a run of `paths` plugs: the ends of each netloom path asked for, and with a
 * service path every client and provider of the service (the connection-rate loop uses both
 * clients, the providers share PROVIDER_NS). Only these: every container is a port its host's
 * ovs-vswitchd polls on each pass of its main loop (userspace datapath without PMD threads), and
 * idle ports cost every path on the switch latency (docs/benchmarks.md, issue 17). Pure.
 */
export function containersFor(paths: readonly string[]): BenchContainer[] {
  const names = new Set(paths.flatMap((p) => PATH_ENDS[p] ?? []));
  const service = paths.some((p) => p.startsWith('netloom-service'));
  return CONTAINERS.filter((c) => names.has(c.name) || (service && c.network === 'sv'));
}

/** The HostState every agent reads (endpoints carry their host). Pure. */
export function fabricState(
  hosts: ReadonlyArray<Pick<HostPlan, 'name' | 'dataIp'>>,
  containers: readonly BenchContainer[] = CONTAINERS,
): unknown {
  const nets: Array<{ name: BenchContainer['network']; encap: Encap; tag: number; octet: number; nat?: false }> = [
    { name: 'vl', encap: 'vlan', tag: 301, octet: 1 },
    { name: 'vx', encap: 'vxlan', tag: 5301, octet: 2 },
    { name: 'eg', encap: 'vxlan', tag: 5303, octet: 3 },
    { name: 'en', encap: 'vxlan', tag: 5304, octet: 4, nat: false },
    { name: 'sv', encap: 'vxlan', tag: 5305, octet: 5 },
  ];
  const groups = [...new Set(containers.flatMap((c) => (c.group ? [`${c.network} ${c.group}`] : [])))].map((x, i) => {
    const [network, group] = x.split(' ') as [string, string];
    return { key: `${TENANT}:${group}`, tenant: TENANT, name: group, network, groupId: i + 1, policies: [`p-${group}`] };
  });
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: TENANT, vrfId: 1, ctZone: 1 }],
    groups,
    policies: groups.map((g) => ({ key: `${TENANT}:p-${g.name}`, tenant: TENANT, name: `p-${g.name}`, rules: policyRules(g.name) })),
    networks: nets.map((n, i) => ({
      key: `${TENANT}:${n.name}`,
      tenant: TENANT,
      name: n.name,
      encap: n.encap,
      pktTag: n.tag,
      subnet: `10.60.${n.octet}.0/24`,
      gateway: `10.60.${n.octet}.254`,
      networkId: i + 1,
      ...(n.nat === false ? { nat: false } : {}),
    })),
    endpoints: containers.map((c) => ({
      id: `ep-${c.name}`,
      network: `${TENANT}:${c.network}`,
      group: c.group ? `${TENANT}:${c.group}` : '',
      host: c.host,
      ip: c.ip,
      mac: c.mac,
      containerId: `ctr-${c.name}`,
    })),
    vteps: hosts.map((h) => ({ host: h.name, vtepIp: h.dataIp })),
    services: [
      {
        key: SERVICE.key,
        tenant: TENANT,
        network: `${TENANT}:sv`,
        ip: SERVICE.ip,
        ports: SERVICE.ports,
        providers: containers.filter((c) => c.provider).map((c) => ({ endpointId: `ep-${c.name}`, ip: c.ip })),
      },
    ],
  };
}

const PID_FILE = '/tmp/nl-dataplane/agent-pids.json';

function recordAgentPids(pids: number[]): void {
  mkdirSync('/tmp/nl-dataplane', { recursive: true });
  writeFileSync(PID_FILE, JSON.stringify(pids));
}

/** Stop agents a killed earlier run recorded (only if the PID still runs netplugin), drop its lab. */
export async function cleanupStaleNetloom(): Promise<void> {
  let pids: unknown = [];
  try {
    pids = JSON.parse(readFileSync(PID_FILE, 'utf8'));
  } catch {
    pids = [];
  }
  if (Array.isArray(pids)) for (const pid of pids) if (typeof pid === 'number') await stopProcess(pid, 'netplugin/main.js');
  rmSync(PID_FILE, { force: true });
  for (const ns of CONTAINERS.map(containerNs)) await delNetns(ns);
  await labDown(LAB_NAME);
}

export class NetloomBench {
  private plan: LabPlan | undefined;
  private readonly agents = new Map<string, number>();
  private agentExtra: string[] = [];
  /** the containers plugged (containersFor the run's paths) */
  private containers: readonly BenchContainer[] = [];

  private host(name: string): HostPlan {
    const h = this.plan?.hosts.find((x) => x.name === name);
    if (!h) throw new NetloomError('NOT_FOUND', `no lab host ${name}`, { field: 'host' });
    return h;
  }

  /**
   * Lab up (its OVS with userspace TSO unless told; the agents with --one-bridge if told), fabric file written (every endpoint, so the
   * pipeline's flows are the same whichever paths run), both agents started, the containers of
   * `paths` (containersFor; default: every netloom path) plugged and answering.
   */
  async up(opts: { userspaceTso?: boolean; oneBridge?: boolean; paths?: readonly string[] } = {}): Promise<BenchContainer[]> {
    this.containers = containersFor(opts.paths ?? Object.keys(PATH_ENDS));
    const plugged = new Set(this.containers.map((c) => c.name));
    // without TSO the agents must not write the setting either: on a fresh switch it would take
    // effect for every port they then make (netplugin/agent/userspace-tso.ts)
    this.agentExtra = [...(opts.userspaceTso === false ? ['--userspace-tso', 'off'] : []), ...(opts.oneBridge ? ['--one-bridge'] : [])];
    const state = await labUp({ name: LAB_NAME, hosts: 2, etcdMembers: 1, netmasters: 0, userspaceTso: opts.userspaceTso !== false });
    this.plan = state.plan;
    const plan = this.plan;
    const fabric = fabricState(plan.hosts);
    for (const h of plan.hosts) writeBenchFabric(plan, h, fabric);
    await Promise.all(
      plan.hosts.map((h) =>
        startBenchAgent(plan, h, this.agentExtra, (pid) => {
          this.agents.set(h.name, pid);
          recordAgentPids([...this.agents.values()]);
        }),
      ),
    );
    for (const c of this.containers) {
      const group = c.group ? { group: c.group } : {};
      const plug = { netns: containerNs(c), containerId: `ctr-${c.name}`, tenant: TENANT, network: c.network, ...group };
      await plugBenchContainer(benchAgentSocket(plan, this.host(c.host)), plug);
    }
    const providers = this.containers.filter((c) => c.provider);
    for (const [netns, [cmd, ...args]] of providers.length ? gatherProviders(providers) : [])
      await run(cmd as string, args, { ...(netns ? { netns } : {}), timeoutMs: 10_000 });
    const host1 = this.host('host1');
    await run('ip', ['route', 'replace', NO_NAT_SUBNET, 'via', host1.dataIp], { netns: plan.torNetns });
    // first packets across hosts may be lost while VTEPs and MACs are learnt: wait for answers
    for (const [from, to] of [
      ['vl1', 'vl2'],
      ['vx1', 'vx2'],
      ['vlp1', 'vlp2'],
      ['vxp1', 'vxp2'],
      ['eg1', 'tor'],
      ['en1', 'tor'],
      // ping is not answered by a service address: its providers directly, each through its own interface
      ['sv1', 'sp1'],
      ['sv2', 'sp1'],
      ['sv2', 'sp2'],
      ['sv2', 'sp3'],
    ] as const) {
      if (!plugged.has(from) || (to !== 'tor' && !plugged.has(to))) continue;
      const dst = to === 'tor' ? { ip: plan.torDataIp } : CONTAINERS.find((c) => c.name === to);
      if (!dst) continue;
      await waitFor(
        `${from} -> ${to} ping`,
        async () => {
          const r = await run('ping', ['-c', '1', '-W', '1', '-q', dst.ip], {
            netns: containerNs({ name: from }),
            allowFailure: true,
            timeoutMs: 5000,
          });
          return r.code === 0;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    }
    if (!plugged.has('sv1')) return [...this.containers];
    // host1 (the client's) has the service's select groups, one per port, a bucket per provider
    await waitFor(
      'the service groups on host1',
      async () => {
        const text = await this.ofctl('host1', ['dump-groups']);
        const buckets = text
          .split('\n')
          .filter((l) => Number(/group_id=(\d+)/.exec(l)?.[1] ?? Infinity) <= 0xffff)
          .map((l) => (l.match(/bucket=/g) ?? []).length);
        return buckets.length === SERVICE.ports.length && buckets.every((b) => b === providers.length);
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    return [...this.containers];
  }

  private async ofctl(host: string, args: string[]): Promise<string> {
    const h = this.host(host);
    const [cmd, ...rest] = args;
    const r = await run('ovs-ofctl', ['-O', 'OpenFlow13', cmd as string, `unix:${h.ovsDir}/run/br-int.mgmt`, ...rest], {
      netns: h.netns,
      timeoutMs: 10_000,
    });
    return r.stdout;
  }

  /**
   * The measured paths: VLAN and VXLAN, host1 -> host2, each without and with the 100-rule policy;
   * a VXLAN container on host1 to the tor through host1's gateway port, with and without NAT.
   */
  paths(): BenchPath[] {
    const plan = this.plan;
    if (!plan) throw new NetloomError('UNAVAILABLE', 'lab not up');
    // the ovs-vswitchd of each lab host a path's containers are on (support/switch-cpu.ts)
    const switches = (...names: string[]): string[] => {
      const hosts = new Set<string>(CONTAINERS.filter((c) => names.includes(c.name)).map((c) => c.host));
      return plan.hosts.filter((h) => hosts.has(h.name)).map((h) => h.ovsDir);
    };
    const toTor = (name: string, a: string): BenchPath => ({
      name,
      clientNs: containerNs({ name: a }),
      serverNs: plan.torNetns,
      serverIp: plan.torDataIp,
      switchDirs: switches(a),
      cleanup: async () => undefined,
    });
    const mk = (name: string): BenchPath => {
      const [a, b] = PATH_ENDS[name] as readonly [string, string];
      const dst = CONTAINERS.find((c) => c.name === b);
      if (!dst) throw new NetloomError('NOT_FOUND', `no container ${b}`);
      return {
        name,
        clientNs: containerNs({ name: a }),
        serverNs: containerNs(dst),
        serverIp: dst.ip,
        switchDirs: switches(a, b),
        cleanup: async () => undefined,
      };
    };
    const plugged = new Set(this.containers.map((c) => c.name));
    return [
      mk('netloom-vlan'),
      mk('netloom-vxlan'),
      mk('netloom-vlan-policy'),
      mk('netloom-vxlan-policy'),
      toTor('netloom-egress', 'en1'),
      toTor('netloom-egress-nat', 'eg1'),
      ...this.servicePaths(),
    ].filter((p) => plugged.has(PATH_ENDS[p.name]?.[0] ?? ''));
  }

  /**
   * sv1 to the service's address, and sv2 (beside it on host1, same network) directly to the first
   * provider: the same path without the service. Two clients, because one client talking to a
   * provider both ways can meet its own translated tuple in conntrack (docs/services.md, Limits).
   * The servers listen on every address of PROVIDER_NS; qperf's test port is the service's.
   */
  private servicePaths(): BenchPath[] {
    const first = CONTAINERS.find((c) => c.provider);
    if (!first) throw new NetloomError('NOT_FOUND', 'no service provider');
    const common = { serverNs: PROVIDER_NS, qperfDataPort: SERVICE.qperfDataPort, listenAny: true, cleanup: async () => undefined };
    return [
      { name: 'netloom-service', clientNs: containerNs({ name: 'sv1' }), serverIp: SERVICE.ip, ...common },
      { name: 'netloom-service-direct', clientNs: containerNs({ name: 'sv2' }), serverIp: first.ip, ...common },
    ];
  }

  /**
   * The connect loop through the service (sv1 to its address and port) and directly (sv2 to the
   * providers' addresses in turn, at the target port), in the given order; the server runs in
   * PROVIDER_NS for each.
   */
  async connectionRates(serviceFirst: boolean): Promise<{ service: ConnectLoopResult; direct: ConnectLoopResult }> {
    const providers = CONTAINERS.filter((c) => c.provider).map((c) => c.ip);
    const viaService = () =>
      runConnectLoop(containerNs({ name: 'sv1' }), PROVIDER_NS, [SERVICE.ip], SERVICE.connectPort, SERVICE.connectTargetPort);
    const direct = () => runConnectLoop(containerNs({ name: 'sv2' }), PROVIDER_NS, providers, SERVICE.connectTargetPort);
    if (serviceFirst) {
      const service = await viaService();
      return { service, direct: await direct() };
    }
    const d = await direct();
    return { service: await viaService(), direct: d };
  }

  /**
   * Evidence that the service path was balanced: on host1 (the client's), the packets of the
   * serviceDnat flows per provider (a new connection's first packet each, docs/services.md).
   */
  async serviceEvidence(): Promise<Record<string, number>> {
    const lines = (await this.ofctl('host1', ['dump-flows', `table=${table('serviceDnat')}`])).split('\n');
    const out: Record<string, number> = {};
    for (const c of CONTAINERS.filter((x) => x.provider)) {
      // ovs-ofctl prints the register without leading zeros: 10.60.5.11 is reg6=0xa3c050b
      const hex = `0x${c.ip
        .split('.')
        .reduce((n, o) => n * 256 + Number(o), 0)
        .toString(16)}`;
      const re = new RegExp(`reg6=${hex}(?![0-9a-f])`);
      out[c.name] = lines.filter((l) => re.test(l)).reduce((n, l) => n + Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0), 0);
    }
    return out;
  }

  /**
   * Evidence that the policy paths went through policy: on host2 (the servers'), packets decided
   * by flows of ingressPolicy that name a policy server's address (the allow of its group), and
   * on host1 (the clients') the flows the clients' egress rules put in egressPolicy (udp denies:
   * the measured tcp is looked up there and goes on to ingressPolicy).
   */
  async policyEvidence(): Promise<{ host2IngressAllowPackets: number; host1EgressPolicyFlows: number }> {
    const dump = async (host: string, t: TableName): Promise<string[]> =>
      (await this.ofctl(host, ['dump-flows', `table=${table(t)}`])).split('\n');
    // ovs-ofctl writes the match as ...,nw_dst=10.60.1.12 actions=... (or a comma after it)
    const servers = CONTAINERS.filter((c) => c.group && c.host === 'host2').map(
      (c) => new RegExp(`nw_dst=${c.ip.replace(/\./g, '\\.')}(?![0-9])`),
    );
    const ingress = (await dump('host2', 'ingressPolicy')).filter((l) => servers.some((re) => re.test(l)));
    const egress = (await dump('host1', 'egressPolicy')).filter((l) => l.includes('udp'));
    return {
      host2IngressAllowPackets: ingress.reduce((n, l) => n + Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0), 0),
      host1EgressPolicyFlows: egress.length,
    };
  }

  async teardown(): Promise<void> {
    for (const [host, pid] of [...this.agents]) {
      await stopProcess(pid, 'netplugin/main.js');
      this.agents.delete(host);
    }
    rmSync(PID_FILE, { force: true });
    for (const ns of CONTAINERS.map(containerNs)) await delNetns(ns);
    await labDown(LAB_NAME);
  }
}
