/**
 * The small REST client netctl uses to talk to netmaster. It sends requests the way Contiv's
 * netctl did (JSON bodies with a Content-Length and NO Content-Type header) and turns every failure
 * into one NetloomError: unreachable netmaster -> UNAVAILABLE, a 4xx JSON error -> the server's
 * message, field and code, Contiv-style 500 text/plain -> the first line of the text.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isErrorCode, NetloomError, type ErrorCode } from '../lib/errors';
import type { RestCredentials } from '../lib/rest-credentials';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ClientOptions {
  baseUrl: string;
  timeoutMs?: number;
  /** skip TLS certificate checks (Contiv's --insecure) */
  insecure?: boolean;
  /** a CA, a client certificate and key, a bearer token (credentials.ts) */
  credentials?: RestCredentials;
}

function codeForStatus(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'INVALID_ARGUMENT';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 503) return 'UNAVAILABLE';
  return 'INTERNAL';
}

/** The NetloomError for a non-2xx answer; exported for tests. */
export function httpError(method: string, path: string, status: number, statusText: string, body: string): NetloomError {
  const where = `${method} ${path}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    const msg = typeof o['error'] === 'string' ? o['error'] : typeof o['message'] === 'string' ? o['message'] : undefined;
    if (msg !== undefined) {
      const serverCode = typeof o['code'] === 'string' ? o['code'] : '';
      const code: ErrorCode = isErrorCode(serverCode) ? serverCode : codeForStatus(status);
      const field = typeof o['field'] === 'string' && o['field'] !== '' ? o['field'] : undefined;
      return new NetloomError(code, msg, {
        ...(field === undefined ? {} : { field }),
        details: { status, serverCode, request: where },
      });
    }
  }
  if (typeof parsed === 'string' && parsed.trim() !== '') {
    return new NetloomError(codeForStatus(status), parsed.trim(), { details: { status, request: where } });
  }
  const firstLine = body
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  const msg = firstLine ? firstLine : `${where}: HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  return new NetloomError(codeForStatus(status), msg, { details: { status, request: where } });
}

export class NetmasterClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly insecure: boolean;
  private readonly credentials: RestCredentials;

  constructor(opts: ClientOptions) {
    this.credentials = opts.credentials ?? {};
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.insecure = opts.insecure ?? false;
  }

  get(path: string): Promise<Json> {
    return this.request('GET', path);
  }

  /** POST a body serialized exactly as given (key order kept), without a Content-Type header. */
  post(path: string, body: unknown): Promise<Json> {
    return this.request('POST', path, JSON.stringify(body));
  }

  delete(path: string): Promise<Json> {
    return this.request('DELETE', path);
  }

  request(method: string, path: string, body?: string): Promise<Json> {
    const url = new URL(this.baseUrl + path);
    const mod = url.protocol === 'https:' ? https : http;
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'netctl (netloom)' };
    if (payload !== undefined) headers['Content-Length'] = String(payload.length);
    const c = this.credentials;
    if (c.token !== undefined) headers['Authorization'] = `Bearer ${c.token}`;
    return new Promise<Json>((resolve, reject) => {
      let settled = false;
      const fail = (e: NetloomError): void => {
        if (!settled) {
          settled = true;
          reject(e);
        }
      };
      const req = mod.request(
        url,
        {
          method,
          headers,
          agent: false,
          ...(url.protocol === 'https:'
            ? {
                ...(this.insecure ? { rejectUnauthorized: false } : {}),
                ...(c.ca ? { ca: c.ca } : {}),
                ...(c.cert && c.key ? { cert: c.cert, key: c.key } : {}),
              }
            : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => fail(this.unreachable(err)));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              fail(httpError(method, path, status, res.statusMessage ?? '', text));
              return;
            }
            settled = true;
            if (text.trim() === '') {
              resolve(null);
              return;
            }
            try {
              resolve(JSON.parse(text) as Json);
            } catch {
              reject(
                new NetloomError('DECODE_ERROR', `${method} ${path}: netmaster answered with text that is not JSON: ${text.slice(0, 200)}`),
              );
            }
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        req.destroy(new NetloomError('TIMEOUT', `no answer within ${this.timeoutMs} ms`));
      });
      req.on('error', (err) => fail(this.unreachable(err)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private unreachable(err: Error): NetloomError {
    const code = err instanceof NetloomError && err.code === 'TIMEOUT' ? 'TIMEOUT' : 'UNAVAILABLE';
    return new NetloomError(code, `cannot reach netmaster at ${this.baseUrl}: ${err.message}`, { cause: err });
  }
}

/** A list answer as an array: arrays as is, null as empty, an object of objects as its values. */
export function asList(v: Json): JsonObject[] {
  if (Array.isArray(v)) return v.filter((x): x is JsonObject => x !== null && typeof x === 'object' && !Array.isArray(x));
  if (v !== null && typeof v === 'object')
    return Object.values(v).filter((x): x is JsonObject => x !== null && typeof x === 'object' && !Array.isArray(x));
  return [];
}

export function asObject(v: Json): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

export function str(o: JsonObject, k: string): string {
  const v = o[k];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
