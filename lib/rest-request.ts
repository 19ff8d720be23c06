/**
 * One HTTP(S) request with netloom's REST credentials (a CA, a client certificate, a bearer
 * token): what global fetch cannot do without a dispatcher we do not ship. Used where netloom
 * talks to netmaster's REST API itself: replicas forwarding agent queries, the lab's health checks.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { NetloomError } from './errors';
import type { RestCredentials } from './rest-credentials';

export interface RestRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: RestCredentials;
  timeoutMs?: number;
  /** skip verifying the server's certificate (development only) */
  insecure?: boolean;
}

export interface RestAnswer {
  status: number;
  ok: boolean;
  text: string;
}

/** Send one request; a transport failure is UNAVAILABLE (TIMEOUT after `timeoutMs`, default 10 s). */
export function restRequest(url: string, r: RestRequest = {}): Promise<RestAnswer> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const c = r.credentials ?? {};
  const payload = r.body === undefined ? undefined : Buffer.from(r.body, 'utf8');
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (payload) headers['content-length'] = String(payload.length);
  if (c.token) headers['authorization'] = `Bearer ${c.token}`;
  const timeoutMs = r.timeoutMs ?? 10_000;
  return new Promise<RestAnswer>((resolve, reject) => {
    const options: https.RequestOptions = {
      method: r.method ?? 'GET',
      headers,
      agent: false,
      ...(tls
        ? {
            ...(c.ca ? { ca: c.ca } : {}),
            ...(c.cert && c.key ? { cert: c.cert, key: c.key } : {}),
            ...(r.insecure ? { rejectUnauthorized: false } : {}),
          }
        : {}),
    };
    const req = (tls ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('error', (e) => reject(new NetloomError('UNAVAILABLE', `${url}: ${e.message}`, { cause: e })));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new NetloomError('TIMEOUT', `${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(e instanceof NetloomError ? e : new NetloomError('UNAVAILABLE', `${url}: ${e.message}`, { cause: e })));
    req.end(payload);
  });
}
