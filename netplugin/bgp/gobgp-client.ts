/**
 * A typed client of one gobgpd's gRPC API (GoBGP v3, service apipb.GobgpApi), for the calls the
 * agent needs: global settings, peers and their state, IPv4 unicast paths, and the RIB watch.
 * Arguments are checked before anything is sent (INVALID_ARGUMENT naming the field); every reply
 * is checked before it is believed (DECODE_ERROR naming the field); gRPC failures become
 * UNAVAILABLE (gobgpd not there), TIMEOUT (deadline) or mostly COMMAND_FAILED (gobgpd said no; lib/grpc-call-error.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { grpcCallError } from '../../lib/grpc-call-error';
import { NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { gobgpServiceCtor } from './gobgp-proto';
import { decodeApiPath, encodeAnnounced, IPV4_UNICAST, type RibPath } from './path-codec';
import { ipv4, parseAnnounced, parseGlobal, parsePeer, type AnnouncedPath, type BgpGlobal, type BgpPeer } from './speaker-config';

/** BGP session states as GoBGP names them. */
export type SessionState = 'UNKNOWN' | 'IDLE' | 'CONNECT' | 'ACTIVE' | 'OPENSENT' | 'OPENCONFIRM' | 'ESTABLISHED';

/** A peer as ListPeer shows it. */
export interface PeerStatus {
  address: string;
  peerAsn: number;
  localAsn: number;
  state: SessionState;
  adminDown: boolean;
  /** when the session last came up (ms since the epoch), undefined if it never did */
  uptimeSince: number | undefined;
  /** the configured hold time (s) */
  holdTimeS: number;
  /** the negotiated hold time (s; 0 until established) */
  negotiatedHoldTimeS: number;
  /** IPv4 unicast prefixes received, accepted and sent */
  received: number;
  accepted: number;
  advertised: number;
  /** ADD-PATH receive configured for IPv4 unicast */
  addPathsReceive: boolean;
}

/** One prefix of the RIB with its paths. */
export interface RibDestination {
  prefix: string;
  paths: RibPath[];
}

export type TableEvent = { kind: 'table'; paths: RibPath[] } | { kind: 'peer'; address: string; state: SessionState };

export interface Watch {
  /** Stop watching (the `onEnd` callback is not called for a cancel). */
  cancel(): void;
}

const SESSION_STATES: readonly SessionState[] = ['UNKNOWN', 'IDLE', 'CONNECT', 'ACTIVE', 'OPENSENT', 'OPENCONFIRM', 'ESTABLISHED'];

const u64 = z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).transform(Number);
const timestamp = z.object({ seconds: u64, nanos: z.number() }).nullable();
const globalReply = z.object({
  global: z.object({ asn: z.number(), routerId: z.string(), listenPort: z.number(), listenAddresses: z.array(z.string()) }).nullable(),
});
const peerReply = z.object({
  peer: z.object({
    conf: z.object({ neighborAddress: z.string(), peerAsn: z.number(), localAsn: z.number(), adminDown: z.boolean() }),
    state: z.object({
      neighborAddress: z.string(),
      peerAsn: z.number(),
      localAsn: z.number(),
      sessionState: z.enum(SESSION_STATES as [SessionState, ...SessionState[]]),
      adminState: z.string(),
    }),
    timers: z
      .object({
        config: z.object({ holdTime: u64 }).nullable(),
        state: z.object({ negotiatedHoldTime: u64, uptime: timestamp }).nullable(),
      })
      .nullable(),
    afiSafis: z.array(
      z.object({
        config: z.object({ family: z.object({ afi: z.string(), safi: z.string() }).nullable() }).nullable(),
        state: z.object({ received: u64, accepted: u64, advertised: u64 }).nullable(),
        addPaths: z.object({ config: z.object({ receive: z.boolean() }).nullable() }).nullable(),
      }),
    ),
  }),
});
const addPathReply = z.object({ uuid: z.instanceof(Uint8Array).refine((u) => u.length > 0, { error: 'is empty' }) });
const destinationReply = z.object({ destination: z.object({ prefix: z.string(), paths: z.array(z.unknown()) }) });
const watchReply = z.object({
  event: z.enum(['peer', 'table']).optional(),
  peer: z
    .object({
      type: z.string(),
      peer: z.object({ state: z.object({ neighborAddress: z.string(), sessionState: z.string() }).nullable() }).nullable(),
    })
    .nullish(),
  table: z.object({ paths: z.array(z.unknown()) }).nullish(),
});

/** Check a reply of `rpc`; a wrong one is DECODE_ERROR naming the field. */
function reply<S extends z.ZodType>(rpc: string, schema: S, v: unknown): z.output<S> {
  return parseWith(schema, v, { what: `gobgp ${rpc} reply`, code: 'DECODE_ERROR' });
}

/** A gRPC failure as a NetloomError (the message names the call and quotes gobgpd). */
export const grpcError = (rpc: string, e: unknown): NetloomError => grpcCallError('gobgp', rpc, e);

type UnaryFn = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;
type StreamFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

export interface GobgpClientOptions {
  /** deadline of each call, ms (default 5000) */
  timeoutMs?: number;
}

export class GobgpClient {
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;

  /** `target`: host:port of gobgpd's API (`--api-hosts`). */
  constructor(
    readonly target: string,
    opts: GobgpClientOptions = {},
  ) {
    const Ctor = gobgpServiceCtor();
    this.client = new Ctor(target, grpc.credentials.createInsecure());
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  close(): void {
    this.client.close();
  }

  private method<F>(name: string): F {
    const m = (this.client as unknown as Record<string, unknown>)[name];
    if (typeof m !== 'function') throw new NetloomError('INTERNAL', `gobgp API has no method ${name}`);
    return (m as (...a: unknown[]) => unknown).bind(this.client) as F;
  }

  private deadline(): grpc.CallOptions {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private unary(rpc: string, req: unknown): Promise<unknown> {
    const fn = this.method<UnaryFn>(rpc);
    return new Promise((resolve, reject) =>
      fn(req, new grpc.Metadata(), this.deadline(), (err, res) => (err ? reject(grpcError(rpc, err)) : resolve(res))),
    );
  }

  private collect(rpc: string, req: unknown): Promise<unknown[]> {
    const stream = this.method<StreamFn>(rpc)(req, new grpc.Metadata(), this.deadline());
    const out: unknown[] = [];
    return new Promise((resolve, reject) => {
      stream.on('data', (d: unknown) => out.push(d));
      stream.on('error', (e: unknown) => reject(grpcError(rpc, e)));
      stream.on('end', () => resolve(out));
    });
  }

  /** Waits until the channel is connected (or the deadline passes: UNAVAILABLE). */
  waitReady(timeoutMs = this.timeoutMs): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (e) =>
        e ? reject(new NetloomError('UNAVAILABLE', `gobgp API at ${this.target} not ready: ${e.message}`, { cause: e })) : resolve(),
      ),
    );
  }

  /** Start BGP with these global settings (once per gobgpd run; StopBgp first to change them). */
  async startBgp(global: BgpGlobal): Promise<void> {
    const g = parseGlobal(global);
    await this.unary('StartBgp', {
      global: { asn: g.asn, routerId: g.routerId, listenPort: g.listenPort, listenAddresses: g.listenAddresses },
    });
  }

  async stopBgp(): Promise<void> {
    await this.unary('StopBgp', {});
  }

  /** The running global settings, or undefined when BGP is not started (AS 0). */
  async getBgp(): Promise<BgpGlobal | undefined> {
    const r = reply('GetBgp', globalReply, await this.unary('GetBgp', {}));
    if (!r.global || r.global.asn === 0) return undefined;
    return { asn: r.global.asn, routerId: r.global.routerId, listenPort: r.global.listenPort, listenAddresses: r.global.listenAddresses };
  }

  async addPeer(peer: BgpPeer): Promise<void> {
    const p = parsePeer(peer);
    await this.unary('AddPeer', {
      peer: {
        conf: { neighborAddress: p.address, peerAsn: p.peerAsn },
        timers: {
          config: {
            holdTime: String(p.holdTimeS),
            keepaliveInterval: String(p.keepaliveS ?? Math.floor(p.holdTimeS / 3)),
            connectRetry: String(p.connectRetryS),
          },
        },
        transport: { passiveMode: p.passive },
        afiSafis: [
          {
            config: { family: IPV4_UNICAST, enabled: true },
            ...(p.addPathsReceive ? { addPaths: { config: { receive: true } } } : {}),
          },
        ],
      },
    });
  }

  async deletePeer(address: string): Promise<void> {
    const a = parseWith(ipv4, address, { what: 'BGP peer', rootField: 'address' });
    await this.unary('DeletePeer', { address: a });
  }

  /** Every peer (or the one at `address`) with its state and prefix counts. */
  async listPeers(address = ''): Promise<PeerStatus[]> {
    const rows = await this.collect('ListPeer', { address, enableAdvertised: true });
    return rows.map((row) => {
      const { peer } = reply('ListPeer', peerReply, row);
      const v4 = peer.afiSafis.find((a) => a.config?.family?.afi === IPV4_UNICAST.afi && a.config.family.safi === IPV4_UNICAST.safi);
      const up = peer.timers?.state?.uptime;
      return {
        address: peer.conf.neighborAddress || peer.state.neighborAddress,
        peerAsn: peer.conf.peerAsn || peer.state.peerAsn,
        localAsn: peer.state.localAsn || peer.conf.localAsn,
        state: peer.state.sessionState,
        adminDown: peer.conf.adminDown || peer.state.adminState === 'DOWN',
        // GoBGP reports the epoch (0) for a session that never came up
        uptimeSince: up && up.seconds > 0 ? up.seconds * 1000 + Math.floor(up.nanos / 1e6) : undefined,
        holdTimeS: peer.timers?.config?.holdTime ?? 0,
        negotiatedHoldTimeS: peer.timers?.state?.negotiatedHoldTime ?? 0,
        received: v4?.state?.received ?? 0,
        accepted: v4?.state?.accepted ?? 0,
        advertised: v4?.state?.advertised ?? 0,
        addPathsReceive: v4?.addPaths?.config?.receive ?? false,
      };
    });
  }

  /** Announce one of our prefixes; returns the path's UUID (hex), which DeletePath takes. */
  async addPath(path: AnnouncedPath): Promise<string> {
    const p = parseAnnounced(path);
    const r = reply('AddPath', addPathReply, await this.unary('AddPath', { tableType: 'GLOBAL', path: encodeAnnounced(p) }));
    return Buffer.from(r.uuid).toString('hex');
  }

  /** Withdraw a path we added, by the UUID AddPath returned. */
  async deletePathByUuid(uuid: string): Promise<void> {
    if (!/^([0-9a-f]{2})+$/.test(uuid)) throw new NetloomError('INVALID_ARGUMENT', 'BGP path: uuid must be hex', { field: 'uuid' });
    await this.unary('DeletePath', { tableType: 'GLOBAL', family: IPV4_UNICAST, uuid: Buffer.from(uuid, 'hex') });
  }

  /** Withdraw a path we added, by its prefix and next hop. */
  async deletePath(path: AnnouncedPath): Promise<void> {
    const p = parseAnnounced(path);
    await this.unary('DeletePath', { tableType: 'GLOBAL', family: IPV4_UNICAST, path: encodeAnnounced(p) });
  }

  /** The IPv4 unicast RIB: every prefix with all its paths (local and learned; `best` marks GoBGP's choice). */
  async listPaths(): Promise<RibDestination[]> {
    const rows = await this.collect('ListPath', { tableType: 'GLOBAL', family: IPV4_UNICAST, sortType: 'PREFIX' });
    return rows.map((row, i) => {
      const { destination } = reply('ListPath', destinationReply, row);
      const paths: RibPath[] = [];
      destination.paths.forEach((raw, j) => {
        const p = decodeApiPath(raw, `destination[${i}].paths.${j}`);
        if (p) paths.push(p);
      });
      return { prefix: destination.prefix, paths };
    });
  }

  /**
   * Watch the RIB: `onEvent` gets the paths of every change to the tables GoBGP compares (ADJ-IN:
   * every path a peer sends or withdraws, ours included in BEST) and peer state changes. `init`
   * first replays what is there. `onEnd` is told when the stream ends or fails (gobgpd gone).
   */
  watch(onEvent: (e: TableEvent) => void, onEnd: (err: NetloomError | undefined) => void, opts: { init?: boolean } = {}): Watch {
    const filters = [
      { type: 'BEST', init: opts.init ?? false },
      { type: 'ADJIN', init: opts.init ?? false },
    ];
    const stream = this.method<StreamFn>('WatchEvent')({ peer: {}, table: { filters } }, new grpc.Metadata(), {});
    let cancelled = false;
    let ended = false;
    const end = (err: NetloomError | undefined): void => {
      if (ended || cancelled) return;
      ended = true;
      onEnd(err);
    };
    stream.on('data', (d: unknown) => {
      try {
        const r = reply('WatchEvent', watchReply, d);
        if (r.table) {
          const paths: RibPath[] = [];
          r.table.paths.forEach((raw, j) => {
            const p = decodeApiPath(raw, `table.paths.${j}`);
            if (p) paths.push(p);
          });
          onEvent({ kind: 'table', paths });
        } else if (r.peer?.peer?.state) {
          const s = r.peer.peer.state;
          const state = (SESSION_STATES as readonly string[]).includes(s.sessionState) ? (s.sessionState as SessionState) : 'UNKNOWN';
          onEvent({ kind: 'peer', address: s.neighborAddress, state });
        }
      } catch (e) {
        stream.cancel();
        end(grpcError('WatchEvent', e));
      }
    });
    stream.on('error', (e: unknown) => end(grpcError('WatchEvent', e)));
    stream.on('end', () => end(undefined));
    return {
      cancel: () => {
        cancelled = true;
        stream.cancel();
      },
    };
  }
}
