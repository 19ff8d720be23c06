/**
 * Egress and host access through the tenants' gateway ports (netplugin/hostnet, docs/hostnet.md),
 * on a lab of 2 hosts (real OVS, netmaster, netplugin, CNI, nftables in each host's namespace):
 * - two tenants with the SAME subnet and addresses on both hosts (VXLAN), and a VLAN network,
 *   each reach a TCP server in the lab's `tor` namespace, which sees the host's data address;
 * - the tenants still cannot reach each other, not even through the host's kernel;
 * - a `-d out` deny rule naming the tor's address holds;
 * - the host reaches a local endpoint (ping and TCP); an endpoint reaches a server bound on its host;
 * - an agent killed with SIGKILL and started again leaves the nftables table, rules and routes as
 *   they were, and removes stale ones; after a tenant's last endpoint on a host goes, its gateway
 *   port, rules and routes are gone.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { planLab } from '../../../deploy/lab/plan';
import type { LabStatus } from '../../../deploy/lab/lab';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { labCli, netctlCli } from '../../support/lab-cli';

const LAB = 'tegr';
const lab = labCli(LAB);
const PORT = { tor: 26471, host: 26472, ctr: 26473 };

/** A TCP server in `netns` on host:port that answers every connection with `<tag> <peer address>` and closes. */
function tcpServer(netns: string, host: string, port: number, tag: string): ChildProcess {
  const script =
    "const [h,p,t]=process.argv.slice(1);require('net').createServer(s=>s.end(t+' '+s.remoteAddress.replace(/^::ffff:/,'')+'\\n')).listen(+p,h)";
  return spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, host, String(port), tag], { stdio: 'ignore' });
}

describe('egress and host access through tenant gateway ports (lab: 2 hosts)', function () {
  this.timeout(60_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1 });
  const netctl = netctlCli(plan.netmasters[0]!.url);
  const ctrNs = (c: string) => `${plan.prefix}c-${c}`;
  const hostNs = (h: string) => plan.hosts.find((x) => x.name === h)!.netns;
  const hostIp = (h: string) => plan.hosts.find((x) => x.name === h)!.dataIp;
  const servers: ChildProcess[] = [];
  let status: LabStatus;

  /** What a TCP connection from `netns` to ip:port reads ('' when it fails). */
  async function tcpAsk(netns: string, ip: string, port: number, extra: string[] = []): Promise<string> {
    const r = await run('nc', ['-w', '3', ...extra, ip, String(port)], { netns, input: '', allowFailure: true, timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : '';
  }

  async function ping(netns: string, ip: string, extra: string[] = []): Promise<boolean> {
    const r = await run('ping', ['-c', '1', '-W', '1', '-q', ...extra, ip], { netns, allowFailure: true, timeoutMs: 10_000 });
    return r.code === 0;
  }

  async function runCtr(host: string, name: string, tenant: string, network: string, ip: string, group?: string): Promise<void> {
    const r = await lab(['run', host, name, '--tenant', tenant, '--network', network, ...(group ? ['--group', group] : []), '--ip', ip]);
    assert.equal(r.stdout.trim().split('\t')[2], ip, `${name} got its address`);
  }

  /** The host's netloom kernel state: the nftables table, netloom's rules and routes. */
  async function kernelState(host: string): Promise<{ nft: string; rules: string; routes: string }> {
    const netns = hostNs(host);
    const nft = await run('nft', ['list', 'table', 'inet', 'netloom'], { netns, allowFailure: true });
    const rules = await run('ip', ['rule', 'show'], { netns });
    const routes = await run('ip', ['route', 'show', 'table', 'all', 'proto', '77'], { netns });
    return {
      nft: nft.code === 0 ? nft.stdout : '',
      rules: rules.stdout
        .split('\n')
        .filter((l) => /^91\d\d:/.test(l))
        .join('\n'),
      routes: routes.stdout,
    };
  }

  async function gatewayPorts(host: string): Promise<string[]> {
    const r = await lab(['exec', host, '--', 'ovs-vsctl', 'list-ports', 'br-int']);
    return r.stdout.split('\n').filter((p) => p.startsWith('nlgw'));
  }

  before(async function () {
    this.timeout(240_000);
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', '2']);
    status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    for (const t of ['ta', 'tb', 'tc', 'td']) await netctl(['tenant', 'create', t]);
    await netctl(['net', 'create', '-t', 'ta', '-e', 'vxlan', '-s', '10.50.1.0/24', '-g', '10.50.1.1', 'web']);
    await netctl(['net', 'create', '-t', 'tb', '-e', 'vxlan', '-s', '10.50.1.0/24', '-g', '10.50.1.1', 'web']);
    await netctl(['net', 'create', '-t', 'ta', '-e', 'vlan', '-p', '210', '-s', '10.50.2.0/24', '-g', '10.50.2.1', 'vl']);
    await netctl(['net', 'create', '-t', 'tc', '-e', 'vxlan', '-s', '10.60.1.0/24', '-g', '10.60.1.1', 'web']);
    // routed by the fabric: no masquerade (the tor routes it back to host1)
    await netctl(['net', 'create', '-t', 'td', '--no-nat', '-e', 'vxlan', '-s', '10.70.1.0/24', '-g', '10.70.1.1', 'routed']);
    await run('ip', ['route', 'replace', '10.70.1.0/24', 'via', hostIp('host1')], { netns: plan.torNetns });
    await netctl(['policy', 'create', '-t', 'ta', 'noext']);
    await netctl(['policy', 'rule-add', '-t', 'ta', '-d', 'out', '-p', '1', '-j', 'deny', '-s', `${plan.torDataIp}/32`, 'noext', '1']);
    await netctl(['group', 'create', '-t', 'ta', '-p', 'noext', 'web', 'locked']);
    await Promise.all([
      runCtr('host1', 'a1', 'ta', 'web', '10.50.1.10'),
      runCtr('host1', 'b1', 'tb', 'web', '10.50.1.10'),
      runCtr('host2', 'a2', 'ta', 'web', '10.50.1.11'),
      runCtr('host2', 'b2', 'tb', 'web', '10.50.1.11'),
      runCtr('host2', 'v2', 'ta', 'vl', '10.50.2.10'),
      runCtr('host1', 'ad', 'ta', 'web', '10.50.1.20', 'locked'),
      runCtr('host1', 'c1', 'tc', 'web', '10.60.1.10'),
      runCtr('host1', 'd1', 'td', 'routed', '10.70.1.10'),
    ]);
    servers.push(tcpServer(plan.torNetns, plan.torDataIp, PORT.tor, 'tor'));
    for (const h of ['host1', 'host2']) servers.push(tcpServer(hostNs(h), hostIp(h), PORT.host, h));
    for (const c of ['a2', 'b2', 'c1']) servers.push(tcpServer(ctrNs(c), '0.0.0.0', PORT.ctr, c));
  });

  after(async function () {
    this.timeout(120_000);
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill('SIGTERM');
    await lab(['down'], true, 120_000);
  });

  it("each tenant reaches the tor from both hosts, VXLAN and VLAN, seen as the host's data address", async () => {
    const cases: Array<[string, string]> = [
      ['a1', 'host1'],
      ['b1', 'host1'],
      ['a2', 'host2'],
      ['b2', 'host2'],
      ['v2', 'host2'],
    ];
    for (const [c, h] of cases) {
      const got = await waitFor(`${c} reaches the tor`, async () => (await tcpAsk(ctrNs(c), plan.torDataIp, PORT.tor)) || undefined, {
        timeoutMs: 15_000,
        intervalMs: 300,
      });
      assert.equal(got, `tor ${hostIp(h)}`, `${c}: the tor sees ${h}'s data address`);
    }
    assert.ok(await ping(ctrNs('b1'), plan.torDataIp), 'ping too');
  });

  it('a network created with --no-nat leaves the host with its own addresses (REST, store, host view, agent, nftables)', async () => {
    const got = await waitFor('d1 reaches the tor', async () => (await tcpAsk(ctrNs('d1'), plan.torDataIp, PORT.tor)) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 300,
    });
    assert.equal(got, 'tor 10.70.1.10');
    const nft = (await kernelState('host1')).nft;
    assert.match(nft, /ip saddr 10\.50\.1\.0\/24 oifname != "nlgw\*" masquerade/);
    assert.doesNotMatch(nft, /10\.70\.1\.0\/24/);
    const shown = JSON.parse((await netctl(['net', 'inspect', '-t', 'td', 'routed', '-o', 'json'])).stdout) as unknown;
    assert.match(JSON.stringify(shown), /"nat":false/);
  });

  it('the tenants stay apart: same addresses answer within their tenant, another tenant is not reached through the host', async () => {
    assert.equal(await tcpAsk(ctrNs('a1'), '10.50.1.11', PORT.ctr), 'a2 10.50.1.10');
    assert.equal(await tcpAsk(ctrNs('b1'), '10.50.1.11', PORT.ctr), 'b2 10.50.1.10');
    // tc's subnet is outside ta's: a1's packets go to the host's kernel, which must not hand them to tc
    assert.equal(await tcpAsk(ctrNs('a1'), '10.60.1.10', PORT.ctr), '', 'a1 -> c1 (another tenant) is refused');
    assert.equal(await ping(ctrNs('a1'), '10.60.1.10'), false);
    assert.equal(await tcpAsk(ctrNs('c1'), '10.50.1.10', PORT.ctr), '', 'c1 -> a1/b1 is refused');
  });

  it("a -d out deny rule for the tor's address holds (policy before the gateway port)", async () => {
    assert.equal(await tcpAsk(ctrNs('ad'), plan.torDataIp, PORT.tor), '');
    assert.equal(await ping(ctrNs('ad'), plan.torDataIp), false);
    assert.equal(await tcpAsk(ctrNs('ad'), hostIp('host1'), PORT.host), 'host1 10.50.1.20', 'other outside addresses are allowed');
  });

  it('the host reaches its local endpoint (ping, TCP); with two tenants on one subnet, by the tenant mark', async () => {
    assert.ok(await ping(hostNs('host1'), '10.60.1.10'), 'host1 pings c1');
    assert.match(await tcpAsk(hostNs('host1'), '10.60.1.10', PORT.ctr), /^c1 10\.213\.\d+\.\d+$/);
    // 10.50.1.0/24 is in ta and tb on host2: no main route, but a socket with a tenant's mark reaches its endpoint
    assert.equal(await ping(hostNs('host2'), '10.50.1.11'), false, 'no main-table route for an overlapping subnet');
    const marks = [...(await kernelState('host2')).rules.matchAll(/fwmark (0x[0-9a-f]+)\/0x1ffff lookup (\d+)/g)];
    assert.equal(marks.length, 2, 'ta and tb');
    for (const [, mark, table] of marks) {
      const dev = (await run('ip', ['route', 'get', '10.50.1.11', 'mark', mark!], { netns: hostNs('host2') })).stdout;
      assert.match(dev, new RegExp(`dev nlgw${Number(table) - 10000} `), `mark ${mark} goes to its tenant's port`);
      assert.ok(await ping(hostNs('host2'), '10.50.1.11', ['-m', String(Number(mark))]), `host2 pings 10.50.1.11 with mark ${mark}`);
    }
  });

  it('an endpoint reaches a server bound on its host (both tenants with the same address)', async () => {
    assert.equal(await tcpAsk(ctrNs('a1'), hostIp('host1'), PORT.host), 'host1 10.50.1.10');
    assert.equal(await tcpAsk(ctrNs('b1'), hostIp('host1'), PORT.host), 'host1 10.50.1.10');
    assert.equal(await tcpAsk(ctrNs('c1'), hostIp('host1'), PORT.host), 'host1 10.60.1.10');
  });

  it('an agent killed with SIGKILL and started again leaves the kernel state as it was, stale entries removed', async function () {
    this.timeout(120_000);
    const before = await kernelState('host1');
    assert.match(before.nft, /masquerade/);
    assert.equal(before.rules.split('\n').length, 4, 'ta, tb, tc, td');
    const pid = status.hosts.find((h) => h.name === 'host1')!.agent!.pid!;
    process.kill(pid, 'SIGKILL');
    // what a crashed agent could have left: a tenant's rule, table and host route
    const ns = hostNs('host1');
    await run('ip', ['rule', 'add', 'priority', '9100', 'fwmark', '0x1fff0/0x1ffff', 'lookup', '11234'], { netns: ns });
    await run('ip', ['route', 'add', 'default', 'dev', 'lo', 'table', '11234', 'proto', '77'], { netns: ns });
    await run('ip', ['route', 'add', '10.77.0.0/24', 'dev', 'lo', 'proto', '77'], { netns: ns });
    await lab(['restart', 'host1', 'netplugin'], false, 90_000);
    status = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as LabStatus;
    const after = await waitFor(
      'host1 kernel state as before',
      async () => {
        const s = await kernelState('host1');
        return JSON.stringify(s) === JSON.stringify(before) ? s : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    ).catch(async () => kernelState('host1'));
    assert.deepEqual(after, before);
    assert.equal(await tcpAsk(ctrNs('a1'), plan.torDataIp, PORT.tor), `tor ${hostIp('host1')}`, 'egress still works');
  });

  it('after an ovs-vswitchd restart the gateway ports are back (up, fixed MAC, MTU) and egress works again', async function () {
    this.timeout(90_000);
    await lab(['restart', 'host1', 'ovs'], false, 60_000);
    const got = await waitFor(
      'a1 reaches the tor after the OVS restart',
      async () => (await tcpAsk(ctrNs('a1'), plan.torDataIp, PORT.tor)) || undefined,
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    assert.equal(got, `tor ${hostIp('host1')}`);
    const links = (await run('ip', ['-o', 'link', 'show'], { netns: hostNs('host1') })).stdout
      .split('\n')
      .filter((l) => /nlgw\d+:/.test(l));
    assert.equal(links.length, 4);
    for (const l of links) {
      const vrf = Number(/nlgw(\d+):/.exec(l)![1]);
      assert.match(l, /[<,]UP[,>]/, `${l}: up`);
      assert.match(l, / mtu 1450 /, `${l}: the VXLAN endpoints' MTU`);
      assert.ok(
        l.includes(`02:6e:6c:fe:${((vrf >> 8) & 0xff).toString(16).padStart(2, '0')}:${(vrf & 0xff).toString(16).padStart(2, '0')}`),
        `${l}: fixed MAC`,
      );
    }
  });

  it("a gateway port deleted behind the agent's back is made again and egress works again", async function () {
    this.timeout(60_000);
    const port = (await kernelState('host1')).routes.match(/default dev (nlgw\d+) table/)![1]!;
    await lab(['exec', 'host1', '--', 'ovs-vsctl', 'del-port', 'br-int', port]);
    await waitFor('the port is back', async () => (await gatewayPorts('host1')).includes(port), { timeoutMs: 20_000, intervalMs: 200 });
    for (const c of ['a1', 'b1', 'c1', 'd1'])
      assert.ok(
        await waitFor(`${c} reaches the tor`, async () => (await tcpAsk(ctrNs(c), plan.torDataIp, PORT.tor)) || undefined, {
          timeoutMs: 20_000,
          intervalMs: 300,
        }),
      );
  });

  it("after a tenant's last endpoint on a host goes, its gateway port, rule, table and routes are gone", async function () {
    this.timeout(60_000);
    assert.equal((await gatewayPorts('host1')).length, 4);
    assert.match((await kernelState('host1')).routes, /10\.60\.1\.0\/24 dev nlgw\d+/);
    await lab(['rm', 'c1']);
    const s = await waitFor(
      'tc gone from host1',
      async () => {
        const k = await kernelState('host1');
        // the nftables table is rewritten in the same reconcile, after the routes: wait for it too
        return (await gatewayPorts('host1')).length === 3 &&
          k.rules.split('\n').length === 3 &&
          !/10\.60\.1\.0/.test(k.routes) &&
          !/10\.60\.1\.0/.test(k.nft)
          ? k
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 300 },
    );
    assert.doesNotMatch(s.nft, /10\.60\.1\.0/);
    const links = await run('ip', ['-o', 'link', 'show'], { netns: hostNs('host1') });
    assert.equal(links.stdout.match(/nlgw\d+/g)?.length, 3, 'its kernel device is gone too');
  });
});
