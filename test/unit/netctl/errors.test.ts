/**
 * netctl error handling: server 4xx JSON errors, Contiv-style 500 text/plain, bodyless HTTP
 * errors, unreachable and silent netmasters, and usage errors caught before any request. Every
 * failure is exactly one line on stderr, exit 1 for server/network and 2 for usage.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadUrl, FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli, type CliResult } from './run-cli';

function assertOneLine(r: CliResult): void {
  assert.match(r.stderr, /^netctl: [^\n]+\n$/, `stderr must be one line: ${JSON.stringify(r.stderr)}`);
}

describe('netctl errors', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  const cli = (...argv: string[]): Promise<CliResult> => runCli(['--netmaster', fake.url, ...argv]);

  it('a 4xx JSON error prints the message, field and code, exits 1, and prints no success message', async () => {
    fake.canned.set('POST /api/v1/networks/t1:n2/', {
      status: 409,
      body: JSON.stringify({ error: 'subnet 10.2.1.0/24 overlaps network t1:n1', field: 'subnet', code: 'CONFLICT' }),
    });
    const r = await cli('net', 'create', '-t', 't1', '-s', '10.2.1.0/24', 'n2');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: subnet 10.2.1.0/24 overlaps network t1:n1 (field: subnet, code: CONFLICT)\n');
    assert.equal(r.stdout, '');
  });

  it('a 400 JSON error without field or code prints just the message', async () => {
    fake.canned.set('POST /api/v1/tenants/t1/', { status: 400, body: JSON.stringify({ error: 'bad tenant' }) });
    const r = await cli('tenant', 'create', 't1');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: bad tenant\n');
  });

  it('a Contiv-style 500 text/plain answer (with a stack trace) prints its first line', async () => {
    fake.canned.set('DELETE /api/v1/tenants/t1/', {
      status: 500,
      contentType: 'text/plain; charset=utf-8',
      body: 'Tenant has active networks\ngoroutine 1 [running]:\nmain.main()\n\t/go/src/x.go:12\n',
    });
    const r = await cli('tenant', 'rm', 't1');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: Tenant has active networks\n');
    assert.equal(r.stdout, 'Deleting tenant t1\n', 'Contiv printed the delete message before the request');
  });

  it('an HTTP error without a body names the request and the status', async () => {
    fake.canned.set('GET /api/v1/Bgps/', { status: 503, body: '' });
    const r = await cli('bgp', 'ls');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: GET /api/v1/Bgps/: HTTP 503 Service Unavailable\n');
  });

  it('a 200 answer that is not JSON is an error, not a crash', async () => {
    fake.canned.set('GET /api/v1/tenants/', { status: 200, body: '<html>proxy</html>' });
    const r = await cli('tenant', 'ls');
    assert.equal(r.code, 1);
    assertOneLine(r);
    assert.match(r.stderr, /not JSON/);
  });

  it('deleting something that does not exist reports the 404', async () => {
    const r = await cli('net', 'rm', '-t', 't1', 'ghost');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: networks t1:ghost not found (code: NOT_FOUND)\n');
  });

  it('connection refused: "cannot reach netmaster at URL", exit 1', async () => {
    const url = await deadUrl();
    const r = await runCli(['--netmaster', url, 'tenant', 'ls']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `netctl: cannot reach netmaster at ${url}: connect ECONNREFUSED ${url.slice('http://'.length)}\n`);
  });

  it('a netmaster that never answers times out after --timeout', async () => {
    const held: http.ServerResponse[] = [];
    const s = http.createServer((_req, res) => held.push(res));
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const t0 = Date.now();
      const r = await runCli(['--netmaster', url, '--timeout', '0.3', 'tenant', 'ls']);
      const elapsed = Date.now() - t0;
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `netctl: cannot reach netmaster at ${url}: no answer within 300 ms\n`);
      assert.ok(elapsed >= 250 && elapsed < 3000, `elapsed ${elapsed} ms`);
    } finally {
      for (const res of held) res.destroy();
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  const usageCases: [string[], string][] = [
    [['tenant', 'create'], 'netctl: Tenant name required'],
    [['tenant', 'create', 'a', 'b'], 'netctl: More arguments than required: b'],
    [['tenant', 'ls', 'extra'], 'netctl: More arguments than required'],
    [['tenant', 'create', 'a/b'], "netctl: invalid tenant 'a/b': may not contain spaces or / : ? # % \\"],
    [['net', 'create', 'n1'], 'netctl: Subnet is required'],
    [['net', 'create', '-s', '10.1.1.0/33', 'n1'], "netctl: Invalid subnet '10.1.1.0/33' - Enter in A.B.C.D/len format"],
    [['net', 'create', '-s', '10.1.1.0/24', '-g', '10.1.1', 'n1'], 'netctl: Invalid gateway - Enter in A.B.C.D format'],
    [['net', 'create', '-s', '10.1.1.0/24', '-g6', '10.1.1.1', 'n1'], 'netctl: Invalid IPv6 gateway'],
    [['net', 'create', '-s', '10.1.1.0/24', '-s6', '2001:db8::/129', 'n1'], "netctl: Invalid IPv6 subnet '2001:db8::/129'"],
    [['net', 'create', '-s', '10.1.1.0/24', '-p', 'ten', 'n1'], "netctl: invalid value 'ten' for --pkt-tag: not a number"],
    [['net', 'create', '-s', '10.1.1.0/24', '-e', 'gre', 'n1'], "netctl: invalid value 'gre' for --encap: must be one of vlan, vxlan, bgp"],
    [
      ['net', 'create', '-s', '10.1.1.0/24', '-n', 'other', 'n1'],
      "netctl: invalid value 'other' for --nw-type: must be one of infra, data",
    ],
    [['net', 'create', '-s', '10.1.1.0/24', '-x', 'n1'], "netctl: unknown option '-x'"],
    [['net', 'frobnicate'], "netctl: unknown command 'frobnicate'"],
    [['nte', 'ls'], "netctl: unknown command 'nte' (Did you mean net?)"],
    [['group', 'create', 'net1'], 'netctl: Network and group name required'],
    [
      ['group', 'create', '-r', '10.1.1.1', 'net1', 'g1'],
      "netctl: invalid --ip-pool '10.1.1.1': expected IP_FROM-IP_TO, e.g. 10.36.0.1-10.36.0.10",
    ],
    [['policy', 'rule-add', 'p1'], 'netctl: Policy name and Rule ID required'],
    [['policy', 'rule-add', '-d', 'sideways', 'p1', '1'], "netctl: Unknown direction 'sideways': must be in or out"],
    [['policy', 'rule-add', '-d', 'in', '-e', 'g2', 'p1', '1'], 'netctl: Cant specify to-group for incoming rule'],
    [['policy', 'rule-add', '-d', 'in', '-o', 'n2', 'p1', '1'], 'netctl: Cant specify to-network for incoming rule'],
    [
      ['policy', 'rule-add', '-d', 'in', '-g', 'g1', '-n', 'n1', 'p1', '1'],
      "netctl: Can't specify both from-group argument and -from-network",
    ],
    [['policy', 'rule-add', '-d', 'out', '-g', 'g1', 'p1', '1'], 'netctl: Cant specify from-group for outgoing rule'],
    [['policy', 'rule-add', '-d', 'out', '-n', 'n1', 'p1', '1'], 'netctl: Cant specify from-network for outgoing rule'],
    [['policy', 'rule-add', '-d', 'out', '-i', '10.1.1.1', 'p1', '1'], 'netctl: Cant specify from-ip-address for outgoing rule'],
    [['policy', 'rule-add', '-d', 'out', '-e', 'g1', '-o', 'n1', 'p1', '1'], "netctl: Can't specify both -to-group and -to-network"],
    [['policy', 'rule-add', '-p', '101', 'p1', '1'], "netctl: invalid value '101' for --priority: must be 1..100"],
    [['policy', 'rule-add', '-P', '70000', 'p1', '1'], "netctl: invalid value '70000' for --port: must be 0..65535"],
    [['policy', 'rule-add', '-P', 'http', 'p1', '1'], "netctl: invalid value 'http' for --port: not a number"],
    [
      ['policy', 'rule-add', '-l', 'sctp2', 'p1', '1'],
      "netctl: invalid value 'sctp2' for --protocol: must be tcp, udp, icmp or a protocol number",
    ],
    [['policy', 'rule-add', '-j', 'maybe', 'p1', '1'], "netctl: invalid value 'maybe' for --action: must be one of allow, deny"],
    [
      ['policy', 'rule-add', '-i', '10.1.1.300', 'p1', '1'],
      "netctl: invalid value '10.1.1.300' for --from-ip-address: expected an IPv4 address or CIDR",
    ],
    [['netprofile', 'create', '-b', 'fast', 'np'], "netctl: invalid value 'fast' for --bandwidth: expected e.g. 500kbps, 10mbps, 1gbps"],
    [['netprofile', 'create', '-d', '64', 'np'], "netctl: invalid value '64' for --dscp: must be 0..63"],
    [['netprofile', 'create', '-s', 'big', 'np'], "netctl: invalid value 'big' for --burst: not a number"],
    // the agent's meter burst is a 32-bit kbit count: kbytes * 8 must fit
    [['netprofile', 'create', '-s', '536870912', 'np'], "netctl: invalid value '536870912' for --burst: must be 0..536870911"],
    [
      ['bgp', 'create', '--router-ip', '50.1.1.1', '--as', '1', '--neighbor-as', '2', '--neighbor', '50.1.1.2', 'h'],
      "netctl: Wrong CIDR format. Enter in x.x.x.x/len format (--router-ip '50.1.1.1')",
    ],
    [
      ['bgp', 'create', '--router-ip', '50.1.1.1/24', '--as', '1', '--neighbor-as', '2', '--neighbor', 'x', 'h'],
      "netctl: Wrong IP format. Enter in x.x.x.x format (--neighbor 'x')",
    ],
    [['bgp', 'create', '--router-ip', '50.1.1.1/24', '--neighbor', '50.1.1.2', 'h'], 'netctl: Missing attributes (--as)'],
    [
      ['bgp', 'create', '--router-ip', '50.1.1.1/24', '--as', 'AS1', '--neighbor-as', '2', '--neighbor', '50.1.1.2', 'h'],
      "netctl: invalid value 'AS1' for --as: an AS number 1..4294967295",
    ],
    [['external-contracts', 'create', '-a', 'uni/x', 'ec'], 'netctl: Either provided or consumed must be specified'],
    [['external-contracts', 'create', '-c', '-p', '-a', 'uni/x', 'ec'], 'netctl: Cannot use both provided and consumed'],
    [['external-contracts', 'create', '-c', 'ec'], 'netctl: Contracts not provided'],
    [['global', 'set', '--vlan-range', '10'], "netctl: invalid value '10' for --vlan-range: expected N-M inside 1-4094"],
    [['global', 'set', '--fwd-mode', 'switching'], "netctl: invalid value 'switching' for --fwd-mode: must be one of bridge, routing"],
    [['global', 'set', '--arp-mode', 'x'], "netctl: invalid value 'x' for --arp-mode: must be one of proxy, flood"],
    [['global', 'set', '--fabric-mode', 'x'], "netctl: invalid value 'x' for --fabric-mode: must be one of default, aci, aci-opflex"],
    [['global', 'set', '--private-subnet', '172.19.0.0'], "netctl: invalid value '172.19.0.0' for --private-subnet: expected an IPv4 CIDR"],
    [['aci-gw', 'set', '-e', 'maybe'], "netctl: invalid value 'maybe' for --enforce-policies: must be one of yes, no"],
    [['service', 'create', '-p', '80', 's1'], "netctl: invalid value '80' for --port: expected svcPort:provPort:TCP|UDP"],
    [['service', 'create', '-l', 'novalue', 's1'], "netctl: invalid value 'novalue' for --selector: expected key=value"],
    [
      ['net', 'ls', '-o', 'xml'],
      "netctl: option '-o, --output <format>' argument 'xml' is invalid. Allowed choices are table, json, yaml.",
    ],
    [['endpoint', 'inspect'], 'netctl: Endpoint name required'],
    [['completion', 'zsh'], "netctl: completion for 'zsh' is not supported: only bash"],
    [['net', 'create', '-s'], "netctl: option '-s, --subnet <cidr>' argument missing"],
  ];

  for (const [argv, line] of usageCases) {
    it(`usage error, exit 2, no request: netctl ${argv.join(' ')}`, async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 2);
      assertOneLine(r);
      assert.equal(r.stderr.trimEnd(), line.trimEnd());
      assert.deepEqual(fake.requests, [], 'no request may be sent');
    });
  }

  it('a --netmaster that is not an http(s) URL is a usage error', async () => {
    const r = await runCli(['--netmaster', 'netmaster:9999', 'tenant', 'ls']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "netctl: invalid netmaster URL 'netmaster:9999': must begin with http:// or https://\n");
  });
});
