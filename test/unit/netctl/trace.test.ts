/**
 * netctl trace against the in-process fake netmaster: the body it sends, usage errors before any
 * request, the readable verdict (the rule, direction and host that decided) and -o json as is;
 * exit 0 whatever the verdict.
 */
import { strict as assert } from 'node:assert';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

const step = (table: number, tableName: string, feature: string, object: string, actions: string[], pass = 0) => ({
  table,
  tableName,
  priority: 100,
  match: '',
  cookie: '0x1',
  feature,
  object,
  actions,
  pass,
});

const ep = (endpoint: string, ip: string, host: string) => ({ endpoint, name: `c-${endpoint}`, ip, mac: '', network: 't1:n1', host });

const DENIED = {
  tenant: 't1',
  protocol: 'tcp',
  port: 22,
  from: ep('a', '10.1.0.2', 'host1'),
  to: ep('b', '10.1.0.3', 'host2'),
  verdict: 'deny',
  decidedBy: {
    host: 'host1',
    direction: 'egress',
    tenant: 't1',
    policy: 'p1',
    rule: 'r2',
    table: 60,
    tableName: 'egressPolicy',
    action: 'deny',
    object: 't1:p1/r2',
  },
  decisions: [],
  hops: [
    {
      host: 'host1',
      flow: 'in_port=1,tcp',
      steps: [
        step(0, 'classifier', 'classifier', 'a', ['goto_table:10']),
        step(60, 'egressPolicy', 'policy', 't1:p1/r2', ['load:0x1->NXM_NX_REG5[4]', 'goto_table:80'], 1),
        step(80, 'ctCommit', 'conntrack', 't1:denied', [], 1),
      ],
      outputs: [],
      dropped: true,
    },
  ],
};

describe('netctl trace (fake netmaster)', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  it('sends the trace body and prints the verdict with the rule, direction and host; exit 0 for a deny', async () => {
    fake.canned.set('POST /api/v1/trace/', { status: 200, body: JSON.stringify(DENIED) });
    const r = await runCli(['--netmaster', fake.url, 'trace', '-t', 't1', '--from', 'a', '--to', '10.1.0.3', '-l', 'TCP', '-P', '22']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(fake.writes()[0]!.body), { tenant: 't1', from: 'a', to: '10.1.0.3', protocol: 'tcp', port: 22 });
    assert.match(r.stdout, /^verdict: DENY by policy p1 rule r2 \(egress on host1, table 60 egressPolicy\)$/m);
    assert.match(r.stdout, /^host host1: in_port=1,tcp$/m);
    assert.match(r.stdout, /^\s+60 egressPolicy\s+\[policy t1:p1\/r2\] load:0x1->NXM_NX_REG5\[4\], goto_table:80$/m);
    assert.match(r.stdout, /^\s+=> dropped$/m);
  });

  it('-o json prints the answer as is', async () => {
    fake.canned.set('POST /api/v1/trace/', { status: 200, body: JSON.stringify(DENIED) });
    const r = await runCli(['--netmaster', fake.url, 'trace', '--from', 'a', '--to', 'b', '-l', 'icmp', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), DENIED);
    assert.deepEqual(JSON.parse(fake.writes()[0]!.body), { tenant: 'default', from: 'a', to: 'b', protocol: 'icmp' });
  });

  it('usage errors before any request (exit 2)', async () => {
    for (const argv of [
      ['trace', '--to', 'b', '-l', 'tcp', '-P', '80'],
      ['trace', '--from', 'a', '-l', 'tcp', '-P', '80'],
      ['trace', '--from', 'a', '--to', 'b', '-P', '80'],
      ['trace', '--from', 'a', '--to', 'b', '-l', 'sctp'],
      ['trace', '--from', 'a', '--to', 'b', '-l', 'tcp'],
      ['trace', '--from', 'a', '--to', 'b', '-l', 'icmp', '-P', '1'],
      ['trace', '--from', 'a', '--to', 'b', '-l', 'udp', '-P', '70000'],
    ]) {
      const r = await runCli(['--netmaster', fake.url, ...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    }
    assert.equal(fake.writes().length, 0);
  });

  it("netmaster's 4xx naming a field is an error (exit 1)", async () => {
    fake.canned.set('POST /api/v1/trace/', {
      status: 404,
      body: JSON.stringify({ error: "to: no endpoint 'zz' in tenant t1", field: 'to', code: 'NOT_FOUND' }),
    });
    const r = await runCli(['--netmaster', fake.url, 'trace', '-t', 't1', '--from', 'a', '--to', 'zz', '-l', 'udp', '-P', '53']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no endpoint 'zz'/);
  });
});
