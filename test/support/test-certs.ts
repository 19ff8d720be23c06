/**
 * Throw-away certificates for TLS tests, made with openssl in a directory of the test's: a
 * self-signed one (a CA) is `<dir>/<name>.crt` + `<name>.key`, a leaf the same plus its CSR, signed
 * by one of those CAs. ECDSA P-256 keys (a few ms each, where RSA took ~100 ms).
 * Valid for one day.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { run } from '../../lib/exec';

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeoutMs: 30_000 });
}

/** A self-signed certificate `name` (subject CN = `cn`): a CA, or with `san` (e.g. `IP:127.0.0.1`) a server's own. */
export async function makeSelfSigned(dir: string, name: string, cn = name, san?: string): Promise<void> {
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '1',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${dir}/${name}.key`,
    '-out',
    `${dir}/${name}.crt`,
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
  ]);
}

/** A leaf certificate `name` signed by the CA `ca`; `ext`: openssl extension lines (SAN, key usage). */
export async function makeLeaf(dir: string, ca: string, name: string, o: { cn?: string; org?: string; ext?: string } = {}): Promise<void> {
  await openssl([
    'req',
    ...EC_KEY,
    '-subj',
    `${o.org ? `/O=${o.org}` : ''}/CN=${o.cn ?? name}`,
    '-keyout',
    `${dir}/${name}.key`,
    '-out',
    `${dir}/${name}.csr`,
  ]);
  const extArgs: string[] = [];
  if (o.ext !== undefined) {
    writeFileSync(`${dir}/${name}.ext`, o.ext);
    extArgs.push('-extfile', `${dir}/${name}.ext`);
  }
  await openssl([
    'x509',
    '-req',
    '-in',
    `${dir}/${name}.csr`,
    '-CA',
    `${dir}/${ca}.crt`,
    '-CAkey',
    `${dir}/${ca}.key`,
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '1',
    ...extArgs,
    '-out',
    `${dir}/${name}.crt`,
  ]);
}

/** An APIC user certificate: self-signed RSA 2048 (APIC's signature algorithm v1.0 is RSA-SHA256). */
export async function makeRsaUserCert(dir: string, name: string): Promise<void> {
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${dir}/${name}.key`,
    '-out',
    `${dir}/${name}.crt`,
  ]);
}
