/**
 * Docker swarm mode across a lab's hosts (`netloom-lab swarm up|down|plugin`): each host's private
 * dockerd gets netloom's managed plugin (deploy/docker-plugin), the first host runs `docker swarm
 * init` advertising its management address, the others join over the management network (swarm's
 * 2377/tcp, 7946/tcp+udp and Docker overlay's 4789/udp on eth0; netloom's own VXLAN runs in OVS on
 * eth1/br-phy, so the two never share an interface). Recorded in the state file so `down` leaves
 * the swarm and removes the plugin before it stops the dockerds.
 */
import { dirname } from 'node:path';
import { isAlive } from '../../lib/process';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { installPlugin, pluginName, removePlugin } from '../docker-plugin/managed-plugin';
import { DOCKER_CLIENT, dockerEnv, dockerRole, ensureDockerd, restartDockerd } from './engines';
import type { HostPlan } from './plan';
import { LabState, requireState, saveState, withLabLock } from './state';

/** The swarm's manager port on the first host's management address. */
export const SWARM_PORT = 2377;

function docker(state: LabState, host: string, args: string[], allowFailure = false): ReturnType<typeof run> {
  return run(DOCKER_CLIENT, args, { env: dockerEnv(state.plan, host), allowFailure, timeoutMs: 120_000 });
}

/** Whether the host's dockerd (by its recorded PID) runs. */
function isRunning(state: LabState, host: string): boolean {
  const rec = state.pids.find((p) => p.role === dockerRole(host));
  return rec !== undefined && isAlive(rec.pid);
}

/** `inactive`, `pending`, `active`, `error` or `locked` (docker info's Swarm.LocalNodeState). */
async function swarmState(state: LabState, host: string): Promise<string> {
  const r = await docker(state, host, ['info', '--format', '{{.Swarm.LocalNodeState}}'], true);
  return r.stdout.trim();
}

/** Install and enable the managed plugin on one host's dockerd (started on demand); returns the plugin's name. */
export async function labSwarmPlugin(state: LabState, h: HostPlan): Promise<string> {
  await withLabLock(state.plan.dir, () => ensureDockerd(requireState(state.plan.name, dirname(state.plan.dir)), h));
  return installPlugin({ env: dockerEnv(state.plan, h.name), docker: DOCKER_CLIENT, buildDir: `${state.plan.dir}/docker-plugin` });
}

export interface SwarmUp {
  plugin: string;
  manager: string;
  nodes: string[];
}

/** The managed plugin on every host of `hosts` (default: all), swarm init on the first, the others joined; idempotent. */
export async function labSwarmUp(name: string, hosts?: string[]): Promise<SwarmUp> {
  let state = requireState(name);
  const chosen = hosts ?? state.plan.hosts.map((h) => h.name);
  const plans = chosen.map((n) => {
    const h = state.plan.hosts.find((x) => x.name === n);
    if (!h) throw new NetloomError('NOT_FOUND', `no host "${n}" in lab "${name}"`, { field: 'hosts' });
    return h;
  });
  const [manager, ...workers] = plans;
  if (!manager) throw new NetloomError('INVALID_ARGUMENT', 'swarm up needs at least one host', { field: 'hosts' });
  // recorded first: their dockerds run without live restore (swarm refuses it), and a failure
  // half-way is still cleaned up by down
  await withLabLock(state.plan.dir, async () => {
    const st = requireState(name);
    st.swarmHosts = [...new Set([...(st.swarmHosts ?? []), ...chosen])];
    saveState(st);
  });
  state = requireState(name);
  let plugin = '';
  for (const h of plans) {
    await withLabLock(state.plan.dir, async () => {
      const st = requireState(name);
      // a dockerd started before (with live restore) is restarted without it; its containers keep running
      if (
        isRunning(st, h.name) &&
        (await docker(st, h.name, ['info', '--format', '{{.LiveRestoreEnabled}}'], true)).stdout.trim() === 'true'
      )
        await restartDockerd(st, h);
    });
    plugin = await labSwarmPlugin(requireState(name), h);
  }
  state = requireState(name);
  if ((await swarmState(state, manager.name)) !== 'active') {
    await docker(state, manager.name, [
      'swarm',
      'init',
      '--advertise-addr',
      manager.mgmtIp,
      '--listen-addr',
      `${manager.mgmtIp}:${SWARM_PORT}`,
      '--data-path-addr',
      manager.mgmtIp,
    ]);
  }
  const token = (await docker(state, manager.name, ['swarm', 'join-token', '-q', 'worker'])).stdout.trim();
  for (const w of workers) {
    if ((await swarmState(state, w.name)) === 'active') continue;
    await docker(state, w.name, [
      'swarm',
      'join',
      '--token',
      token,
      '--advertise-addr',
      w.mgmtIp,
      '--listen-addr',
      `${w.mgmtIp}:${SWARM_PORT}`,
      '--data-path-addr',
      w.mgmtIp,
      `${manager.mgmtIp}:${SWARM_PORT}`,
    ]);
  }
  return { plugin, manager: manager.name, nodes: chosen };
}

/**
 * Every swarm host leaves (workers first, the manager last, forced: their tasks' containers go,
 * with their netloom endpoints), then loses the managed plugin. Hosts whose dockerd is not running
 * are skipped. Forgets the swarm in the state file.
 */
export async function leaveSwarm(state: LabState): Promise<void> {
  const hosts = [...(state.swarmHosts ?? [])].reverse();
  for (const host of hosts) if (isRunning(state, host)) await docker(state, host, ['swarm', 'leave', '--force'], true);
  for (const host of hosts) {
    if (!isRunning(state, host)) continue;
    // networks on the plugin that swarm left behind on this node go first, or the plugin is held
    const nets = await docker(state, host, ['network', 'ls', '-q', '--filter', `driver=${pluginName()}`], true);
    for (const id of nets.stdout.split('\n').filter((l) => l.trim() !== '')) await docker(state, host, ['network', 'rm', id], true);
    await removePlugin({ env: dockerEnv(state.plan, host), docker: DOCKER_CLIENT });
  }
  delete state.swarmHosts;
  saveState(state);
}

/** `swarm down`: leaveSwarm on the lab's state as it is now. */
export async function labSwarmDown(name: string): Promise<void> {
  const state = requireState(name);
  await withLabLock(state.plan.dir, () => leaveSwarm(requireState(name)));
}
