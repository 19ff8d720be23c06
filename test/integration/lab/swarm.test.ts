/**
 * Issue 20 part 1: Docker swarm services on netloom through the managed (v2) plugin, on lab `swt`
 * (3 hosts, agents, each host's private dockerd 20.10 in swarm mode: host1 the manager, host2 and
 * host3 joined over the management network). A swarm network made once on the manager
 * (`-d netloom/netloom:VERSION --ipam-driver ... -o tenant -o network --attachable`), a service of 6
 * replicas of the lab's local image: tasks on all three hosts reach each other and a podman (CNI)
 * container on the same netloom network; a network without `-o tenant` is refused naming the
 * option with nothing allocated; a node whose dockerd stops, a node leaving and a scale-down release
 * their tasks' endpoints (the stopped node's tasks start again on the others and reach them).
 * Names, subnets and the lab are this file's own ("sw").
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { systemClock, waitFor } from '../../../lib/clock';
import { run, type RunResult } from '../../../lib/exec';
import { dockerRole } from '../../../deploy/lab/engines';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { requireState } from '../../../deploy/lab/state';
import { isAlive, signalIfOurs, stopProcess } from '../../../lib/process';
import { BIN, labCli } from '../../support/lab-cli';

const LAB = 'swt';
const lab = labCli(LAB);
const T = 'swt';
const N = 'swn';
const SUBNET = '10.71.0.0/24';
const SERVICE = 'swsvc';
const HOSTS = ['host1', 'host2', 'host3'];
const plan = planLab({ name: LAB, hosts: 3, etcdMembers: 1, netmasters: 1 });

const docker = (host: string, args: string[], allowFailure = false): Promise<RunResult> =>
  lab(['docker', host, '--', ...args], allowFailure, 120_000);

function netctl(args: string[]): Promise<RunResult> {
  const env = { ...process.env };
  delete env.NETMASTER;
  delete env.NETLOOM_LAB;
  return run(`${BIN}/netctl`, ['--lab', LAB, ...args], { env, timeoutMs: 30_000 });
}

interface Endpoint {
  ipAddress: string;
  homingHost: string;
  network: string;
  labels?: Record<string, string>;
}

/** netloom's endpoints of the service's tasks (swarm's task labels reach the endpoint). */
async function serviceEndpoints(): Promise<Endpoint[]> {
  const all = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Endpoint[];
  return all.filter((e) => e.labels?.['com.docker.swarm.service.name'] === SERVICE);
}

interface Task {
  host: string;
  id: string;
  /** the container's first process: the tests run the host's ping in its network namespace */
  pid: number;
  ip: string;
}

/** `nsenter --net` into a container's namespace (a docker exec per ping would take seconds here). */
function inNetns(pid: number, argv: string[]): Promise<RunResult> {
  return run('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { allowFailure: true, timeoutMs: 20_000 });
}

/**
 * The service's running containers on `hosts`, with the address each has on eth0. Only hosts whose
 * dockerd should run: `netloom-lab docker` starts a stopped one.
 */
async function tasks(hosts = HOSTS): Promise<Task[]> {
  const out: Task[] = [];
  for (const host of hosts) {
    const ids = (await docker(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SERVICE}`], true)).stdout
      .split('\n')
      .filter((l) => l.trim() !== '');
    if (ids.length === 0) continue;
    const lines = (await docker(host, ['inspect', '--format', '{{.Id}} {{.State.Pid}}', ...ids], true)).stdout.split('\n');
    for (const line of lines) {
      const [id, pidText] = line.trim().split(' ');
      const pid = Number(pidText);
      if (!id || !Number.isInteger(pid) || pid <= 0) continue;
      const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec((await inNetns(pid, ['ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1];
      if (ip) out.push({ host, id, pid, ip });
    }
  }
  return out;
}

async function reaches(pid: number, what: string, ip: string): Promise<void> {
  await waitFor(`${what} to reach ${ip}`, async () => (await inNetns(pid, ['ping', '-c', '1', '-W', '1', ip])).code === 0, {
    timeoutMs: 30_000,
    intervalMs: 300,
  });
}

function managerLog(): string {
  return readFileSync(`${agentPaths(plan, 'host1').dockerDir}/dockerd.log`, 'utf8');
}

describe('lab: Docker swarm services on netloom (managed plugin, 3 hosts)', function () {
  this.timeout(900_000);
  let plugin = '';

  before(async function () {
    this.timeout(900_000);
    await lab(['down'], true, 180_000);
    await lab(['up', '--hosts', '3'], false, 300_000);
    await netctl(['tenant', 'create', T]);
    await netctl(['net', 'create', '-t', T, '-e', 'vxlan', '-s', SUBNET, '-g', '10.71.0.1', N]);
    plugin = (await lab(['swarm', 'up'], false, 400_000)).stdout.trim();
  });

  after(async function () {
    this.timeout(600_000);
    // down leaves the swarm (tasks go) and removes the plugin before the dockerds stop. A failed
    // down is shown with how long it took and run once more (down is made to finish what an earlier
    // one left); if that fails too, the root hook removes the lab and fails the run.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const started = systemClock.monotonic();
      const r = await lab(['down'], true, 300_000);
      if (r.code === 0) break;
      console.error(
        `netloom-lab down (attempt ${attempt}) failed after ${Math.round(systemClock.monotonic() - started)} ms (exit ${r.code}): ${r.stderr.slice(-2000)}`,
      );
    }
  });

  it('the managed plugin is enabled on every host, which are one swarm', async () => {
    assert.match(plugin, /^netloom\/netloom:\S+$/);
    for (const h of HOSTS) assert.equal((await docker(h, ['plugin', 'inspect', '--format', '{{.Enabled}}', plugin])).stdout.trim(), 'true');
    const nodes = (await docker('host1', ['node', 'ls', '--format', '{{.Status}}'])).stdout.trim().split('\n');
    assert.deepEqual(nodes, ['Ready', 'Ready', 'Ready']);
  });

  it('a swarm network without -o tenant is refused naming Options.tenant; nothing is allocated', async () => {
    const before = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Endpoint[];
    const id = (
      await docker('host1', [
        'network',
        'create',
        '-d',
        plugin,
        '--ipam-driver',
        plugin,
        '--ipam-opt',
        `tenant=${T}`,
        '--ipam-opt',
        `network=${N}`,
        '-o',
        `network=${N}`,
        'swbad',
      ])
    ).stdout.trim();
    // swarm allocates after it answers: the refusal is in the manager's log, the network has no driver
    await waitFor('the manager to log the refusal', () => managerLog().includes(`Failed allocation for network ${id}`), {
      timeoutMs: 30_000,
    });
    const line = managerLog()
      .split('\n')
      .find((l) => l.includes(`Failed allocation for network ${id}`));
    assert.match(line ?? '', /Options\.tenant: a swarm network needs -o tenant=TENANT/);
    assert.equal((await docker('host1', ['network', 'inspect', '--format', '{{.Driver}}', 'swbad'])).stdout.trim(), '');
    const state = JSON.parse(readFileSync(agentPaths(plan, 'host1').cnmState, 'utf8')) as {
      pools: Record<string, { swarmNetworkId?: string }>;
    };
    assert.equal(Object.keys(state.pools).length, 0, 'the pool swarm asked for was given back');
    const now = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Endpoint[];
    assert.equal(now.length, before.length);
    await docker('host1', ['network', 'rm', 'swbad']);
  });

  it('6 replicas on a netloom network: tasks on all three hosts reach each other and a podman container', async () => {
    await docker('host1', [
      'network',
      'create',
      '-d',
      plugin,
      '--ipam-driver',
      plugin,
      '--ipam-opt',
      `tenant=${T}`,
      '--ipam-opt',
      `network=${N}`,
      '-o',
      `tenant=${T}`,
      '-o',
      `network=${N}`,
      '--attachable',
      'swnet',
    ]);
    // the lab's image is local to each dockerd (no registry): no digest to resolve
    await docker(
      'host1',
      ['service', 'create', '-d', '--no-resolve-image', '--name', SERVICE, '--network', 'swnet', '--replicas', '6'].concat([
        'netloom/busybox',
        'sleep',
        '3600',
      ]),
    );
    let ts: Task[] = [];
    await waitFor('6 tasks with addresses', async () => (ts = await tasks()).length === 6, { timeoutMs: 180_000, intervalMs: 1000 });
    assert.deepEqual([...new Set(ts.map((t) => t.host))].sort(), HOSTS, 'tasks on every host');
    for (const t of ts) assert.ok(t.ip.startsWith('10.71.0.'), `${t.id} has a netloom address: ${t.ip}`);
    const eps = await serviceEndpoints();
    assert.deepEqual(
      eps.map((e) => `${e.homingHost} ${e.ipAddress}`).sort(),
      ts.map((t) => `${t.host} ${t.ip}`).sort(),
      "netloom's endpoints are the tasks', on their hosts",
    );
    for (const a of ts) for (const b of ts) if (a !== b) await reaches(a.pid, `task ${a.id.slice(0, 12)} on ${a.host}`, b.ip);
    await lab(
      ['podman', 'host2', '--', 'run', '-d', '--name', 'swpm', '--network', `${T}/${N}`, 'netloom/busybox', 'sleep', '900'],
      false,
      300_000,
    );
    const pmPid = Number((await lab(['podman', 'host2', '--', 'inspect', '--format', '{{.State.Pid}}', 'swpm'])).stdout.trim());
    const pm = /inet (\d+\.\d+\.\d+\.\d+)\//.exec((await inNetns(pmPid, ['ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout)?.[1];
    assert.ok(pm, 'the podman container has an address');
    for (const t of ts.filter((x) => x.host !== 'host2')) {
      await reaches(t.pid, `task on ${t.host}`, pm);
      await reaches(pmPid, 'podman swpm', t.ip);
    }
  });

  it("host2's dockerd stopped: swarm moves its tasks to host1 and host3, its endpoints are released, the new tasks reach the others", async () => {
    const pid = requireState(LAB).pids.find((p) => p.role === dockerRole('host2'))?.pid;
    assert.ok(pid !== undefined && isAlive(pid), "host2's dockerd runs");
    await stopProcess(pid, 'dockerd', 60_000);
    // swarm's node-down detection (heartbeats) takes several seconds, then it starts the tasks anew
    let ts: Task[] = [];
    await waitFor('6 tasks on host1 and host3', async () => (ts = await tasks(['host1', 'host3'])).length === 6, {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
    await waitFor('no endpoint of the service on host2', async () => !(await serviceEndpoints()).some((e) => e.homingHost === 'host2'), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    assert.deepEqual(
      (await serviceEndpoints()).map((e) => `${e.homingHost} ${e.ipAddress}`).sort(),
      ts.map((t) => `${t.host} ${t.ip}`).sort(),
      "netloom's endpoints are exactly the running tasks'",
    );
    for (const a of ts) for (const b of ts) if (a !== b) await reaches(a.pid, `task ${a.id.slice(0, 12)} on ${a.host}`, b.ip);
    // host2's dockerd back (started on demand): it rejoins the swarm; swarm does not move tasks back
    await docker('host2', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
  });

  it("host2's dockerd killed: its tasks start elsewhere; back, it removes the old ones and their endpoints are released", async () => {
    // 9 replicas: swarm spreads the 3 new ones to host2, which has none since its dockerd stopped
    await docker('host1', ['service', 'scale', '-d', `${SERVICE}=9`]);
    await waitFor('3 tasks on host2', async () => (await tasks()).filter((t) => t.host === 'host2').length === 3, {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
    const pid = requireState(LAB).pids.find((p) => p.role === dockerRole('host2'))?.pid;
    assert.ok(pid !== undefined && signalIfOurs(pid, 'dockerd', 'SIGKILL'), "host2's dockerd killed");
    await waitFor("host2's dockerd gone", () => !isAlive(pid), { timeoutMs: 30_000, intervalMs: 200 });
    // its containers run on (containerd's shims) with their endpoints; swarm starts 9 elsewhere
    let ts: Task[] = [];
    await waitFor('9 tasks on host1 and host3', async () => (ts = await tasks(['host1', 'host3'])).length === 9, {
      timeoutMs: 180_000,
      intervalMs: 1000,
    });
    for (const a of ts.slice(0, 2)) for (const b of ts) if (a !== b) await reaches(a.pid, `task ${a.id.slice(0, 12)} on ${a.host}`, b.ip);
    // back (started on demand): swarm tells it the old tasks are gone; it removes them
    await docker('host2', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
    await waitFor('no endpoint of the service on host2', async () => !(await serviceEndpoints()).some((e) => e.homingHost === 'host2'), {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    assert.deepEqual(
      (await serviceEndpoints()).map((e) => `${e.homingHost} ${e.ipAddress}`).sort(),
      (await tasks()).map((t) => `${t.host} ${t.ip}`).sort(),
      "netloom's endpoints are exactly the running tasks'",
    );
  });

  it("host3 leaving the swarm releases its tasks' endpoints", async () => {
    assert.ok((await serviceEndpoints()).some((e) => e.homingHost === 'host3'));
    await docker('host3', ['swarm', 'leave', '--force']);
    await waitFor('no endpoint of the service on host3', async () => !(await serviceEndpoints()).some((e) => e.homingHost === 'host3'), {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    assert.equal((await tasks()).filter((t) => t.host === 'host3').length, 0);
  });

  it('scaling down to 2 releases the other endpoints', async () => {
    await docker('host1', ['service', 'scale', '-d', `${SERVICE}=2`]);
    let left: Endpoint[] = [];
    await waitFor('2 endpoints of the service', async () => (left = await serviceEndpoints()).length === 2, {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    assert.deepEqual(left.map((e) => e.ipAddress).sort(), (await tasks()).map((t) => t.ip).sort());
  });
});
