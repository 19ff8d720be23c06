/**
 * The stand-in's login sessions: aaaLogin checks the configured user and password and hands out
 * a token (the APIC-cookie) that expires after the configured lifetime unless aaaRefresh renews
 * it. Time comes from a Clock so that tests expire tokens by hand.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../lib/clock';
import { ApicError } from './apic-error';

export interface SessionOptions {
  user: string;
  password: string;
  /** seconds a token lives without a refresh (APIC's default is 600) */
  tokenLifetimeSeconds: number;
  clock?: Clock;
}

export interface Token {
  token: string;
  refreshTimeoutSeconds: number;
}

export class Sessions {
  private readonly tokens = new Map<string, number>();
  private readonly clock: Clock;

  constructor(private readonly opts: SessionOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  login(user: unknown, password: unknown): Token {
    if (user !== this.opts.user || password !== this.opts.password) throw ApicError.badLogin();
    return this.issue();
  }

  /** aaaRefresh: a new token for a valid one (the old one stays valid until its own expiry). */
  refresh(token: string | undefined): Token {
    this.check(token);
    return this.issue();
  }

  logout(token: string | undefined): void {
    if (token) this.tokens.delete(token);
  }

  /** Throws 403 unless `token` is a live token. */
  check(token: string | undefined): void {
    if (!token) throw ApicError.noToken();
    const expires = this.tokens.get(token);
    if (expires === undefined || this.clock.monotonic() >= expires) {
      this.tokens.delete(token);
      throw ApicError.tokenTimeout();
    }
  }

  /** Every token expires now (tests: a token expired mid-sync). */
  expireAll(): void {
    this.tokens.clear();
  }

  private issue(): Token {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, this.clock.monotonic() + this.opts.tokenLifetimeSeconds * 1000);
    return { token, refreshTimeoutSeconds: this.opts.tokenLifetimeSeconds };
  }
}
