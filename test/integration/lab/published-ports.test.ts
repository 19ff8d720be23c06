/**
 * Published ports on real components (issue 14 item 3): a lab of 2 hosts (OVS, netplugin,
 * netmaster), podman 4.3 through the CNI portMappings capability and dockerd 20.10 through the
 * CNM plugin's ProgramExternalConnectivity, each container running a small TCP server.
 * - `podman run -p` and `docker run -p` on host1: the agent records the ports with the endpoint,
 *   renders them as DNAT rules (nft table inet netloom), and the container's server answers on
 *   host1's address and host port from host2 and from the tor; on a VXLAN and a VLAN network.
 * - A port published on one host address answers there only.
 * - A second container asking for a host port that is taken is refused, naming the port.
 * - `netloom-lab run -p` passes portMappings through the real shim.
 * - `rm` takes the ports away: no rule, nothing answers.
 * - The agent killed (-9), a podman container removed meanwhile (its DEL fails; podman leaves its
 *   namespace and veth behind), the agent restarted: its DNAT rule is gone (the live container's
 *   stays and answers), and its host port is free again.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import type { LabStatus } from '../../../deploy/lab/lab';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { isAlive } from '../../../lib/process';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import type { EndpointRecord } from '../../../netplugin/agent/endpoint-store';
import { labCli, netctlCli, netloomNetworkCreate } from '../../support/lab-cli';

const LAB = 'tpub';
const lab = labCli(LAB);
const SUBNET = '10.74.2.0/24';
const VLAN_SUBNET = '10.74.3.0/24';
const NET = { tenant: 'blue', network: 'vx' };
const log = (msg: string) => console.log(`      [published-ports] ${msg}`);

describe('published ports in the lab (2 hosts; podman -p, docker -p)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1 });
  const netctl = netctlCli(plan.netmasters[0]!.url);

  /** host1's endpoint records as its agent persisted them */
  function records(host = 'host1'): EndpointRecord[] {
    try {
      return (JSON.parse(readFileSync(`${agentPaths(plan, host).stateDir}/endpoints.json`, 'utf8')) as { endpoints: EndpointRecord[] })
        .endpoints;
    } catch {
      return [];
    }
  }
  /** the host ports host1's records publish, sorted */
  const recordedPorts = (host = 'host1') =>
    records(host)
      .flatMap((r) => (r.portMappings ?? []).map((p) => p.hostPort))
      .sort();

  const host1Ip = plan.hosts[0]!.dataIp;
  /** where published ports are tried from: the other host and the tor */
  const clients = () => [
    { name: 'host2', netns: plan.hosts[1]!.netns },
    { name: 'tor', netns: plan.torNetns },
  ];

  /** What a TCP connection from `netns` to ip:port reads ('' when it fails). */
  async function tcpAsk(netns: string, ip: string, port: number): Promise<string> {
    const r = await run('nc', ['-w', '3', ip, String(port)], { netns, input: '', allowFailure: true, timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : '';
  }

  /** host1's nftables table inet netloom ('' when there is none) */
  async function nft(): Promise<string> {
    const r = await run('nft', ['list', 'table', 'inet', 'netloom'], { netns: plan.hosts[0]!.netns, allowFailure: true });
    return r.code === 0 ? r.stdout : '';
  }
  /** the DNAT rule of host port `port` in host1's table (undefined: none) */
  const dnatOf = (table: string, port: number, protocol = 'tcp'): string | undefined =>
    table.split('\n').find((l) => new RegExp(`\\b${protocol} dport ${port} .*dnat ip to 10\\.74\\.\\d+\\.\\d+:8080`).test(l));

  /** every client reads `pub-NAME` from host1's address on `port` (waiting for the rule to be applied) */
  async function reachable(port: number, name: string): Promise<void> {
    for (const c of clients()) {
      const got = await waitFor(
        `${name} on ${host1Ip}:${port} from ${c.name}`,
        async () => (await tcpAsk(c.netns, host1Ip, port)) || undefined,
        {
          timeoutMs: 20_000,
          intervalMs: 200,
        },
      );
      assert.equal(got, `pub-${name}`, `${c.name} reaches ${name} on host1's port ${port}`);
    }
  }

  /** no client gets an answer on host1's `port` */
  async function unreachable(port: number): Promise<void> {
    for (const c of clients()) assert.equal(await tcpAsk(c.netns, host1Ip, port), '', `${c.name}: nothing answers on host1's port ${port}`);
  }

  /** a container of `engine` on host1 serving `pub-NAME` on TCP 8080, published as `spec`, on `network` (the VXLAN one by default) */
  async function serve(
    engine: 'podman' | 'docker',
    name: string,
    spec: string,
    allowFailure = false,
    network = engine === 'podman' ? `${NET.tenant}/${NET.network}` : 'nlvx',
  ) {
    return lab(
      [
        engine,
        'host1',
        '--',
        'run',
        '-d',
        '--name',
        name,
        '-p',
        spec,
        '--network',
        network,
        'netloom/busybox',
        'nc',
        '-ll',
        '-p',
        '8080',
        '-e',
        'echo',
        `pub-${name}`,
      ],
      allowFailure,
    );
  }

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2']);
    await netctl(['tenant', 'create', NET.tenant]);
    await netctl(['net', 'create', '-t', NET.tenant, '-e', 'vxlan', '-s', SUBNET, '-g', '10.74.2.254', NET.network]);
    await netctl(['net', 'create', '-t', NET.tenant, '-e', 'vlan', '-p', '274', '-s', VLAN_SUBNET, '-g', '10.74.3.254', 'vl']);
    await lab(['docker', 'host1', '--', ...netloomNetworkCreate('nlvx', { opts: NET, ipam: NET, subnet: SUBNET })]);
  });
  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it("podman run -p on host1 (CNI portMappings): recorded, a DNAT rule, reachable from host2 and the tor on host1's address", async () => {
    await serve('podman', 'pm1', '18080:8080');
    assert.deepEqual(recordedPorts(), [18080]);
    const rec = records().find((r) => r.portMappings?.length);
    assert.deepEqual(rec?.portMappings, [{ hostIp: '', hostPort: 18080, containerPort: 8080, protocol: 'tcp' }]);
    await reachable(18080, 'pm1');
    assert.match(dnatOf(await nft(), 18080) ?? '', new RegExp(`dnat ip to ${rec?.ip.replace(/\./g, '\\.')}:8080`));
  });

  it('the same on a VLAN network (podman -p), reachable from host2 and the tor', async () => {
    await serve('podman', 'pmv', '18086:8080', false, `${NET.tenant}/vl`);
    await reachable(18086, 'pmv');
    assert.match(dnatOf(await nft(), 18086) ?? '', /dnat ip to 10\.74\.3\.\d+:8080/);
    await lab(['podman', 'host1', '--', 'rm', '-f', '-t', '0', 'pmv']);
    await waitFor('its rule gone', async () => (/dport 18086 /.test(await nft()) ? undefined : true), { timeoutMs: 10_000 });
  });

  it('a second container asking for a host port that is taken is refused, naming the port', async () => {
    const r = await serve('podman', 'pm2', '18080:8080', true);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /runtimeConfig\.portMappings\[0\]: host port \*:18080\/tcp is already published on this host by endpoint/);
    const d = await serve('docker', 'dk2', '18080:8080', true);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /Options\.com\.docker\.network\.portmap\.0\.HostPort: host port \*:18080\/tcp is already published/);
    await lab(['podman', 'host1', '--', 'rm', '-f', 'pm2'], true);
    await lab(['docker', 'host1', '--', 'rm', '-f', 'dk2'], true);
    assert.deepEqual(recordedPorts(), [18080], 'the refused containers left nothing');
  });

  it("docker run -p on host1 (ProgramExternalConnectivity): recorded, reachable from host2 and the tor on host1's address", async () => {
    await serve('docker', 'dk1', '18081:8080');
    await waitFor('dk1 published', () => recordedPorts().includes(18081), { timeoutMs: 10_000 });
    assert.deepEqual(recordedPorts(), [18080, 18081]);
    await reachable(18081, 'dk1');
    await reachable(18080, 'pm1');
  });

  it('netloom-lab run -p hands CNI portMappings to the shim (a UDP DNAT rule)', async () => {
    await lab(['run', 'host1', 'r1', '--tenant', NET.tenant, '--network', NET.network, '-p', '18084:8080/udp']);
    const rec = records().find((r) => r.containerId.endsWith('-r1'));
    assert.deepEqual(rec?.portMappings, [{ hostIp: '', hostPort: 18084, containerPort: 8080, protocol: 'udp' }]);
    await waitFor('the UDP rule', async () => dnatOf(await nft(), 18084, 'udp'), { timeoutMs: 10_000 });
  });

  it('rm takes the ports away (podman: CNI DEL; docker: Revoke, Leave, DeleteEndpoint; lab rm: CNI DEL)', async () => {
    await lab(['podman', 'host1', '--', 'rm', '-f', '-t', '0', 'pm1']);
    await lab(['docker', 'host1', '--', 'rm', '-f', 'dk1']);
    await lab(['rm', 'r1']);
    await waitFor('no published port left', () => recordedPorts().length === 0, { timeoutMs: 10_000 });
    await waitFor('no DNAT rule left', async () => !/dnat ip to/.test(await nft()), { timeoutMs: 10_000 });
    await unreachable(18080);
    await unreachable(18081);
  });

  it('agent killed (-9), a container removed meanwhile, agent restarted: no stale DNAT rule, its port free, the other kept', async function () {
    this.timeout(180_000);
    await serve('podman', 'pm3', '18082:8080');
    await serve('docker', 'dk3', '18083:8080');
    await waitFor('both published', () => recordedPorts().length === 2, { timeoutMs: 10_000 });
    await reachable(18082, 'pm3');
    await reachable(18083, 'dk3');
    const status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    const pid = status.hosts.find((h) => h.name === 'host1')?.agent?.pid;
    assert.ok(pid, 'host1 runs its agent');
    process.kill(pid, 'SIGKILL');
    await waitFor('the agent gone', () => !isAlive(pid), { timeoutMs: 10_000 });
    // the CNI DEL cannot reach the agent: podman removes the container anyway, the record stays
    const rm = await lab(['podman', 'host1', '--', 'rm', '-f', '-t', '0', 'pm3'], true);
    log(`podman rm with the agent down: exit ${rm.code}; ${rm.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    assert.equal((await lab(['podman', 'host1', '--', 'container', 'exists', 'pm3'], true)).code, 1, 'pm3 is gone');
    assert.ok(dnatOf(await nft(), 18082), 'the kernel keeps the rules while the agent is down');
    await lab(['restart', 'host1', 'netplugin']);
    await waitFor('the stale rule gone', async () => (dnatOf(await nft(), 18082) ? undefined : true), { timeoutMs: 20_000 });
    const table = await nft();
    assert.ok(dnatOf(table, 18083), `the live container's rule stays:\n${table}`);
    assert.equal(table.match(/dnat ip to/g)?.length, 2, 'one DNAT rule (prerouting and output) per live port, nothing else');
    await reachable(18083, 'dk3');
    await unreachable(18082);
    assert.ok(
      records().some((r) => r.portMappings?.some((p) => p.hostPort === 18082)),
      "the removed container's record is still there (its DEL never arrived)",
    );
    // ... yet it holds nothing: a new container gets the port
    await serve('podman', 'pm4', '18082:8080');
    await waitFor('pm4 recorded', () => records().filter((r) => r.portMappings?.some((p) => p.hostPort === 18082)).length === 2, {
      timeoutMs: 10_000,
    });
    await reachable(18082, 'pm4');
  });

  it('a port published on one host address (-p HOSTIP:...) answers there only', async () => {
    const mgmtIp = plan.hosts[0]!.mgmtIp;
    await serve('podman', 'pm5', `${host1Ip}:18085:8080`);
    await reachable(18085, 'pm5');
    assert.match(dnatOf(await nft(), 18085) ?? '', new RegExp(`ip daddr ${host1Ip.replace(/\./g, '\\.')} `));
    assert.equal(await tcpAsk(plan.hosts[1]!.netns, mgmtIp, 18085), '', "not on host1's management address");
    await lab(['podman', 'host1', '--', 'rm', '-f', '-t', '0', 'pm5']);
  });

  it('agent killed (-9), a Docker container removed meanwhile, agent restarted: no stale DNAT rule', async function () {
    this.timeout(180_000);
    await reachable(18083, 'dk3');
    const status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    const pid = status.hosts.find((h) => h.name === 'host1')?.agent?.pid;
    assert.ok(pid, 'host1 runs its agent');
    process.kill(pid, 'SIGKILL');
    await waitFor('the agent gone', () => !isAlive(pid), { timeoutMs: 10_000 });
    const rm = await lab(['docker', 'host1', '--', 'rm', '-f', 'dk3'], true, 120_000);
    log(`docker rm with the agent down: exit ${rm.code}; ${rm.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    assert.ok(dnatOf(await nft(), 18083), 'the kernel keeps the rule while the agent is down');
    await lab(['restart', 'host1', 'netplugin']);
    await waitFor('the stale rule gone', async () => (dnatOf(await nft(), 18083) ? undefined : true), { timeoutMs: 20_000 });
    await unreachable(18083);
    await reachable(18082, 'pm4');
  });
});
