/**
 * netmaster/aci/session against the APIC stand-in on loopback: aaaRefresh at half the token's
 * lifetime (fake clock shared with the stand-in), a new login once a token expired unused, a
 * refused request is not retried, and HTTPS verified against the configured CA only.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError } from '../../../lib/errors';
import { ApicRequestError } from '../../../netmaster/aci/apic-error';
import { ApicSession } from '../../../netmaster/aci/session';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { FakeClock } from '../../support/fake-clock';
import { makeSelfSigned } from '../../support/test-certs';

describe('APIC session', () => {
  let s: RunningApicStandin | undefined;
  afterEach(() => s?.close());

  it('refreshes at half the lifetime, logs in again after an expiry, and does not retry a refusal', async () => {
    const clock = new FakeClock();
    s = await startApicStandin({ user: 'admin', password: 'pw', tokenLifetimeSeconds: 60, clock });
    const session = new ApicSession({ url: s.url, user: 'admin', password: 'pw', clock });
    await session.get('/api/class/fvTenant.json');
    clock.advance(31_000);
    await session.get('/api/class/fvTenant.json');
    assert.deepEqual([session.logins, session.refreshes], [1, 1]);
    assert.ok(s.calls.some((c) => c.path === '/api/aaaRefresh.json' && c.status === 200));
    clock.advance(200_000); // every token expired: the refresh is refused, a login follows
    await session.get('/api/class/fvTenant.json');
    assert.deepEqual([session.logins, session.refreshes], [2, 1]);
    const before = s.calls.length;
    await assert.rejects(
      session.post('/api/mo/uni/tn-acT.json', { fvTenant: { attributes: { name: 'other' } } }),
      (e: unknown) => e instanceof ApicRequestError && e.httpStatus === 400 && /rn 'tn-other'/.test(e.message),
    );
    assert.equal(s.calls.length, before + 1, 'a refusal is sent once');
  });

  it('speaks HTTPS verified against the configured CA, and refuses a server the CA did not sign', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-apic-tls-'));
    try {
      await makeSelfSigned(dir, 'apic', 'apic', 'IP:127.0.0.1');
      await makeSelfSigned(dir, 'other', 'other', 'IP:127.0.0.1');
      s = await startApicStandin({
        user: 'admin',
        password: 'pw',
        tls: { cert: readFileSync(join(dir, 'apic.crt')), key: readFileSync(join(dir, 'apic.key')) },
      });
      assert.match(s.url, /^https:/);
      const good = new ApicSession({ url: s.url, user: 'admin', password: 'pw', ca: readFileSync(join(dir, 'apic.crt')) });
      assert.deepEqual(await good.get('/api/class/fvTenant.json'), []);
      const bad = new ApicSession({ url: s.url, user: 'admin', password: 'pw', ca: readFileSync(join(dir, 'other.crt')), maxAttempts: 1 });
      await assert.rejects(bad.get('/api/class/fvTenant.json'), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
