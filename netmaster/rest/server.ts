/**
 * Serving the REST app over HTTP, or HTTPS when a certificate and key are given (asking clients
 * for a certificate of the client CA when one is given), with a clean close (stop accepting, end
 * idle and streaming connections).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type express from 'express';

export interface RunningServer {
  server: http.Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function listen(
  app: express.Express,
  host: string,
  port: number,
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer },
): Promise<RunningServer> {
  // with a client CA the certificate is asked for but not required: token clients connect too,
  // and the auth middleware decides (it trusts only certificates the CA verified)
  const server = tls
    ? https.createServer(
        { cert: tls.cert, key: tls.key, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}) },
        app,
      )
    : http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    port: addr.port,
    url: `${tls ? 'https' : 'http'}://${shownHost}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `host:port` (Contiv's --listen-url; also accepts `:port` and `http://host:port`). */
export function parseListenUrl(text: string): { host: string; port: number } {
  const t = text.replace(/^https?:\/\//, '').replace(/\/$/, '');
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(t);
  if (!m || Number(m[2]) > 65535) throw new Error(`--listen-url must be host:port, got '${text}'`);
  const host = (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(m[2]) };
}
