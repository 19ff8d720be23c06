/**
 * What issue 16 asks of routed endpoints, end to end in a lab (`netloom-lab up --hosts 3 --bgp`:
 * BIRD on the tor as route reflector, AS 65000), containers through bin/netloom-cni and the real
 * agents, intent through netctl (and REST where a status code is the point):
 * - Contiv's form: `global set --fwd-mode routing`, a Bgp object per host matching BIRD, a `-e vlan`
 *   network: containers on 3 hosts ping each other, the tor has one route per host block.
 * - Bad Bgp objects (AS, router IP, neighbor) refused with a 4xx naming the field, nothing stored.
 * - Two tenants' routed networks: nothing crosses (across hosts and on one host, both ways); an
 *   overlapping routed subnet of another tenant is refused (409 naming the subnet).
 * - A netprofile on a routed endpoint: bandwidth within ±10% both ways across hosts (iperf3), DSCP
 *   marked on the wire.
 * - Every case of test/support/policy-cases.ts on routed endpoints across hosts (the nftables
 *   backend), the table's two networks as `-e bgp` networks.
 * Figures are logged ([bgp-routed] lines).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { planLab } from '../../../deploy/lab/plan';
import { labRestCredentials } from '../../../deploy/lab/pki';
import { birdPaths } from '../../../deploy/lab/bird';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { KINDS } from '../../../lib/kinds';
import { restRequest, type RestAnswer } from '../../../lib/rest-request';
import { bgpBody, networkBody } from '../../../netctl/bodies';
import { startCapture } from '../../support/capture';
import { labCli, netctlCli } from '../../support/lab-cli';
import { CASES, expectedMatrix, TOPOLOGY, type Cell, type EndpointSpec, type Probe, type RuleSpec } from '../../support/policy-cases';
import { MatrixChecker, ruleAddArgs } from '../../support/policy-matrix';
import { ProbeAgent } from '../../support/policy-probe';

const LAB = 'tbrt';
const lab = labCli(LAB);
const HOSTS = 3;
const AS = '65000';
const CONTIV_SUBNET = '10.63.0.0/16';
const TCP_PORTS = [80, 5432];
const UDP_PORTS = [53, 5432];
const RATE_KBPS = 20_000;
const DSCP = 10;

const log = (msg: string) => console.log(`      [bgp-routed] ${msg}`);
const since = (t0: number) => Math.round(performance.now() - t0);

describe('lab: routed endpoints (BGP mode) end to end', function () {
  this.timeout(120_000);
  const plan = planLab({ name: LAB, hosts: HOSTS, etcdMembers: 1 });
  const nm = plan.netmasters[0]!.url;
  const netctl = netctlCli(nm);
  const host = (n: number) => plan.hosts[n - 1]!;
  const ctrNs = (c: string) => `${plan.prefix}c-${c}`;
  const agents = new Map<string, ProbeAgent>();
  const checker = new MatrixChecker(agents);
  const started: ChildProcess[] = [];

  async function rest(method: 'POST' | 'GET', path: string, body?: object): Promise<RestAnswer> {
    return restRequest(`${nm}/api/v1/${path}/`, {
      method,
      headers: { 'content-type': 'application/json' },
      credentials: labRestCredentials(plan),
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** A container through the lab (CNI ADD through bin/netloom-cni); its address. */
  async function runCtr(h: string, name: string, tenant: string, network: string, opts: { ip?: string; group?: string } = {}) {
    const r = await lab([
      ...['run', h, name, '--tenant', tenant, '--network', network],
      ...(opts.group ? ['--group', opts.group] : []),
      ...(opts.ip ? ['--ip', opts.ip] : []),
    ]);
    const ip = r.stdout.trim().split('\t')[2]!;
    if (opts.ip) assert.equal(ip, opts.ip, `${name} got its address`);
    return ip;
  }

  async function startAgent(name: string): Promise<void> {
    agents.set(name, await ProbeAgent.start(ctrNs(name), name, TCP_PORTS, UDP_PORTS));
  }

  async function torRoutes(within: string): Promise<Map<string, string>> {
    const out = (await run('birdc', ['-s', birdPaths(plan).socket, 'show', 'route', 'where', `net ~ ${within}`], { timeoutMs: 5000 }))
      .stdout;
    return new Map([...out.matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+)\s+unicast.*\n\s+via (\S+)/gm)].map((m) => [m[1]!, m[2]!]));
  }

  before(async function () {
    this.timeout(400_000);
    const t0 = performance.now();
    await lab(['down'], true, 120_000);
    await lab(['up', '--hosts', String(HOSTS), '--bgp'], false, 300_000);
    log(`lab up in ${since(t0)} ms`);
    // Contiv's form: routing mode and a Bgp object per host, as BIRD on the tor expects them
    await netctl(['global', 'set', '--fwd-mode', 'routing']);
    for (let n = 1; n <= HOSTS; n++)
      await netctl([
        ...['bgp', 'create', host(n).name, '--router-ip', `${host(n).dataIp}/${plan.prefixLen}`],
        ...['--as', AS, '--neighbor-as', AS, '--neighbor', plan.torDataIp],
      ]);
    await netctl(['net', 'create', '-t', 'default', '-e', 'vlan', '-s', CONTIV_SUBNET, '--block-prefix', '26', 'contiv']);
  });

  after(async function () {
    this.timeout(180_000);
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await lab(['down'], true, 120_000);
  });

  it("Contiv's form (routing mode, Bgp objects, a -e vlan network): containers on 3 hosts ping, the tor has one route per block", async function () {
    this.timeout(240_000);
    const blocks = new Map<number, string>();
    const addrs = new Map<number, string>();
    for (let n = 1; n <= HOSTS; n++) {
      // a host's first endpoint in a network it does not carry yet has a netmaster /32; the second is from its block
      await runCtr(host(n).name, `cp${n}`, 'default', 'contiv');
      const ip = await runCtr(host(n).name, `cc${n}`, 'default', 'contiv');
      const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
      blocks.set(n, `${a}.${b}.${c}.${d - (d % 64)}/26`);
      addrs.set(n, ip);
    }
    await lab(['rm', 'cp1', 'cp2', 'cp3']);
    for (let n = 1; n <= HOSTS; n++) {
      const j = JSON.parse((await netctl(['bgp', 'inspect', host(n).name, '-o', 'json'])).stdout) as { config: unknown; running: boolean };
      assert.notEqual(j.config, null, `${host(n).name} runs on its Bgp object`);
      assert.equal(j.running, true);
    }
    const t0 = performance.now();
    await waitFor(
      'one tor route per host block, via its host (its routed uplink, whatever the router IP)',
      async () => {
        const t = await torRoutes(CONTIV_SUBNET);
        return t.size === HOSTS && [...blocks].every(([n, b]) => t.get(b) === host(n).routedIp);
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    log(`Contiv's form: tor has ${HOSTS} block routes ${since(t0)} ms after the last container`);
    const ping = (from: string, to: string) => lab(['exec', from, '--', 'ping', '-c', '1', '-W', '2', to], true, 20_000);
    for (const [from, to] of [
      [1, 2],
      [2, 3],
      [3, 1],
      [2, 1],
    ] as const)
      await waitFor(`cc${from} -> cc${to}`, async () => (await ping(`cc${from}`, addrs.get(to)!)).code === 0, {
        timeoutMs: 20_000,
        intervalMs: 500,
      });
    assert.equal((await ping('tor', addrs.get(2)!)).code, 0, 'routable from the fabric');
    await lab(['rm', 'cc1', 'cc2', 'cc3']);
  });

  it('a Bgp object with an invalid AS, router IP or neighbor: 4xx naming the field (netctl and REST), nothing stored', async () => {
    const good = { hostname: 'hostbad', routerip: '10.213.1.9/24', as: AS, neighbor: plan.torDataIp, neighborAs: AS };
    for (const [field, flag, change] of [
      ['as', '--as', { as: '0' }],
      ['as', '--as', { as: '4294967296' }],
      ['neighbor-as', '--neighbor-as', { neighborAs: 'x' }],
      ['routerip', '--router-ip', { routerip: '10.213.1.9' }],
      ['routerip', '--router-ip', { routerip: '300.1.1.1/24' }],
      ['neighbor', '--neighbor', { neighbor: '10.213.1' }],
    ] as const) {
      const b = { ...good, ...change };
      const r = await rest('POST', `${KINDS.Bgp.collection}/hostbad`, bgpBody(b));
      assert.equal(r.status, 400, `${JSON.stringify(change)}: ${r.status} ${r.text}`);
      assert.equal((JSON.parse(r.text) as { field?: string }).field, field, `${JSON.stringify(change)}: ${r.text}`);
      const c = await netctl(
        [
          ...['bgp', 'create', 'hostbad', '--router-ip', b.routerip, '--as', b.as],
          ...['--neighbor-as', b.neighborAs, '--neighbor', b.neighbor],
        ],
        true,
      );
      assert.notEqual(c.code, 0, `netctl accepted ${JSON.stringify(change)}`);
      assert.ok(c.stderr.includes(flag), `netctl names ${flag}: ${c.stderr}`);
    }
    assert.equal((await rest('GET', `${KINDS.Bgp.collection}/hostbad`)).status, 404, 'nothing stored');
  });

  describe("two tenants' routed networks", () => {
    const ep = (name: string, h: string, network: string, ip: string, group?: string): EndpointSpec => ({
      name,
      host: h,
      network,
      ip,
      ...(group ? { group } : {}),
    });
    // ta: x1 host1, x2 host2, q1 host1 (group gq, shaped); tb: y1 host1, y2 host2
    const x1 = ep('x1', 'host1', 'rt', '10.64.1.11');
    const x2 = ep('x2', 'host2', 'rt', '10.64.1.12');
    const q1 = ep('q1', 'host1', 'rt', '10.64.1.21', 'gq');
    const y1 = ep('y1', 'host1', 'rt', '10.64.2.11');
    const y2 = ep('y2', 'host2', 'rt', '10.64.2.12');

    before(async function () {
      this.timeout(240_000);
      for (const [t, subnet] of [
        ['ta', '10.64.1.0/24'],
        ['tb', '10.64.2.0/24'],
      ] as const) {
        await netctl(['tenant', 'create', t]);
        await netctl(['net', 'create', '-t', t, '-e', 'bgp', '-s', subnet, 'rt']);
      }
      await netctl(['netprofile', 'create', '-t', 'ta', '-b', `${RATE_KBPS / 1000}mbps`, '-d', String(DSCP), 'gold']);
      await netctl(['group', 'create', '-t', 'ta', '-n', 'gold', 'rt', 'gq']);
      await Promise.all([
        ...[x1, x2, q1].map((e) => runCtr(e.host, e.name, 'ta', 'rt', { ip: e.ip, ...(e.group ? { group: e.group } : {}) })),
        ...[y1, y2].map((e) => runCtr(e.host, e.name, 'tb', 'rt', { ip: e.ip })),
      ]);
      await Promise.all(['x1', 'x2', 'y1', 'y2'].map(startAgent));
    });

    it('nothing crosses between them, across hosts and on one host, both ways; each tenant reaches its own', async function () {
      this.timeout(90_000);
      const probes: Probe[] = ['ping', 'tcp/80', 'udp/53'];
      const cells = (from: EndpointSpec, to: EndpointSpec, verdict: 'pass' | 'deny'): Cell[] =>
        probes.map((probe) => ({ from, to, probe, verdict }));
      const ms = await checker.holds(
        'tenants',
        [
          ...cells(x1, x2, 'pass'),
          ...cells(x2, x1, 'pass'),
          ...cells(y1, y2, 'pass'),
          ...cells(y2, y1, 'pass'),
          ...cells(x1, y2, 'deny'),
          ...cells(y2, x1, 'deny'),
          ...cells(x2, y1, 'deny'),
          ...cells(y1, x2, 'deny'),
          ...cells(x1, y1, 'deny'),
          ...cells(y1, x1, 'deny'),
        ],
        30_000,
      );
      log(`tenants: matrix held after ${ms} ms`);
    });

    it('an overlapping routed subnet of another tenant is refused (409 naming the subnet), through netctl and REST', async () => {
      const c = await netctl(['net', 'create', '-t', 'tb', '-e', 'bgp', '-s', '10.64.1.128/25', 'ov'], true);
      assert.notEqual(c.code, 0, 'netctl accepted an overlapping routed subnet');
      assert.match(c.stderr, /subnet 10\.64\.1\.128\/25 overlaps subnet 10\.64\.1\.0\/24 of network ta:rt/);
      const body = networkBody({
        ...{ tenantName: 'tb', networkName: 'ov', nwType: 'data', encap: 'bgp', pktTag: 0 },
        ...{ subnet: '10.64.1.128/25', gateway: '', ipv6Subnet: '', ipv6Gateway: '', cfgdTag: '' },
      });
      const r = await rest('POST', 'networks/tb:ov', body);
      assert.equal(r.status, 409, r.text);
      assert.equal((JSON.parse(r.text) as { field?: string }).field, 'subnet', r.text);
      assert.equal((await rest('GET', 'networks/tb:ov')).status, 404, 'nothing stored');
      // Contiv's form is routed too: a routing-mode VLAN network overlapping the default tenant's
      const v = await netctl(['net', 'create', '-t', 'tb', '-e', 'vlan', '-s', '10.63.5.0/24', 'ovl'], true);
      assert.notEqual(v.code, 0, 'netctl accepted an overlapping routing-mode VLAN subnet');
      assert.match(v.stderr, /subnet 10\.63\.5\.0\/24 overlaps subnet 10\.63\.0\.0\/16 of network default:contiv/);
      // the same subnet as a VXLAN network of the other tenant stays inside its overlay: allowed
      await netctl(['net', 'create', '-t', 'tb', '-e', 'vxlan', '-s', '10.64.1.128/25', 'ovx']);
    });

    it('a netprofile on a routed endpoint: bandwidth within ±10% both ways across hosts, DSCP marked on the wire', async function () {
      this.timeout(90_000);
      const server = spawn('ip', ['netns', 'exec', ctrNs('x2'), 'timeout', '60', 'iperf3', '-s', '-p', '5201'], { stdio: 'ignore' });
      started.push(server);
      await waitFor(
        'iperf3 listening in x2',
        async () => (await run('ss', ['-Hltn', 'sport = :5201'], { netns: ctrNs('x2') })).stdout !== '',
        {
          timeoutMs: 10_000,
          intervalMs: 100,
        },
      );
      const iperf = async (reverse: boolean): Promise<number> => {
        const r = await run('iperf3', ['-c', x2.ip, '-t', '4', '-O', '1', '-J', ...(reverse ? ['-R'] : [])], {
          netns: ctrNs('q1'),
          timeoutMs: 30_000,
        });
        return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1000;
      };
      // the ADD answered once the endpoint's QoS was applied: no waiting here
      const up = await iperf(false);
      const down = await iperf(true);
      const pct = (k: number) => ((100 * (k - RATE_KBPS)) / RATE_KBPS).toFixed(1);
      log(
        `netprofile ${RATE_KBPS} kbit/s: from q1 ${Math.round(up)} kbit/s (${pct(up)}%), to q1 ${Math.round(down)} kbit/s (${pct(down)}%)`,
      );
      for (const [what, kbps] of [
        ['from q1 (host1 -> host2)', up],
        ['to q1 (host2 -> host1)', down],
      ] as const)
        assert.ok(Math.abs(kbps - RATE_KBPS) <= RATE_KBPS * 0.1, `${what}: ${Math.round(kbps)} kbit/s, profile ${RATE_KBPS}`);
      server.kill('SIGTERM');
      // DSCP 10 (TOS 0x28) on q1's packets as they arrive in x2, on another host; x1's (no profile) unmarked
      const tos = (src: string) => ['-i', 'eth0', '-n', '-l', `src ${src} and icmp`, '-v'];
      const [fromQ1, fromX1] = await Promise.all([
        startCapture(ctrNs('x2'), [...tos(q1.ip), '-c', '3'], { maxSeconds: 10 }),
        startCapture(ctrNs('x2'), [...tos(x1.ip), '-c', '3'], { maxSeconds: 10 }),
      ]);
      await Promise.all([
        run('ping', ['-c', '3', '-i', '0.2', x2.ip], { netns: ctrNs('q1') }),
        run('ping', ['-c', '3', '-i', '0.2', x2.ip], { netns: ctrNs('x1') }),
      ]);
      const [marked, plain] = await Promise.all([fromQ1.output, fromX1.output]);
      const tosOf = (out: string) => [...out.matchAll(/\(tos (0x[0-9a-f]+)/g)].map((m) => Number(m[1]) & 0xfc);
      assert.deepEqual(tosOf(marked), [DSCP << 2, DSCP << 2, DSCP << 2], `q1's packets marked DSCP ${DSCP}: ${marked}`);
      assert.deepEqual(tosOf(plain), [0, 0, 0], `x1's packets unmarked: ${plain}`);
    });
  });

  describe('the policy case table on routed endpoints across hosts (nftables backend)', () => {
    const T = TOPOLOGY.tenant;
    const realized: number[] = [];
    const addRules = (rules: RuleSpec[]) => Promise.all(rules.map((r) => netctl(ruleAddArgs(T, r))));
    const removeRules = (rules: RuleSpec[]) => Promise.all(rules.map((r) => netctl(['policy', 'rule-rm', '-t', T, r.policy, r.ruleId])));

    before(async function () {
      this.timeout(300_000);
      await netctl(['tenant', 'create', T]);
      // the table's VLAN and VXLAN networks, here both routed
      for (const n of TOPOLOGY.networks) await netctl(['net', 'create', '-t', T, '-e', 'bgp', '-s', n.subnet, n.name]);
      await Promise.all(TOPOLOGY.policies.map((p) => netctl(['policy', 'create', '-t', T, p])));
      await Promise.all(TOPOLOGY.groups.map((g) => netctl(['group', 'create', '-t', T, '-p', g.policies.join(','), g.network, g.name])));
      await Promise.all(
        TOPOLOGY.endpoints.map((e) => runCtr(e.host, e.name, T, e.network, { ip: e.ip, ...(e.group ? { group: e.group } : {}) })),
      );
      await Promise.all(TOPOLOGY.endpoints.map((e) => startAgent(e.name)));
      // routed in the kernel: each endpoint has its host route (proto 81) on its host,
      // its host has the nftables policy table
      for (const h of TOPOLOGY.hosts) {
        const netns = plan.hosts.find((x) => x.name === h)!.netns;
        const routes = (await run('ip', ['-n', netns, 'route', 'show', 'proto', '81'])).stdout;
        for (const e of TOPOLOGY.endpoints.filter((x) => x.host === h))
          assert.match(routes, new RegExp(`^${e.ip} dev `, 'm'), `${e.name}'s host route`);
        await run('nft', ['list', 'table', 'inet', 'netloom_policy'], { netns });
      }
    });

    after(() => {
      if (realized.length > 0) log(`policy cases: matrices held after (ms): ${realized.join(', ')}`);
    });

    for (const c of CASES) {
      it(c.name, async function () {
        this.timeout(120_000);
        const t0 = performance.now();
        await addRules(c.rules);
        const applied = since(t0);
        try {
          const cells = expectedMatrix(TOPOLOGY, c);
          const ms = await checker.holds(c.name, cells, 30_000);
          realized.push(ms);
          log(`${c.rules.length} rules through netctl in ${applied} ms; ${cells.length} cells held after ${ms} ms`);
        } finally {
          await removeRules(c.rules);
        }
      });
    }
  });
});
