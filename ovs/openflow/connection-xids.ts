/**
 * Transaction ids and the table of requests waiting for their reply. A reply is matched to its
 * request by xid; an ERROR with that xid rejects the request with the switch's error, named; the
 * parts of a multipart reply (MORE flag) are collected and handed over together. The table is
 * bounded, and every entry has a deadline.
 */
import { NetloomError } from '../../lib/errors';
import { OfSwitchError } from './connection-errors';
import type { Clock, Timer } from '../../lib/clock';
import { multipartHasMore, OFPT, readErrorFrame, readOfHeader } from './connection-wire';

/** Hands out xids 1..2^32-1 in order, wrapping, skipping any the caller says are in use. */
export class XidAllocator {
  private last: number;
  constructor(start = 0) {
    this.last = start >>> 0;
  }
  next(inUse: (xid: number) => boolean = () => false): number {
    for (let i = 0; i < 1_000_000; i++) {
      this.last = (this.last + 1) >>> 0;
      if (this.last === 0) continue;
      if (!inUse(this.last)) return this.last;
    }
    throw new NetloomError('EXHAUSTED', 'no free OpenFlow xid', { field: 'xid' });
  }
}

export interface ExpectOptions {
  /** collect MULTIPART_REPLY parts until one without the MORE flag */
  multipart: boolean;
  /** reject with TIMEOUT after this long */
  timeoutMs: number;
  /** words for error messages, e.g. "FLOW_STATS request" */
  context: string;
}

interface Pending {
  resolve: (frames: Buffer[]) => void;
  reject: (e: Error) => void;
  multipart: boolean;
  parts: Buffer[];
  partBytes: number;
  timer: Timer;
  context: string;
}

export class PendingRequests {
  private readonly table = new Map<number, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: { maxPending: number; maxReplyBytes: number } = { maxPending: 65536, maxReplyBytes: 256 * 1024 * 1024 },
  ) {}

  get size(): number {
    return this.table.size;
  }

  has(xid: number): boolean {
    return this.table.has(xid);
  }

  /** Wait for the reply to `xid`: resolves with its frame(s), rejects with OfSwitchError or TIMEOUT. */
  expect(xid: number, o: ExpectOptions): Promise<Buffer[]> {
    if (this.table.has(xid))
      return Promise.reject(new NetloomError('CONFLICT', `a request with xid ${xid} is already waiting`, { field: 'xid' }));
    if (this.table.size >= this.opts.maxPending) {
      return Promise.reject(
        new NetloomError('EXHAUSTED', `${this.table.size} OpenFlow requests already wait for replies (limit ${this.opts.maxPending})`, {
          field: 'maxPending',
        }),
      );
    }
    return new Promise<Buffer[]>((resolve, reject) => {
      const timer = this.clock.after(
        o.timeoutMs,
        () => {
          if (this.table.get(xid) !== entry) return;
          this.table.delete(xid);
          reject(
            new NetloomError('TIMEOUT', `no reply to ${o.context} (xid ${xid}) within ${o.timeoutMs} ms`, {
              field: 'xid',
              details: { xid },
            }),
          );
        },
        { unref: true },
      );
      const entry: Pending = { resolve, reject, multipart: o.multipart, parts: [], partBytes: 0, timer, context: o.context };
      this.table.set(xid, entry);
    });
  }

  /**
   * Offer a received frame. Returns true when it answered (or partly answered) a waiting request,
   * false when no request waits for its xid (the caller treats it as unsolicited).
   */
  deliver(frame: Buffer): boolean {
    const h = readOfHeader(frame);
    const p = this.table.get(h.xid);
    if (!p) return false;
    if (h.type === OFPT.ERROR) {
      this.finish(h.xid, p);
      p.reject(new OfSwitchError(readErrorFrame(frame), h.xid, p.context));
      return true;
    }
    if (p.multipart && h.type === OFPT.MULTIPART_REPLY) {
      p.parts.push(frame);
      p.partBytes += frame.length;
      if (p.partBytes > this.opts.maxReplyBytes) {
        this.finish(h.xid, p);
        p.reject(
          new NetloomError('EXHAUSTED', `multipart reply to ${p.context} exceeds ${this.opts.maxReplyBytes} bytes`, {
            field: 'maxReplyBytes',
          }),
        );
        return true;
      }
      if (multipartHasMore(frame)) return true;
      this.finish(h.xid, p);
      p.resolve(p.parts);
      return true;
    }
    this.finish(h.xid, p);
    p.resolve([frame]);
    return true;
  }

  /** Reject every waiting request (the connection closed). */
  failAll(err: Error): void {
    const all = [...this.table.entries()];
    this.table.clear();
    for (const [, p] of all) {
      p.timer.cancel();
      p.reject(err);
    }
  }

  /** Forget a request without settling it further (its send failed; the caller rejects). */
  cancel(xid: number, err: Error): void {
    const p = this.table.get(xid);
    if (!p) return;
    this.finish(xid, p);
    p.reject(err);
  }

  private finish(xid: number, p: Pending): void {
    this.table.delete(xid);
    p.timer.cancel();
  }
}
