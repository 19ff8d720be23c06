/**
 * netloom's own dataplane for the benchmark: the lab `tdp` (two simulated hosts, each with its own
 * Open vSwitch in userspace), one real `netplugin` agent per host fed by a fabric file (no
 * netmaster), and containers (namespaces `dpc-…`) plugged through the real `bin/netloom-cni` shim.
 * One fabric holds a VLAN network and a VXLAN network at once, so both modes are measured with one
 * lab. `fabricState` is pure; `NetloomBench.teardown` stops every agent by PID, deletes the
 * container namespaces and takes the lab down, also after a partial setup.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { labDown, labUp } from '../../deploy/lab/lab';
import { hostAgentArgs, spawnAgent, waitForAgentSocket } from '../../deploy/lab/agents';
import { cniCall } from '../../deploy/lab/cni-call';
import { addNetns, delNetns } from '../../deploy/lab/netns';
import type { HostPlan, LabPlan } from '../../deploy/lab/plan';
import { waitFor } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { stopProcess } from '../../lib/process';
import type { Encap } from '../../netplugin/state/host-state';
import type { BenchPath } from './reference-paths';

export const LAB_NAME = 'tdp';
const TENANT = 'dp';

export interface BenchContainer {
  name: string;
  host: 'host1' | 'host2';
  network: 'vl' | 'vx';
  ip: string;
  mac: string;
}

/** Client on host1, server on host2, in each network. */
export const CONTAINERS: readonly BenchContainer[] = [
  { name: 'vl1', host: 'host1', network: 'vl', ip: '10.60.1.1', mac: '02:00:00:60:01:01' },
  { name: 'vl2', host: 'host2', network: 'vl', ip: '10.60.1.2', mac: '02:00:00:60:01:02' },
  { name: 'vx1', host: 'host1', network: 'vx', ip: '10.60.2.1', mac: '02:00:00:60:02:01' },
  { name: 'vx2', host: 'host2', network: 'vx', ip: '10.60.2.2', mac: '02:00:00:60:02:02' },
];

export const containerNs = (c: Pick<BenchContainer, 'name'>): string => `dpc-${c.name}`;

/** The HostState every agent reads (endpoints carry their host). Pure. */
export function fabricState(
  hosts: ReadonlyArray<Pick<HostPlan, 'name' | 'dataIp'>>,
  containers: readonly BenchContainer[] = CONTAINERS,
): unknown {
  const nets: Array<{ name: BenchContainer['network']; encap: Encap; tag: number; octet: number }> = [
    { name: 'vl', encap: 'vlan', tag: 301, octet: 1 },
    { name: 'vx', encap: 'vxlan', tag: 5301, octet: 2 },
  ];
  return {
    global: { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: [{ name: TENANT, vrfId: 1, ctZone: 1 }],
    networks: nets.map((n, i) => ({
      key: `${TENANT}:${n.name}`,
      tenant: TENANT,
      name: n.name,
      encap: n.encap,
      pktTag: n.tag,
      subnet: `10.60.${n.octet}.0/24`,
      gateway: `10.60.${n.octet}.254`,
      networkId: i + 1,
    })),
    endpoints: containers.map((c) => ({
      id: `ep-${c.name}`,
      network: `${TENANT}:${c.network}`,
      host: c.host,
      ip: c.ip,
      mac: c.mac,
      containerId: `ctr-${c.name}`,
    })),
    vteps: hosts.map((h) => ({ host: h.name, vtepIp: h.dataIp })),
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

  private dir(h: HostPlan): string {
    if (!this.plan) throw new NetloomError('UNAVAILABLE', 'lab not up');
    return `${this.plan.dir}/dp-agent-${h.name}`;
  }

  private host(name: string): HostPlan {
    const h = this.plan?.hosts.find((x) => x.name === name);
    if (!h) throw new NetloomError('NOT_FOUND', `no lab host ${name}`, { field: 'host' });
    return h;
  }

  /** Lab up, fabric file written, both agents started, every container plugged and answering. */
  async up(): Promise<void> {
    const state = await labUp({ name: LAB_NAME, hosts: 2, etcdMembers: 1, netmasters: 0 });
    this.plan = state.plan;
    const text = JSON.stringify(fabricState(this.plan.hosts));
    for (const h of this.plan.hosts) {
      const d = this.dir(h);
      mkdirSync(d, { recursive: true });
      writeFileSync(`${d}/fabric.json.tmp`, text);
      renameSync(`${d}/fabric.json.tmp`, `${d}/fabric.json`);
    }
    const plan = this.plan;
    await Promise.all(plan.hosts.map((h) => this.startAgent(plan, h)));
    for (const c of CONTAINERS) await this.plug(c);
    // first packets across hosts may be lost while VTEPs and MACs are learnt: wait for answers
    for (const [from, to] of [
      ['vl1', 'vl2'],
      ['vx1', 'vx2'],
    ] as const) {
      const dst = CONTAINERS.find((c) => c.name === to);
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
  }

  private async startAgent(plan: LabPlan, h: HostPlan): Promise<void> {
    const d = this.dir(h);
    const sock = `${d}/netplugin.sock`;
    rmSync(sock, { force: true });
    const args = [...hostAgentArgs(plan, h), '--fabric-file', `${d}/fabric.json`, '--cni-socket', sock, '--state-dir', `${d}/state`];
    const pid = spawnAgent(h, [...args, '--log-level', 'warn'], `${d}/netplugin.log`);
    this.agents.set(h.name, pid);
    recordAgentPids([...this.agents.values()]);
    await waitForAgentSocket(h.name, pid, sock, `${d}/netplugin.log`);
  }

  /** `ip netns add` + CNI ADD through the real shim, as a runtime does it. */
  private async plug(c: BenchContainer): Promise<void> {
    const ns = containerNs(c);
    await addNetns(ns);
    const r = await cniCall({
      command: 'ADD',
      socket: `${this.dir(this.host(c.host))}/netplugin.sock`,
      containerId: `ctr-${c.name}`,
      netnsPath: `/run/netns/${ns}`,
      tenant: TENANT,
      network: c.network,
      name: 'netloom',
    });
    if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `CNI ADD ${c.name} failed (${r.code}): ${r.output.trim().slice(0, 500)}`);
  }

  /** The two measured paths: VLAN and VXLAN, host1 -> host2. */
  paths(): BenchPath[] {
    const mk = (name: string, a: string, b: string): BenchPath => {
      const dst = CONTAINERS.find((c) => c.name === b);
      if (!dst) throw new NetloomError('NOT_FOUND', `no container ${b}`);
      return { name, clientNs: containerNs({ name: a }), serverNs: containerNs(dst), serverIp: dst.ip, cleanup: async () => undefined };
    };
    return [mk('netloom-vlan', 'vl1', 'vl2'), mk('netloom-vxlan', 'vx1', 'vx2')];
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
