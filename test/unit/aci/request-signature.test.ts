/**
 * APIC signature-based transactions: the signed payload is exactly METHOD + PATH?QUERY + BODY
 * (checked by openssl against the certificate), the cookies are APIC's, the stand-in accepts a
 * session signing with the registered certificate's key (no aaaLogin) and refuses with APIC's 403
 * a wrong key, an unknown DN, a missing or tampered signature.
 */
import { strict as assert } from 'node:assert';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../lib/exec';
import { ApicRequestError } from '../../../netmaster/aci/apic-error';
import { signRequest, signatureCookie, signaturePayload } from '../../../netmaster/aci/request-signature';
import { ApicSession } from '../../../netmaster/aci/session';
import { startApicStandin, type RunningApicStandin } from '../../../tools/apic-standin/server';
import { makeRsaUserCert } from '../../support/test-certs';

const DN = 'uni/userext/user-admin/usercert-netloom';

describe('APIC request signatures', function () {
  this.timeout(20_000);
  let dir: string;
  let s: RunningApicStandin | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ac-apic-sig-'));
    await makeRsaUserCert(dir, 'netloom');
    await makeRsaUserCert(dir, 'other');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });
  const key = (name: string) => createPrivateKey(readFileSync(join(dir, `${name}.key`)));

  it('signs METHOD + path with query + body, as openssl verifies with the certificate', async () => {
    const body = '{"fvTenant":{"attributes":{"name":"acT"}}}';
    assert.equal(signaturePayload('POST', '/api/mo/uni/tn-acT.json', body), `POST/api/mo/uni/tn-acT.json${body}`);
    assert.equal(
      signaturePayload('GET', '/api/mo/uni/tn-acT.json?query-target=subtree'),
      'GET/api/mo/uni/tn-acT.json?query-target=subtree',
    );
    const sig = signRequest(key('netloom'), 'POST', '/api/mo/uni/tn-acT.json', body);
    writeFileSync(join(dir, 'payload'), `POST/api/mo/uni/tn-acT.json${body}`);
    writeFileSync(join(dir, 'sig'), Buffer.from(sig, 'base64'));
    await run('openssl', ['x509', '-in', join(dir, 'netloom.crt'), '-pubkey', '-noout', '-out', join(dir, 'netloom.pub')]);
    const v = await run('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(dir, 'netloom.pub'),
      '-signature',
      join(dir, 'sig'),
      join(dir, 'payload'),
    ]);
    assert.match(v.stdout, /Verified OK/);
    assert.equal(
      signatureCookie(DN, 'c2ln'),
      `APIC-Request-Signature=c2ln; APIC-Certificate-Algorithm=v1.0; APIC-Certificate-Fingerprint=fingerprint; APIC-Certificate-DN=${DN}`,
    );
  });

  it('a session signing with the registered key works without aaaLogin; a wrong key is a 403 quoting the APIC, sent once', async () => {
    s = await startApicStandin({ user: 'admin', password: 'pw', userCerts: { [DN]: readFileSync(join(dir, 'netloom.crt')) } });
    const good = new ApicSession({ url: s.url, certDn: DN, key: key('netloom') });
    await good.post('/api/mo/uni/tn-acT.json', { fvTenant: { attributes: { name: 'acT' } } });
    const got = await good.get('/api/mo/uni/tn-acT.json?query-target=self');
    assert.equal((got[0] as { fvTenant: { attributes: { name: string } } }).fvTenant.attributes.name, 'acT');
    await good.delete('/api/mo/uni/tn-acT.json');
    assert.deepEqual(
      s.calls.map((c) => [c.method, c.path, c.status]),
      [
        ['POST', '/api/mo/uni/tn-acT.json', 200],
        ['GET', '/api/mo/uni/tn-acT.json', 200],
        ['DELETE', '/api/mo/uni/tn-acT.json', 200],
      ],
    );
    s.clearCalls();
    const bad = new ApicSession({ url: s.url, certDn: DN, key: key('other') });
    await assert.rejects(
      bad.get('/api/class/fvTenant.json'),
      (e: unknown) =>
        e instanceof ApicRequestError &&
        e.httpStatus === 403 &&
        e.message.includes(`signed as ${DN}`) &&
        /Signature verification failed: the signature does not verify/.test(e.message),
    );
    const unknown = new ApicSession({ url: s.url, certDn: 'uni/userext/user-admin/usercert-gone', key: key('netloom') });
    await assert.rejects(unknown.get('/api/class/fvTenant.json'), /no certificate uni\/userext\/user-admin\/usercert-gone/);
    assert.equal(s.calls.length, 2, 'a refused signature is not retried');
  });

  it('the stand-in refuses a missing, tampered or unversioned signature in APIC error format', async () => {
    s = await startApicStandin({ user: 'admin', password: 'pw', userCerts: { [DN]: readFileSync(join(dir, 'netloom.crt')) } });
    const path = '/api/mo/uni/tn-acT.json';
    const body = JSON.stringify({ fvTenant: { attributes: { name: 'acT' } } });
    const sig = signRequest(key('netloom'), 'POST', path, body);
    const post = async (cookie: string, text = body) => {
      const r = await fetch(`${s!.url}${path}`, { method: 'POST', headers: { cookie }, body: text });
      return { status: r.status, json: (await r.json()) as { imdata: Array<{ error?: { attributes: { code: string; text: string } } }> } };
    };
    const tampered = await post(signatureCookie(DN, sig), body.replace('acT', 'acU'));
    assert.equal(tampered.status, 403);
    assert.equal(tampered.json.imdata[0]?.error?.attributes.code, '403');
    assert.match(tampered.json.imdata[0]?.error?.attributes.text ?? '', /does not verify/);
    const noSig = await post(`APIC-Certificate-DN=${DN}`);
    assert.match(noSig.json.imdata[0]?.error?.attributes.text ?? '', /APIC-Request-Signature and APIC-Certificate-DN are both needed/);
    const noAlg = await post(`APIC-Request-Signature=${sig}; APIC-Certificate-DN=${DN}`);
    assert.match(noAlg.json.imdata[0]?.error?.attributes.text ?? '', /unsupported APIC-Certificate-Algorithm/);
    assert.equal(s.mit().get('uni/tn-acT'), undefined, 'nothing refused was applied');
    assert.equal((await post(signatureCookie(DN, sig))).status, 200, 'the untampered request passes');
    assert.ok(s.mit().get('uni/tn-acT'));
  });

  it('the stand-in refuses a certificate registered for another user', async () => {
    await assert.rejects(
      startApicStandin({
        user: 'admin',
        password: 'pw',
        userCerts: { 'uni/userext/user-bob/usercert-x': readFileSync(join(dir, 'netloom.crt')) },
      }),
      /not of the user 'admin'/,
    );
  });
});
