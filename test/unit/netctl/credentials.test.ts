/**
 * netctl finds its credentials the way it finds the netmaster URL: flags over env over a client
 * config (--config, NETCTL_CONFIG, else the netctl.json of the lab whose netmaster is used, or the
 * default lab's when no URL is given). Tokens show what was sent; files are read.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findClientConfig, resolveCredentials } from '../../../netctl/credentials';
import { parseClientConfig } from '../../../lib/rest-credentials';
import { isNetloomError } from '../../../lib/errors';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

describe('netctl credentials', () => {
  let fake: FakeNetmaster;
  let root: string;
  const other = 'https://10.213.9.254:13051';

  fakeNetmasterPerTest((f) => (fake = f));
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'netctl-creds-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const lab = (name: string, config: object): string => {
    mkdirSync(path.join(root, name), { recursive: true });
    const file = path.join(root, name, 'netctl.json');
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  const tokens = () => fake.requests.map((r) => r.headers['authorization']);

  it("without a URL: the default lab's config gives URL and credentials", async () => {
    lab('netloom', { netmaster: fake.url, netmasters: [fake.url], token: 'labtok' });
    const r = await runCli(['tenant', 'ls', '-q'], { labRoot: root });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(tokens(), ['Bearer labtok']);
  });

  it('with --netmaster URL (Contiv style): the config of the lab that lists that URL; none for an unknown URL', async () => {
    lab('netloom', { netmaster: other, token: 'wrong-lab' });
    lab('tfoo', { netmaster: 'https://x:1', netmasters: ['https://x:1', `${fake.url}/`], token: 'tfootok' });
    await runCli(['--netmaster', fake.url, 'tenant', 'ls', '-q'], { labRoot: root });
    await runCli(['tenant', 'ls', '-q'], { labRoot: root, env: { NETMASTER: fake.url } });
    rmSync(path.join(root, 'tfoo'), { recursive: true });
    await runCli(['--netmaster', fake.url, 'tenant', 'ls', '-q'], { labRoot: root });
    assert.deepEqual(tokens(), ['Bearer tfootok', 'Bearer tfootok', undefined]);
  });

  it("--lab NAME and env NETLOOM_LAB: that lab's config gives URL and credentials, not the default lab's", async () => {
    lab('netloom', { netmaster: other, token: 'default-lab' });
    lab('tdkr', { netmaster: fake.url, netmasters: [fake.url], token: 'tdkrtok' });
    const r1 = await runCli(['--lab', 'tdkr', 'tenant', 'ls', '-q'], { labRoot: root });
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await runCli(['tenant', 'ls', '-q'], { labRoot: root, env: { NETLOOM_LAB: 'tdkr' } });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(tokens(), ['Bearer tdkrtok', 'Bearer tdkrtok']);
  });

  it('--lab of a lab that is not up, or a bad lab name, is a usage error naming lab; nothing is sent', async () => {
    const r1 = await runCli(['--lab', 'nolab', 'tenant', 'ls'], { labRoot: root });
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /lab 'nolab' has no netctl config .*nolab\/netctl\.json/);
    const r2 = await runCli(['tenant', 'ls'], { labRoot: root, env: { NETLOOM_LAB: '../etc' } });
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /invalid lab name/);
    assert.equal(fake.requests.length, 0);
  });

  it('--config and NETCTL_CONFIG name the file; flags and env win over it field by field', async () => {
    const file = path.join(root, 'mine.json');
    writeFileSync(file, JSON.stringify({ netmaster: fake.url, token: 'filetok' }));
    await runCli(['--config', file, 'tenant', 'ls', '-q'], { labRoot: root });
    await runCli(['tenant', 'ls', '-q'], { labRoot: root, env: { NETCTL_CONFIG: file } });
    await runCli(['--config', file, '--token', 'flagtok', 'tenant', 'ls', '-q'], { labRoot: root });
    await runCli(['--config', file, 'tenant', 'ls', '-q'], { labRoot: root, env: { NETMASTER_AUTH_TOKEN: 'envtok' } });
    assert.deepEqual(tokens(), ['Bearer filetok', 'Bearer filetok', 'Bearer flagtok', 'Bearer envtok']);
  });

  it('a bad config, a missing file or a certificate without its key is a usage error (exit 2) naming the field', async () => {
    const bad = path.join(root, 'bad.json');
    writeFileSync(bad, '{"netmaster": 7}');
    const r1 = await runCli(['--config', bad, 'tenant', 'ls'], { labRoot: root });
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /netmaster must be a string/);
    const r2 = await runCli(['--config', path.join(root, 'absent.json'), 'tenant', 'ls'], { labRoot: root });
    assert.equal(r2.code, 2);
    const r3 = await runCli(['--netmaster', fake.url, '--cert', bad, 'tenant', 'ls'], { labRoot: root });
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /key/);
    assert.equal(fake.requests.length, 0, 'nothing was sent');
  });

  it('reads the files a config names; unknown keys are ignored', () => {
    const ca = path.join(root, 'ca.crt');
    writeFileSync(ca, 'CA');
    writeFileSync(path.join(root, 'c.crt'), 'CERT');
    writeFileSync(path.join(root, 'c.key'), 'KEY');
    const c = parseClientConfig(
      JSON.stringify({ cacert: ca, cert: path.join(root, 'c.crt'), key: path.join(root, 'c.key'), future: 1 }),
      'x.json',
    );
    const creds = resolveCredentials({ flags: {}, env: {} }, c);
    assert.equal(creds.ca?.toString(), 'CA');
    assert.equal(creds.cert?.toString(), 'CERT');
    assert.equal(creds.key?.toString(), 'KEY');
    assert.equal(findClientConfig({ flags: {}, env: {}, labRoot: path.join(root, 'none') }, undefined), undefined);
    assert.throws(
      () => parseClientConfig('[1]', 'x.json'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });
});
