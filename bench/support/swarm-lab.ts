/**
 * A lab in swarm mode for the benchmarks (lab `swb`): N hosts with agents and netmaster, every
 * host's dockerd in one swarm with netloom's managed plugin (`netloom-lab swarm up`), a netloom
 * network (`swb/swn`, VXLAN) as the swarm network `swnl`, and Docker's own overlay `swov`. Services'
 * tasks are found on their hosts with the PID of their container, so that host tools (qperf,
 * iperf3, ping) run in their network namespace (`ip netns attach`, removed by cleanup).
 */
import { resolve } from 'node:path';
import { waitFor } from '../../lib/clock';
import { run, type RunResult } from '../../lib/exec';
import { DOCKER_CLIENT, dockerEnv } from '../../deploy/lab/engines';
import { LAB_ROOT } from '../../deploy/lab/plan';
import { labDir } from '../../lib/lab-paths';
import type { BenchPath } from './reference-paths';

export const SWARM_BENCH_LAB = 'swb';
const BIN = resolve(__dirname, '../../../bin');
export const NETLOOM_NET = 'swnl';
export const OVERLAY_NET = 'swov';
const TENANT = 'swb';
const NETWORK = 'swn';
const SUBNET = '10.72.0.0/22';

export interface SwarmTask {
  host: string;
  id: string;
  pid: number;
  ip: string;
}

function lab(args: string[], allowFailure = false, timeoutMs = 120_000): Promise<RunResult> {
  return run(`${BIN}/netloom-lab`, ['--lab', SWARM_BENCH_LAB, ...args], { allowFailure, timeoutMs });
}

function netctl(args: string[]): Promise<RunResult> {
  const env = { ...process.env };
  delete env.NETMASTER;
  delete env.NETLOOM_LAB;
  return run(`${BIN}/netctl`, ['--lab', SWARM_BENCH_LAB, ...args], { env, timeoutMs: 30_000 });
}

/**
 * The docker client against a lab host's dockerd (running since `swarm up`), called directly: the
 * timing loops poll every host, and `netloom-lab docker` would add a Node start per call.
 */
export function docker(host: string, args: string[], allowFailure = false): Promise<RunResult> {
  const env = dockerEnv({ dir: labDir(LAB_ROOT, SWARM_BENCH_LAB) }, host);
  return run(DOCKER_CLIENT, args, { env, allowFailure, timeoutMs: 120_000 });
}

/** `nsenter --net` into a process's namespace (host binaries, the container's network). */
export function inNetns(pid: number, argv: string[], timeoutMs = 30_000): Promise<RunResult> {
  return run('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { allowFailure: true, timeoutMs });
}

export class SwarmBench {
  hosts: string[] = [];
  plugin = '';
  private readonly attached: string[] = [];

  /** The lab, the swarm, both networks; a lab of the same name left by a killed run is removed first. */
  async up(hostCount: number): Promise<void> {
    this.hosts = Array.from({ length: hostCount }, (_, i) => `host${i + 1}`);
    await lab(['down'], true, 300_000);
    await lab(['up', '--hosts', String(hostCount)], false, 400_000);
    await netctl(['tenant', 'create', TENANT]);
    await netctl(['net', 'create', '-t', TENANT, '-e', 'vxlan', '-s', SUBNET, '-g', '10.72.0.1', NETWORK]);
    this.plugin = (await lab(['swarm', 'up'], false, 600_000)).stdout.trim();
    const p = this.plugin;
    await docker(
      'host1',
      ['network', 'create', '-d', p, '--ipam-driver', p, '--ipam-opt', `tenant=${TENANT}`, '--ipam-opt', `network=${NETWORK}`].concat([
        '-o',
        `tenant=${TENANT}`,
        '-o',
        `network=${NETWORK}`,
        '--attachable',
        NETLOOM_NET,
      ]),
    );
    await docker('host1', ['network', 'create', '-d', 'overlay', '--attachable', OVERLAY_NET]);
  }

  /** `docker service create` of the lab image sleeping (no registry: no digest to resolve). */
  async createService(name: string, network: string, replicas: number, maxPerNode?: number): Promise<void> {
    await docker('host1', [
      'service',
      'create',
      '-d',
      '--no-resolve-image',
      '--name',
      name,
      '--network',
      network,
      '--replicas',
      String(replicas),
      ...(maxPerNode !== undefined ? ['--replicas-max-per-node', String(maxPerNode)] : []),
      'netloom/busybox',
      'sleep',
      '3600',
    ]);
  }

  /** The service's running tasks that have an IPv4 address on eth0, on every host. */
  async tasks(service: string): Promise<SwarmTask[]> {
    const out: SwarmTask[] = [];
    for (const host of this.hosts) {
      const ps = await docker(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`], true);
      const ids = ps.stdout.split('\n').filter((l) => l.trim() !== '');
      if (ids.length === 0) continue;
      const pids = (await docker(host, ['inspect', '--format', '{{.Id}} {{.State.Pid}}', ...ids], true)).stdout.split('\n');
      for (const line of pids) {
        const [id, pidText] = line.trim().split(' ');
        const pid = Number(pidText);
        if (!id || !Number.isInteger(pid) || pid <= 0) continue;
        const a = await inNetns(pid, ['ip', '-o', '-4', 'addr', 'show', 'eth0']);
        const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(a.stdout)?.[1];
        if (ip) out.push({ host, id, pid, ip });
      }
    }
    return out;
  }

  /** Remove a service and wait until none of its containers is left on any host. */
  async removeService(service: string): Promise<void> {
    await docker('host1', ['service', 'rm', service], true);
    await waitFor(
      `service ${service}'s containers to go`,
      async () => {
        for (const host of this.hosts) {
          const ps = await docker(host, ['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${service}`], true);
          if (ps.stdout.trim() !== '') return false;
        }
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500 },
    );
  }

  /**
   * A dataplane path between two tasks of a service on `network` on host1 and host2 (2 replicas, at
   * most one per node): their namespaces attached as `<prefix>c` and `<prefix>s`.
   */
  async taskPath(name: string, service: string, network: string, prefix: string): Promise<BenchPath> {
    await this.createService(service, network, 2, 1);
    let ts: SwarmTask[] = [];
    await waitFor(`2 tasks of ${service}`, async () => (ts = await this.tasks(service)).length === 2, {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
    const [client, server] = ts;
    if (!client || !server || client.host === server.host) throw new Error(`${service}: tasks not on two hosts: ${JSON.stringify(ts)}`);
    const clientNs = `${prefix}c`;
    const serverNs = `${prefix}s`;
    for (const [ns, t] of [
      [clientNs, client],
      [serverNs, server],
    ] as const) {
      await run('ip', ['netns', 'delete', ns], { allowFailure: true });
      await run('ip', ['netns', 'attach', ns, String(t.pid)]);
      this.attached.push(ns);
    }
    await waitFor(
      `${name}: client reaches ${server.ip}`,
      async () =>
        (await run('ip', ['netns', 'exec', clientNs, 'ping', '-c', '1', '-W', '1', server.ip], { allowFailure: true })).code === 0,
      {
        timeoutMs: 30_000,
        intervalMs: 300,
      },
    );
    const cleanup = async (): Promise<void> => {
      for (const ns of [clientNs, serverNs]) await run('ip', ['netns', 'delete', ns], { allowFailure: true });
    };
    return { name, clientNs, serverNs, serverIp: server.ip, cleanup };
  }

  /** Detach the namespaces, leave the swarm and take the lab down (safe after a partial up). */
  async teardown(): Promise<void> {
    for (const ns of this.attached) await run('ip', ['netns', 'delete', ns], { allowFailure: true });
    await lab(['down'], true, 400_000);
  }
}
