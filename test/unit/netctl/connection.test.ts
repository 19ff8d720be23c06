/**
 * Which netmaster netctl talks to and how: `--netmaster` over env NETMASTER over the lab's URL
 * file over Contiv's default; the bearer token; and the HTTP details of requests.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveNetmasterUrl, DEFAULT_NETMASTER } from '../../../netctl/netmaster-url';
import { deadUrl, FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

describe('netctl netmaster URL and connection', () => {
  let fake: FakeNetmaster;
  let dir: string;
  let DEAD = ''; // a 127.0.0.1 port that was just free: nothing listens there

  before(async () => {
    DEAD = await deadUrl();
  });

  fakeNetmasterPerTest((f) => (fake = f));
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'netctl-url-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses env NETMASTER when there is no --netmaster', async () => {
    const r = await runCli(['tenant', 'ls', '-q'], { env: { NETMASTER: fake.url } });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'default\n');
    assert.equal(fake.requests.length, 1);
  });

  it('--netmaster wins over env NETMASTER (before or after the command)', async () => {
    const r1 = await runCli(['--netmaster', fake.url, 'tenant', 'ls', '-q'], { env: { NETMASTER: DEAD } });
    assert.equal(r1.code, 0);
    const r2 = await runCli(['tenant', 'ls', '-q', '--netmaster', fake.url], { env: { NETMASTER: DEAD } });
    assert.equal(r2.code, 0);
    const r3 = await runCli(['-netmaster', fake.url, 'tenant', 'ls', '-q'], { env: { NETMASTER: DEAD } });
    assert.equal(r3.code, 0, 'Go-style single-dash long flag');
    assert.equal(fake.requests.length, 3);
  });

  it('reads the lab URL file when neither flag nor env is set; env wins over the file', async () => {
    const file = path.join(dir, 'netmaster.url');
    writeFileSync(file, `${fake.url}/\n`);
    const r = await runCli(['tenant', 'ls', '-q'], { urlFile: file });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'default\n');
    writeFileSync(file, `${DEAD}\n`);
    const r2 = await runCli(['tenant', 'ls', '-q'], { urlFile: file, env: { NETMASTER: fake.url } });
    assert.equal(r2.code, 0);
    const r3 = await runCli(['tenant', 'ls', '-q'], { urlFile: file });
    assert.equal(r3.code, 1);
    assert.ok(r3.stderr.startsWith(`netctl: cannot reach netmaster at ${DEAD}: connect ECONNREFUSED`), r3.stderr);
  });

  it("falls back to Contiv's http://netmaster:9999", () => {
    assert.equal(DEFAULT_NETMASTER, 'http://netmaster:9999');
    assert.equal(resolveNetmasterUrl({ urlFile: path.join(dir, 'absent') }), 'http://netmaster:9999');
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    assert.equal(resolveNetmasterUrl({ urlFile: empty }), 'http://netmaster:9999');
    assert.equal(resolveNetmasterUrl({ flag: 'https://nm:1/', env: 'http://x:2' }), 'https://nm:1');
  });

  it('sends the bearer token from --token or env NETMASTER_AUTH_TOKEN', async () => {
    await runCli(['--netmaster', fake.url, '--token', 's3cret', 'tenant', 'create', 't1']);
    await runCli(['--netmaster', fake.url, 'tenant', 'rm', 't1'], { env: { NETMASTER_AUTH_TOKEN: 'envtok' } });
    await runCli(['--netmaster', fake.url, 'tenant', 'ls']);
    assert.deepEqual(
      fake.requests.map((r) => r.headers['authorization']),
      ['Bearer s3cret', 'Bearer envtok', undefined],
    );
  });

  it('GET and DELETE carry no body; POST has Content-Length and no Content-Type', async () => {
    fake.put('tenants', 't1', { tenantName: 't1' });
    await runCli(['--netmaster', fake.url, 'tenant', 'ls']);
    await runCli(['--netmaster', fake.url, 'tenant', 'rm', 't1']);
    await runCli(['--netmaster', fake.url, 'tenant', 'create', 't2']);
    const [get, del, post] = fake.requests;
    assert.equal(get!.body, '');
    assert.equal(del!.body, '');
    assert.equal(get!.headers['content-type'], undefined);
    assert.equal(post!.headers['content-type'], undefined);
    assert.equal(post!.headers['content-length'], '34');
    assert.equal(post!.body, '{"tenantName":"t2","link-sets":{}}');
  });

  it('talks HTTPS; a self-signed netmaster needs --insecure (or env INSECURE)', async function () {
    this.timeout(10_000);
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          path.join(dir, 'k.pem'),
          '-out',
          path.join(dir, 'c.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        {
          stdio: 'ignore',
          timeout: 5000,
        },
      );
    } catch {
      this.skip(); // no openssl on this machine
    }
    const tlsFake = new FakeNetmaster();
    await tlsFake.start({ key: readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'c.pem'), 'utf8') });
    try {
      const strict = await runCli(['--netmaster', tlsFake.url, 'tenant', 'ls', '-q']);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, new RegExp(`^netctl: cannot reach netmaster at ${tlsFake.url}: .*self.signed`));
      const insecure = await runCli(['--netmaster', tlsFake.url, '--insecure', 'tenant', 'ls', '-q']);
      assert.deepEqual(insecure, { code: 0, stdout: 'default\n', stderr: '' });
      const env = await runCli(['--netmaster', tlsFake.url, 'tenant', 'create', 't1'], { env: { INSECURE: 'true' } });
      assert.equal(env.code, 0);
      assert.equal(tlsFake.get('tenants', 't1')?.['tenantName'], 't1');
    } finally {
      await tlsFake.stop();
    }
  });
});
