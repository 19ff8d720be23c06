/**
 * The stand-in's side of APIC's signature-based transactions: a request without a token cookie
 * may carry `APIC-Request-Signature` (base64 RSA-SHA256 over METHOD + PATH with query + BODY),
 * `APIC-Certificate-Algorithm=v1.0`, `APIC-Certificate-Fingerprint=fingerprint` and
 * `APIC-Certificate-DN` naming a user certificate registered for the configured user. Written
 * apart from netmaster's signer on purpose, so that the two check each other.
 */
import { X509Certificate, verify, type KeyObject } from 'node:crypto';
import { ApicError } from './apic-error';

const CERT_DN = /^uni\/userext\/user-([^/\s]+)\/usercert-([^/\s]+)$/;

export class UserCerts {
  private readonly keys = new Map<string, KeyObject>();

  /** `certs`: certificate DN -> PEM certificate; each must belong to `user`. */
  constructor(user: string, certs: Record<string, string | Buffer>) {
    for (const [dn, pem] of Object.entries(certs)) {
      const m = CERT_DN.exec(dn);
      if (!m) throw new Error(`user certificate DN '${dn}' is not uni/userext/user-NAME/usercert-CERT`);
      if (m[1] !== user) throw new Error(`user certificate DN '${dn}' is not of the user '${user}'`);
      this.keys.set(dn, new X509Certificate(pem).publicKey);
    }
  }

  /** Whether the request carries signature cookies at all. */
  static signed(cookies: ReadonlyMap<string, string>): boolean {
    return cookies.has('APIC-Request-Signature') || cookies.has('APIC-Certificate-DN');
  }

  /** Throws APIC's 403 unless the cookies sign exactly this request with a registered certificate's key. */
  check(cookies: ReadonlyMap<string, string>, method: string, pathWithQuery: string, body: string): void {
    const dn = cookies.get('APIC-Certificate-DN');
    const signature = cookies.get('APIC-Request-Signature');
    const algorithm = cookies.get('APIC-Certificate-Algorithm');
    if (!dn || !signature) throw ApicError.signatureRefused('APIC-Request-Signature and APIC-Certificate-DN are both needed');
    if (algorithm !== 'v1.0') throw ApicError.signatureRefused(`unsupported APIC-Certificate-Algorithm '${algorithm ?? ''}'`);
    const key = this.keys.get(dn);
    if (!key) throw ApicError.signatureRefused(`no certificate ${dn}`);
    const ok = verify('sha256', Buffer.from(`${method}${pathWithQuery}${body}`, 'utf8'), key, Buffer.from(signature, 'base64'));
    if (!ok) throw ApicError.signatureRefused(`the signature does not verify with the certificate ${dn}`);
  }
}
