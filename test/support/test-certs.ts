/**
 * Throw-away certificates for TLS tests, made with openssl in a directory of the test's: a
 * self-signed one (a CA) is `<dir>/<name>.crt` + `<name>.key`, a leaf the same plus its CSR, signed
 * by one of those CAs.
 * Valid for one day.
 */
import { writeFileSync } from 'node:fs';
import { run } from '../../lib/exec';

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeoutMs: 30_000 });
}

/** A self-signed certificate `name` (subject CN = `cn`): a CA, or with `san` (e.g. `IP:127.0.0.1`) a server's own. */
export async function makeSelfSigned(dir: string, name: string, cn = name, san?: string): Promise<void> {
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
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
export async function makeLeaf(dir: string, ca: string, name: string, o: { cn?: string; ext?: string } = {}): Promise<void> {
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${o.cn ?? name}`,
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
    '-CAcreateserial',
    '-days',
    '1',
    ...extArgs,
    '-out',
    `${dir}/${name}.crt`,
  ]);
}
