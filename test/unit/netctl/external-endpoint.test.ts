/**
 * `netctl endpoint register|unregister|registered` against the in-process fake netmaster: the
 * body and path sent, the message printed, and flags refused before any request (naming the flag).
 */
import { strict as assert } from 'node:assert';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

describe('netctl endpoint register / unregister / registered (fake netmaster)', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));
  const cli = (...argv: string[]) => runCli(['--netmaster', fake.url, ...argv]);

  it('register POSTs the external endpoint (MAC as given; netmaster lowers it), unregister DELETEs it', async () => {
    const r = await cli(
      'endpoint',
      'register',
      '-t',
      't1',
      '-n',
      'vl',
      '-g',
      'metal',
      '--ip',
      '10.30.0.50',
      '--mac',
      '02:00:00:00:EE:01',
      'db1',
    );
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'Registering external endpoint t1:db1 (10.30.0.50, 02:00:00:00:ee:01)\n');
    const w = fake.writes();
    assert.equal(w.length, 1);
    assert.equal(w[0]!.method, 'POST');
    assert.equal(w[0]!.path, '/api/v1/externalEndpoints/t1:db1/');
    assert.deepEqual(JSON.parse(w[0]!.body), {
      endpointName: 'db1',
      groupName: 'metal',
      ipAddress: '10.30.0.50',
      macAddress: '02:00:00:00:EE:01',
      networkName: 'vl',
      tenantName: 't1',
      links: { EndpointGroup: {}, Network: {}, Tenant: {} },
    });
    fake.requests.length = 0;
    const u = await cli('endpoint', 'unregister', '-t', 't1', 'db1');
    assert.equal(u.code, 0);
    assert.equal(u.stdout, 'Unregistering external endpoint t1:db1\n');
    assert.deepEqual(
      fake.writes().map((x) => [x.method, x.path]),
      [['DELETE', '/api/v1/externalEndpoints/t1:db1/']],
    );
  });

  it('registered lists them as a table, and by name with -q', async () => {
    fake.put('tenants', 't1', { tenantName: 't1' });
    fake.put('externalEndpoints', 't1:db1', {
      tenantName: 't1',
      endpointName: 'db1',
      networkName: 'vl',
      groupName: 'metal',
      ipAddress: '10.30.0.50',
      macAddress: '02:00:00:00:ee:01',
    });
    const t = await cli('endpoint', 'registered', '-t', 't1');
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /^Tenant\s+Name\s+Network\s+Group\s+IP Address\s+MAC Address/);
    assert.match(t.stdout, /t1\s+db1\s+vl\s+metal\s+10\.30\.0\.50\s+02:00:00:00:ee:01/);
    const q = await cli('endpoint', 'registered', '-a', '-q');
    assert.equal(q.stdout, 'db1\n');
  });

  it("endpoint ls shows an external endpoint's host as (external)", async () => {
    fake.endpoints.push({
      endpointID: 'e1',
      tenantName: 't1',
      network: 't1:vl',
      ipAddress: '10.30.0.50',
      macAddress: '02:00:00:00:ee:01',
      homingHost: '',
      containerName: 'db1',
      external: true,
    });
    const r = await cli('endpoint', 'ls');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /e1\s+t1:vl\s+10\.30\.0\.50\s+02:00:00:00:ee:01\s+\(external\)\s+db1/);
  });

  it('refuses a missing or bad --ip, --mac or --network before sending anything', async () => {
    for (const [argv, flag] of [
      [['-n', 'vl', '--mac', '02:00:00:00:00:01', 'x'], /--ip/],
      [['-n', 'vl', '--ip', '10.0.0.300', '--mac', '02:00:00:00:00:01', 'x'], /--ip/],
      [['-n', 'vl', '--ip', '10.0.0.3', '--mac', '02:00:00:00:01', 'x'], /--mac/],
      [['--ip', '10.0.0.3', '--mac', '02:00:00:00:00:01', 'x'], /network required/],
      [['-n', 'vl', '--ip', '10.0.0.3', '--mac', '02:00:00:00:00:01'], /Endpoint name required/],
    ] as const) {
      const r = await cli('endpoint', 'register', ...argv);
      assert.notEqual(r.code, 0, argv.join(' '));
      assert.match(r.stderr, flag, argv.join(' '));
    }
    assert.deepEqual(fake.writes(), []);
  });
});
