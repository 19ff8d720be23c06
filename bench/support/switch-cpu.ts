/**
 * The CPU time the switches of a path spend per packet they forward, measured around the path's
 * tcp_lat test. On this machine's userspace datapath every port is polled by ovs-vswitchd's main
 * loop, so a packet's latency is mostly the CPU that loop spends on each wakeup: this figure
 * explains the latency ratios, and it moves less between runs than latency itself
 * (docs/benchmarks.md, "The gap as CPU per packet").
 *
 * Packets: those the client's interface sent and received during the test. Every one of them
 * crosses each switch of the path once (the request on the way out, the reply on the way back),
 * so the switches' CPU divided by packets and by the number of switches is the mean per switch.
 */
import { run } from '../../lib/exec';
import { NetloomError } from '../../lib/errors';
import { processCpuMs } from '../../tools/agent-sim/cluster';
import { ovsPids } from '../../deploy/lab/ovs-instance';

/** What a path offers to be measured: the ovs-vswitchd processes its packets cross. */
export interface SwitchedPath {
  clientNs: string;
  serverIp: string;
  /** the OVS instances (directories) between client and server; absent: not a switched path */
  switchDirs?: readonly string[];
}

/** `ip -o route get IP`: the interface the route leaves by. */
export function parseRouteDev(text: string): string {
  const m = /\bdev\s+(\S+)/.exec(text);
  if (!m?.[1]) throw new NetloomError('INVALID_ARGUMENT', `no "dev" in the route: ${text.trim().slice(0, 200)}`, { field: 'route' });
  return m[1];
}

/** `ip -j -s link show dev X`: packets received plus packets sent. */
export function parseLinkPackets(json: string): number {
  let links: unknown;
  try {
    links = JSON.parse(json);
  } catch {
    throw new NetloomError('INVALID_ARGUMENT', `ip -j -s link printed no JSON: ${json.trim().slice(0, 200)}`, { field: 'stats64' });
  }
  const s = (Array.isArray(links) ? (links[0] as { stats64?: { rx?: { packets?: unknown }; tx?: { packets?: unknown } } }) : undefined)
    ?.stats64;
  const rx = s?.rx?.packets;
  const tx = s?.tx?.packets;
  if (typeof rx !== 'number' || typeof tx !== 'number')
    throw new NetloomError('INVALID_ARGUMENT', 'ip -j -s link has no stats64.rx.packets / stats64.tx.packets', { field: 'stats64' });
  return rx + tx;
}

/** Mean CPU µs per packet and switch; null when nothing was forwarded. */
export function cpuPerPacketUs(cpuMs: number, packets: number, switches: number): number | null {
  if (packets <= 0 || switches <= 0) return null;
  return Number(((cpuMs * 1000) / (packets * switches)).toFixed(1));
}

async function clientPackets(ns: string, dev: string): Promise<number> {
  return parseLinkPackets((await run('ip', ['-j', '-s', 'link', 'show', 'dev', dev], { netns: ns })).stdout);
}

function vswitchdPid(dir: string): number {
  const pid = ovsPids(dir).vswitchd;
  if (pid === undefined) throw new NetloomError('UNAVAILABLE', `no ovs-vswitchd pid file in ${dir}/run`);
  return pid;
}

/**
 * `--pin-cpu`: every thread of the paths' switches and of this process (so the qperf and iperf3
 * it starts from now on, which inherit it) on one CPU. Returns the pids pinned.
 */
export async function pinToCpu(cpu: number, paths: readonly SwitchedPath[]): Promise<number[]> {
  const pids = [...new Set([process.pid, ...paths.flatMap((p) => (p.switchDirs ?? []).map(vswitchdPid))])];
  for (const pid of pids) {
    const r = await run('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { allowFailure: true });
    if (r.code !== 0)
      throw new NetloomError('INVALID_ARGUMENT', `--pin-cpu ${cpu}: taskset on pid ${pid} failed: ${r.stderr.trim().slice(0, 200)}`, {
        field: 'pin-cpu',
      });
  }
  return pids;
}

function switchesCpuMs(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === undefined) throw new NetloomError('UNAVAILABLE', `ovs-vswitchd ${pid} is gone`);
    sum += ms;
  }
  return sum;
}

/**
 * Run `test` (the path's tcp_lat) and return its result with the switches' CPU per forwarded
 * packet (null for a path without switches).
 */
export async function withSwitchCpu<T>(path: SwitchedPath, test: () => Promise<T>): Promise<{ result: T; cpuUsPerPacket: number | null }> {
  const dirs = path.switchDirs ?? [];
  if (dirs.length === 0) return { result: await test(), cpuUsPerPacket: null };
  const pids = dirs.map(vswitchdPid);
  const dev = parseRouteDev((await run('ip', ['-o', 'route', 'get', path.serverIp], { netns: path.clientNs })).stdout);
  const packets0 = await clientPackets(path.clientNs, dev);
  const cpu0 = switchesCpuMs(pids);
  const result = await test();
  const cpu1 = switchesCpuMs(pids);
  const packets1 = await clientPackets(path.clientNs, dev);
  return { result, cpuUsPerPacket: cpuPerPacketUs(cpu1 - cpu0, packets1 - packets0, pids.length) };
}
