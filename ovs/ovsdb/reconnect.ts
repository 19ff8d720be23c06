/**
 * A connection to OVSDB that comes back: when the connection drops it reconnects with exponential
 * backoff (on an injectable clock) and runs `onConnect` on every new client, which is where a
 * caller restarts its monitors and takes its locks again (they die with a connection). Requests in
 * flight when the connection dropped are NOT retried (a transaction may or may not have been
 * applied): they reject with UNAVAILABLE and the caller decides, typically by re-reading state.
 */
import { Backoff } from '../../lib/backoff';
import { Clock, systemClock } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import { Logger } from '../../lib/logger';
import { ConnectOptions, OvsdbClient, OvsdbTarget } from './client';

export interface ReconnectOptions extends ConnectOptions {
  /** paces the backoff sleeps (injected in tests) */
  clock?: Clock;
  /** first retry delay (default 100 ms), doubled after each failure up to maxBackoffMs */
  minBackoffMs?: number;
  /** default 5000 ms */
  maxBackoffMs?: number;
  /** runs on every new connection before it is handed out; if it throws, the connection is dropped and retried */
  onConnect?: (client: OvsdbClient) => Promise<void>;
  logger?: Logger;
  /** how to open a connection (injected in tests) */
  connector?: (target: OvsdbTarget, opts: ConnectOptions) => Promise<OvsdbClient>;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';
export type StateListener = (state: ConnectionState, detail: { attempt: number; error?: string }) => void;

export class ReconnectingOvsdb {
  private readonly target: OvsdbTarget;
  private readonly opts: ReconnectOptions;
  private readonly clock: Clock;
  private readonly listeners = new Set<StateListener>();
  private client: OvsdbClient | undefined;
  private stopped = false;
  private waiters: Array<{ resolve: (c: OvsdbClient) => void; reject: (e: Error) => void }> = [];
  private loop: Promise<void> | undefined;
  private connects = 0;
  /** ends a backoff sleep in progress when stopped */
  private readonly stopping = new AbortController();

  constructor(target: OvsdbTarget, opts: ReconnectOptions = {}) {
    this.target = target;
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
  }

  /** Start connecting (in the background); `ready()` resolves once connected. */
  start(): this {
    if (!this.loop && !this.stopped) this.loop = this.run();
    return this;
  }

  /** How many connections were established so far (1 after the first, 2 after a reconnect...). */
  get connectionCount(): number {
    return this.connects;
  }

  /** The connected client now, or undefined while (re)connecting. */
  get current(): OvsdbClient | undefined {
    return this.client && !this.client.isClosed ? this.client : undefined;
  }

  /** A connected client: now, or as soon as a (re)connection succeeds. Rejects once stopped. */
  ready(): Promise<OvsdbClient> {
    if (this.stopped) return Promise.reject(new NetloomError('UNAVAILABLE', 'OVSDB connection was stopped'));
    const c = this.current;
    if (c) return Promise.resolve(c);
    this.start();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onState(l: StateListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Stop reconnecting and close the current connection (a backoff sleep in progress ends at once). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new NetloomError('UNAVAILABLE', 'OVSDB connection was stopped'));
    await this.client?.close();
    this.emit('stopped', { attempt: 0 });
  }

  private emit(state: ConnectionState, detail: { attempt: number; error?: string }): void {
    for (const l of this.listeners) {
      try {
        l(state, detail);
      } catch (e) {
        this.opts.logger?.error({ err: e }, 'OVSDB state listener threw');
      }
    }
  }

  private async run(): Promise<void> {
    const min = this.opts.minBackoffMs ?? 100;
    const backoff = new Backoff({ initialMs: min, maxMs: this.opts.maxBackoffMs ?? 5000 }, { clock: this.clock });
    const signal = this.stopping.signal;
    let attempt = 0;
    const connector = this.opts.connector ?? ((t: OvsdbTarget, o: ConnectOptions) => OvsdbClient.connect(t, o));
    while (!this.stopped) {
      attempt++;
      this.emit('connecting', { attempt });
      let client: OvsdbClient | undefined;
      try {
        client = await connector(this.target, this.opts);
        if (this.stopped) {
          await client.close();
          return;
        }
        await this.opts.onConnect?.(client);
      } catch (e) {
        await client?.close();
        const backoffMs = backoff.next();
        this.opts.logger?.warn({ err: e, attempt, backoffMs }, 'OVSDB connection attempt failed');
        this.emit('disconnected', { attempt, error: errorMessage(e) });
        await this.clock.sleep(backoffMs, signal);
        continue;
      }
      if (this.stopped) {
        await client.close();
        return;
      }
      this.client = client;
      this.connects++;
      backoff.reset();
      attempt = 0;
      this.emit('connected', { attempt: 0 });
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.resolve(client);
      let reason: NetloomError | undefined;
      const off = client.onClose((r) => (reason = r));
      await client.rpc.closed;
      off();
      if (this.stopped) return;
      this.opts.logger?.warn({ err: reason }, 'OVSDB connection lost; reconnecting');
      this.emit('disconnected', { attempt: 0, ...(reason ? { error: reason.message } : {}) });
      await this.clock.sleep(min, signal);
    }
  }
}
