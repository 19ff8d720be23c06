/**
 * The lab's certificates (docs/security.md), made with openssl (ECDSA P-256: a few ms each) under
 * `<lab dir>/pki/` when the lab comes up:
 *
 * - `ca`: the netloom CA. It signs netmaster's certificate (`netmaster`: REST and the agent API,
 *   subject O netloom:netmaster, both TLS usages so that replicas can call each other), one
 *   client certificate per host (`hosts/<host>`: CN and DNS SAN the host name; it acts for that
 *   host only), and the REST users `admin` and `read-only` (subject O netloom:admin / read-only).
 * - `etcd-ca`: a second CA for etcd only, so that no etcd certificate passes as a host or REST
 *   user and no host certificate opens etcd. It signs one server+peer certificate per member, the
 *   client certificate netmaster uses (`etcd-netmaster`) and the lab tools' own (`etcd-lab`).
 *
 * Keys are 0600 in a 0700 directory. All lab hosts share this machine's file system, so in the
 * lab any root process can read every key; a real deployment gives each host only its own.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { run } from '../../lib/exec';
import { loadCredentials, type RestCredentials } from '../../lib/rest-credentials';
import type { LabPlan } from './plan';

export interface CertPaths {
  cert: string;
  key: string;
}

export interface LabPki {
  dir: string;
  ca: CertPaths;
  etcdCa: CertPaths;
  netmaster: CertPaths;
  admin: CertPaths;
  readOnly: CertPaths;
  hosts: Record<string, CertPaths>;
  etcdMembers: Record<string, CertPaths>;
  etcdNetmaster: CertPaths;
  etcdLab: CertPaths;
}

/** Subject O of each REST role and of netmaster (netmaster/auth/identity.ts reads them). */
export const ROLE_ORG = { admin: 'netloom:admin', readOnly: 'netloom:read-only', netmaster: 'netloom:netmaster', host: 'netloom:host' };

const pair = (dir: string, name: string): CertPaths => ({ cert: `${dir}/${name}.crt`, key: `${dir}/${name}.key` });

/** Where the certificate of host `name` is under a PKI directory (the lab's hosts and simulated agents alike). */
export const hostCertPaths = (pkiDir: string, name: string): CertPaths => pair(`${pkiDir}/hosts`, name);

/** A host's client certificate: it acts for that host only (CN and DNS SAN its name, netmaster/auth/identity.ts). */
export const hostCertSpec = (name: string): CertSpec => ({
  subject: { O: ROLE_ORG.host, CN: name },
  san: `DNS:${name}`,
  eku: 'clientAuth',
});

/** Where the lab's certificates are (pure). */
export function pkiPaths(plan: Pick<LabPlan, 'dir' | 'hosts' | 'etcd'>): LabPki {
  const dir = `${plan.dir}/pki`;
  return {
    dir,
    ca: pair(dir, 'ca'),
    etcdCa: pair(dir, 'etcd-ca'),
    netmaster: pair(dir, 'netmaster'),
    admin: pair(dir, 'admin'),
    readOnly: pair(dir, 'read-only'),
    hosts: Object.fromEntries(plan.hosts.map((h) => [h.name, hostCertPaths(dir, h.name)])),
    etcdMembers: Object.fromEntries(plan.etcd.map((m) => [m.name, pair(dir, `etcd-${m.name}`)])),
    etcdNetmaster: pair(dir, 'etcd-netmaster'),
    etcdLab: pair(dir, 'etcd-lab'),
  };
}

export interface CertSpec {
  /** subject parts, e.g. { O: 'netloom:admin', CN: 'admin' } */
  subject: Record<string, string>;
  /** subjectAltName, e.g. 'DNS:host1,IP:10.0.0.1' */
  san?: string;
  /** extendedKeyUsage, e.g. 'clientAuth' or 'serverAuth,clientAuth' (none for a CA) */
  eku?: string;
  days?: number;
}

const subjectOf = (s: Record<string, string>): string =>
  Object.entries(s)
    .map(([k, v]) => `/${k}=${v.replace(/[/\\]/g, (c) => `\\${c}`)}`)
    .join('');

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** One `openssl req -x509` making a P-256 key and certificate for `spec` at `paths`; `extra` adds the signing and extensions. */
async function request(paths: CertPaths, spec: CertSpec, extra: string[]): Promise<void> {
  await run(
    'openssl',
    [
      'req',
      '-x509',
      ...EC,
      '-days',
      String(spec.days ?? 365),
      '-subj',
      subjectOf(spec.subject),
      '-keyout',
      paths.key,
      '-out',
      paths.cert,
      ...extra,
    ],
    { timeoutMs: 30_000 },
  );
  chmodSync(paths.key, 0o600);
}

/** A self-signed CA certificate and its key. */
export async function makeCa(paths: CertPaths, spec: CertSpec): Promise<void> {
  await request(paths, spec, ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

/** A leaf certificate signed by `ca`, in one openssl call (OpenSSL 3's `req -x509 -CA`). */
export async function makeCert(paths: CertPaths, ca: CertPaths, spec: CertSpec): Promise<void> {
  await request(paths, spec, [
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    // a random serial: certificates made in parallel never share one (no serial file)
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    ...(spec.eku ? ['-addext', `extendedKeyUsage=${spec.eku}`] : []),
    ...(spec.san ? ['-addext', `subjectAltName=${spec.san}`] : []),
  ]);
}

/** Make every certificate of the lab (replacing any there). */
export async function makeLabPki(plan: Pick<LabPlan, 'dir' | 'hosts' | 'etcd' | 'rootMgmtIp'>): Promise<LabPki> {
  const p = pkiPaths(plan);
  mkdirSync(`${p.dir}/hosts`, { recursive: true, mode: 0o700 });
  chmodSync(p.dir, 0o700);
  await Promise.all([
    makeCa(p.ca, { subject: { O: 'netloom', CN: 'netloom lab CA' } }),
    makeCa(p.etcdCa, { subject: { O: 'netloom', CN: 'netloom lab etcd CA' } }),
  ]);
  const server = `DNS:netmaster,DNS:localhost,IP:${plan.rootMgmtIp},IP:127.0.0.1`;
  await Promise.all([
    makeCert(p.netmaster, p.ca, { subject: { O: ROLE_ORG.netmaster, CN: 'netmaster' }, san: server, eku: 'serverAuth,clientAuth' }),
    makeCert(p.admin, p.ca, { subject: { O: ROLE_ORG.admin, CN: 'admin' }, eku: 'clientAuth' }),
    makeCert(p.readOnly, p.ca, { subject: { O: ROLE_ORG.readOnly, CN: 'read-only' }, eku: 'clientAuth' }),
    ...plan.hosts.map((h) => makeCert(p.hosts[h.name]!, p.ca, hostCertSpec(h.name))),
    ...plan.etcd.map((m) =>
      makeCert(p.etcdMembers[m.name]!, p.etcdCa, {
        subject: { O: 'netloom:etcd', CN: m.name },
        san: `DNS:${m.name},DNS:localhost,IP:${plan.rootMgmtIp},IP:127.0.0.1`,
        eku: 'serverAuth,clientAuth',
      }),
    ),
    makeCert(p.etcdNetmaster, p.etcdCa, { subject: { O: 'netloom:etcd-client', CN: 'netmaster' }, eku: 'clientAuth' }),
    makeCert(p.etcdLab, p.etcdCa, { subject: { O: 'netloom:etcd-client', CN: 'netloom-lab' }, eku: 'clientAuth' }),
  ]);
  return p;
}

/**
 * The client certificate of a host that is not the lab's (a simulated agent, tools/agent-sim),
 * signed by the CA at `ca`, at hostCertPaths(pkiDir, name).
 */
export async function makeHostCert(pkiDir: string, ca: CertPaths, name: string): Promise<CertPaths> {
  mkdirSync(`${pkiDir}/hosts`, { recursive: true, mode: 0o700 });
  const paths = hostCertPaths(pkiDir, name);
  await makeCert(paths, ca, hostCertSpec(name));
  return paths;
}

/** Write a client config (lib/rest-credentials.ts) for netctl: the lab's URLs and the admin's certificate. */
export function writeClientConfig(path: string, urls: readonly string[], pki: LabPki, who: CertPaths = pki.admin): void {
  const config = { netmaster: urls[0], netmasters: urls, cacert: pki.ca.cert, cert: who.cert, key: who.key };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** The lab tools' etcd client TLS (etcdctl: health, tests). */
export function etcdClientTls(plan: Pick<LabPlan, 'dir' | 'hosts' | 'etcd'>): { ca: string; cert: string; key: string } {
  const p = pkiPaths(plan);
  return { ca: p.etcdCa.cert, cert: p.etcdLab.cert, key: p.etcdLab.key };
}

/** REST credentials of one of the lab's users (default the admin), read from the files. */
export function labRestCredentials(plan: Pick<LabPlan, 'dir' | 'hosts' | 'etcd'>, who: 'admin' | 'readOnly' = 'admin'): RestCredentials {
  const p = pkiPaths(plan);
  return loadCredentials({ cacert: p.ca.cert, cert: p[who].cert, key: p[who].key });
}
