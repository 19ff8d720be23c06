/**
 * Secure by default: what a netmaster command line leaves unprotected. netmaster refuses to start
 * with any gap unless given `--insecure` (development), and then logs each gap (docs/security.md).
 */
import { NetloomError } from '../../lib/errors';

export interface SecurityInputs {
  etcdEndpoints: readonly string[];
  etcdCert?: string | undefined;
  tlsCert?: string | undefined;
  tlsClientCa?: string | undefined;
  authToken?: string | undefined;
  readOnlyToken?: string | undefined;
  grpcTlsCert?: string | undefined;
  grpcClientCa?: string | undefined;
}

/** One sentence per unprotected interface (empty: nothing is). Pure. */
export function securityGaps(o: SecurityInputs): string[] {
  const gaps: string[] = [];
  if (!o.tlsCert) gaps.push('REST serves plain HTTP (give --tls-cert and --tls-key)');
  if (!o.authToken && !o.readOnlyToken && !o.tlsClientCa)
    gaps.push('REST authenticates no one (give --tls-client-ca, or --auth-token / --read-only-token)');
  if (!o.grpcTlsCert || !o.grpcClientCa)
    gaps.push('the agent API does not authenticate agents (give --grpc-tls-cert, --grpc-tls-key and --grpc-client-ca)');
  if (!o.etcdCert || o.etcdEndpoints.some((e) => !e.startsWith('https://')))
    gaps.push('etcd is reached without TLS and a client certificate (give https:// endpoints, --etcd-cacert, --etcd-cert and --etcd-key)');
  return gaps;
}

/** Throw when there are gaps and `insecure` is not set; the gaps to log otherwise. */
export function requireSecure(o: SecurityInputs, insecure: boolean): string[] {
  const gaps = securityGaps(o);
  if (gaps.length > 0 && !insecure)
    throw new NetloomError('INVALID_ARGUMENT', `refusing to start insecurely: ${gaps.join('; ')}; or give --insecure (development only)`, {
      field: 'insecure',
    });
  return gaps;
}
