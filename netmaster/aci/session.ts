/**
 * A session with an APIC, authenticated either by password login (aaaLogin; the token travels as
 * the APIC-cookie, aaaRefresh once half the token's lifetime has passed, a new login when the APIC
 * says 401/403: token expired, APIC restarted) or by signing every request with a user
 * certificate's key (request-signature.ts: nothing to log in or refresh). Retries with
 * lib/backoff on 5xx and timeouts, HTTPS with a configurable CA. Every failure the caller sees
 * quotes the APIC's own error (apic-error.ts).
 */
import type { KeyObject } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { retry, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { NetloomError, errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { ApicRequestError, apicErrorOf } from './apic-error';
import { signRequest, signatureCookie } from './request-signature';

/** How the session proves who it is: a user's password, or a user certificate's DN and RSA key. */
export type ApicAuth = { user: string; password: string } | { certDn: string; key: KeyObject };

export type ApicSessionOptions = ApicAuth & {
  /** https://apic or http://127.0.0.1:PORT (the stand-in) */
  url: string;
  /** CA certificate(s) that sign the APIC's certificate (default: the system's) */
  ca?: Buffer;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** retries of 5xx and timeouts (default 200 ms doubling to 5 s, 6 attempts) */
  backoff?: BackoffPolicy;
  maxAttempts?: number;
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
};

interface Reply {
  status: number;
  body: unknown;
  cookie: string | undefined;
}

export const DEFAULT_APIC_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5000, jitter: 0.2 };

class RetryableTransport extends NetloomError {}

export class ApicSession {
  private token: string | undefined;
  private refreshAt = 0;
  private readonly clock: Clock;
  /** logins since start (metrics, tests) */
  logins = 0;
  refreshes = 0;

  constructor(private readonly opts: ApicSessionOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** GET: the `imdata` list. */
  async get(path: string): Promise<unknown[]> {
    const body = (await this.call('GET', path)) as { imdata?: unknown[] };
    return body.imdata ?? [];
  }

  async post(path: string, payload: unknown): Promise<void> {
    await this.call('POST', path, payload);
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', path);
  }

  /**
   * One API call, retried on 5xx/timeouts: signed; or logged in, refreshed and re-logged-in once on
   * 401/403 (a refused signature is final: the certificate or key is wrong).
   */
  async call(method: string, path: string, payload?: unknown): Promise<unknown> {
    const opts = this.opts;
    if ('certDn' in opts)
      return this.retrying(path, async () =>
        this.check(await this.send(method, path, payload, undefined), `${method} ${path} signed as ${opts.certDn}`),
      );
    return this.retrying(path, async () => {
      await this.ensureToken();
      let r = await this.send(method, path, payload, this.token);
      if (r.status === 401 || r.status === 403) {
        this.opts.logger?.info({ path, status: r.status }, 'APIC refused the token: logging in again');
        this.token = undefined;
        await this.ensureToken();
        r = await this.send(method, path, payload, this.token);
      }
      return this.check(r, `${method} ${path}`);
    });
  }

  private retrying<T>(path: string, attempt: () => Promise<T>): Promise<T> {
    return retry(attempt, {
      policy: this.opts.backoff ?? DEFAULT_APIC_BACKOFF,
      maxAttempts: this.opts.maxAttempts ?? 6,
      clock: this.clock,
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      retryable: (e) => e instanceof RetryableTransport || (e instanceof ApicRequestError && e.retryable),
      onRetry: (r) => this.opts.logger?.warn({ path, attempt: r.attempt, delayMs: r.delayMs, err: r.error }, 'APIC call failed: retrying'),
    });
  }

  private check(r: Reply, what: string): unknown {
    if (r.status >= 200 && r.status < 300) return r.body;
    const e = apicErrorOf(r.body);
    throw new ApicRequestError(r.status, e?.code ?? String(r.status), e?.text ?? 'no APIC error in the reply', what);
  }

  private async ensureToken(): Promise<void> {
    const opts = this.opts;
    if (!('password' in opts)) return;
    if (this.token && this.clock.monotonic() >= this.refreshAt) {
      const r = await this.send('GET', '/api/aaaRefresh.json', undefined, this.token);
      if (r.status === 200) {
        this.refreshes++;
        this.accept(r);
        return;
      }
      this.token = undefined;
    }
    if (this.token) return;
    const r = await this.send(
      'POST',
      '/api/aaaLogin.json',
      { aaaUser: { attributes: { name: opts.user, pwd: opts.password } } },
      undefined,
    );
    this.check(r, 'aaaLogin');
    this.logins++;
    this.accept(r);
  }

  private accept(r: Reply): void {
    const attrs = (r.body as { imdata?: Array<{ aaaLogin?: { attributes?: { token?: string; refreshTimeoutSeconds?: string } } }> })
      .imdata?.[0]?.aaaLogin?.attributes;
    const token = r.cookie ?? attrs?.token;
    if (!token) throw new NetloomError('UNAVAILABLE', 'APIC aaaLogin: no token in the reply');
    this.token = token;
    const lifetime = Number(attrs?.refreshTimeoutSeconds ?? 600);
    this.refreshAt = this.clock.monotonic() + (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : 600) * 500;
  }

  private send(method: string, path: string, payload: unknown, token: string | undefined): Promise<Reply> {
    const url = new URL(path, this.opts.url);
    const text = payload === undefined ? undefined : JSON.stringify(payload);
    const https = url.protocol === 'https:';
    const opts = this.opts;
    // the signature covers the path and query as sent, and the body's exact text
    const cookie =
      'certDn' in opts
        ? signatureCookie(opts.certDn, signRequest(opts.key, method, `${url.pathname}${url.search}`, text))
        : token
          ? `APIC-cookie=${token}`
          : undefined;
    const req = (https ? httpsRequest : httpRequest)(url, {
      method,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
      },
      ...(https && this.opts.ca ? { ca: this.opts.ca } : {}),
      timeout: this.opts.timeoutMs ?? 10_000,
    });
    return new Promise<Reply>((resolve, reject) => {
      const fail = (why: string) => reject(new RetryableTransport('UNAVAILABLE', `APIC ${method} ${path}: ${why}`));
      req.on('timeout', () => {
        req.destroy();
        fail('timed out');
      });
      req.on('error', (e) => fail(errorMessage(e)));
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(errorMessage(e)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = raw === '' ? {} : (JSON.parse(raw) as unknown);
          } catch {
            body = { raw };
          }
          const setCookie = res.headers['set-cookie']?.join(';') ?? '';
          resolve({ status: res.statusCode ?? 0, body, cookie: /APIC-cookie=([^;]+)/.exec(setCookie)?.[1] });
        });
      });
      req.end(text);
    });
  }
}
