/**
 * Many CNI ADDs and DELs at once through one real agent (lab `tcc`: 2 hosts, netmaster, etcd, OVS):
 * the ADD's overlapped parts, the agent's shell workers and its background record writes hold up
 * under concurrency. 12 containers started at once on host1 get 12 distinct addresses, 12 ports on
 * br-int and 12 endpoints in netmaster, and each answers a container on host2 (VXLAN); 12 removed
 * at once leave no port, no veth and no endpoint behind, and the agent's record file is empty. An
 * ADD that netmaster refuses while the veth and port are being made undoes them.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { pingOk } from '../../support/traffic';
import { BIN, labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tcc';
const N = 12;
const lab = labCli(LAB);

describe(`${N} CNI ADDs and DELs at once through one agent (lab)`, function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 1 });
  const nm = plan.netmasters[0]!.url;
  const names = Array.from({ length: N }, (_, i) => `k${i}`);
  const ips = new Map<string, string>();
  const host1Ports = async (): Promise<string[]> =>
    (await lab(['exec', 'host1', '--', 'ovs-vsctl', 'list-ports', 'br-int'])).stdout.split('\n').filter((p) => /^nl[0-9a-f]{11}$/.test(p));
  const host1Veths = async (): Promise<string[]> =>
    [...(await run('ip', ['-o', 'link', 'show'], { netns: plan.hosts[0]!.netns })).stdout.matchAll(/^\d+: (nl[0-9a-f]{11})@/gm)].map(
      (m) => m[1] as string,
    );
  const host1Endpoints = async (): Promise<number> =>
    (
      JSON.parse((await run(`${BIN}/netctl`, ['--netmaster', nm, 'endpoint', 'ls', '-o', 'json'])).stdout) as Array<{ homingHost?: string }>
    ).filter((e) => e.homingHost === 'host1').length;

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true);
    await lab(['up', '--hosts', '2', '--etcd-members', '1', '--netmasters', '1']);
    const netctl = netctlCli(nm);
    await netctl(['tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.76.2.0/24', '-g', '10.76.2.254', 'vx']);
    const r = await lab(['run', 'host2', 'peer', '--tenant', 'blue', '--network', 'vx']);
    ips.set('peer', r.stdout.trim().split('\t')[2] ?? '');
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it(`${N} containers started at once: distinct addresses, ports, endpoints, all reachable`, async () => {
    const rs = await Promise.all(names.map((n) => lab(['run', 'host1', n, '--tenant', 'blue', '--network', 'vx'], true)));
    rs.forEach((r, i) => assert.equal(r.code, 0, `${names[i]}: ${r.stdout}${r.stderr}`));
    rs.forEach((r, i) => ips.set(names[i] as string, r.stdout.trim().split('\t')[2] ?? ''));
    const addrs = names.map((n) => ips.get(n) ?? '');
    assert.ok(
      addrs.every((a) => /^10\.76\.2\.\d+$/.test(a)),
      addrs.join(' '),
    );
    assert.equal(new Set(addrs).size, N, 'distinct addresses');
    assert.equal((await host1Ports()).length, N, 'one br-int port each');
    assert.equal(await host1Endpoints(), N, 'one netmaster endpoint each');
    const reach = await Promise.all(names.map((n) => pingOk(`${plan.prefix}c-peer`, ips.get(n) ?? '', 3)));
    assert.deepEqual(
      names.filter((_, i) => !reach[i]),
      [],
      'every container answers the peer on host2',
    );
  });

  it(`${N} removed at once: no port, veth, endpoint or record left`, async () => {
    const rs = await Promise.all(names.map((n) => lab(['rm', n], true)));
    rs.forEach((r, i) => assert.equal(r.code, 0, `${names[i]}: ${r.stdout}${r.stderr}`));
    assert.deepEqual(await host1Ports(), []);
    assert.deepEqual(await host1Veths(), []);
    assert.equal(await host1Endpoints(), 0);
    const records = JSON.parse(readFileSync(`${agentPaths(plan, 'host1').stateDir}/endpoints.json`, 'utf8')) as { endpoints: unknown[] };
    assert.deepEqual(records.endpoints, []);
  });

  it('an ADD netmaster refuses (address outside the subnet), made while the veth and port are under way, leaves nothing', async () => {
    const r = await lab(['run', 'host1', 'bad', '--tenant', 'blue', '--network', 'vx', '--ip', '10.99.9.9'], true);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /10\.99\.9\.9.*not an address of/);
    assert.deepEqual(await host1Ports(), [], 'the port made meanwhile is gone');
    assert.deepEqual(await host1Veths(), [], 'the veth made meanwhile is gone');
    assert.equal(await host1Endpoints(), 0);
  });
});
