/**
 * One OpenFlow 1.3 connection to a switch, at the level of whole encoded messages: the HELLO
 * exchange (version bitmap, 1.3 only, HELLO_FAILED to anything else), the FEATURES handshake,
 * echo keepalive with dead-peer detection, xid-correlated requests (multipart replies collected),
 * barriers, pipelined sends with backpressure, and bundles that report which message failed.
 * It knows message layouts only through connection-wire.ts; the typed API on top (connection.ts)
 * uses the codec. Which side opened the socket does not matter here (see connection-dial.ts and
 * connection-listen.ts).
 */
import { EventEmitter } from 'node:events';
import { NetloomError, errorMessage } from '../../lib/errors';
import { Logger } from '../../lib/logger';
import { OfFramer, OfFramingError } from './framer';
import { Transport, OutboundQueue, OutboundQueueOptions, DEFAULT_OUTBOUND } from './transport';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { PendingRequests, XidAllocator } from './connection-xids';
import { OfSwitchError, nameOfError } from './connection-errors';
import { BundleOptions, OfBundleError, ReceivedError, bundleFailure, bundleFlags, planBundle } from './connection-bundle';
import {
  BUNDLE_CTRL,
  OFP13_VERSION,
  OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE,
  OFPT,
  SwitchFeatures,
  bundleAddFrame,
  bundleControlFrame,
  errorFrame,
  helloFrame,
  helloVersions,
  negotiateVersion,
  ofFrame,
  readBundleControl,
  readErrorFrame,
  readFeaturesReply,
  readOfHeader,
  setXid,
} from './connection-wire';

export interface ConnectionOptions {
  /** keepalive, handshake and request deadlines (a fake clock in tests) */
  clock?: Clock;
  /** send an ECHO_REQUEST after this long without hearing from the peer */
  echoIntervalMs?: number;
  /** declare the peer dead when an echo stays unanswered (and nothing else arrives) this long */
  echoTimeoutMs?: number;
  /** HELLO + FEATURES must complete within this */
  handshakeTimeoutMs?: number;
  /** default deadline of request(), barrier() and each bundle step */
  requestTimeoutMs?: number;
  outbound?: Partial<OutboundQueueOptions>;
  /** requests waiting for replies at once */
  maxPendingRequests?: number;
  /** unsolicited errors kept for the next barrier() to report */
  maxErrorsKept?: number;
  logger?: Logger;
}

export type ConnectionState = 'new' | 'handshaking' | 'ready' | 'closed';

export interface DisconnectInfo {
  reason: string;
  error?: Error;
}

export interface BarrierResult {
  /** ERRORs that arrived, for messages nobody awaited, since the previous barrier reply */
  errors: OfSwitchError[];
  /** errors not kept because more than maxErrorsKept arrived */
  errorsDropped: number;
}

export interface CoreEvents {
  connected: [SwitchFeatures];
  disconnected: [DisconnectInfo];
  /** an ERROR for no awaited request (a pipelined message failed); only emitted with a listener */
  error: [OfSwitchError];
  /** PACKET_IN, FLOW_REMOVED, PORT_STATUS and any other unsolicited frame, still encoded */
  frame: [Buffer];
}

/** Messages produced on demand (encoded while earlier ones are already on their way). */
export interface FrameSource {
  readonly length: number;
  frame(index: number): Buffer;
}

/**
 * What the typed layer needs from a connection: implemented by OfConnectionCore (one socket) and
 * by ReconnectingSwitch (whichever socket is current).
 */
export interface OfFrameChannel {
  readonly features: SwitchFeatures;
  sendFrame(frame: Buffer, o?: { keepXid?: boolean }): Promise<void>;
  requestFrame(frame: Buffer, o?: { timeoutMs?: number; context?: string }): Promise<Buffer[]>;
  barrier(o?: { timeoutMs?: number }): Promise<BarrierResult>;
  bundleFrames(frames: readonly Buffer[] | FrameSource, o?: BundleOptions & { timeoutMs?: number }): Promise<void>;
  on<K extends keyof CoreEvents>(event: K, listener: (...args: CoreEvents[K]) => void): unknown;
  off<K extends keyof CoreEvents>(event: K, listener: (...args: CoreEvents[K]) => void): unknown;
  close(reason?: string): void;
}

const ASYNC_TYPES = new Set<number>([OFPT.PACKET_IN, OFPT.FLOW_REMOVED, OFPT.PORT_STATUS]);

export class OfConnectionCore extends EventEmitter<CoreEvents> implements OfFrameChannel {
  readonly clock: Clock;
  protected readonly transport: Transport;
  private readonly framer = new OfFramer({ versions: [OFP13_VERSION] });
  private readonly out: OutboundQueue;
  private readonly pending: PendingRequests;
  private readonly xids = new XidAllocator(Math.floor(Math.random() * 0x7fffffff));
  private readonly errorSinks = new Map<number, (e: ReceivedError) => void>();
  private errorsSinceBarrier: OfSwitchError[] = [];
  private errorsDropped = 0;
  private helloReceived = false;
  private helloWaiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private echoTimer: Timer | undefined;
  private echoOutstanding = false;
  private lastRx: number;
  private nextBundleId = 1;
  private readonly opts: Required<Omit<ConnectionOptions, 'logger' | 'outbound' | 'clock'>>;
  private readonly log: Logger | undefined;
  private _state: ConnectionState = 'new';
  private _features: SwitchFeatures | undefined;
  private closeInfo: DisconnectInfo | undefined;
  /** frames received and sent, for statistics */
  rxFrames = 0;
  txFrames = 0;

  constructor(transport: Transport, opts: ConnectionOptions = {}) {
    super();
    this.transport = transport;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.opts = {
      echoIntervalMs: opts.echoIntervalMs ?? 5000,
      echoTimeoutMs: opts.echoTimeoutMs ?? 15000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30000,
      maxPendingRequests: opts.maxPendingRequests ?? 65536,
      maxErrorsKept: opts.maxErrorsKept ?? 10000,
    };
    for (const [k, v] of Object.entries(this.opts)) {
      if (!(Number.isFinite(v) && v > 0))
        throw new NetloomError('INVALID_ARGUMENT', `connection option ${k} must be a positive number, got ${v}`, { field: k });
    }
    this.out = new OutboundQueue(transport, { ...DEFAULT_OUTBOUND, ...opts.outbound });
    this.pending = new PendingRequests(this.clock, { maxPending: this.opts.maxPendingRequests, maxReplyBytes: 256 * 1024 * 1024 });
    this.lastRx = this.clock.monotonic();
    transport.onData((chunk) => this.onData(chunk));
    transport.onClose((err) =>
      this.shutdown(
        { reason: err ? `transport closed: ${err.message}` : 'transport closed by peer', ...(err ? { error: err } : {}) },
        false,
      ),
    );
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The switch's features (datapath id, tables, buffers) once the handshake is done. */
  get features(): SwitchFeatures {
    if (!this._features) throw new NetloomError('UNAVAILABLE', 'the OpenFlow handshake has not completed', { field: 'features' });
    return this._features;
  }

  get description(): string {
    return this.transport.description;
  }

  /** Bytes accepted for sending but not yet handed to the socket. */
  get queuedBytes(): number {
    return this.out.queuedBytes;
  }

  /** Why the connection closed, once it has. */
  get closedBecause(): DisconnectInfo | undefined {
    return this.closeInfo;
  }

  /** Exchange HELLOs, then FEATURES; resolves with the features and emits 'connected'. */
  async start(): Promise<SwitchFeatures> {
    if (this.closeInfo) {
      throw new NetloomError('UNAVAILABLE', `OpenFlow handshake with ${this.description} failed: ${this.closeInfo.reason}`, {
        field: 'handshake',
      });
    }
    if (this._state !== 'new') throw new NetloomError('CONFLICT', `connection already ${this._state}`, { field: 'state' });
    this._state = 'handshaking';
    const deadline = this.clock.after(
      this.opts.handshakeTimeoutMs,
      () => this.shutdown({ reason: `handshake did not complete within ${this.opts.handshakeTimeoutMs} ms` }, false),
      { unref: true },
    );
    try {
      const helloSeen = this.helloReceived
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            this.helloWaiter = { resolve, reject };
          });
      this.pushFrame(helloFrame(this.xids.next(), [OFP13_VERSION]));
      await helloSeen;
      const [reply] = await this.requestFrame(ofFrame(OFPT.FEATURES_REQUEST, 0), {
        context: 'FEATURES_REQUEST',
        timeoutMs: this.opts.handshakeTimeoutMs,
      });
      const features = readFeaturesReply(reply as Buffer);
      this._features = features;
      this._state = 'ready';
      this.lastRx = this.clock.monotonic();
      this.armEcho();
      this.log?.info({ peer: this.description, datapathId: features.datapathId }, 'OpenFlow connection ready');
      this.emit('connected', features);
      return features;
    } catch (e) {
      const info = this.closeInfo ?? { reason: `handshake failed: ${errorMessage(e)}` };
      this.shutdown(info, false);
      throw new NetloomError('UNAVAILABLE', `OpenFlow handshake with ${this.description} failed: ${info.reason}`, {
        field: 'handshake',
        cause: e,
      });
    } finally {
      deadline.cancel();
    }
  }

  /** A fresh xid that no waiting request uses. */
  nextXid(): number {
    return this.xids.next((x) => this.pending.has(x));
  }

  /**
   * Send an encoded message without waiting for a reply. Its xid is replaced by a fresh one (and
   * returned through `xidOut` when given) unless `keepXid`. The promise resolves at once while the
   * outgoing queue is below its high-water mark, else when it has drained; it throws EXHAUSTED
   * when the queue is full and UNAVAILABLE when the connection is closed.
   */
  sendFrame(frame: Buffer, o: { keepXid?: boolean } = {}): Promise<void> {
    this.requireOpen();
    if (!o.keepXid) setXid(frame, this.nextXid());
    return this.pushFrame(frame);
  }

  /**
   * Send an encoded request and wait for its reply: one frame, or every part of a multipart reply.
   * Rejects with OfSwitchError (type/code named) when the switch answers with an ERROR.
   */
  requestFrame(frame: Buffer, o: { timeoutMs?: number; context?: string } = {}): Promise<Buffer[]> {
    try {
      if (this._state === 'closed' || this._state === 'new') this.requireOpen();
      const xid = this.nextXid();
      setXid(frame, xid);
      const type = frame[1] as number;
      const reply = this.pending.expect(xid, {
        multipart: type === OFPT.MULTIPART_REQUEST,
        timeoutMs: o.timeoutMs ?? this.opts.requestTimeoutMs,
        context: o.context ?? `message type ${type}`,
      });
      try {
        void this.pushFrame(frame).catch((e: Error) => this.pending.cancel(xid, e));
      } catch (e) {
        this.pending.cancel(xid, e as Error);
      }
      return reply;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * BARRIER: resolves when the switch has processed everything sent before it, with the errors
   * that came back meanwhile for messages nobody awaited (pipelined sends).
   */
  async barrier(o: { timeoutMs?: number } = {}): Promise<BarrierResult> {
    await this.requestFrame(ofFrame(OFPT.BARRIER_REQUEST, 0), { context: 'BARRIER_REQUEST', ...o });
    const result = { errors: this.errorsSinceBarrier, errorsDropped: this.errorsDropped };
    this.errorsSinceBarrier = [];
    this.errorsDropped = 0;
    return result;
  }

  /**
   * Apply encoded messages as one bundle: open, add each (pipelined), barrier, then commit; when
   * any add or the commit fails the bundle is discarded and the promise rejects with
   * OfBundleError naming the index of the message that failed and the switch's error. An empty
   * list resolves at once without talking to the switch.
   */
  async bundleFrames(frames: readonly Buffer[] | FrameSource, o: BundleOptions & { timeoutMs?: number } = {}): Promise<void> {
    this.requireOpen();
    if (frames.length === 0) return; // nothing to apply: no bundle at all
    const bundleId = this.nextBundleId++;
    const flags = bundleFlags(o);
    const plan = planBundle(frames.length, bundleId, () => this.nextXid());
    const received: ReceivedError[] = [];
    const sink = (e: ReceivedError): void => void received.push(e);
    for (const x of plan.addXids) this.errorSinks.set(x, sink);
    const timeoutMs = o.timeoutMs ?? this.opts.requestTimeoutMs;
    const control = async (ctrlType: number, xid: number, expect: number, what: string): Promise<void> => {
      const frame = bundleControlFrame(0, bundleId, ctrlType, flags);
      const [reply] = await this.requestFrameWithXid(frame, xid, { timeoutMs, context: `bundle ${bundleId} ${what}` });
      const ctl = readBundleControl(reply as Buffer);
      if (!ctl || ctl.ctrlType !== expect || ctl.bundleId !== bundleId) {
        throw new NetloomError('DECODE_ERROR', `unexpected reply to bundle ${bundleId} ${what}`, { field: 'bundle', details: { ctl } });
      }
    };
    const discard = async (): Promise<void> => {
      try {
        await control(BUNDLE_CTRL.DISCARD_REQUEST, plan.discardXid, BUNDLE_CTRL.DISCARD_REPLY, 'discard');
      } catch {
        // the switch may already have dropped a failed bundle
      }
    };
    const fail = (phase: 'open' | 'add' | 'commit', extra?: unknown): never => {
      if (extra instanceof OfSwitchError)
        received.push({
          xid: extra.xid,
          fields: {
            type: extra.ofType,
            code: extra.ofCode,
            data: extra.data,
            ...(extra.experimenter !== undefined ? { experimenter: extra.experimenter } : {}),
          },
        });
      else if (extra !== undefined) throw extra;
      throw new OfBundleError(bundleFailure(plan, received, phase) as NonNullable<ReturnType<typeof bundleFailure>>);
    };
    try {
      // OPEN, the ADDs and our barrier go out back to back (the switch handles them in order): one
      // round trip before the COMMIT instead of two. An OPEN that fails is seen before committing.
      const opened = control(BUNDLE_CTRL.OPEN_REQUEST, plan.openXid, BUNDLE_CTRL.OPEN_REPLY, 'open').then(
        () => undefined,
        (e: unknown) => e ?? new Error('bundle open failed'),
      );
      for (let i = 0; i < frames.length; i++) {
        // a FrameSource encodes lazily, so the switch works on early messages while we encode later ones
        const inner = Array.isArray(frames) ? (frames[i] as Buffer) : (frames as FrameSource).frame(i);
        const xid = plan.addXids[i] as number;
        const add = bundleAddFrame(xid, bundleId, flags, inner);
        setXid(add.subarray(24), xid);
        await this.pushFrame(add);
      }
      // a barrier of our own: barrier() would hand the caller's pending-send errors to nobody
      const barrier = this.requestFrameWithXid(ofFrame(OFPT.BARRIER_REQUEST, 0), plan.barrierXid, {
        timeoutMs,
        context: `bundle ${bundleId} barrier`,
      });
      const openError = await opened;
      if (openError !== undefined) {
        // ADDs to a bundle that did not open may have opened one implicitly: drop it
        await barrier.catch(() => undefined);
        await discard();
        fail('open', openError);
      }
      await barrier;
      if (received.length > 0) {
        await discard();
        fail('add');
      }
      try {
        await control(BUNDLE_CTRL.COMMIT_REQUEST, plan.commitXid, BUNDLE_CTRL.COMMIT_REPLY, 'commit');
      } catch (e) {
        await discard();
        fail('commit', e);
      }
    } finally {
      for (const x of plan.addXids) this.errorSinks.delete(x);
    }
  }

  /** Close the connection (idempotent). */
  close(reason = 'closed by us'): void {
    this.shutdown({ reason }, true);
  }

  // ---- internals ----

  /** (a method, so that TypeScript does not narrow the state across calls that change it) */
  private isClosed(): boolean {
    return this._state === 'closed';
  }

  private requireOpen(): void {
    if (this._state === 'closed')
      throw new NetloomError('UNAVAILABLE', `OpenFlow connection to ${this.description} is closed: ${this.closeInfo?.reason ?? ''}`, {
        field: 'connection',
      });
    if (this._state === 'new')
      throw new NetloomError('UNAVAILABLE', 'OpenFlow connection not started (call start())', { field: 'connection' });
  }

  private requestFrameWithXid(frame: Buffer, xid: number, o: { timeoutMs: number; context: string }): Promise<Buffer[]> {
    setXid(frame, xid);
    const reply = this.pending.expect(xid, { multipart: false, ...o });
    try {
      void this.pushFrame(frame).catch((e: Error) => this.pending.cancel(xid, e));
    } catch (e) {
      this.pending.cancel(xid, e as Error);
    }
    return reply;
  }

  private pushFrame(frame: Buffer): Promise<void> {
    this.txFrames++;
    return this.out.push(frame);
  }

  private onData(chunk: Buffer): void {
    if (this._state === 'closed') return;
    this.lastRx = this.clock.monotonic();
    let frames: Buffer[];
    try {
      frames = this.framer.push(chunk);
    } catch (e) {
      const reason = e instanceof OfFramingError ? `framing error: ${e.message}` : `framing failed: ${errorMessage(e)}`;
      this.shutdown({ reason, error: e as Error }, false);
      return;
    }
    for (const f of frames) {
      if (this.isClosed()) return;
      this.rxFrames++;
      try {
        this.onFrame(f);
      } catch (e) {
        this.log?.warn({ peer: this.description, err: errorMessage(e) }, 'OpenFlow frame handling failed');
      }
    }
  }

  private onFrame(frame: Buffer): void {
    const h = readOfHeader(frame);
    if (!this.helloReceived) {
      if (h.type !== OFPT.HELLO) {
        this.shutdown({ reason: `peer sent message type ${h.type} before HELLO` }, false);
        return;
      }
      this.helloReceived = true;
      const version = negotiateVersion(frame, [OFP13_VERSION]);
      if (version === undefined) {
        const text = `we support OpenFlow 1.3 (0x04) only; peer offers ${helloVersions(frame)
          .map((v) => `0x${v.toString(16).padStart(2, '0')}`)
          .join(',')}`;
        this.transport.write(errorFrame(h.xid, OFPET_HELLO_FAILED, OFPHFC_INCOMPATIBLE, Buffer.from(text, 'ascii')));
        this.shutdown({ reason: `version negotiation failed: ${text}` }, true);
        return;
      }
      const w = this.helloWaiter;
      this.helloWaiter = undefined;
      w?.resolve();
      return;
    }
    switch (h.type) {
      case OFPT.HELLO:
        return; // a second HELLO is harmless
      case OFPT.ECHO_REQUEST:
        try {
          void this.pushFrame(ofFrame(OFPT.ECHO_REPLY, h.xid, frame.subarray(8))).catch(() => undefined);
        } catch {
          // closed meanwhile
        }
        return;
      default:
        break;
    }
    if (h.type === OFPT.ERROR && this._state === 'handshaking') {
      const fields = readErrorFrame(frame);
      if (fields.type === OFPET_HELLO_FAILED) {
        const n = nameOfError(fields);
        this.shutdown(
          { reason: `peer refused the handshake: ${n.type}/${n.code}: ${fields.data.toString('latin1').replace(/[^\x20-\x7e]/g, '')}` },
          false,
        );
        return;
      }
    }
    if (this.pending.deliver(frame)) return;
    if (h.type === OFPT.ERROR) {
      const fields = readErrorFrame(frame);
      const sink = this.errorSinks.get(h.xid);
      if (sink) {
        sink({ xid: h.xid, fields });
        return;
      }
      const err = new OfSwitchError(fields, h.xid, 'a message sent without awaiting its reply');
      if (this.errorsSinceBarrier.length < this.opts.maxErrorsKept) this.errorsSinceBarrier.push(err);
      else this.errorsDropped++;
      if (this.listenerCount('error') > 0) this.emit('error', err);
      else this.log?.warn({ peer: this.description, xid: h.xid, type: err.typeName, code: err.codeName }, 'unsolicited OpenFlow error');
      return;
    }
    if (h.type === OFPT.ECHO_REPLY) return; // late reply to an echo that already timed out
    if (!ASYNC_TYPES.has(h.type)) this.log?.debug({ peer: this.description, type: h.type, xid: h.xid }, 'unsolicited OpenFlow message');
    // a copy, so that a consumer holding on to it does not pin the whole socket chunk it came in
    this.emit('frame', Buffer.from(frame));
  }

  private armEcho(): void {
    this.echoTimer?.cancel();
    if (this._state !== 'ready') return;
    this.echoTimer = this.clock.after(this.opts.echoIntervalMs, () => this.echoTick(), { unref: true });
  }

  private echoTick(): void {
    if (this._state !== 'ready') return;
    const idle = this.clock.monotonic() - this.lastRx;
    if (!this.echoOutstanding && idle >= this.opts.echoIntervalMs) {
      this.echoOutstanding = true;
      const sentAt = this.clock.monotonic();
      this.requestFrame(ofFrame(OFPT.ECHO_REQUEST, 0), { timeoutMs: this.opts.echoTimeoutMs, context: 'ECHO_REQUEST' }).then(
        () => {
          this.echoOutstanding = false;
        },
        (e: unknown) => {
          this.echoOutstanding = false;
          if (this._state !== 'ready') return;
          const silentFor = this.clock.monotonic() - this.lastRx;
          if (silentFor >= this.opts.echoTimeoutMs || this.clock.monotonic() - sentAt >= 2 * this.opts.echoTimeoutMs) {
            this.shutdown({ reason: `peer dead: no echo reply and nothing received for ${silentFor} ms`, error: e as Error }, false);
          }
        },
      );
    }
    this.armEcho();
  }

  private shutdown(info: DisconnectInfo, graceful: boolean): void {
    if (this._state === 'closed') return;
    const wasReady = this._state === 'ready';
    this._state = 'closed';
    this.closeInfo = info;
    this.echoTimer?.cancel();
    const err = new NetloomError('UNAVAILABLE', `OpenFlow connection to ${this.description} closed: ${info.reason}`, {
      field: 'connection',
      ...(info.error ? { cause: info.error } : {}),
    });
    const w = this.helloWaiter;
    this.helloWaiter = undefined;
    w?.reject(err);
    if (graceful) this.out.flush();
    this.out.close(err);
    this.pending.failAll(err);
    this.transport.close(graceful);
    this.log?.info({ peer: this.description, reason: info.reason }, 'OpenFlow connection closed');
    if (wasReady || this.listenerCount('disconnected') > 0) this.emit('disconnected', info);
  }
}
