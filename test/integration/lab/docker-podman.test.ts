/**
 * Issue 18 part 3: Docker's remote API and podman as a user drives them, on lab `tdpm` (1 host,
 * agent, real dockerd 20.10 with live restore, podman 4.3 with CNI, OVS, etcd, netmaster):
 * `docker network inspect`, `docker network connect/disconnect` on a running container, `docker
 * network prune`, podman `--ip`/`--mac-address`/`--network-alias`, `docker restart` and `podman
 * restart` keeping the address, and a dockerd restart with live restore keeping the containers'
 * networks. Names, subnets and the lab are this file's own.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { waitFor } from '../../../lib/clock';
import { run, type RunResult } from '../../../lib/exec';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { BIN, labCli } from '../../support/lab-cli';

const LAB = 'tdpm';
const lab = labCli(LAB);
const T = 'dpm';

const docker = (args: string[], allowFailure = false): Promise<RunResult> => lab(['docker', 'host1', '--', ...args], allowFailure);
const podman = (args: string[], allowFailure = false): Promise<RunResult> => lab(['podman', 'host1', '--', ...args], allowFailure, 90_000);

function netctl(args: string[]): Promise<RunResult> {
  const env = { ...process.env };
  delete env.NETMASTER;
  delete env.NETLOOM_LAB;
  return run(`${BIN}/netctl`, ['--lab', LAB, ...args], { env, timeoutMs: 30_000 });
}

interface Endpoint {
  endpointID: string;
  ipAddress: string;
  macAddress: string;
  network: string;
}

async function endpoints(): Promise<Endpoint[]> {
  return JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Endpoint[];
}

/** `ADDR/PREFIX` and MAC of interface `dev` inside a container (`engine exec`), or undefined when it has none. */
async function iface(engine: typeof docker, name: string, dev: string): Promise<{ cidr: string; mac: string } | undefined> {
  const r = await engine(['exec', name, 'ip', '-o', 'addr', 'show', dev], true);
  const link = await engine(['exec', name, 'ip', '-o', 'link', 'show', dev], true);
  const cidr = /inet (\d+\.\d+\.\d+\.\d+\/\d+)/.exec(r.stdout)?.[1];
  const mac = /link\/ether ([0-9a-f:]{17})/.exec(link.stdout)?.[1];
  return cidr && mac ? { cidr, mac } : undefined;
}

async function ipOf(engine: typeof docker, name: string, dev = 'eth0'): Promise<string> {
  const i = await iface(engine, name, dev);
  assert.ok(i, `${name} has an address on ${dev}`);
  return i.cidr;
}

/**
 * `from` reaches `ip` (ping; waits: a new endpoint's flows and a peer's ARP settle). A timeout
 * says what `from` has in its ARP cache and the agent's last reconcile failures.
 */
async function reaches(engine: typeof docker, from: string, ip: string): Promise<void> {
  try {
    await waitFor(`${from} to reach ${ip}`, async () => (await engine(['exec', from, 'ping', '-c', '1', '-W', '1', ip], true)).code === 0, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  } catch (e) {
    const neigh = (await engine(['exec', from, 'ip', 'neigh'], true)).stdout.trim();
    const log = readFileSync(agentPaths(planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1 }), 'host1').log, 'utf8');
    const failures = log
      .split('\n')
      .filter((l) => l.includes('reconcile failed'))
      .slice(-3)
      .join('\n');
    throw new Error(`${(e as Error).message}; ${from}'s ARP cache: ${neigh}; the agent's last reconcile failures: ${failures || 'none'}`);
  }
}

const bare = (cidr: string): string => cidr.split('/')[0] ?? '';

/** The host's interface names (in the lab host's namespace). */
async function hostLinks(): Promise<string[]> {
  const r = await lab(['exec', 'host1', '--', 'ip', '-o', 'link']);
  return r.stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n !== '');
}

/**
 * `docker network create` of a netloom network with netloom's IPAM; a subnet lets containers use
 * `--ip` (Docker's rule), and then inspect shows the gateway only when given with it (Docker's too).
 */
function netloomNet(name: string, network: string, subnet?: { subnet: string; gateway: string }): string[] {
  return [
    ...['network', 'create', '-d', 'netloom', '--ipam-driver', 'netloom'],
    ...(subnet ? ['--subnet', subnet.subnet, '--gateway', subnet.gateway] : []),
    ...['--ipam-opt', `tenant=${T}`, '--ipam-opt', `network=${network}`, '-o', `tenant=${T}`, '-o', `network=${network}`, name],
  ];
}

describe('Docker remote API and podman (lab tdpm, real dockerd with live restore and podman)', function () {
  // each step is a separate docker/podman command through the lab CLI: about a minute on a busy 2-CPU machine
  this.timeout(240_000);
  const plan = planLab({ name: LAB, hosts: 1, etcdMembers: 1, netmasters: 1 });
  const cnmState = (): { endpoints: Record<string, unknown>; pools: Record<string, unknown> } =>
    JSON.parse(readFileSync(agentPaths(plan, 'host1').cnmState, 'utf8')) as {
      endpoints: Record<string, unknown>;
      pools: Record<string, unknown>;
    };

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '1'], false, 180_000);
    await netctl(['tenant', 'create', T]);
    for (const [n, s] of [
      ['front', '10.93.1'],
      ['back', '10.93.2'],
      ['spare', '10.93.3'],
    ] as const)
      await netctl(['net', 'create', '-t', T, '-e', 'vxlan', '-s', `${s}.0/24`, '-g', `${s}.1`, n]);
    await docker(netloomNet('dfront', 'front', { subnet: '10.93.1.0/24', gateway: '10.93.1.1' }));
    await docker(netloomNet('dback', 'back'));
    await docker(['run', '-d', '--name', 'd1', '--network', 'dfront', 'netloom/busybox', 'sleep', '3600']);
    await docker(['run', '-d', '--name', 'd2', '--network', 'dfront', 'netloom/busybox', 'sleep', '3600']);
    await docker(['run', '-d', '--name', 'db1', '--network', 'dback', 'netloom/busybox', 'sleep', '3600']);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it('docker network inspect: driver and IPAM netloom with their options, subnet and gateway, each container with its address and MAC', async () => {
    const r = await docker(['network', 'inspect', 'dfront']);
    const [net] = JSON.parse(r.stdout) as Array<{
      Driver: string;
      Options: Record<string, string>;
      IPAM: { Driver: string; Options: Record<string, string>; Config: Array<{ Subnet: string; Gateway: string }> };
      Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string }>;
    }>;
    assert.ok(net);
    assert.equal(net.Driver, 'netloom');
    assert.deepEqual(net.Options, { tenant: T, network: 'front' });
    assert.equal(net.IPAM.Driver, 'netloom');
    assert.deepEqual(net.IPAM.Options, { tenant: T, network: 'front' });
    assert.deepEqual(net.IPAM.Config, [{ Subnet: '10.93.1.0/24', Gateway: '10.93.1.1' }]);
    const shown = Object.values(net.Containers).sort((a, b) => a.Name.localeCompare(b.Name));
    assert.deepEqual(
      shown.map((c) => c.Name),
      ['d1', 'd2'],
    );
    const eps = await endpoints();
    for (const c of shown) {
      const inside = await iface(docker, c.Name, 'eth0');
      assert.deepEqual(inside, { cidr: c.IPv4Address, mac: c.MacAddress }, `${c.Name}: what Docker shows is what the container has`);
      const ep = eps.find((e) => e.ipAddress === bare(c.IPv4Address));
      assert.ok(ep, `netloom has an endpoint for ${c.Name}`);
      assert.equal(ep.macAddress, c.MacAddress);
      assert.equal(ep.network, `${T}:front`);
    }
  });

  it('docker network connect gives a running container a working second interface; disconnect removes it everywhere', async () => {
    const before = new Set(await hostLinks());
    await docker(['network', 'connect', 'dback', 'd1']);
    const second = await ipOf(docker, 'd1', 'eth1');
    assert.match(second, /^10\.93\.2\.\d+\/24$/);
    assert.match(await ipOf(docker, 'd1', 'eth0'), /^10\.93\.1\.\d+\/24$/, 'the first interface stays');
    const db1 = bare(await ipOf(docker, 'db1'));
    await reaches(docker, 'd1', db1);
    await reaches(docker, 'db1', bare(second));
    const ep = (await endpoints()).find((e) => e.ipAddress === bare(second));
    assert.ok(ep, 'netloom has the second endpoint');
    const added = (await hostLinks()).filter((n) => !before.has(n));
    assert.equal(added.length, 1, `one new host end: ${added.join(' ')}`);

    await docker(['network', 'disconnect', 'dback', 'd1']);
    assert.equal(await iface(docker, 'd1', 'eth1'), undefined, 'eth1 is gone from the container');
    await waitFor('the endpoint to leave netloom', async () => !(await endpoints()).some((e) => e.endpointID === ep.endpointID), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    assert.ok(!(await hostLinks()).includes(added[0] ?? ''), 'the host end is gone');
    const insp = JSON.parse((await docker(['network', 'inspect', 'dback'])).stdout) as Array<{
      Containers: Record<string, { Name: string }>;
    }>;
    assert.deepEqual(
      Object.values(insp[0]?.Containers ?? {}).map((c) => c.Name),
      ['db1'],
    );
    await reaches(docker, 'd1', bare(await ipOf(docker, 'd2')));
  });

  it('docker network prune removes the unused netloom networks (their pools go) and keeps the used ones and the netloom networks', async () => {
    await docker(netloomNet('dspare', 'spare'));
    await docker(['network', 'create', '-d', 'netloom', '-o', `tenant=${T}`, '-o', 'network=spare', 'dspare-short']);
    // the agent remakes a short-form network with netloom's IPAM in the background: prune after that
    await waitFor(
      'dspare-short remade with the netloom IPAM',
      async () => (await docker(['network', 'inspect', '-f', '{{.IPAM.Driver}}', 'dspare-short'], true)).stdout.trim() === 'netloom',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const poolsBefore = Object.keys(cnmState().pools).length;
    const r = await docker(['network', 'prune', '-f']);
    assert.match(r.stdout, /dspare\n/);
    const names = (await docker(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n');
    assert.ok(!names.includes('dspare') && !names.includes('dspare-short'), names.join(' '));
    assert.ok(names.includes('dfront') && names.includes('dback'), 'networks with containers stay');
    assert.ok(Object.keys(cnmState().pools).length < poolsBefore, "the pruned network's pool is released");
    const nets = (await netctl(['net', 'ls', '-t', T])).stdout;
    assert.match(nets, /spare/, 'the netloom network itself belongs to netmaster and stays');
  });

  it("docker --network-alias: Docker's own DNS answers the alias with the netloom address", async () => {
    await docker(['run', '-d', '--name', 'dalias', '--network', 'dfront', '--network-alias', 'webby', 'netloom/busybox', 'sleep', '3600']);
    const ip = bare(await ipOf(docker, 'dalias'));
    const r = await docker(['exec', 'd2', 'ping', '-c', '1', '-W', '2', 'webby'], true);
    assert.match(r.stdout, new RegExp(`PING webby \\(${ip.replace(/\./g, '\\.')}\\)`));
    await docker(['rm', '-f', 'dalias']);
  });

  it("podman --ip, --mac-address and --network-alias: the address and MAC inside and in netloom; the alias is only podman's", async () => {
    const r = await podman([
      ...['run', '-d', '--name', 'p1', '--cap-add', 'NET_RAW', '--network', `${T}/front`],
      ...['--ip', '10.93.1.200', '--mac-address', '02:93:00:00:00:c8', '--network-alias', 'pweb', 'netloom/busybox', 'sleep', '3600'],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await iface(podman, 'p1', 'eth0'), { cidr: '10.93.1.200/24', mac: '02:93:00:00:00:c8' });
    const ep = (await endpoints()).find((e) => e.ipAddress === '10.93.1.200');
    assert.equal(ep?.macAddress, '02:93:00:00:00:c8');
    const insp = JSON.parse((await podman(['inspect', 'p1', '--format', '{{json .NetworkSettings.Networks}}'])).stdout) as Record<
      string,
      { IPAddress: string; MacAddress: string; Aliases: string[] }
    >;
    const n = insp[`nl.${T}.front`];
    assert.equal(n?.IPAddress, '10.93.1.200');
    assert.equal(n?.MacAddress, '02:93:00:00:00:c8');
    assert.ok(n?.Aliases.includes('pweb'), 'podman records the alias (netloom has no DNS: docs/cnm.md)');
    await reaches(podman, 'p1', bare(await ipOf(docker, 'd1')));
    await reaches(docker, 'd1', '10.93.1.200');
  });

  it('docker run --mac-address: the container and its netloom endpoint have that MAC, and it is reachable', async () => {
    // an address no peer has seen: a reused one may sit in a peer's ARP cache with the MAC of the
    // container that had it, unreachable from that peer until the entry fails (docs/cnm.md)
    await docker([
      ...['run', '-d', '--name', 'dmac', '--network', 'dfront', '--ip', '10.93.1.170', '--mac-address', '02:42:93:00:00:07'],
      ...['netloom/busybox', 'sleep', '3600'],
    ]);
    const i = await iface(docker, 'dmac', 'eth0');
    assert.deepEqual(i, { cidr: '10.93.1.170/24', mac: '02:42:93:00:00:07' });
    const ep = (await endpoints()).find((e) => e.ipAddress === '10.93.1.170');
    assert.equal(ep?.macAddress, '02:42:93:00:00:07');
    await reaches(docker, 'd2', '10.93.1.170');
    await reaches(docker, 'dmac', bare(await ipOf(docker, 'd2')));
    await docker(['rm', '-f', 'dmac']);
  });

  it('docker restart keeps the address (also with a lower one free) and the MAC, and the container works', async () => {
    const d2i = await iface(docker, 'd2', 'eth0');
    const d1i = await iface(docker, 'd1', 'eth0');
    const d2 = d2i?.cidr ?? '';
    const d1 = d1i?.cidr ?? '';
    // d1 holds a lower address than d2: with it free, a lowest-free allocation would move d2
    assert.ok(Number(bare(d1).split('.')[3]) < Number(bare(d2).split('.')[3]), `${d1} < ${d2}`);
    await docker(['stop', '-t', '0', 'd1']);
    await docker(['restart', '-t', '0', 'd2']);
    assert.deepEqual(await iface(docker, 'd2', 'eth0'), d2i, 'same address and MAC (peers keep a right ARP entry)');
    await docker(['start', 'd1']);
    assert.deepEqual(await iface(docker, 'd1', 'eth0'), d1i);
    await reaches(docker, 'd2', bare(d1));
    await reaches(docker, 'd1', bare(d2));
    // and with --ip, which Docker asks for again at each start
    await docker(['run', '-d', '--name', 'dip', '--network', 'dfront', '--ip', '10.93.1.150', 'netloom/busybox', 'sleep', '3600']);
    await docker(['restart', '-t', '0', 'dip']);
    assert.equal(await ipOf(docker, 'dip'), '10.93.1.150/24');
    await reaches(docker, 'dip', bare(d1));
    await docker(['rm', '-f', 'dip']);
  });

  it('podman restart keeps the address (also with a lower one free) and the MAC, and the container works', async () => {
    const a = await podman([
      'run',
      '-d',
      '--name',
      'p2',
      '--cap-add',
      'NET_RAW',
      '--network',
      `${T}/front`,
      'netloom/busybox',
      'sleep',
      '3600',
    ]);
    assert.equal(a.code, 0, a.stderr);
    const b = await podman([
      'run',
      '-d',
      '--name',
      'p3',
      '--cap-add',
      'NET_RAW',
      '--network',
      `${T}/front`,
      'netloom/busybox',
      'sleep',
      '3600',
    ]);
    assert.equal(b.code, 0, b.stderr);
    const p2i = await iface(podman, 'p2', 'eth0');
    const p3i = await iface(podman, 'p3', 'eth0');
    const p2 = p2i?.cidr ?? '';
    const p3 = p3i?.cidr ?? '';
    assert.ok(Number(bare(p2).split('.')[3]) < Number(bare(p3).split('.')[3]), `${p2} < ${p3}`);
    await podman(['stop', '-t', '0', 'p2']);
    await podman(['restart', '-t', '0', 'p3']);
    assert.deepEqual(await iface(podman, 'p3', 'eth0'), p3i, 'same address and MAC');
    await podman(['start', 'p2']);
    assert.deepEqual(await iface(podman, 'p2', 'eth0'), p2i);
    await podman(['restart', '-t', '0', 'p1']);
    assert.deepEqual(
      await iface(podman, 'p1', 'eth0'),
      { cidr: '10.93.1.200/24', mac: '02:93:00:00:00:c8' },
      '--ip and --mac-address are kept',
    );
    await reaches(podman, 'p3', bare(p2));
    await reaches(podman, 'p1', bare(p3));
    await reaches(docker, 'd1', bare(p3));
  });

  it('a dockerd restart with live restore keeps the containers running on the same endpoints, and Docker still manages them', async () => {
    const names = ['d1', 'd2', 'db1'];
    const before = await Promise.all(names.map((n) => iface(docker, n, 'eth0')));
    const epsBefore = (await endpoints()).map((e) => e.endpointID).sort();
    const linksBefore = (await hostLinks()).sort();
    const started = (await docker(['inspect', '-f', '{{.State.StartedAt}}', ...names])).stdout;
    const r = await lab(['restart', 'host1', 'dockerd']);
    assert.match(r.stderr + r.stdout, /dockerd restarted/);
    assert.equal((await docker(['inspect', '-f', '{{.State.StartedAt}}', ...names])).stdout, started, 'not restarted');
    assert.deepEqual(await Promise.all(names.map((n) => iface(docker, n, 'eth0'))), before, 'same addresses and MACs');
    assert.deepEqual((await endpoints()).map((e) => e.endpointID).sort(), epsBefore, 'the same netloom endpoints');
    assert.deepEqual((await hostLinks()).sort(), linksBefore, 'the same host ends');
    assert.doesNotMatch(readFileSync(`${agentPaths(plan, 'host1').dockerDir}/dockerd.log`, 'utf8'), /Removing stale endpoint/);
    await reaches(docker, 'd1', bare(before[1]?.cidr ?? ''));
    await reaches(podman, 'p1', bare(before[0]?.cidr ?? ''));
    // the restarted dockerd still drives the plugin: connect, disconnect, a new container, rm
    await docker(['network', 'connect', 'dback', 'd2']);
    await reaches(docker, 'd2', bare(before[2]?.cidr ?? ''));
    await docker(['network', 'disconnect', 'dback', 'd2']);
    await docker(['run', '-d', '--name', 'd4', '--network', 'dfront', 'netloom/busybox', 'sleep', '3600']);
    await reaches(docker, 'd4', bare(before[0]?.cidr ?? ''));
    await docker(['rm', '-f', 'd4']);
    assert.equal(Object.keys(cnmState().endpoints).length, 3, 'the plugin holds d1, d2 and db1 only');
  });
});
