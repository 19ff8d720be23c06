/**
 * Issue 14 items 5 and 7 as a user runs them, on lab `tdkr` (2 hosts, agents with
 * --docker-networks, real dockerd 20.10, podman 4.3, OVS, etcd, netmaster):
 * - the agent makes `db/blue` in its host's dockerd by itself: `docker run --network db/blue`
 *   works with no `docker network create`, and the Docker network goes when the netloom network
 *   is deleted;
 * - endpoint labels from `netloom-lab run --label` (the netconf's args.cni.labels) and from
 *   CNI_ARGS NETLOOM_LABELS show in `netctl endpoint inspect`;
 * - `bin/netctl --lab tdkr ...` and `NETLOOM_LAB=tdkr bin/netctl ...` reach this lab's netmaster
 *   with no --netmaster; `netloom-lab podman host1 -- run ...` runs (short runroot).
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run, type RunResult } from '../../../lib/exec';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { cniCall, firstIp } from '../../../deploy/lab/cni-call';
import { BIN, labCli } from '../../support/lab-cli';

const LAB = 'tdkr';
const lab = labCli(LAB);

/** `bin/netctl ARGS` exactly as a user types it, with NETLOOM_LAB set or not. */
function netctl(args: string[], env: Record<string, string> = {}, allowFailure = false): Promise<RunResult> {
  const base = { ...process.env };
  delete base.NETMASTER;
  delete base.NETLOOM_LAB;
  delete base.NETCTL_CONFIG;
  return run(`${BIN}/netctl`, args, { env: { ...base, ...env }, allowFailure, timeoutMs: 30_000 });
}

async function endpointLabels(id: string): Promise<Record<string, string>> {
  const r = await netctl(['--lab', LAB, 'endpoint', 'inspect', id]);
  return ((JSON.parse(r.stdout) as { Oper?: { labels?: Record<string, string> } }).Oper?.labels ?? {}) as Record<string, string>;
}

async function endpointIdOf(ip: string): Promise<string> {
  const r = await netctl(['--lab', LAB, 'endpoint', 'ls', '-o', 'json']);
  const all = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  const ep = all.find((e) => JSON.stringify(e).includes(`"${ip}"`));
  assert.ok(ep, `an endpoint with ${ip}`);
  return String(ep.endpointID ?? ep.id ?? ep.key);
}

async function dockerNetworks(host: string): Promise<string[]> {
  const r = await lab(['docker', host, '--', 'network', 'ls', '--format', '{{.Name}}'], true);
  return r.code === 0 ? r.stdout.split('\n').filter((s) => s !== '') : [];
}

describe('docker networks by themselves, endpoint labels, netctl --lab, podman runroot (lab tdkr, real dockerd and podman)', function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 1 });
  let c2 = '';

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2', '--docker-networks'], false, 180_000);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it('netctl --lab tdkr and NETLOOM_LAB=tdkr find this lab (no --netmaster, no config)', async () => {
    await netctl(['--lab', LAB, 'tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.75.2.0/24', '-g', '10.75.2.1', 'db'], { NETLOOM_LAB: LAB });
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.75.3.0/24', '-g', '10.75.3.1', 'tmp'], { NETLOOM_LAB: LAB });
    const ls = await netctl(['net', 'ls', '-t', 'blue'], { NETLOOM_LAB: LAB });
    assert.match(ls.stdout, /db\s+data\s+vxlan/);
    const none = await netctl(['--lab', 'tnone', 'net', 'ls'], {}, true);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /lab 'tnone' has no netctl config/);
  });

  it('labels from netloom-lab run --label show in netctl endpoint inspect', async () => {
    const r = await lab(['run', 'host2', 'c2', '--tenant', 'blue', '--network', 'db', '--label', 'app=db', '--label', 'tier=back']);
    c2 = r.stdout.trim().split('\t')[2] ?? '';
    assert.match(c2, /^10\.75\.2\.\d+$/);
    assert.deepEqual(await endpointLabels(await endpointIdOf(c2)), { app: 'db', tier: 'back' });
    const bad = await lab(['run', 'host2', 'c3', '--tenant', 'blue', '--network', 'db', '--label', 'a b=c'], true);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--label\.a b: a label key/);
  });

  it('labels from CNI_ARGS NETLOOM_LABELS show in netctl endpoint inspect', async () => {
    const socket = agentPaths(plan, 'host2').cniSocket;
    await run('ip', ['netns', 'add', 'tdkr-cniargs']);
    try {
      const add = await cniCall({
        command: 'ADD',
        socket,
        containerId: 'tdkr-cniargs',
        netnsPath: '/run/netns/tdkr-cniargs',
        tenant: 'blue',
        network: 'db',
        cniArgs: 'IgnoreUnknown=1;K8S_POD_NAME=p1;NETLOOM_LABELS=app=api,app.kubernetes.io/part-of=shop',
      });
      assert.equal(add.code, 0, add.output);
      const ip = (firstIp(add.json) ?? '').split('/')[0] ?? '';
      assert.deepEqual(await endpointLabels(await endpointIdOf(ip)), { app: 'api', 'app.kubernetes.io/part-of': 'shop' });
      const del = await cniCall({
        command: 'DEL',
        socket,
        containerId: 'tdkr-cniargs',
        netnsPath: '/run/netns/tdkr-cniargs',
        tenant: 'blue',
        network: 'db',
      });
      assert.equal(del.code, 0, del.output);
    } finally {
      await run('ip', ['netns', 'del', 'tdkr-cniargs'], { allowFailure: true });
    }
  });

  it('docker run --network db/blue works with no docker network create (the agent made db/blue)', async () => {
    await waitFor(
      'db/blue and tmp/blue in host1 dockerd',
      async () => {
        const names = await dockerNetworks('host1');
        return names.includes('db/blue') && names.includes('tmp/blue');
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const insp = await lab([
      'docker',
      'host1',
      '--',
      'network',
      'inspect',
      'db/blue',
      '--format',
      '{{.Driver}} {{.IPAM.Driver}} {{json .Labels}}',
    ]);
    assert.match(insp.stdout, /^netloom netloom .*"io\.netloom\.managed":"netplugin"/);
    await lab([
      ...['docker', 'host1', '--', 'run', '-d', '--name', 'dk1', '--network', 'db/blue'],
      ...['--label', 'app=web', '--label', 'com.example.note=a,b'],
      ...['netloom/busybox', 'sleep', '600'],
    ]);
    const addr = await lab(['docker', 'host1', '--', 'exec', 'dk1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    const ip = /inet (10\.75\.2\.\d+)\/24/.exec(addr.stdout)?.[1];
    assert.ok(ip, addr.stdout);
    // docker run --label: set on the endpoint after Join; one netloom cannot carry (a ',') left out
    const id = await endpointIdOf(ip);
    await waitFor('the Docker labels on the endpoint', async () => (await endpointLabels(id)).app === 'web', {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    assert.deepEqual(await endpointLabels(id), { app: 'web' });
    await waitFor(
      'dk1 to reach c2 on host2',
      async () => (await lab(['docker', 'host1', '--', 'exec', 'dk1', 'ping', '-c', '1', '-W', '1', c2], true)).code === 0,
      {
        timeoutMs: 20_000,
        intervalMs: 200,
      },
    );
  });

  it('the short form docker network create -d netloom -o tenant=blue -o network=db works (remade with netloom IPAM)', async () => {
    const created = await lab([
      'docker',
      'host2',
      '--',
      'network',
      'create',
      '-d',
      'netloom',
      '-o',
      'tenant=blue',
      '-o',
      'network=db',
      'shop',
    ]);
    const firstId = created.stdout.trim();
    const ipam = await waitFor(
      'shop to be remade with the netloom IPAM',
      async () => {
        const r = await lab(
          ['docker', 'host2', '--', 'network', 'inspect', 'shop', '--format', '{{.Id}} {{.IPAM.Driver}} {{json .IPAM.Config}}'],
          true,
        );
        return r.code === 0 && r.stdout.includes(' netloom ') ? r.stdout : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    assert.ok(!ipam.startsWith(firstId), 'a new network under the same name');
    assert.match(ipam, /"Subnet":"10\.75\.2\.0\/24"/);
    await lab(['docker', 'host2', '--', 'run', '-d', '--name', 'dk2', '--network', 'shop', 'netloom/busybox', 'sleep', '600']);
    const addr = await lab(['docker', 'host2', '--', 'exec', 'dk2', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    const ip = /inet (10\.75\.2\.\d+)\/24/.exec(addr.stdout)?.[1];
    assert.ok(ip, addr.stdout);
    assert.ok(await endpointIdOf(ip), 'netmaster allocated it');
    await waitFor(
      'dk2 (host2) to reach dk1 (host1)',
      async () => {
        const dk1 = (await lab(['docker', 'host1', '--', 'exec', 'dk1', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout;
        const to = /inet (10\.75\.2\.\d+)/.exec(dk1)?.[1] ?? '';
        return (await lab(['docker', 'host2', '--', 'exec', 'dk2', 'ping', '-c', '1', '-W', '1', to], true)).code === 0;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  });

  it('the Docker network goes when its netloom network is deleted; a user network is left alone', async () => {
    // a user's own network (no managed label) on the same dockerd
    await lab(['docker', 'host1', '--', 'network', 'create', '-d', 'bridge', '--subnet', '10.76.0.0/24', 'mine']);
    await netctl(['--lab', LAB, 'net', 'rm', '-t', 'blue', 'tmp']);
    await waitFor(
      'tmp/blue to leave host1 dockerd',
      async () => {
        const names = await dockerNetworks('host1');
        return names.includes('db/blue') && !names.includes('tmp/blue');
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.ok((await dockerNetworks('host1')).includes('mine'), "the user's own network stays");
    await lab(['docker', 'host1', '--', 'network', 'rm', 'mine']);
  });

  it('netloom-lab podman host1 -- run ... (the quickstart hint) runs: the runroot is short enough', async () => {
    const r = await lab(
      ['podman', 'host1', '--', 'run', '--rm', '--network', 'blue/db', 'netloom/busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'],
      true,
      90_000,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inet 10\.75\.2\.\d+\/24/);
    assert.doesNotMatch(r.stderr, /runroot is longer than 50/);
  });
});
