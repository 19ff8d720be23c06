/**
 * The CNM plugin against the real Docker engine (dockerd 20.10 in its own mount namespace): network
 * create with netloom options, containers getting addresses from the backend with their interface
 * up, two containers pinging each other over the test backend's veths and bridge, restarting the
 * plugin and dockerd without losing networks, a clear error for a bad option, and `network rm`.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { RunningCnmPlugin, startCnmPlugin } from '../../../netplugin/cnm/index';
import type { CnmPlugin } from '../../../netplugin/cnm/plugin';
import type { CnmState } from '../../../netplugin/cnm/state';
import { PrivateDockerd, TEST_IMAGE } from './private-dockerd';
import { bridgeName, LINK_PREFIX, VethTestBackend } from './veth-backend';
import { run } from '../../../lib/exec';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { CleanupSteps } from '../../support/cleanup-steps';
import { netloomNetworkCreate } from '../../support/lab-cli';

const BASE = '/tmp/nl-cnm';

async function nlcLinks(netns: string): Promise<string[]> {
  const out = (await run('ip', ['-n', netns, '-o', 'link', 'show'])).stdout;
  return out
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => n.startsWith(LINK_PREFIX));
}

describe('CNM plugin with the real Docker engine', function () {
  this.timeout(120_000);
  let dir: string;
  // dockerd runs in a namespace of ours, so that no test interface ever shows in the root namespace
  const netns = `cnm${process.pid.toString(36)}`;
  let dockerd: PrivateDockerd;
  let backend: VethTestBackend;
  let server: RunningCnmPlugin | undefined;
  let statePath: string;
  let networkId = '';
  const timings: Record<string, number> = {};

  async function startPlugin(): Promise<CnmPlugin> {
    server = await startCnmPlugin({ backend, statePath, socketPath: dockerd.pluginSocket('netloom') });
    return server.plugin;
  }

  function savedState(): CnmState {
    return JSON.parse(readFileSync(statePath, 'utf8')) as CnmState;
  }

  async function runContainer(name: string, opts: { network?: string; extra?: string[] } = {}): Promise<string> {
    const t0 = process.hrtime.bigint();
    await dockerd.docker([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      opts.network ?? 'nl1',
      ...(opts.extra ?? []),
      TEST_IMAGE,
      'sleep',
      '600',
    ]);
    timings[name] = Number(process.hrtime.bigint() - t0) / 1e6;
    return containerAddress(name);
  }

  async function containerAddress(name: string): Promise<string> {
    const out = (await dockerd.docker(['exec', name, 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout;
    const m = /inet (\d+\.\d+\.\d+\.\d+)\/24/.exec(out);
    assert.ok(m, `${name} has an IPv4 /24 on eth0: ${out}`);
    return m[1]!;
  }

  async function ping(from: string, to: string): Promise<boolean> {
    const r = await dockerd.docker(['exec', from, 'ping', '-c', '2', '-W', '2', '-i', '0.2', to], true, 20_000);
    return r.code === 0 && /2 packets received/.test(r.stdout);
  }

  async function removeAllContainers(): Promise<void> {
    const ids = (await dockerd.docker(['ps', '-aq'], true)).stdout.split('\n').filter((s) => s !== '');
    if (ids.length > 0) await dockerd.docker(['rm', '-f', ...ids], true);
  }

  before(async function () {
    mkdirSync(BASE, { recursive: true });
    dir = mkdtempSync(join(BASE, 'docker-'));
    statePath = join(dir, 'state', 'cnm-state.json');
    await addNetns(netns);
    dockerd = new PrivateDockerd(dir, netns);
    backend = new VethTestBackend(netns);
    await startPlugin();
    await dockerd.start();
    await dockerd.importBusybox();
  });

  after(async function () {
    this.timeout(90_000);
    const steps = new CleanupSteps();
    if (dockerd?.pid !== undefined) {
      await steps.attempt('remove containers', removeAllContainers);
      await steps.attempt('remove networks', () => dockerd.docker(['network', 'rm', 'nl1', 'nl2', 'nl3', 'nl-ta', 'nl-tb'], true));
    }
    await steps.attempt('stop dockerd', () => dockerd.stop());
    await steps.attempt('stop plugin', async () => server?.stop());
    if (dockerd && steps.failed) console.log(dockerd.log().split('\n').slice(-30).join('\n'));
    await steps.attempt('remove links', () => backend.cleanup());
    await steps.attempt('remove netns', () => delNetns(netns));
    await steps.attempt('remove dir', () => dockerd.removeDir());
    if (Object.keys(timings).length > 0) console.log(`      docker run -d on a netloom network (ms): ${JSON.stringify(timings)}`);
    steps.throwIfFailed();
  });

  it('creates a network whose options map to the netloom tenant/network', async () => {
    const r = await dockerd.docker(
      netloomNetworkCreate('nl1', { opts: { tenant: 't1', network: 'n1' }, ipam: {}, subnet: '10.55.0.0/24' }),
    );
    networkId = r.stdout.trim();
    const created = backend.calls.find((c) => c.op === 'createNetwork');
    assert.ok(created, 'backend.createNetwork was called');
    assert.deepEqual(created.arg, {
      dockerNetworkId: networkId,
      binding: { tenant: 't1', network: 'n1' },
      subnet: '10.55.0.0/24',
      gateway: '10.55.0.1',
      auxAddresses: {},
    });
    const st = savedState();
    assert.deepEqual(st.networks[networkId]?.binding, { tenant: 't1', network: 'n1' });
    const pool = Object.values(st.pools)[0];
    assert.equal(pool?.subnet, '10.55.0.0/24');
    assert.equal(pool?.dockerNetworkId, networkId);
    const inspect = JSON.parse((await dockerd.docker(['network', 'inspect', 'nl1'])).stdout) as Array<{ Driver: string; Scope: string }>;
    assert.equal(inspect[0]?.Driver, 'netloom');
  });

  it('gives a container an address from the backend with its interface up, and no docker_gwbridge', async () => {
    const ip = await runContainer('c1');
    assert.equal(ip, '10.55.0.2');
    const alloc = backend.calls.find((c) => c.op === 'allocateAddress');
    assert.deepEqual((alloc?.arg as { pool: unknown }).pool, { tenant: 't1', network: 'n1', subnet: '10.55.0.0/24' });
    const link = (await dockerd.docker(['exec', 'c1', 'ip', 'link', 'show', 'eth0'])).stdout;
    assert.match(link, /[<,]UP[,>]/, link);
    assert.match(link, /02:02:0a:37:00:02/, 'MAC from the backend');
    const links = (await dockerd.docker(['exec', 'c1', 'ip', '-o', 'link'])).stdout;
    assert.deepEqual(
      links
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (l.split(': ')[1] ?? '').split('@')[0]),
      ['lo', 'eth0'],
      'only lo and eth0 in the container (no gateway-bridge interface)',
    );
    const nets = (await dockerd.docker(['network', 'ls', '--format', '{{.Name}}'])).stdout;
    assert.doesNotMatch(nets, /docker_gwbridge/);
    const ep = Object.values(savedState().endpoints)[0];
    assert.equal(ep?.address, '10.55.0.2/24');
    assert.ok(ep?.joined?.hostIfName?.startsWith(LINK_PREFIX), 'host side of the veth recorded');
  });

  it('lets two containers on the network ping each other', async () => {
    const ip2 = await runContainer('c2');
    assert.equal(ip2, '10.55.0.3');
    assert.ok(await ping('c1', ip2), 'c1 -> c2');
    assert.ok(await ping('c2', '10.55.0.2'), 'c2 -> c1');
  });

  it('refuses DeleteNetwork and ReleasePool sent to its socket while containers are attached; they keep talking', async () => {
    const call = (method: string, body: unknown): Promise<{ status: number; body: { Err?: string } }> =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath: dockerd.pluginSocket('netloom'), path: `/${method}`, method: 'POST', agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { Err?: string } }));
        });
        req.on('error', reject);
        req.end(JSON.stringify(body));
      });
    const pool = Object.values(savedState().pools).find((p) => p.dockerNetworkId === networkId);
    assert.ok(pool, 'the network has its pool');
    const del = await call('NetworkDriver.DeleteNetwork', { NetworkID: networkId });
    assert.match(
      del.body.Err ?? '',
      new RegExp(`DeleteNetwork: NetworkID: network ${networkId.slice(0, 12)} is in use: endpoints .*\\(joined\\)`),
    );
    const rel = await call('IpamDriver.ReleasePool', { PoolID: pool.poolId });
    assert.match(
      rel.body.Err ?? '',
      /ReleasePool: PoolID: pool 10.55.0.0\/24 is in use: endpoint addresses 10.55.0.2, 10.55.0.3 still allocated/,
    );
    assert.ok(!backend.calls.some((c) => c.op === 'deleteNetwork'), 'nothing was torn down');
    assert.ok(await ping('c1', '10.55.0.3'), 'c1 -> c2 still');
  });

  it('honours docker run --ip through the backend', async () => {
    const ip = await runContainer('cip', { extra: ['--ip', '10.55.0.50'] });
    assert.equal(ip, '10.55.0.50');
    const alloc = backend.calls.filter((c) => c.op === 'allocateAddress').pop();
    assert.equal((alloc?.arg as { preferred?: string }).preferred, '10.55.0.50');
    assert.ok(await ping('cip', '10.55.0.2'), 'cip -> c1');
    await dockerd.docker(['rm', '-f', 'cip']);
    assert.ok(
      backend.calls.some((c) => c.op === 'releaseAddress' && (c.arg as { address: string }).address === '10.55.0.50'),
      'address released',
    );
  });

  it('hands docker run -p to ProgramExternalConnectivity (kept in the state file); rm revokes; refuses what netloom cannot publish', async () => {
    backend.joinGateway = '10.55.0.1';
    try {
      await runContainer('cpub', { extra: ['-p', '18080:80', '-p', '127.0.0.1:15353:53/udp'] });
      const programs = backend.calls.filter((c) => c.op === 'programExternalConnectivity');
      assert.equal(programs.length, 1, JSON.stringify(programs));
      const arg = programs[0]?.arg as { endpointId: string; ports: unknown };
      const want = [
        { hostIp: '', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 15353, containerPort: 53, protocol: 'udp' },
      ];
      assert.deepEqual(
        [...(arg.ports as Array<{ hostPort: number }>)].sort((a, b) => a.hostPort - b.hostPort),
        [...want].sort((a, b) => a.hostPort - b.hostPort),
      );
      assert.deepEqual(savedState().endpoints[arg.endpointId]?.ports, arg.ports, 'recorded in the state file');
      await dockerd.docker(['rm', '-f', 'cpub']);
      const revoke = backend.calls.find((c) => c.op === 'revokeExternalConnectivity');
      assert.equal((revoke?.arg as { endpointId?: string } | undefined)?.endpointId, arg.endpointId, 'rm revokes the ports');
      assert.equal(savedState().endpoints[arg.endpointId], undefined);

      const range = await dockerd.docker(
        ['run', '-d', '--name', 'crange', '--network', 'nl1', '-p', '18000-18010:80', TEST_IMAGE, 'sleep', '60'],
        true,
      );
      assert.notEqual(range.code, 0);
      assert.match(
        range.stderr,
        /ProgramExternalConnectivity: Options\.com\.docker\.network\.portmap\.0\.HostPortEnd: a range of host ports/,
      );
      const sctp = await dockerd.docker(
        ['run', '-d', '--name', 'csctp', '--network', 'nl1', '-p', '18001:80/sctp', TEST_IMAGE, 'sleep', '60'],
        true,
      );
      assert.notEqual(sctp.code, 0);
      assert.match(sctp.stderr, /portmap\.0\.Proto: sctp cannot be published by netloom/);
    } finally {
      backend.joinGateway = undefined;
      await dockerd.docker(['rm', '-f', 'cpub', 'crange', 'csctp'], true);
    }
  });

  it('keeps working across a plugin restart (state reloaded from the file)', async () => {
    await server!.stop();
    const plugin = await startPlugin();
    assert.deepEqual(plugin.snapshot(), savedState(), 'the new server loaded the saved state');
    const held = Object.values(savedState().pools).flatMap((p) =>
      Object.entries(p.addresses)
        .filter(([, holder]) => holder !== 'aux')
        .map(([a]) => a),
    );
    const ip3 = await runContainer('c3');
    // the newest released address comes first (cip's .50, a restarted container's own): any free one is right
    assert.ok(!held.includes(ip3), `no address handed out twice: ${ip3} is not one of ${held.join(' ')}`);
    assert.equal(ip3, '10.55.0.50', 'the most recently released one');
    assert.ok(await ping('c3', '10.55.0.2'), 'c3 -> c1');
  });

  it('keeps its networks across a dockerd restart; a --restart always container comes back and reaches a new one', async () => {
    await removeAllContainers();
    assert.deepEqual(Object.keys(savedState().endpoints), [], 'endpoints deleted with their containers');
    assert.deepEqual(await nlcLinks(netns), [bridgeName(networkId)], 'no veth left after the containers went');
    await runContainer('cr', { extra: ['--restart', 'always', '--stop-timeout', '1'] });
    await dockerd.stop();
    assert.deepEqual(Object.keys(savedState().endpoints), [], 'dockerd stopping the container left no endpoint');
    await dockerd.start();
    const nets = (await dockerd.docker(['network', 'ls', '--filter', 'driver=netloom', '--format', '{{.ID}} {{.Name}}'])).stdout.trim();
    assert.equal(nets, `${networkId.slice(0, 12)} nl1`);
    assert.deepEqual(Object.keys(savedState().networks), [networkId], 'plugin state still has the network');
    const t0 = Date.now();
    let running = '';
    while (Date.now() - t0 < 20_000 && running !== 'true') {
      running = (await dockerd.docker(['inspect', '-f', '{{.State.Running}}', 'cr'], true)).stdout.trim();
      if (running !== 'true') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(running, 'true', 'the --restart always container runs again');
    const back = await containerAddress('cr');
    const fresh = await runContainer('c4');
    assert.notEqual(back, fresh);
    assert.ok(await ping('c4', back), `c4 -> cr (${fresh} -> ${back})`);
  });

  it("also works with Docker's default IPAM (addresses from Docker, plumbing from netloom)", async () => {
    await dockerd.docker(netloomNetworkCreate('nl3', { opts: { tenant: 't1', network: 'n3' }, subnet: '10.57.0.0/24' }));
    const allocsBefore = backend.calls.filter((c) => c.op === 'allocateAddress').length;
    const a = await runContainer('d1', { network: 'nl3' });
    const b = await runContainer('d2', { network: 'nl3' });
    assert.deepEqual([a, b], ['10.57.0.2', '10.57.0.3']);
    assert.equal(backend.calls.filter((c) => c.op === 'allocateAddress').length, allocsBefore, 'netloom IPAM not involved');
    assert.ok(await ping('d1', b), 'd1 -> d2');
    await dockerd.docker(['rm', '-f', 'd1', 'd2']);
    await dockerd.docker(['network', 'rm', 'nl3']);
    assert.equal(Object.keys(savedState().networks).length, 1);
  });

  it('gives two tenants the same subnet when the IPAM options name the tenant', async () => {
    const ids: string[] = [];
    for (const t of ['ta', 'tb']) {
      const r = await dockerd.docker(
        netloomNetworkCreate(`nl-${t}`, { opts: { tenant: t, network: 'web' }, ipam: { tenant: t }, subnet: '10.60.0.0/24' }),
      );
      ids.push(r.stdout.trim());
    }
    const st = savedState();
    assert.deepEqual(
      ids.map((id) => st.networks[id]?.binding),
      [
        { tenant: 'ta', network: 'web' },
        { tenant: 'tb', network: 'web' },
      ],
    );
    assert.notEqual(st.networks[ids[0]!]?.poolId, st.networks[ids[1]!]?.poolId, 'one pool per tenant');
    assert.equal(await runContainer('ta1', { network: 'nl-ta' }), '10.60.0.2');
    assert.equal(await runContainer('tb1', { network: 'nl-tb' }), '10.60.0.2', 'same address, other tenant');
    await dockerd.docker(['rm', '-f', 'ta1', 'tb1']);
    await dockerd.docker(['network', 'rm', 'nl-ta', 'nl-tb']);
    assert.equal(Object.keys(savedState().pools).length, 1, "only nl1's pool left");
  });

  it('refuses an unknown driver option with an error naming it, and leaks no pool', async () => {
    const poolsBefore = Object.keys(savedState().pools).length;
    const r = await dockerd.docker(netloomNetworkCreate('nl2', { opts: { bogus: '1' }, ipam: {}, subnet: '10.56.0.0/24' }), true);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown option "bogus"/);
    assert.equal(Object.keys(savedState().pools).length, poolsBefore, 'Docker released the pool after the failure');
  });

  it('removes the network and everything under it on docker network rm', async () => {
    await removeAllContainers();
    await dockerd.docker(['network', 'rm', 'nl1']);
    assert.ok(backend.calls.some((c) => c.op === 'deleteNetwork' && (c.arg as { dockerNetworkId: string }).dockerNetworkId === networkId));
    const st = savedState();
    assert.deepEqual(st.networks, {});
    assert.deepEqual(st.pools, {});
    assert.deepEqual(st.endpoints, {});
    assert.deepEqual(await nlcLinks(netns), []);
  });
});
