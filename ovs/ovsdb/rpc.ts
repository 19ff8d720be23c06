/**
 * JSON-RPC 1.0 as OVSDB uses it (RFC 7047 section 4) over any byte stream (unix socket, TCP, or a
 * test double): requests with ids whose replies resolve promises, notifications in both
 * directions, the server's `echo` answered, an optional keepalive that declares the peer dead when
 * it stays silent, and close semantics: once the stream closes, every pending request rejects with
 * a typed NetloomError (UNAVAILABLE, or the framing/keepalive error that caused the close).
 */
import { Duplex } from 'node:stream';
import { Clock, systemClock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { Logger } from '../../lib/logger';
import { OvsdbError, parseErrorObject } from './errors';
import { DEFAULT_MAX_MESSAGE_BYTES, JsonStreamSplitter } from './framing';

export interface KeepaliveOptions {
  /** after this long without receiving anything, send an echo; after another interval, give up */
  intervalMs: number;
  /** injected for tests; its `sleep` paces the keepalive loop */
  clock?: Clock;
}

export interface RpcOptions {
  maxMessageBytes?: number;
  keepalive?: KeepaliveOptions;
  logger?: Logger;
}

export interface RequestOptions {
  /** aborting sends `cancel` for the request and rejects it with the signal's reason */
  signal?: AbortSignal;
}

export type NotificationHandler = (method: string, params: unknown) => void;
export type CloseHandler = (reason: NetloomError | undefined) => void;

/** Counters of what went over the connection (for metrics and tests). */
export interface RpcStats {
  requestsSent: number;
  repliesReceived: number;
  notificationsReceived: number;
  /** echo requests from the peer that we answered */
  echoesAnswered: number;
  /** keepalive probes we sent */
  probesSent: number;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

export class JsonRpcConnection {
  private readonly stream: Duplex;
  private readonly splitter: JsonStreamSplitter;
  private readonly pending = new Map<number, Pending>();
  private readonly notificationHandlers = new Set<NotificationHandler>();
  private readonly closeHandlers = new Set<CloseHandler>();
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;
  private nextId = 1;
  private readonly counters: RpcStats = { requestsSent: 0, repliesReceived: 0, notificationsReceived: 0, echoesAnswered: 0, probesSent: 0 };
  private closedWith: { reason: NetloomError | undefined } | undefined;
  private lastReceived: number;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(stream: Duplex, opts: RpcOptions = {}) {
    this.stream = stream;
    this.logger = opts.logger;
    this.clock = opts.keepalive?.clock ?? systemClock;
    this.splitter = new JsonStreamSplitter({ maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES });
    this.lastReceived = this.clock.monotonic();
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    stream.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('end', () => {
      try {
        this.splitter.end();
        this.shutdown(undefined);
      } catch (e) {
        this.shutdown(e as NetloomError);
      }
    });
    stream.on('error', (e: Error) => this.shutdown(new NetloomError('UNAVAILABLE', `OVSDB connection failed: ${e.message}`, { cause: e })));
    stream.on('close', () => this.shutdown(undefined));
    if (opts.keepalive) void this.keepalive(opts.keepalive);
  }

  get isClosed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Resolves when the connection has closed, for whatever reason. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Number of requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  get stats(): Readonly<RpcStats> {
    return { ...this.counters };
  }

  onNotification(h: NotificationHandler): () => void {
    this.notificationHandlers.add(h);
    return () => this.notificationHandlers.delete(h);
  }

  onClose(h: CloseHandler): () => void {
    this.closeHandlers.add(h);
    return () => this.closeHandlers.delete(h);
  }

  /** Send a request and wait for its reply; a reply with an `error` rejects with an OvsdbError. */
  request(method: string, params: unknown[], opts: RequestOptions = {}): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedError(method));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = this.nextId++;
    let text: string;
    try {
      text = JSON.stringify({ method, params, id });
    } catch (e) {
      return Promise.reject(
        new NetloomError('INVALID_ARGUMENT', `cannot encode ${method} params as JSON: ${(e as Error).message}`, {
          field: 'params',
          cause: e,
        }),
      );
    }
    this.counters.requestsSent++;
    return new Promise<unknown>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const cleanup = (): void => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, { method, resolve, reject, cleanup });
      if (signal) {
        onAbort = () => {
          const p = this.pending.get(id);
          if (!p) return;
          this.pending.delete(id);
          p.cleanup();
          if (!this.closedWith) this.send({ method: 'cancel', params: [id], id: null });
          p.reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.stream.write(text);
    });
  }

  /** Send a notification (a request with a null id, no reply). */
  notify(method: string, params: unknown[]): void {
    if (this.closedWith) throw this.closedError(method);
    this.send({ method, params, id: null });
  }

  /** Close the stream; pending requests reject with UNAVAILABLE. */
  async close(): Promise<void> {
    if (!this.closedWith) {
      this.shutdown(undefined);
    }
    await this.closedPromise;
  }

  /** End the connection because of `reason` (pending requests reject with it). */
  destroy(reason: NetloomError): void {
    this.shutdown(reason);
  }

  private send(msg: Record<string, unknown>): void {
    this.stream.write(JSON.stringify(msg));
  }

  private onData(chunk: Buffer): void {
    if (this.closedWith) return;
    this.lastReceived = this.clock.monotonic();
    let messages: unknown[];
    try {
      messages = this.splitter.push(chunk);
    } catch (e) {
      this.shutdown(e as NetloomError);
      return;
    }
    for (const m of messages) this.dispatch(m);
  }

  private dispatch(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.logger?.warn({ msg }, 'ignoring a JSON-RPC message that is not an object');
      return;
    }
    const m = msg as { method?: unknown; params?: unknown; id?: unknown; result?: unknown; error?: unknown };
    if (typeof m.method === 'string') {
      if (m.id === null || m.id === undefined) {
        this.counters.notificationsReceived++;
        for (const h of this.notificationHandlers) {
          try {
            h(m.method, m.params);
          } catch (e) {
            this.logger?.error({ err: e, method: m.method }, 'notification handler threw');
          }
        }
        return;
      }
      this.answerRequest(m.method, m.params, m.id);
      return;
    }
    if (typeof m.id !== 'number') {
      this.logger?.warn({ id: m.id }, 'ignoring a JSON-RPC reply with an id we never sent');
      return;
    }
    this.counters.repliesReceived++;
    const p = this.pending.get(m.id);
    if (!p) return; // cancelled or unknown: nothing waits for it
    this.pending.delete(m.id);
    p.cleanup();
    const err = parseErrorObject(m.error);
    if (err) p.reject(new OvsdbError({ error: err.error, serverDetails: err.details, method: p.method }));
    else p.resolve(m.result);
  }

  /** The server may call us: `echo` is answered with its params, anything else with an error. */
  private answerRequest(method: string, params: unknown, id: unknown): void {
    if (this.closedWith) return;
    if (method === 'echo') {
      this.counters.echoesAnswered++;
      this.send({ result: params ?? [], error: null, id });
    } else this.send({ result: null, error: { error: 'unknown method', details: method }, id });
  }

  private async keepalive(opts: KeepaliveOptions): Promise<void> {
    const interval = opts.intervalMs;
    if (!Number.isFinite(interval) || interval <= 0) {
      this.shutdown(
        new NetloomError('INVALID_ARGUMENT', `keepalive interval must be > 0 ms, got ${interval}`, { field: 'keepalive.intervalMs' }),
      );
      return;
    }
    let probeSentAt: number | undefined;
    while (!this.closedWith) {
      await this.clock.sleep(interval);
      if (this.closedWith) return;
      const now = this.clock.monotonic();
      if (probeSentAt !== undefined && this.lastReceived < probeSentAt && now - probeSentAt >= interval) {
        this.shutdown(
          new NetloomError('TIMEOUT', `OVSDB peer sent nothing for ${now - this.lastReceived} ms and did not answer an echo`, {
            details: { silentMs: now - this.lastReceived, intervalMs: interval },
          }),
        );
        return;
      }
      if (this.lastReceived >= (probeSentAt ?? -Infinity)) probeSentAt = undefined;
      if (probeSentAt === undefined && now - this.lastReceived >= interval) {
        probeSentAt = now;
        this.counters.probesSent++;
        this.request('echo', ['keepalive']).catch(() => undefined);
      }
    }
  }

  private closedError(method: string): NetloomError {
    const reason = this.closedWith?.reason;
    return new NetloomError('UNAVAILABLE', `OVSDB connection closed before a reply to ${method}${reason ? `: ${reason.message}` : ''}`, {
      details: { method, ...(reason ? { reason: reason.code } : {}) },
      ...(reason ? { cause: reason } : {}),
    });
  }

  private shutdown(reason: NetloomError | undefined): void {
    if (this.closedWith) return;
    this.closedWith = { reason };
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.cleanup();
      p.reject(reason && reason.code !== 'UNAVAILABLE' ? this.withMethod(reason, p.method) : this.closedError(p.method));
    }
    this.stream.destroy();
    if (reason) this.logger?.warn({ err: reason }, 'OVSDB connection closed');
    for (const h of this.closeHandlers) {
      try {
        h(reason);
      } catch (e) {
        this.logger?.error({ err: e }, 'close handler threw');
      }
    }
    this.resolveClosed();
  }

  private withMethod(reason: NetloomError, method: string): NetloomError {
    return new NetloomError(reason.code, `${reason.message} (while waiting for a reply to ${method})`, {
      details: { ...(reason.details ?? {}), method },
      cause: reason,
    });
  }
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new NetloomError('COMMAND_FAILED', `request aborted: ${String(r)}`);
}
