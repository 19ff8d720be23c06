/**
 * netctl's BGP mode surface (issue 16, docs/bgp.md): `net create -e bgp`, `bgp create` with
 * netloom's further neighbors and timers (Contiv's body unchanged without them), `global set
 * --bgp-*` (the cluster-wide default) and `global info`'s BGP lines; bad flags refused naming them.
 */
import { strict as assert } from 'node:assert';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

describe('netctl: BGP mode', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  const posted = (): unknown[] => fake.writes().map((w) => JSON.parse(w.body) as unknown);
  const cli = (...argv: string[]) => runCli(['--netmaster', fake.url, ...argv]);

  it('net create -e bgp sends encap bgp and no pktTag', async () => {
    const r = await cli('net', 'create', '-t', 't1', '-e', 'bgp', '-s', '10.60.0.0/16', 'routed');
    assert.equal(r.stderr, '');
    const body = posted()[0] as Record<string, unknown>;
    assert.equal(body['encap'], 'bgp');
    assert.equal(body['pktTag'], undefined);
  });

  it('net create -e ipip is refused naming --encap', async () => {
    const r = await cli('net', 'create', '-t', 't1', '-e', 'ipip', '-s', '10.60.0.0/16', 'routed');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--encap: must be one of vlan, vxlan, bgp/);
  });

  it("bgp create: Contiv's body, plus --neighbors and timers when given", async () => {
    const base = ['bgp', 'create', '--router-ip', '10.213.1.1/24', '--as', '65001', '--neighbor-as', '65000', '--neighbor', '10.213.1.254'];
    const r = await cli(...base, '--neighbors', '10.213.1.253:65000,10.213.1.252:65010', '--hold-time', '6', '--keepalive', '2', 'host1');
    assert.equal(r.stderr, '');
    assert.deepEqual(posted()[0], {
      as: '65001',
      hostname: 'host1',
      neighbor: '10.213.1.254',
      'neighbor-as': '65000',
      routerip: '10.213.1.1/24',
      neighbors: ['10.213.1.253:65000', '10.213.1.252:65010'],
      holdTime: 6,
      keepaliveTime: 2,
    });
  });

  for (const [flag, value, message] of [
    ['--neighbors', '10.213.1.253', /'10\.213\.1\.253' for --neighbors: expected IP:AS/],
    ['--hold-time', '2', /--hold-time: must be 3\.\.65535/],
    ['--as', '4294967296', /--as: an AS number 1\.\.4294967295/],
  ] as const) {
    it(`bgp create refuses a bad ${flag}`, async () => {
      const args = { '--router-ip': '10.213.1.1/24', '--as': '65001', '--neighbor-as': '65000', '--neighbor': '10.213.1.254' } as Record<
        string,
        string
      >;
      args[flag] = value;
      const r = await cli('bgp', 'create', ...Object.entries(args).flat(), 'host1');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.equal(fake.writes().length, 0);
    });
  }

  it('global set --bgp-* sets the cluster-wide default, keeping the rest', async () => {
    const r = await cli(
      'global',
      'set',
      '--bgp-as',
      '65000',
      '--bgp-neighbors',
      '10.213.1.254:65000',
      '--bgp-hold-time',
      '9',
      '--bgp-keepalive',
      '3',
    );
    assert.equal(r.stderr, '');
    const body = posted()[0] as Record<string, unknown>;
    assert.deepEqual(
      [body['bgpAs'], body['bgpNeighbors'], body['bgpHoldTime'], body['bgpKeepaliveTime'], body['fwdMode']],
      ['65000', ['10.213.1.254:65000'], 9, 3, 'bridge'],
    );
  });

  it('global set refuses a bad --bgp-as and --bgp-neighbors', async () => {
    assert.match((await cli('global', 'set', '--bgp-as', '0')).stderr, /--bgp-as: an AS number/);
    assert.match((await cli('global', 'set', '--bgp-as', '1', '--bgp-neighbors', 'tor')).stderr, /--bgp-neighbors: expected IP:AS/);
    assert.equal(fake.writes().length, 0);
  });

  it('global info prints the BGP default only when one is set', async () => {
    const contiv = (await cli('global', 'info')).stdout;
    assert.doesNotMatch(contiv, /BGP/);
    fake.put('globals', 'global', {
      name: 'global',
      fwdMode: 'bridge',
      bgpAs: '65000',
      bgpNeighbors: ['10.213.1.254:65000'],
      bgpHoldTime: 6,
    });
    assert.match(
      (await cli('global', 'info')).stdout,
      /BGP default AS: 65000\nBGP default neighbors: 10\.213\.1\.254:65000\nBGP hold time: 6\nBGP keepalive: 3 \(default\)\n$/,
    );
  });

  describe("bgp inspect HOST: the agent's sessions and routes", () => {
    const status = {
      host: 'host1',
      running: true,
      error: '',
      pid: 4242,
      as: 65000,
      routerId: '10.213.1.1',
      neighbors: [
        {
          address: '10.213.1.254',
          peerAs: 65000,
          localAs: 65000,
          state: 'ESTABLISHED',
          adminDown: false,
          uptimeSeconds: 3725,
          holdTime: 9,
          negotiatedHoldTime: 9,
          received: 4,
          accepted: 4,
          advertised: 2,
        },
        { address: '10.213.1.77', peerAs: 65000, localAs: 65000, state: 'ACTIVE', uptimeSeconds: 0, holdTime: 9, negotiatedHoldTime: 0 },
      ],
      announced: [{ prefix: '10.60.0.0/26', nextHops: ['10.213.1.1'] }],
      installed: [{ prefix: '10.60.0.64/26', nextHops: ['10.213.1.2', '10.213.1.3'] }],
    };
    const canStatus = (host = 'host1', body: unknown = status, code = 200): void => {
      fake.canned.set(`GET /api/v1/bgp-status/${host}/`, { status: code, body: JSON.stringify(body) });
    };

    it('shows neighbors with state, uptime and prefix counts, announced paths and installed routes', async () => {
      canStatus();
      const r = await cli('bgp', 'inspect', 'host1');
      assert.equal(r.stderr, '');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^Host host1: AS 65000, router id 10\.213\.1\.1, gobgpd pid 4242\n {2}settings: the cluster-wide default/);
      assert.match(r.stdout, /Neighbor +AS +State +Uptime +Hold +Received +Accepted +Sent/);
      assert.match(r.stdout, /10\.213\.1\.254 +65000 +Established +1h2m5s +9 +4 +4 +2/);
      assert.match(r.stdout, /10\.213\.1\.77 +65000 +Active +- +9 +0 +0 +0/);
      assert.match(r.stdout, /Announced paths:\n {2}10\.60\.0\.0\/26 via 10\.213\.1\.1\n/);
      assert.match(r.stdout, /Installed routes \(proto 80\):\n {2}10\.60\.0\.64\/26 via 10\.213\.1\.2, 10\.213\.1\.3\n/);
    });

    it("-o json carries the agent's answer and the stored Bgp object", async () => {
      canStatus();
      fake.put('Bgps', 'host1', { hostname: 'host1', as: '65001' });
      const r = await cli('bgp', 'inspect', 'host1', '-o', 'json');
      const v = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.deepEqual(v['neighbors'], status.neighbors);
      assert.deepEqual((v['config'] as { Config: unknown }).Config, { hostname: 'host1', as: '65001' });
    });

    it('a host without an agent is an error naming the host, exit 1', async () => {
      canStatus('ghost', { error: 'host ghost has no agent registered', code: 'UNAVAILABLE', field: 'host' }, 503);
      const r = await cli('bgp', 'inspect', 'ghost');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /host ghost has no agent registered/);
      assert.equal(r.stdout, '');
    });
  });
});
