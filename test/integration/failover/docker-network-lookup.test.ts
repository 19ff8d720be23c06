/**
 * `docker network create` on a lab host whose agent has no endpoint in the netloom network (the
 * network is not in its desired state): the CNM plugin looks the network up in netmaster
 * (LookupNetwork), so the create works at once; `docker run` in it gets an address of the
 * network and reaches a container on another host (ping, VXLAN). A network that does not exist
 * is refused at once with a message naming tenant and network (no 5 s wait). The CNM plugin's
 * state survives an agent restart: the Docker container keeps its traffic, new ones are plugged,
 * `docker rm` gives the endpoint back. Real dockerd, OVS, etcd and netmaster; lab `tdk` (2 hosts,
 * 1 netmaster).
 */
import { strict as assert } from 'node:assert';
import { planLab } from '../../../deploy/lab/plan';
import { pingOk } from '../../support/traffic';
import { labCli, netctlCli, netloomNetworkCreate } from '../../support/lab-cli';

const LAB = 'tdk';
const lab = labCli(LAB);

describe('docker network create on a host without an endpoint in the network (lab, real dockerd)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 1 });
  const nm = plan.netmasters[0]!.url;
  const netctl = netctlCli(nm);
  let c1 = '';

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true);
    await lab(['up', '--hosts', '2', '--etcd-members', '1', '--netmasters', '1']);
    await netctl(['tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.74.2.0/24', '-g', '10.74.2.254', 'vx']);
    // the only endpoint of blue/vx is on host1
    const r = await lab(['run', 'host1', 'c1', '--tenant', 'blue', '--network', 'vx']);
    c1 = r.stdout.trim().split('\t')[2] ?? '';
    assert.match(c1, /^10\.74\.2\.\d+$/);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it('creates the Docker network at once although host2 carries no endpoint of it', async () => {
    const blueVx = { tenant: 'blue', network: 'vx' };
    const t0 = Date.now();
    const r = await lab(['docker', 'host2', '--', ...netloomNetworkCreate('nlvx', { opts: blueVx, ipam: blueVx })], true);
    assert.equal(r.code, 0, `docker network create: ${r.stderr}`);
    assert.match(r.stdout, /^[0-9a-f]{12,64}\s*$/);
    // the first docker call starts dockerd; the create itself must not have waited 5 s per lookup
    const inspect = await lab([
      'docker',
      'host2',
      '--',
      'network',
      'inspect',
      'nlvx',
      '--format',
      '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}',
    ]);
    assert.equal(inspect.stdout.trim(), '10.74.2.0/24 10.74.2.254', "Docker got the netloom network's subnet and gateway");
    assert.ok(Date.now() - t0 < 30_000);
  });

  it('docker run in it gets an address of the network and reaches the container on host1', async () => {
    await lab(['docker', 'host2', '--', 'run', '-d', '--name', 'dk', '--network', 'nlvx', 'netloom/busybox', 'sleep', '300']);
    const dkIp = /inet (10\.74\.2\.\d+)\//.exec(
      (await lab(['docker', 'host2', '--', 'exec', 'dk', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout,
    )?.[1];
    assert.ok(dkIp, 'the Docker container has an address of blue/vx');
    assert.notEqual(dkIp, c1);
    let ok = false;
    for (let i = 0; i < 10 && !ok; i++)
      ok = (await lab(['docker', 'host2', '--', 'exec', 'dk', 'ping', '-c', '1', '-W', '1', c1], true)).code === 0;
    assert.ok(ok, 'docker (host2) -> c1 (host1) ping');
    assert.ok(await pingOk(`${plan.prefix}c-c1`, dkIp, 3), 'c1 (host1) -> docker (host2) ping');
  });

  it("host2's netplugin restarted: the Docker container keeps its traffic, docker run still works, docker rm releases its endpoint", async () => {
    const addrOf = async (name: string): Promise<string> => {
      const m = /inet (10\.74\.2\.\d+)\//.exec(
        (await lab(['docker', 'host2', '--', 'exec', name, 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).stdout,
      );
      return m?.[1] ?? assert.fail(`no address for ${name}`);
    };
    const host2Endpoints = async (): Promise<number> => {
      const eps = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Array<{ homingHost?: string }>;
      return eps.filter((e) => e.homingHost === 'host2').length;
    };
    await lab(['restart', 'host2', 'netplugin']);
    assert.ok(await pingOk(`${plan.prefix}c-c1`, await addrOf('dk'), 3), 'c1 (host1) -> dk (host2) after the restart');
    await lab(['docker', 'host2', '--', 'run', '-d', '--name', 'dk2', '--network', 'nlvx', 'netloom/busybox', 'sleep', '300']);
    assert.ok(await pingOk(`${plan.prefix}c-c1`, await addrOf('dk2'), 3), 'c1 (host1) -> dk2, made after the restart');
    const before = await host2Endpoints();
    assert.equal(before, 2, 'dk and dk2 are endpoints of host2 in netmaster');
    await lab(['docker', 'host2', '--', 'rm', '-f', 'dk2']);
    assert.equal(await host2Endpoints(), 1, "docker rm -f released dk2's endpoint");
  });

  it('a network that does not exist is refused at once, naming tenant and network', async () => {
    // through the network driver (Docker's own IPAM): Docker shows the driver's message
    let t0 = Date.now();
    const viaDriver = await lab(
      ['docker', 'host2', '--', ...netloomNetworkCreate('nlnope1', { opts: { tenant: 'blue', network: 'nope' }, subnet: '10.74.9.0/24' })],
      true,
    );
    assert.notEqual(viaDriver.code, 0);
    assert.match(viaDriver.stderr, /network 'nope' of tenant 'blue' does not exist/);
    assert.ok(Date.now() - t0 < 4000, `refused in ${Date.now() - t0} ms (no 5 s wait)`);
    // through netloom's IPAM (RequestPool fails first): Docker reads a remote IPAM error from the
    // field "Error", which the plugin fills, so the user sees our message
    t0 = Date.now();
    const blueNope2 = { tenant: 'blue', network: 'nope2' };
    const viaIpam = await lab(['docker', 'host2', '--', ...netloomNetworkCreate('nlnope2', { opts: blueNope2, ipam: blueNope2 })], true);
    assert.notEqual(viaIpam.code, 0);
    assert.ok(Date.now() - t0 < 4000, `refused in ${Date.now() - t0} ms (no 5 s wait)`);
    assert.match(viaIpam.stderr, /network 'nope2' of tenant 'blue' does not exist/);
    assert.doesNotMatch(viaIpam.stderr, /invalid CIDR/);
    const ls = await lab(['docker', 'host2', '--', 'network', 'ls', '--format', '{{.Name}}']);
    const names = ls.stdout.split('\n');
    assert.ok(!names.includes('nlnope1') && !names.includes('nlnope2'), 'no Docker network left');
  });
});
