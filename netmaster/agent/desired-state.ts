/**
 * `WatchDesiredState` for one agent: the host's view (kept by view-engine.ts) first as a snapshot
 * or as the changes since a revision the agent already has, then the changes as they come.
 *
 * - resume_from_revision 0: Snapshot(INITIAL) at the cache's revision R, then changes after R.
 * - resume_from_revision N > 0: the cluster is read at N (etcd keeps history until compaction;
 *   one read shared by every agent resuming from N), the view at N is diffed against the current
 *   view and the difference is sent as changes tagged with the current revision. N compacted:
 *   Snapshot(COMPACTED); N not reached by this server's copy within a second (etcd restored from
 *   a backup, say): Snapshot(RESYNC).
 * - A snapshot larger than `maxMessageBytes` goes in parts (Snapshot.more), each under it.
 * - Every group of changes goes as `Changes` messages (as many changes as fit under the message
 *   size each), the last one with `commit`. A client applies a group when it is committed and
 *   resumes from the revision of the last group, snapshot or progress mark it applied, so a
 *   connection lost in the middle of a group never leaves it with half a batch. (Clients also
 *   accept single `Change` messages closed by a commit marker, a Change with an empty key.)
 * - Nothing is sent when a change does not touch the host's view; an idle stream gets a progress
 *   mark about once a second when etcd's revision moved on (fan-out.ts).
 * - Bounded memory and no head-of-line blocking: the engine marks the keys that changed for this
 *   stream; fan-out.ts sends their latest values when the stream's turn comes and its client
 *   has read what was sent before (coalesced: a key changed ten times meanwhile is sent once).
 */
import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { WatchRequest__Output } from '../../proto/gen/netloom/v1/WatchRequest';
import type { DesiredStateUpdate } from '../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { Change } from '../../proto/gen/netloom/v1/Change';
import { isCompactedError, isFutureRevisionError } from '../store/errors';
import type { ClusterState } from './cluster';
import { cacheReaches, type ClusterCache } from './cluster-cache';
import type { FanOut, FanOutStream } from './fan-out';
import { computeHostView } from './host-view';
import { checkHost } from './registry';
import { changeBatches, snapshotParts, type Oversized } from './message-parts';
import { diffViews } from './view-diff';
import type { ViewEngine, ViewSubscriber } from './view-engine';
import type { UpdateEncoder } from './update-encoder';
import { toServiceError } from '../../proto/status';

export type DesiredStateCall = grpc.ServerWritableStream<WatchRequest__Output, DesiredStateUpdate>;

/** gRPC's default receive limit (4 MiB) less room for the message's own framing. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024 - 64 * 1024;

export interface StreamDeps {
  cache: Pick<ClusterCache, 'state'>;
  views: ViewEngine;
  fanOut: FanOut;
  /** the cluster at a past revision (shared between streams resuming from the same one) */
  pastCluster(revision: string): Promise<ClusterState>;
  logger: Logger;
  /** called with a function that ends the stream (server stop); returns the unregister function */
  track(end: () => void): () => void;
  /** the largest message sent (snapshots are cut into parts under it) */
  maxMessageBytes?: number;
  /** encodes updates once per object (the server's serializer passes its bytes through); without it, plain objects */
  encoder?: UpdateEncoder;
  clock?: Clock;
}

/** One open stream: what the engine marked dirty for it, sent when the fan-out gives it its turn. */
class StreamSender implements ViewSubscriber, FanOutStream {
  readonly dirty = new Set<string>();
  closed = false;
  /** the revision of the last snapshot, group or progress mark sent */
  sentRevision = 0n;
  private waitingDrain = false;

  constructor(
    private readonly call: DesiredStateCall,
    private readonly host: string,
    private readonly deps: StreamDeps,
  ) {}

  /** An item too large for any message: left out of the stream (it would fail it), and logged. */
  private readonly oversized = (o: Oversized): void => {
    this.deps.logger.warn(
      { host: this.host, kind: o.kind, id: o.id, bytes: o.bytes, maxMessageBytes: this.deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES },
      'left an item too large for one message out of a desired-state stream',
    );
  };

  notify(): void {
    if (!this.closed && !this.waitingDrain) this.deps.fanOut.enqueue(this);
  }

  private write(u: DesiredStateUpdate | Buffer): void {
    // a Buffer is an update already encoded (update-encoder.ts), passed through by the serializer
    if (this.call.write(u as DesiredStateUpdate) || this.waitingDrain) return;
    this.waitingDrain = true;
    this.call.once('drain', () => {
      this.waitingDrain = false;
      if (this.dirty.size > 0) this.notify();
    });
  }

  flush(): void {
    if (this.closed || this.waitingDrain || this.dirty.size === 0) return;
    const revision = this.deps.cache.state.revision;
    const changes = this.deps.views.changesFor(this.host, this.dirty);
    this.dirty.clear();
    this.writeGroup(revision, changes);
  }

  /** One group as batches of changes under the message size, the last one committing it. */
  private writeGroup(revision: string, changes: Change[]): void {
    const batches = changeBatches(changes, this.deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, this.oversized);
    const enc = this.deps.encoder;
    batches.forEach((batch, i) => {
      const commit = i === batches.length - 1;
      this.write(enc ? enc.changes(revision, batch, commit) : { revision, changes: { changes: batch, commit } });
    });
    this.sentRevision = BigInt(revision);
  }

  progress(revision: string): boolean {
    if (this.closed || this.waitingDrain || this.dirty.size > 0 || BigInt(revision) <= this.sentRevision) return false;
    this.write({ revision, progress: {} });
    this.sentRevision = BigInt(revision);
    return true;
  }

  snapshot(reason: 'INITIAL' | 'COMPACTED' | 'RESYNC'): void {
    const revision = this.deps.cache.state.revision;
    const state = this.deps.views.stateOf(this.host);
    if (!state) return;
    this.dirty.clear();
    const parts = snapshotParts(state, this.deps.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, this.oversized);
    const enc = this.deps.encoder;
    parts.forEach((part, i) => {
      const more = i < parts.length - 1;
      this.write(enc ? enc.snapshot(revision, reason, part, more) : { revision, snapshot: { reason, state: part, more } });
    });
    this.sentRevision = BigInt(revision);
  }

  /** The changes from the view at a past revision to the current one, as one group. */
  resumeFrom(past: ClusterState): number {
    const revision = this.deps.cache.state.revision;
    const now = this.deps.views.stateOf(this.host);
    if (!now) return 0;
    this.dirty.clear();
    const changes = diffViews(computeHostView(past, this.host), now);
    this.writeGroup(revision, changes);
    return changes.length;
  }
}

export async function serveDesiredState(call: DesiredStateCall, deps: StreamDeps): Promise<void> {
  const host = call.request.host;
  let resume: bigint;
  try {
    checkHost(host);
    resume = BigInt(call.request.resumeFromRevision || '0');
  } catch (e) {
    call.emit('error', toServiceError(e));
    return;
  }
  const sender = new StreamSender(call, host, deps);
  let untrackView: () => void = () => undefined;
  let untrack: () => void = () => undefined;
  const close = (): void => {
    if (sender.closed) return;
    sender.closed = true;
    untrackView();
    deps.fanOut.remove(sender);
    untrack();
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);
  untrack = deps.track(() => {
    if (sender.closed) return;
    close();
    call.end();
  });
  // headers at once: the client counts the stream as open from them, however long a replica
  // under load takes to send the first snapshot
  call.sendMetadata?.(new Metadata());
  const follow = (): void => {
    untrackView = deps.views.track(host, sender);
    deps.fanOut.add(sender);
  };

  try {
    if (resume === 0n) {
      follow();
      sender.snapshot('INITIAL');
    } else if (!(await cacheReaches(deps.cache, resume, () => sender.closed, 1000, deps.clock))) {
      // a revision this server has not seen (within a second): etcd was restored from a backup,
      // or the agent comes from a replica far ahead
      if (sender.closed) return;
      follow();
      sender.snapshot('RESYNC');
    } else {
      let past: ClusterState | undefined;
      try {
        past = await deps.pastCluster(String(resume));
      } catch (e) {
        if (!isCompactedError(e) && !isFutureRevisionError(e)) throw e;
      }
      if (sender.closed) return;
      follow();
      if (!past) sender.snapshot('COMPACTED');
      else sender.resumeFrom(past);
    }
  } catch (e) {
    deps.logger.warn({ host, err: e instanceof Error ? e.message : String(e) }, 'desired-state stream failed to start');
    close();
    call.emit('error', toServiceError(e));
    return;
  }
  if (sender.closed) return;
  deps.logger.info({ host, resume: String(resume), revision: deps.cache.state.revision }, 'desired-state stream opened');
}
