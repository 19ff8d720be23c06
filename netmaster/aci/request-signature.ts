/**
 * APIC's signature-based transactions (the "v1.0" certificate algorithm): a local user's X.509
 * certificate is registered on the APIC (`uni/userext/user-NAME/usercert-CERT`) and every request
 * carries, as cookies, an RSA-SHA256 signature over METHOD + PATH (with its query) + BODY made with
 * that certificate's key, and the certificate's DN. No login, no token, nothing to refresh.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { NetloomError, errorMessage } from '../../lib/errors';

export const APIC_SIGNATURE_ALGORITHM = 'v1.0';

/** DN of a user's certificate on the APIC. */
export const USER_CERT_DN = /^uni\/userext\/user-([^/\s]+)\/usercert-([^/\s]+)$/;

/** What is signed: exactly the method, the URL path with its query, and the body text sent (none for GET/DELETE). */
export function signaturePayload(method: string, pathWithQuery: string, body?: string): string {
  return `${method}${pathWithQuery}${body ?? ''}`;
}

/** The base64 RSA-SHA256 signature of one request. */
export function signRequest(key: KeyObject, method: string, pathWithQuery: string, body?: string): string {
  return sign('sha256', Buffer.from(signaturePayload(method, pathWithQuery, body), 'utf8'), key).toString('base64');
}

/** The Cookie header of a signed request. */
export function signatureCookie(certDn: string, signature: string): string {
  return [
    `APIC-Request-Signature=${signature}`,
    `APIC-Certificate-Algorithm=${APIC_SIGNATURE_ALGORITHM}`,
    // APIC's documented value: the fingerprint is found from the DN, this names the scheme
    'APIC-Certificate-Fingerprint=fingerprint',
    `APIC-Certificate-DN=${certDn}`,
  ].join('; ');
}

/** Check a certificate DN (`field`: the flag or property that gave it). */
export function checkCertDn(dn: string, field: string): string {
  if (!USER_CERT_DN.test(dn))
    throw new NetloomError('INVALID_ARGUMENT', `${field} must be uni/userext/user-NAME/usercert-CERT, got '${dn}'`, { field });
  return dn;
}

/** The RSA private key of a PEM text (the v1.0 algorithm is RSA only). */
export function rsaSigningKey(pem: string | Buffer, field: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `${field}: not a PEM private key (${errorMessage(e)})`, { field });
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new NetloomError('INVALID_ARGUMENT', `${field}: APIC signatures need an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`, {
      field,
    });
  return key;
}
