/**
 * podman 4.3 as a real CNI client of `bin/netloom-cni`: a private podman (its own root, runroot,
 * tmpdir and containers.conf under /tmp/nl-cni/) runs a busybox container on a CNI network whose
 * plugin is our shim, which talks to the handler (veth backend) served by this test. The container
 * must see the address the agent allocated, and `--rm` must DEL the attachment again.
 * podman 4.3's libcni knows CNI results up to 1.0.0, so this network says cniVersion 1.0.0.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from '../../../lib/exec';
import { listLinks } from '../../../deploy/lab/netns';
import {
  makeRootfs,
  netloomConflist,
  PODMAN_OUTSIDE,
  podmanContainersConf,
  podmanDirArgs,
  removePodmanOutside,
  unmountUnder,
} from '../../../deploy/lab/engines';
import { listenCni, type CniServer } from '../../../netplugin/cni/server';
import { VethBackend } from '../../../tools/veth-cni-backend';
import type { CniAddRequest } from '../../../netplugin/cni/types';

const BIN_DIR = resolve(__dirname, '../../../../bin');
const DIR = `/tmp/nl-cni/podman-${process.pid}`;
const NET = 'nlpodtest';

/** podman with all its state under DIR and our CNI network dir, laid out as a lab host's podman */
function podmanArgs(...args: string[]): string[] {
  return [...podmanDirArgs({ dir: DIR, conf: `${DIR}/containers.conf`, cniDir: `${DIR}/cni.d` }), ...args];
}

describe('podman 4.3 drives netloom-cni', function () {
  this.timeout(60_000);
  const backend = new VethBackend({ subnet: '10.78.0.0/24', hostPrefix: 'nlpm' });
  const adds: CniAddRequest[] = [];
  const realAdd = backend.add.bind(backend);
  backend.add = (req) => {
    adds.push(req);
    return realAdd(req);
  };
  let srv: CniServer | undefined;
  let preexisting: Set<string>;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, CONTAINERS_CONF: `${DIR}/containers.conf` });

  before(async function () {
    if ((await run('podman', ['--version'], { allowFailure: true })).code !== 0) this.skip();
    preexisting = new Set(PODMAN_OUTSIDE.filter((p) => existsSync(p)));
    for (const d of ['root', 'runroot', 'tmp', 'cni.d']) mkdirSync(`${DIR}/${d}`, { recursive: true });
    makeRootfs(DIR);
    writeFileSync(`${DIR}/containers.conf`, podmanContainersConf(BIN_DIR));
    writeFileSync(`${DIR}/cni.d/${NET}.conflist`, JSON.stringify(netloomConflist(NET, `${DIR}/agent.sock`, 't1', 'web')));
    srv = await listenCni(`${DIR}/agent.sock`, { backend });
    const tar = await run(
      'sh',
      ['-c', `tar -C ${DIR}/rootfs -c . | podman ${podmanArgs('import', '-', 'localhost/nl-cni/busybox').join(' ')}`],
      { env: env(), timeoutMs: 30_000 },
    );
    assert.match(tar.stdout, /sha256:|[0-9a-f]{12}/);
  });

  after(async function () {
    this.timeout(60_000);
    if (preexisting === undefined) return;
    await run('podman', podmanArgs('rm', '-af'), { env: env(), allowFailure: true, timeoutMs: 30_000 });
    for (const a of backend.list()) await run('ip', ['link', 'del', a.hostIf], { allowFailure: true });
    await srv?.close();
    await unmountUnder(DIR);
    rmSync(DIR, { recursive: true, force: true });
    // libcni's result cache of our network, then podman's dirs outside ours if this test made them
    if (existsSync('/var/lib/cni/results')) {
      for (const f of readdirSync('/var/lib/cni/results'))
        if (f.startsWith(`${NET}-`)) rmSync(`/var/lib/cni/results/${f}`, { force: true });
    }
    removePodmanOutside(PODMAN_OUTSIDE.filter((p) => !preexisting.has(p)));
  });

  it('runs a container with the address the agent allocated, and --rm releases it', async () => {
    const r = await run(
      'podman',
      podmanArgs('run', '--rm', '--network', NET, 'localhost/nl-cni/busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route'),
      { env: env(), allowFailure: true, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /eth0\s+inet 10\.78\.0\.2\/24/);
    assert.match(r.stdout, /default via 10\.78\.0\.1 dev eth0/);
    // --rm made podman call DEL through the shim: the attachment and its host end are gone
    assert.deepEqual(backend.list(), []);
    assert.deepEqual(
      (await listLinks()).filter((l) => l.startsWith('nlpm')),
      [],
    );
  });

  it('a second container after the first got the freed address again', async () => {
    const r = await run(
      'podman',
      podmanArgs('run', '--rm', '--network', NET, 'localhost/nl-cni/busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0'),
      { env: env(), allowFailure: true, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inet 10\.78\.0\.2\/24/);
    assert.deepEqual(backend.list(), []);
  });

  it('passes --ip, --mac-address and -p through runtimeConfig to the backend', async () => {
    adds.length = 0;
    const r = await run(
      'podman',
      podmanArgs(
        'run',
        '--rm',
        '--network',
        NET,
        '--ip',
        '10.78.0.77',
        '--mac-address',
        '02:42:0a:4e:00:4d',
        '-p',
        '127.0.0.1:18080:80',
        'localhost/nl-cni/busybox',
        'sh',
        '-c',
        'ip -o -4 addr show eth0; ip -o link show eth0',
      ),
      { env: env(), allowFailure: true, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inet 10\.78\.0\.77\/24/);
    assert.match(r.stdout, /link\/ether 02:42:0a:4e:00:4d/);
    assert.equal(adds.length, 1);
    const req = adds[0];
    assert.deepEqual(req?.requestedIps, [{ ip: '10.78.0.77' }]);
    assert.equal(req?.requestedMac, '02:42:0a:4e:00:4d');
    assert.deepEqual(req?.portMappings, [{ hostPort: 18080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' }]);
    assert.deepEqual(req?.network, { cniNetwork: NET, tenant: 't1', network: 'web' });
    assert.ok(req?.pod?.name, 'podman passes K8S_POD_NAME');
    assert.deepEqual(backend.list(), []);
  });
});
