/**
 * Who a client certificate is (docs/security.md). Certificates are signed by the CA netmaster is
 * given (`--grpc-client-ca`, `--tls-client-ca`); what they may do follows from their subject:
 *
 * - subject O `netloom:admin` / `netloom:read-only`: a REST user of that role, never a host;
 * - subject O `netloom:netmaster`, or netmaster's own certificate: a replica (it may forward agent
 *   queries to another replica's REST API), never a host;
 * - any other certificate acts for exactly one host: the single name its subject CN and DNS
 *   subjectAltNames give. A certificate naming two or more hosts acts for none (otherwise one with
 *   SAN B would act for B as well as for its CN), and so does one naming no host.
 */
import { X509Certificate } from 'node:crypto';
import { checkHost } from '../agent/registry';

/** The parts of a peer certificate (node:tls PeerCertificate) identity reads. */
export interface PeerCert {
  subject?: { CN?: string | string[]; O?: string | string[] } | undefined;
  subjectaltname?: string | undefined;
  fingerprint256?: string | undefined;
}

export type RestRole = 'admin' | 'read-only' | 'replica';

const ROLE_OF_ORG: Record<string, RestRole> = {
  'netloom:admin': 'admin',
  'netloom:read-only': 'read-only',
  'netloom:netmaster': 'replica',
};

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** SHA-256 fingerprints (node's `AA:BB:...` form) of the PEM certificates in `pem` (a chain's leaf first). */
export function fingerprintsOf(pem: Buffer | string): string[] {
  const text = pem.toString();
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b).fingerprint256);
}

/** The role the certificate's subject O names (several different roles: none). */
export function roleOfCertificate(cert: PeerCert, own: ReadonlySet<string> = new Set()): RestRole | undefined {
  if (cert.fingerprint256 && own.has(cert.fingerprint256)) return 'replica';
  const roles = new Set(list(cert.subject?.O).flatMap((o) => (Object.hasOwn(ROLE_OF_ORG, o) ? [ROLE_OF_ORG[o]!] : [])));
  return roles.size === 1 ? [...roles][0] : undefined;
}

/** The host names a certificate gives: its subject CN and DNS subjectAltNames, without repeats. */
export function namesOf(cert: PeerCert): string[] {
  const names = new Set(list(cert.subject?.CN));
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const t = part.trim();
    if (t.startsWith('DNS:')) names.add(t.slice(4));
  }
  return [...names];
}

/**
 * The host a certificate acts for, or why it acts for none. `own`: the fingerprints of
 * netmaster's own certificates (they act for no host whatever they name).
 */
export function hostOfCertificate(cert: PeerCert | undefined, own: ReadonlySet<string>): { host: string } | { refused: string } {
  if (!cert || (!cert.subject && !cert.fingerprint256)) return { refused: 'no client certificate' };
  if (cert.fingerprint256 && own.has(cert.fingerprint256)) return { refused: "netmaster's own certificate acts for no host" };
  const orgs = list(cert.subject?.O).filter((o) => Object.hasOwn(ROLE_OF_ORG, o));
  if (orgs.length > 0) return { refused: `a certificate of ${orgs.join(', ')} acts for no host` };
  const names = namesOf(cert);
  if (names.length === 0) return { refused: 'the client certificate names no host' };
  if (names.length > 1) return { refused: `the client certificate names several hosts (${names.join(', ')}) and so acts for none` };
  const host = names[0]!;
  try {
    checkHost(host);
  } catch {
    return { refused: `the client certificate names '${host}', which is not a host name` };
  }
  return { host };
}
