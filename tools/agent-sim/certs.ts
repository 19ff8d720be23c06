/**
 * Certificates for simulated agents: netmaster's mutual TLS lets a client certificate act for the
 * one host it names, so each simulated host gets its own, signed by the CA the control plane
 * trusts (a lab's, or ControlPlane's with agentTls), where group.ts reads them (SimTlsFiles).
 */
import { makeHostCert, type CertPaths } from '../../deploy/lab/pki';
import type { SimTlsFiles } from './group';
import { inFlight } from './topology';

/** Make a certificate for each of `hosts` (openssl, `parallel` at a time); the simulator's `tls` option for them. */
export async function makeSimAgentCerts(pki: { dir: string; ca: CertPaths }, hosts: readonly string[], parallel = 4): Promise<SimTlsFiles> {
  await inFlight(hosts.length, parallel, (i) => makeHostCert(pki.dir, pki.ca, hosts[i]!));
  return { ca: pki.ca.cert, pkiDir: pki.dir };
}
