/**
 * Shared pieces of the agent integration tests: a lab `tagt`, one real `netplugin` process per host
 * (inside the host's namespace, on the host's OVS, fed by a fabric file the test writes), and
 * containers plugged in through the real `bin/netloom-cni` shim. Everything is stopped by PID or
 * deleted by name in `teardown`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { labDown, labUp } from '../../../deploy/lab/lab';
import { hostAgentArgs, spawnAgent, waitForAgentSocket } from '../../../deploy/lab/agents';
import { cniCall, type CniCommand } from '../../../deploy/lab/cni-call';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { containerNetns, HostPlan, LabPlan } from '../../../deploy/lab/plan';
import { etcdClientTls, pkiPaths } from '../../../deploy/lab/pki';
import { etcdOptions } from '../../../netmaster/store/kv';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { stopProcess } from '../../../lib/process';
import type { Encap } from '../../../netplugin/state/host-state';

export const LAB = 'tagt';

export interface Ctr {
  name: string;
  host: string;
  tenant: string;
  network: string;
  ip: string;
  mac: string;
}

export interface NetDef {
  tenant: string;
  name: string;
  tag: number;
  subnet: string;
  gateway: string;
  networkId: number;
  /** overrides the scenario's encap for this network */
  encap?: Encap;
}

export interface Scenario {
  encap: Encap;
  /** fabric-wide modes (default: bridge forwarding, proxy ARP) */
  global?: { fwdMode: 'bridge' | 'routing'; arpMode: 'proxy' | 'flood' };
  tenants: Array<{ name: string; vrfId: number; ctZone: number }>;
  networks: NetDef[];
  containers: Ctr[];
}

/** The HostState every agent gets (the same for all: endpoints carry their host). */
export function hostState(plan: LabPlan, sc: Scenario): unknown {
  return {
    global: sc.global ?? { fwdMode: 'bridge', arpMode: 'proxy' },
    tenants: sc.tenants,
    networks: sc.networks.map((n) => ({
      key: `${n.tenant}:${n.name}`,
      tenant: n.tenant,
      name: n.name,
      encap: n.encap ?? sc.encap,
      pktTag: n.tag,
      subnet: n.subnet,
      gateway: n.gateway,
      networkId: n.networkId,
    })),
    endpoints: sc.containers.map((c) => ({
      id: `ep-${c.name}`,
      network: `${c.tenant}:${c.network}`,
      host: c.host,
      ip: c.ip,
      mac: c.mac,
      containerId: `ctr-${c.name}`,
    })),
    vteps:
      sc.encap === 'vxlan' || sc.networks.some((n) => n.encap === 'vxlan')
        ? plan.hosts.map((h) => ({ host: h.name, vtepIp: h.dataIp }))
        : [],
  };
}

export class AgentLab {
  plan!: LabPlan;
  readonly pids = new Map<string, number>();
  readonly netns: string[] = [];

  /** `labName`: a lab of its own for a test file that may run beside the others */
  constructor(readonly labName: string = LAB) {}

  dir(h: HostPlan): string {
    return `${this.plan.dir}/agent-${h.name}`;
  }

  host(name: string): HostPlan {
    const h = this.plan.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  sock(h: HostPlan): string {
    return `${this.dir(h)}/netplugin.sock`;
  }

  async up(hosts: number): Promise<void> {
    const state = await labUp({ name: this.labName, hosts, etcdMembers: 1 });
    this.plan = state.plan;
    for (const h of this.plan.hosts) mkdirSync(this.dir(h), { recursive: true });
  }

  writeFabric(sc: Scenario): void {
    this.writeState(hostState(this.plan, sc));
  }

  /** Every agent's fabric file holds `state` (a HostState in proto camelCase). */
  writeState(state: unknown): void {
    const text = JSON.stringify(state);
    for (const h of this.plan.hosts) {
      writeFileSync(`${this.dir(h)}/fabric.json.tmp`, text);
      // rename: the agent never reads half a file
      renameSync(`${this.dir(h)}/fabric.json.tmp`, `${this.dir(h)}/fabric.json`);
    }
  }

  /** A 2-host lab whose agents read `sc` from their fabric file, with every container of `sc` plugged. */
  async upWithFabric(sc: Scenario): Promise<void> {
    await this.up(2);
    this.writeFabric(sc);
    await Promise.all([this.startAgent('host1'), this.startAgent('host2')]);
    for (const c of sc.containers) await this.plug(c);
  }

  /** Start the agent of `host` and wait for its CNI socket. */
  async startAgent(host: string, extra: string[] = [], netmaster?: string): Promise<number> {
    const h = this.host(host);
    const d = this.dir(h);
    if (!netmaster) await waitFor('fabric file', () => existsSync(`${d}/fabric.json`), { timeoutMs: 5000, intervalMs: 20 });
    if (existsSync(this.sock(h))) await run('rm', ['-f', this.sock(h)]);
    const pid = spawnAgent(
      h,
      [
        ...hostAgentArgs(this.plan, h),
        // the test's netmaster serves mutual TLS with the lab's certificates: the host's own certificate
        ...(netmaster ? ['--netmaster-grpc', netmaster, ...this.agentTlsArgs(host)] : ['--fabric-file', `${d}/fabric.json`]),
        ...['--cni-socket', this.sock(h), '--state-dir', `${d}/state`, '--metrics-listen', '127.0.0.1:9731', '--log-level', 'info'],
        ...extra,
      ],
      `${d}/netplugin.log`,
    );
    this.pids.set(host, pid);
    await waitForAgentSocket(host, pid, this.sock(h), `${d}/netplugin.log`);
    return pid;
  }

  /** netplugin's TLS options with `host`'s certificate of the lab's PKI. */
  agentTlsArgs(host: string): string[] {
    const p = pkiPaths(this.plan);
    return ['--tls-ca', p.ca.cert, '--tls-cert', p.hosts[host]!.cert, '--tls-key', p.hosts[host]!.key];
  }

  /** What an in-process agent server needs to serve this lab's agents: netmaster's certificate and the CA. */
  agentServerTls(): { cert: Buffer; key: Buffer; clientCa: Buffer } {
    const p = pkiPaths(this.plan);
    return { cert: readFileSync(p.netmaster.cert), key: readFileSync(p.netmaster.key), clientCa: readFileSync(p.ca.cert) };
  }

  /** etcd client options for this lab's etcd (TLS with the lab tools' certificate). */
  etcdOptions(): ReturnType<typeof etcdOptions> {
    const t = etcdClientTls(this.plan);
    return etcdOptions([this.plan.etcd[0]!.clientUrl], { ca: readFileSync(t.ca), cert: readFileSync(t.cert), key: readFileSync(t.key) });
  }

  async stopAgent(host: string): Promise<void> {
    const pid = this.pids.get(host);
    if (pid === undefined) return;
    await stopProcess(pid, 'netplugin/main.js');
    this.pids.delete(host);
  }

  /** Run the real CNI shim against host's agent. */
  async cni(
    command: CniCommand,
    c: Pick<Ctr, 'name' | 'host' | 'tenant' | 'network'>,
    extraConf: Record<string, unknown> = {},
  ): Promise<{ code: number; json: Record<string, unknown> | undefined; stdout: string }> {
    const r = await cniCall({
      command,
      socket: this.sock(this.host(c.host)),
      containerId: `ctr-${c.name}`,
      netnsPath: `/run/netns/${containerNetns(this.plan, c.name)}`,
      tenant: c.tenant,
      network: c.network,
      name: 'netloom',
      extra: extraConf,
    });
    return { code: r.code, json: r.json, stdout: r.output };
  }

  ns(c: Pick<Ctr, 'name'>): string {
    return containerNetns(this.plan, c.name);
  }

  /** Make the container's namespace and ADD it through the shim. */
  async plug(c: Pick<Ctr, 'name' | 'host' | 'tenant' | 'network'>): Promise<Record<string, unknown>> {
    const ns = this.ns(c);
    this.netns.push(ns);
    await addNetns(ns);
    const r = await this.cni('ADD', c);
    if (r.code !== 0 || !r.json) throw new Error(`CNI ADD ${c.name} failed (${r.code}): ${r.stdout}`);
    return r.json;
  }

  async ofctl(host: string, args: string[]): Promise<string> {
    const h = this.host(host);
    const env = { ...process.env, OVS_RUNDIR: `${h.ovsDir}/run` };
    return (await run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { netns: h.netns, env })).stdout;
  }

  async metric(host: string, name: string): Promise<number> {
    const h = this.host(host);
    const r = await run('curl', ['-s', 'http://127.0.0.1:9731/metrics'], { netns: h.netns });
    const esc = name.replace(/[{}"]/g, (c) => `\\${c}`);
    const m = new RegExp(name.includes('{') ? `^${esc} (\\S+)$` : `^${esc}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(r.stdout);
    if (!m) throw new Error(`metric ${name} not found`);
    return Number(m[1]);
  }

  async teardown(): Promise<void> {
    for (const host of [...this.pids.keys()]) await this.stopAgent(host);
    for (const ns of this.netns) await delNetns(ns);
    await labDown(this.labName);
  }
}

/** Mocha hooks of a describe block: the lab up with `sc` before its tests (`upWithFabric`), torn down after. */
export function fabricLabHooks(sc: Scenario, upTimeoutMs: number): AgentLab {
  const lab = new AgentLab();
  before(async function () {
    this.timeout(upTimeoutMs);
    await lab.upWithFabric(sc);
  });
  after(async function () {
    this.timeout(60_000);
    await lab.teardown();
  });
  return lab;
}

/** Ping from `netns` to `ip` once with a short wait; true when answered. */
export async function pingOnce(netns: string, ip: string, waitSec = 1): Promise<boolean> {
  const r = await run('ping', ['-c', '1', '-W', String(waitSec), '-q', ip], { netns, allowFailure: true, timeoutMs: 10_000 });
  return r.code === 0;
}

/** The ms until `netns` pings `ip` again (0.2 s pings one after another), or undefined when it does not within `limitMs`. */
export async function msUntilPing(netns: string, ip: string, limitMs = 5000): Promise<number | undefined> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) if (await pingOnce(netns, ip, 0.2)) return Date.now() - t0;
  return undefined;
}
