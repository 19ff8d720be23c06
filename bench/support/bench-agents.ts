/**
 * What the dataplane benchmark's netloom labs share (netloom-paths.ts, bgp-paths.ts): one real
 * `netplugin` per lab host fed by a fabric file of its own (no netmaster), started on the host's
 * OVS with the lab's host options, and containers plugged through the real `bin/netloom-cni`
 * shim as a runtime does it (`ip netns add`, CNI ADD). Each caller records the PIDs its way, so
 * that a killed run's agents can be stopped by the next.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostAgentArgs, spawnAgent, waitForAgentSocket } from '../../deploy/lab/agents';
import { cniCall } from '../../deploy/lab/cni-call';
import { addNetns } from '../../deploy/lab/netns';
import type { HostPlan, LabPlan } from '../../deploy/lab/plan';
import { NetloomError } from '../../lib/errors';

/** Where a host's bench agent keeps its fabric file, sockets, state and log. */
export const benchAgentDir = (plan: Pick<LabPlan, 'dir'>, h: Pick<HostPlan, 'name'>): string => `${plan.dir}/dp-agent-${h.name}`;
export const benchAgentSocket = (plan: Pick<LabPlan, 'dir'>, h: Pick<HostPlan, 'name'>): string =>
  `${benchAgentDir(plan, h)}/netplugin.sock`;

/** Write host's fabric file (whole, by rename: an agent never reads half of it). */
export function writeBenchFabric(plan: Pick<LabPlan, 'dir'>, h: Pick<HostPlan, 'name'>, state: unknown): void {
  const d = benchAgentDir(plan, h);
  mkdirSync(`${d}/state`, { recursive: true });
  writeFileSync(`${d}/fabric.json.tmp`, JSON.stringify(state));
  renameSync(`${d}/fabric.json.tmp`, `${d}/fabric.json`);
}

/**
 * Start host's agent on its fabric file with the lab's host options and `extra`; `started` gets
 * its PID at once (before the wait), then this returns when its CNI socket is there.
 */
export async function startBenchAgent(
  plan: LabPlan,
  h: HostPlan,
  extra: readonly string[],
  started: (pid: number) => void,
): Promise<number> {
  const d = benchAgentDir(plan, h);
  const sock = benchAgentSocket(plan, h);
  rmSync(sock, { force: true });
  const args = [...hostAgentArgs(plan, h), '--fabric-file', `${d}/fabric.json`, '--cni-socket', sock, '--state-dir', `${d}/state`];
  const pid = spawnAgent(h, [...args, ...extra, '--log-level', 'warn'], `${d}/netplugin.log`);
  started(pid);
  await waitForAgentSocket(h.name, pid, sock, `${d}/netplugin.log`);
  return pid;
}

export interface BenchContainerPlug {
  /** the container's namespace (made here) */
  netns: string;
  containerId: string;
  tenant: string;
  network: string;
  group?: string;
}

/** `ip netns add` + CNI ADD through the real shim against `socket`. */
export async function plugBenchContainer(socket: string, c: BenchContainerPlug): Promise<void> {
  await addNetns(c.netns);
  const r = await cniCall({
    command: 'ADD',
    socket,
    containerId: c.containerId,
    netnsPath: `/run/netns/${c.netns}`,
    tenant: c.tenant,
    network: c.network,
    ...(c.group ? { group: c.group } : {}),
    name: 'netloom',
  });
  if (r.code !== 0)
    throw new NetloomError('COMMAND_FAILED', `CNI ADD ${c.containerId} failed (${r.code}): ${r.output.trim().slice(0, 500)}`);
}
