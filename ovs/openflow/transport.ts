/**
 * The byte pipe under an OpenFlow connection, and the bounded outgoing queue in front of it.
 * `Transport` is what a socket offers (a fake implements it in tests). `OutboundQueue` coalesces
 * many small messages into few large writes (pipelining thousands of flow_mods costs a handful of
 * syscalls), stops handing bytes to the transport while it is full, tells callers to wait once the
 * queue passes its high-water mark, and refuses messages beyond a hard limit.
 */
import type { Socket } from 'node:net';
import { NetloomError } from '../../lib/errors';

export interface Transport {
  /** Hand bytes to the transport; false means "full: wait for onDrain before writing more". */
  write(buf: Buffer): boolean;
  onData(cb: (chunk: Buffer) => void): void;
  onDrain(cb: () => void): void;
  /** Called once when the pipe closes, with the error that closed it if any. */
  onClose(cb: (err?: Error) => void): void;
  /** Close now; with `graceful`, first let bytes already written reach the peer. */
  close(graceful?: boolean): void;
  /** e.g. "unix:/run/ovs/br0.mgmt" or "tcp:127.0.0.1:40123", for logs */
  readonly description: string;
}

/** A Transport over a connected net.Socket. */
export function socketTransport(sock: Socket, description: string): Transport {
  sock.setNoDelay?.(true);
  let closed = false;
  const closeCbs: Array<(err?: Error) => void> = [];
  let lastError: Error | undefined;
  sock.on('error', (e) => {
    lastError = e;
  });
  sock.on('close', () => {
    if (closed) return;
    closed = true;
    for (const cb of closeCbs) cb(lastError);
  });
  return {
    description,
    write: (buf) => (closed || sock.destroyed ? true : sock.write(buf)),
    onData: (cb) => void sock.on('data', cb),
    onDrain: (cb) => void sock.on('drain', cb),
    onClose: (cb) => void closeCbs.push(cb),
    close: (graceful) => {
      if (sock.destroyed) return;
      if (graceful) {
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      } else sock.destroy();
    },
  };
}

export interface OutboundQueueOptions {
  /** callers are asked to wait (the send promise stays pending) above this many queued bytes */
  highWaterBytes: number;
  /** messages are refused (EXHAUSTED) when the queue would grow beyond this */
  maxQueuedBytes: number;
  /** largest single write handed to the transport */
  maxWriteBytes: number;
  /**
   * above this many queued bytes (but below the high-water mark) a send resolves only after the
   * next flush: a sender that awaits each send then yields to the event loop now and then, so the
   * socket is written while it keeps producing instead of only when it stops
   */
  yieldBytes: number;
  /** how a flush is deferred so that messages sent in one tick share a write */
  schedule: (fn: () => void) => void;
}

export const DEFAULT_OUTBOUND: OutboundQueueOptions = {
  highWaterBytes: 4 * 1024 * 1024,
  maxQueuedBytes: 32 * 1024 * 1024,
  maxWriteBytes: 256 * 1024,
  yieldBytes: 128 * 1024,
  schedule: (fn) => setImmediate(fn),
};

const READY: Promise<void> = Promise.resolve();

export class OutboundQueue {
  private chunks: Buffer[] = [];
  private queued = 0;
  private flushScheduled = false;
  private blocked = false;
  private closedWith: Error | undefined;
  private waiters: Deferred | undefined;
  private flushed: Deferred | undefined;
  /** bytes handed to the transport so far */
  written = 0;

  constructor(
    private readonly transport: Pick<Transport, 'write' | 'onDrain'>,
    private readonly opts: OutboundQueueOptions = DEFAULT_OUTBOUND,
  ) {
    transport.onDrain(() => {
      this.blocked = false;
      this.flush();
    });
  }

  /** Bytes accepted but not yet handed to the transport. */
  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * Queue one encoded message. Throws EXHAUSTED past the hard limit and UNAVAILABLE once closed;
   * otherwise returns a promise that is already resolved below the high-water mark, or resolves
   * when the queue has drained to half of it.
   */
  push(frame: Buffer): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    if (this.queued + frame.length > this.opts.maxQueuedBytes) {
      throw new NetloomError(
        'EXHAUSTED',
        `outgoing OpenFlow queue is full (${this.queued} bytes queued, limit ${this.opts.maxQueuedBytes}); await earlier sends`,
        {
          field: 'maxQueuedBytes',
        },
      );
    }
    this.chunks.push(frame);
    this.queued += frame.length;
    if (!this.flushScheduled && !this.blocked) {
      this.flushScheduled = true;
      this.opts.schedule(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    if (this.queued > this.opts.highWaterBytes) {
      this.waiters ??= deferred();
      return this.waiters.promise;
    }
    if (this.queued <= this.opts.yieldBytes) return READY;
    this.flushed ??= deferred();
    return this.flushed.promise;
  }

  /** Hand queued bytes to the transport until it is full or the queue is empty. */
  flush(): void {
    while (!this.blocked && this.chunks.length > 0 && !this.closedWith) {
      let n = 0;
      let bytes = 0;
      while (n < this.chunks.length && (n === 0 || bytes + (this.chunks[n] as Buffer).length <= this.opts.maxWriteBytes)) {
        bytes += (this.chunks[n] as Buffer).length;
        n++;
      }
      const batch = n === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks.slice(0, n), bytes);
      this.chunks = n === this.chunks.length ? [] : this.chunks.slice(n);
      this.queued -= bytes;
      this.written += bytes;
      if (!this.transport.write(batch)) this.blocked = true;
    }
    if (this.flushed) {
      const f = this.flushed;
      this.flushed = undefined;
      f.resolve();
    }
    if (this.waiters && this.queued <= this.opts.highWaterBytes / 2) {
      const w = this.waiters;
      this.waiters = undefined;
      w.resolve();
    }
  }

  /** Drop everything queued; later pushes throw `err`; waiting senders are rejected with it. */
  close(err: Error): void {
    this.closedWith = err;
    this.chunks = [];
    this.queued = 0;
    for (const d of [this.waiters, this.flushed]) d?.reject(err);
    this.waiters = undefined;
    this.flushed = undefined;
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
