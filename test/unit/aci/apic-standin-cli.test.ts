/**
 * The stand-in's command line for signed requests: `--user-cert DN=FILE` registers a user
 * certificate (a session signing with its key is served, another key refused), and a value
 * without `=` is refused naming the form.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { ApicSession } from '../../../netmaster/aci/session';
import { makeRsaUserCert } from '../../support/test-certs';

const MAIN = resolve(__dirname, '../../../tools/apic-standin/main.js');
const DN = 'uni/userext/user-netloom/usercert-cli';

describe('APIC stand-in command line: --user-cert', function () {
  this.timeout(20_000);
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ac-apic-cli-'));
    await makeRsaUserCert(dir, 'cli');
    await makeRsaUserCert(dir, 'other');
  });
  after(() => {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves requests signed with the registered certificate, refuses another key', async () => {
    let out = '';
    // the stand-in says where it serves in its log: at info whatever the suite's level (test/run sets silent)
    child = spawn(process.execPath, [MAIN, '--port', '0', '--user', 'netloom', '--user-cert', `${DN}=${join(dir, 'cli.crt')}`], {
      env: { ...process.env, NETLOOM_LOG_LEVEL: 'info' },
    });
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    const url = await waitFor('the stand-in serving', () => /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1]);
    const signed = (key: string) => new ApicSession({ url, certDn: DN, key: createPrivateKey(readFileSync(join(dir, `${key}.key`))) });
    assert.deepEqual(await signed('cli').get('/api/class/fvTenant.json'), []);
    await assert.rejects(signed('other').get('/api/class/fvTenant.json'), /403 \(code 403\) Signature verification failed/);
  });

  it('refuses a --user-cert without DN=FILE', async () => {
    await assert.rejects(run(process.execPath, [MAIN, '--user-cert', 'nonsense']), /want DN=FILE/);
  });
});
