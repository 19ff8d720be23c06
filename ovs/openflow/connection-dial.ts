/**
 * Active mode: connect to a switch (typically a bridge's `unix:$OVS_RUNDIR/<bridge>.mgmt` socket,
 * as ovs-ofctl does, or `tcp:HOST:PORT`), handshake, and when the connection is lost reconnect
 * with exponential backoff and handshake again. Requests made while no connection is up fail at
 * once with UNAVAILABLE; events of every successive connection come out of this one object.
 */
import { EventEmitter } from 'node:events';
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { NetloomError, errorMessage } from '../../lib/errors';
import { BundleOptions } from './connection-bundle';
import {
  BarrierResult,
  ConnectionOptions,
  CoreEvents,
  DisconnectInfo,
  FrameSource,
  OfConnectionCore,
  OfFrameChannel,
} from './connection-core';
import { SwitchFeatures } from './connection-wire';
import { OfAddress, connectTransport, formatOfAddress, parseOfAddress } from './transport-address';
import { Transport } from './transport';

/** A connection that lasted less than this is treated like a failed attempt (backoff grows). */
const MIN_STABLE_MS = 2000;

/** The reconnect schedule unless the caller gives one: 100 ms doubling to 8 s, up to 20% shorter at random. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 8000, factor: 2, jitter: 0.2 };

export interface DialOptions extends ConnectionOptions {
  backoff?: BackoffPolicy;
  connectTimeoutMs?: number;
  /** reconnect after the connection is lost (default true) */
  reconnect?: boolean;
  /** how to open the byte pipe (tests pass a fake) */
  connect?: (address: OfAddress, timeoutMs: number) => Promise<Transport>;
  random?: () => number;
  /** told when a connection attempt failed and when the next one starts */
  onRetry?: (r: { attempt: number; retryInMs: number; error: string }) => void;
}

export class ReconnectingSwitch extends EventEmitter<CoreEvents> implements OfFrameChannel {
  readonly address: OfAddress;
  private conn: OfConnectionCore | undefined;
  private stopped = false;
  /** aborted by close(): ends a backoff wait in progress */
  private readonly closing = new AbortController();
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private connectedWaiters: Array<{ done: (f: SwitchFeatures) => void; fail: (e: Error) => void }> = [];
  /** completed handshakes so far (1 after the first connect, 2 after one reconnect, ...) */
  connects = 0;

  constructor(
    address: OfAddress | string,
    private readonly opts: DialOptions = {},
  ) {
    super();
    this.address = typeof address === 'string' ? parseOfAddress(address) : address;
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, { clock: this.clock, ...(opts.random ? { random: opts.random } : {}) });
  }

  /** Start connecting; resolves with the features of the first successful handshake. */
  start(o: { timeoutMs?: number } = {}): Promise<SwitchFeatures> {
    const first = this.waitConnected(o.timeoutMs ?? 30_000);
    void this.loop();
    return first;
  }

  /** Resolves at the next 'connected' (at once when connected now). */
  waitConnected(timeoutMs = 30_000): Promise<SwitchFeatures> {
    if (this.conn?.state === 'ready') return Promise.resolve(this.conn.features);
    if (this.stopped)
      return Promise.reject(
        new NetloomError('UNAVAILABLE', `connection to ${formatOfAddress(this.address)} was closed`, { field: 'connection' }),
      );
    return new Promise((resolve, reject) => {
      const t = this.clock.after(
        timeoutMs,
        () => {
          this.connectedWaiters = this.connectedWaiters.filter((w) => w !== waiter);
          reject(
            new NetloomError('TIMEOUT', `no OpenFlow connection to ${formatOfAddress(this.address)} within ${timeoutMs} ms`, {
              field: 'address',
            }),
          );
        },
        { unref: true },
      );
      const waiter = {
        done: (f: SwitchFeatures): void => {
          t.cancel();
          resolve(f);
        },
        fail: (e: Error): void => {
          t.cancel();
          reject(e);
        },
      };
      this.connectedWaiters.push(waiter);
    });
  }

  get connected(): boolean {
    return this.conn?.state === 'ready';
  }

  /** The connection now up; throws UNAVAILABLE while reconnecting. */
  get current(): OfConnectionCore {
    const c = this.conn;
    if (!c || c.state !== 'ready')
      throw new NetloomError('UNAVAILABLE', `no OpenFlow connection to ${formatOfAddress(this.address)} right now (reconnecting)`, {
        field: 'connection',
      });
    return c;
  }

  get features(): SwitchFeatures {
    return this.current.features;
  }

  sendFrame(frame: Buffer, o?: { keepXid?: boolean }): Promise<void> {
    return this.current.sendFrame(frame, o);
  }

  requestFrame(frame: Buffer, o?: { timeoutMs?: number; context?: string }): Promise<Buffer[]> {
    try {
      return this.current.requestFrame(frame, o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  barrier(o?: { timeoutMs?: number }): Promise<BarrierResult> {
    try {
      return this.current.barrier(o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  bundleFrames(frames: readonly Buffer[] | FrameSource, o?: BundleOptions & { timeoutMs?: number }): Promise<void> {
    try {
      return this.current.bundleFrames(frames, o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Stop: close the current connection and do not reconnect. */
  close(reason = 'closed by us'): void {
    this.stopped = true;
    this.closing.abort();
    this.conn?.close(reason);
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    const err = new NetloomError('UNAVAILABLE', `connection to ${formatOfAddress(this.address)} closed: ${reason}`, {
      field: 'connection',
    });
    for (const w of waiters) w.fail(err);
  }

  private async loop(): Promise<void> {
    const connect = this.opts.connect ?? ((a, ms) => connectTransport(a, ms));
    while (!this.stopped) {
      try {
        const transport = await connect(this.address, this.opts.connectTimeoutMs ?? 5000);
        if (this.stopped) {
          transport.close();
          break;
        }
        const conn = new OfConnectionCore(transport, this.opts);
        this.conn = conn;
        const lost = new Promise<DisconnectInfo>((resolve) => conn.once('disconnected', resolve));
        conn.on('error', (e) => {
          if (this.listenerCount('error') > 0) this.emit('error', e);
        });
        conn.on('frame', (f) => this.emit('frame', f));
        const features = await conn.start();
        this.connects++;
        this.emit('connected', features);
        const waiters = this.connectedWaiters;
        this.connectedWaiters = [];
        for (const w of waiters) w.done(features);
        const upSince = this.clock.monotonic();
        const info = await lost;
        this.emit('disconnected', info);
        // reconnect at once after losing a connection that had been up a while; a switch that
        // accepts and then drops us again and again is retried with backoff instead
        if (this.clock.monotonic() - upSince >= MIN_STABLE_MS) {
          this.backoff.reset();
          if (this.opts.reconnect === false) break;
          continue;
        }
        throw new NetloomError('UNAVAILABLE', `connection lost after ${this.clock.monotonic() - upSince} ms: ${info.reason}`);
      } catch (e) {
        if (this.stopped) break;
        const attempt = this.backoff.attempt;
        const retryInMs = this.backoff.next();
        this.opts.onRetry?.({ attempt, retryInMs, error: errorMessage(e) });
        // like the connection's other timers, a backoff wait alone does not keep the process alive
        await this.clock.sleep(retryInMs, this.closing.signal, { unref: true });
      }
      if (this.opts.reconnect === false) break;
    }
  }
}

/** Connect to `address` with reconnect; resolves once the first handshake is done. */
export async function dialSwitch(
  address: OfAddress | string,
  opts: DialOptions & { timeoutMs?: number } = {},
): Promise<ReconnectingSwitch> {
  const sw = new ReconnectingSwitch(address, opts);
  try {
    await sw.start({ timeoutMs: opts.timeoutMs ?? 30_000 });
  } catch (e) {
    sw.close('first connection failed');
    throw e;
  }
  return sw;
}
