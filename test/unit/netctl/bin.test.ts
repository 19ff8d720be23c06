/** bin/netctl for real: a spawned process against the fake netmaster, and its exit codes. */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';

const BIN = path.resolve(__dirname, '../../../../bin/netctl');

function spawnNetctl(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 15_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('bin/netctl (spawned)', function () {
  this.timeout(30_000);
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  it('creates a network and lists it, with NETMASTER from the environment', async () => {
    const c = await spawnNetctl(
      ['net', 'create', '-t', 'default', '-e', 'vlan', '-p', '100', '-s', '10.2.1.0/24', '-g', '10.2.1.1', 'net-vlan'],
      { NETMASTER: fake.url },
    );
    assert.deepEqual(c, { code: 0, stdout: 'Creating network default:net-vlan\n', stderr: '' });
    const l = await spawnNetctl(['net', 'ls', '-q'], { NETMASTER: fake.url });
    assert.deepEqual(l, { code: 0, stdout: 'net-vlan\n', stderr: '' });
    assert.equal(fake.requests.find((r) => r.method === 'POST')?.headers['content-type'], undefined);
  });

  it('exits 2 on a usage error and 1 on a server error, with one line on stderr', async () => {
    const u = await spawnNetctl(['--netmaster', fake.url, 'policy', 'rule-add', '-d', 'sideways', 'p', '1'], {});
    assert.equal(u.code, 2);
    assert.equal(u.stderr, "netctl: Unknown direction 'sideways': must be in or out\n");
    const s = await spawnNetctl(['--netmaster', fake.url, 'tenant', 'inspect', 'ghost'], {});
    assert.equal(s.code, 1);
    assert.equal(s.stderr, 'netctl: tenants ghost not found (code: NOT_FOUND)\n');
    const h = await spawnNetctl(['--help'], {});
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: netctl /);
  });
});
