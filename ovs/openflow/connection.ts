/**
 * The typed OpenFlow 1.3 connection: OfMessage in, OfMessage out. It wraps any OfFrameChannel (one
 * socket, OfConnectionCore, or a ReconnectingSwitch that survives switch restarts) and adds the
 * codec: `send` for pipelined messages, `request` for xid-correlated replies (multipart replies
 * merged into one), `barrier`, `bundle`, `dumpFlows`, and typed events ('packet_in',
 * 'port_status', 'flow_removed', 'error', 'connected', 'disconnected'), also readable through
 * bounded queues (`events(...)`) for consumers slower than the switch.
 */
import { EventEmitter } from 'node:events';
import { NetloomError, errorMessage } from '../../lib/errors';
import { Logger } from '../../lib/logger';
import { decodeMessage, encodeMessage } from './codec';
import type {
  FlowRemoved,
  FlowStats,
  FlowStatsRequestBody,
  GroupDesc,
  GroupMod,
  MeterConfig,
  MeterMod,
  MultipartReply,
  MultipartReplyBody,
  OfMessage,
  PacketIn,
  PortStatus,
} from './messages';
import { OFPG_ANY, OFPM, OFPP, OFPT } from './messages';
import { BarrierResult, DisconnectInfo, OfFrameChannel } from './connection-core';
import { BundleOptions } from './connection-bundle';
import { OfSwitchError } from './connection-errors';
import { BoundedEventQueue } from './connection-events';
import { SwitchFeatures } from './connection-wire';

export interface OfEvents {
  connected: [SwitchFeatures];
  disconnected: [DisconnectInfo];
  packet_in: [PacketIn];
  port_status: [PortStatus];
  flow_removed: [FlowRemoved];
  /** an ERROR for a message nobody awaited (only emitted while someone listens) */
  error: [OfSwitchError];
  /** any other unsolicited message */
  message: [OfMessage];
}

/** Messages the switch answers with a reply of their own. */
const REQUEST_TYPES: ReadonlySet<OfMessage['type']> = new Set<OfMessage['type']>([
  'echo_request',
  'features_request',
  'get_config_request',
  'multipart_request',
  'barrier_request',
  'role_request',
  'bundle_control',
]);

type AsyncKind = 'packet_in' | 'port_status' | 'flow_removed';
type AsyncOf<K extends AsyncKind> = OfEvents[K][0];

export interface OfConnectionOptions {
  logger?: Logger;
}

/** Reply type of request(msg) for each request type. */
export type ReplyTo<M extends OfMessage> = M extends { type: 'multipart_request' } ? MultipartReply : OfMessage;

export class OfConnection extends EventEmitter<OfEvents> {
  /** unsolicited messages that failed to decode (logged, not emitted) */
  undecodable = 0;
  private readonly queues = new Map<AsyncKind, Set<BoundedEventQueue<unknown>>>();

  constructor(
    readonly channel: OfFrameChannel,
    private readonly opts: OfConnectionOptions = {},
  ) {
    super();
    channel.on('frame', (f) => this.onFrame(f));
    channel.on('connected', (f) => this.emit('connected', f));
    channel.on('disconnected', (d) => this.emit('disconnected', d));
    channel.on('error', (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
      else this.opts.logger?.warn({ xid: e.xid, type: e.typeName, code: e.codeName }, 'switch rejected a message nobody awaited');
    });
  }

  get features(): SwitchFeatures {
    return this.channel.features;
  }

  /** Datapath id as 16 hex digits. */
  get datapathId(): string {
    return this.channel.features.datapathId;
  }

  /**
   * Send without waiting for a reply (pipelining). Resolves at once below the outgoing queue's
   * high-water mark, else once it drains; throws EXHAUSTED past its hard limit. Errors the switch
   * returns come out of the next barrier() and as 'error' events. With `keepXid` the message's own
   * xid is sent (so that the caller can map errors back to messages); otherwise a fresh one.
   */
  send(msg: OfMessage, o: { keepXid?: boolean } = {}): Promise<void> {
    try {
      return this.channel.sendFrame(encodeMessage(msg), o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Send a request and resolve with its reply, matched by xid (the message's own xid is replaced).
   * A multipart request resolves with one multipart_reply whose body holds every part's entries.
   * Rejects with OfSwitchError (typeName/codeName) when the switch returns an ERROR.
   */
  async request<M extends OfMessage>(msg: M, o: { timeoutMs?: number } = {}): Promise<ReplyTo<M>> {
    if (!REQUEST_TYPES.has(msg.type)) {
      throw new NetloomError('INVALID_ARGUMENT', `${msg.type} has no reply when it succeeds: use send() and then barrier()`, {
        field: 'type',
      });
    }
    const frames = await this.channel.requestFrame(encodeMessage(msg), {
      ...o,
      context: msg.type === 'multipart_request' ? `multipart ${msg.body.kind} request` : msg.type,
    });
    const replies = frames.map((f) => decodeMessage(f));
    if (msg.type === 'multipart_request') return mergeMultipart(replies) as ReplyTo<M>;
    return replies[0] as ReplyTo<M>;
  }

  /** Every flow (optionally of one table / matching a filter), via a flow-stats multipart request. */
  async dumpFlows(filter: Partial<FlowStatsRequestBody> = {}, o: { timeoutMs?: number } = {}): Promise<FlowStats[]> {
    const reply = await this.request(
      {
        type: 'multipart_request',
        xid: 0,
        flags: 0,
        body: { kind: 'flow', tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [], ...filter },
      },
      o,
    );
    if (reply.body.kind !== 'flow')
      throw new NetloomError('DECODE_ERROR', `flow-stats request answered with ${reply.body.kind}`, { field: 'body' });
    return reply.body.entries;
  }

  /** The configuration of every meter (meter-config multipart request for OFPM_ALL). */
  async dumpMeters(o: { timeoutMs?: number } = {}): Promise<MeterConfig[]> {
    const reply = await this.request({ type: 'multipart_request', xid: 0, flags: 0, body: { kind: 'meter_config', meterId: OFPM.ALL } }, o);
    if (reply.body.kind !== 'meter_config')
      throw new NetloomError('DECODE_ERROR', `meter-config request answered with ${reply.body.kind}`, { field: 'body' });
    return reply.body.entries;
  }

  /** The description of every group (group-desc multipart request). */
  async dumpGroups(o: { timeoutMs?: number } = {}): Promise<GroupDesc[]> {
    const reply = await this.request({ type: 'multipart_request', xid: 0, flags: 0, body: { kind: 'group_desc' } }, o);
    if (reply.body.kind !== 'group_desc')
      throw new NetloomError('DECODE_ERROR', `group-desc request answered with ${reply.body.kind}`, { field: 'body' });
    return reply.body.entries;
  }

  /**
   * Apply group mods in order, then a barrier; rejects with the switch's first error for a group
   * mod (as meterMods does). Not atomic: the ones before it stay applied.
   */
  async groupMods(msgs: readonly GroupMod[], o: { timeoutMs?: number } = {}): Promise<void> {
    if (msgs.length === 0) return;
    for (const m of msgs) await this.send(m);
    const { errors } = await this.barrier(o);
    const ours = errors.find((e) => e.data[1] === OFPT.GROUP_MOD);
    if (ours) throw ours;
  }

  /**
   * Apply meter mods (OVS refuses them inside bundles) in order, then a barrier; rejects with the
   * switch's first error for a meter mod (its echoed header names the message type, so errors of
   * other pipelined messages are not taken for ours). Not atomic: the ones before it stay applied.
   */
  async meterMods(msgs: readonly MeterMod[], o: { timeoutMs?: number } = {}): Promise<void> {
    if (msgs.length === 0) return;
    for (const m of msgs) await this.send(m);
    const { errors } = await this.barrier(o);
    const ours = errors.find((e) => e.data[1] === OFPT.METER_MOD);
    if (ours) throw ours;
  }

  barrier(o: { timeoutMs?: number } = {}): Promise<BarrierResult> {
    return this.channel.barrier(o);
  }

  /**
   * Apply `msgs` atomically as one bundle (ONF EXT-230 on 1.3). On failure nothing is applied and
   * the promise rejects with OfBundleError: `failure.index` is the index into `msgs` of the message
   * the switch rejected, `failure.error` its error.
   */
  bundle(msgs: readonly OfMessage[], o: BundleOptions & { timeoutMs?: number } = {}): Promise<void> {
    try {
      // encoded one by one as the bundle is sent, so the switch is busy while we encode
      return this.channel.bundleFrames({ length: msgs.length, frame: (i) => encodeMessage(msgs[i] as OfMessage) }, o);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A bounded queue of one kind of asynchronous message, for a reader slower than the switch:
   * beyond `limit` unread events the oldest are dropped (counted in `dropped`). Close it (or break
   * out of `for await`) to stop.
   */
  events<K extends AsyncKind>(kind: K, limit = 1024): BoundedEventQueue<AsyncOf<K>> {
    const q = new BoundedEventQueue<AsyncOf<K>>(limit);
    let set = this.queues.get(kind);
    if (!set) {
      set = new Set();
      this.queues.set(kind, set);
    }
    set.add(q as BoundedEventQueue<unknown>);
    const origClose = q.close.bind(q);
    q.close = () => {
      set.delete(q as BoundedEventQueue<unknown>);
      origClose();
    };
    return q;
  }

  close(reason?: string): void {
    for (const set of this.queues.values()) for (const q of [...set]) q.close();
    this.channel.close(reason);
  }

  private onFrame(frame: Buffer): void {
    let msg: OfMessage;
    try {
      msg = decodeMessage(frame);
    } catch (e) {
      this.undecodable++;
      this.opts.logger?.warn({ type: frame[1], err: errorMessage(e) }, 'undecodable OpenFlow message from switch');
      return;
    }
    switch (msg.type) {
      case 'packet_in':
      case 'port_status':
      case 'flow_removed': {
        for (const q of this.queues.get(msg.type) ?? []) q.push(msg);
        // each case emits its own type so that the listener argument stays precise
        if (msg.type === 'packet_in') this.emit('packet_in', msg);
        else if (msg.type === 'port_status') this.emit('port_status', msg);
        else this.emit('flow_removed', msg);
        return;
      }
      default:
        this.emit('message', msg);
    }
  }
}

/** One multipart_reply out of its parts: entry lists concatenated, the flags of the last part. */
export function mergeMultipart(parts: readonly OfMessage[]): MultipartReply {
  const replies = parts.filter((p): p is MultipartReply => p.type === 'multipart_reply');
  const first = replies[0];
  if (!first || replies.length !== parts.length)
    throw new NetloomError('DECODE_ERROR', 'multipart request answered with something other than multipart replies', { field: 'reply' });
  const body = mergeBodies(replies.map((r) => r.body));
  return { type: 'multipart_reply', xid: first.xid, flags: (replies[replies.length - 1] as MultipartReply).flags, body };
}

function mergeBodies(bodies: MultipartReplyBody[]): MultipartReplyBody {
  const [first] = bodies as [MultipartReplyBody];
  if (bodies.length === 1) return first;
  for (const b of bodies) {
    if (b.kind !== first.kind)
      throw new NetloomError('DECODE_ERROR', `multipart reply mixes ${first.kind} and ${b.kind} parts`, { field: 'body' });
  }
  switch (first.kind) {
    case 'flow':
    case 'table':
    case 'port_stats':
    case 'group_desc':
    case 'meter_stats':
    case 'meter_config':
      // every part has first's kind (checked above), so the entry lists are of one element type
      return { ...first, entries: bodies.flatMap((b) => (b as typeof first).entries as unknown[]) } as MultipartReplyBody;
    case 'port_desc':
      return { kind: 'port_desc', ports: bodies.flatMap((b) => (b as typeof first).ports) };
    case 'raw':
      return { ...first, data: Buffer.concat(bodies.map((b) => (b as typeof first).data)) };
    default:
      return bodies[bodies.length - 1] as MultipartReplyBody;
  }
}
