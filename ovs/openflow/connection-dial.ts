/**
 * Active mode: connect to a switch (typically a bridge's `unix:$OVS_RUNDIR/<bridge>.mgmt` socket,
 * as ovs-ofctl does, or `tcp:HOST:PORT`), handshake, and when the connection is lost reconnect
 * with exponential backoff and handshake again. Requests made while no connection is up fail at
 * once with UNAVAILABLE; events of every successive connection come out of this one object.
 */
import { EventEmitter } from 'node:events';
import { NetloomError, errorMessage } from '../../lib/errors';
import { BackoffPolicy, DEFAULT_BACKOFF, backoffDelay, validateBackoff } from './connection-backoff';
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
import { TimerHandle, systemTimers } from './connection-timers';
import { SwitchFeatures } from './connection-wire';
import { OfAddress, connectTransport, formatOfAddress, parseOfAddress } from './transport-address';
import { Transport } from './transport';

/** A connection that lasted less than this is treated like a failed attempt (backoff grows). */
const MIN_STABLE_MS = 2000;

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
  private sleepTimer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private readonly backoff: BackoffPolicy;
  private connectedWaiters: Array<{ done: (f: SwitchFeatures) => void; fail: (e: Error) => void }> = [];
  /** completed handshakes so far (1 after the first connect, 2 after one reconnect, ...) */
  connects = 0;

  constructor(
    address: OfAddress | string,
    private readonly opts: DialOptions = {},
  ) {
    super();
    this.address = typeof address === 'string' ? parseOfAddress(address) : address;
    this.backoff = validateBackoff(opts.backoff ?? DEFAULT_BACKOFF);
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
    const timers = this.opts.timers ?? systemTimers;
    return new Promise((resolve, reject) => {
      const t = timers.setTimeout(() => {
        this.connectedWaiters = this.connectedWaiters.filter((w) => w !== waiter);
        reject(
          new NetloomError('TIMEOUT', `no OpenFlow connection to ${formatOfAddress(this.address)} within ${timeoutMs} ms`, {
            field: 'address',
          }),
        );
      }, timeoutMs);
      const waiter = {
        done: (f: SwitchFeatures): void => {
          timers.clearTimeout(t);
          resolve(f);
        },
        fail: (e: Error): void => {
          timers.clearTimeout(t);
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
    (this.opts.timers ?? systemTimers).clearTimeout(this.sleepTimer);
    this.wake?.();
    this.conn?.close(reason);
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    const err = new NetloomError('UNAVAILABLE', `connection to ${formatOfAddress(this.address)} closed: ${reason}`, {
      field: 'connection',
    });
    for (const w of waiters) w.fail(err);
  }

  private async loop(): Promise<void> {
    const timers = this.opts.timers ?? systemTimers;
    const connect = this.opts.connect ?? ((a, ms) => connectTransport(a, ms));
    let attempt = 0;
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
        const upSince = timers.now();
        const info = await lost;
        this.emit('disconnected', info);
        // reconnect at once after losing a connection that had been up a while; a switch that
        // accepts and then drops us again and again is retried with backoff instead
        if (timers.now() - upSince >= MIN_STABLE_MS) {
          attempt = 0;
          if (this.opts.reconnect === false) break;
          continue;
        }
        throw new NetloomError('UNAVAILABLE', `connection lost after ${timers.now() - upSince} ms: ${info.reason}`);
      } catch (e) {
        if (this.stopped) break;
        const retryInMs = backoffDelay(attempt, this.backoff, this.opts.random);
        this.opts.onRetry?.({ attempt, retryInMs, error: errorMessage(e) });
        attempt++;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.sleepTimer = timers.setTimeout(resolve, retryInMs);
        });
        this.wake = undefined;
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
