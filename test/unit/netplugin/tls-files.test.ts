import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readClientTls } from '../../../netplugin/netmaster-client/tls-files';

describe("netmaster client's TLS files", () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-tls-files-'));
    for (const f of ['ca.crt', 'h.crt', 'h.key']) writeFileSync(join(dir, f), `pem of ${f}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the CA alone, or with a certificate and its key', () => {
    assert.deepEqual(readClientTls({ ca: join(dir, 'ca.crt') }), { ca: Buffer.from('pem of ca.crt') });
    const all = readClientTls({ ca: join(dir, 'ca.crt'), cert: join(dir, 'h.crt'), key: join(dir, 'h.key') });
    assert.equal(all.cert?.toString(), 'pem of h.crt');
    assert.equal(all.key?.toString(), 'pem of h.key');
  });

  it('names the option of a file it cannot read, and refuses a certificate without its key', () => {
    assert.throws(
      () => readClientTls({ ca: join(dir, 'ca.crt'), cert: join(dir, 'missing.crt'), key: join(dir, 'h.key') }),
      (e: Error & { field?: string }) => e.field === 'tls-cert' && e.message.includes('missing.crt'),
    );
    assert.throws(
      () => readClientTls({ ca: join(dir, 'nope') }, { ca: 'tls.ca', cert: 'c', key: 'k' }),
      (e: Error & { field?: string }) => e.field === 'tls.ca',
    );
    assert.throws(
      () => readClientTls({ ca: join(dir, 'ca.crt'), cert: join(dir, 'h.crt') }),
      (e: Error & { field?: string }) => e.field === 'tls-cert' && /go together/.test(e.message),
    );
  });
});
