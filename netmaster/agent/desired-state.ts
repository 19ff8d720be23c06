/**
 * `WatchDesiredState` for one agent: the host's view (host-view.ts) first as a snapshot or as the
 * changes since a revision the agent already has, then the changes after every etcd batch.
 *
 * - resume_from_revision 0: Snapshot(INITIAL) at the cache's revision R, then changes after R.
 * - resume_from_revision N > 0: the cluster is read at N (etcd keeps history until compaction),
 *   the view at N is diffed against the current view and the difference is sent as changes tagged
 *   with the current revision. N compacted: Snapshot(COMPACTED); N not reached by this server's
 *   copy within a second (etcd restored from a backup, say): Snapshot(RESYNC).
 * - Every group of changes (one etcd batch, or a resume) ends with a commit marker: a Change with
 *   an empty key and no object, tagged with the same revision. A client applies a group when its
 *   marker arrives and resumes from the revision of the last marker (or snapshot) it applied, so a
 *   connection lost in the middle of a group never leaves it with half a batch.
 * - Nothing is sent when a batch does not change the host's view.
 * - Bounded memory: the stream keeps only the last view it sent. When the client reads slowly
 *   (the write buffer is full) later batches are not queued: once the buffer drains, one diff
 *   from the last sent view to the view at that time is sent (coalesced).
 */
import type * as grpc from '@grpc/grpc-js';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { WatchRequest__Output } from '../../proto/gen/netloom/v1/WatchRequest';
import type { DesiredStateUpdate } from '../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { EtcdKV } from '../store/kv';
import { isCompactedError, isFutureRevisionError } from '../store/errors';
import { readCluster, type ClusterState } from './cluster';
import type { BatchInfo, ClusterCache } from './cluster-cache';
import { computeHostView, type HostState } from './host-view';
import { checkHost } from './registry';
import { diffViews } from './view-diff';
import { toServiceError } from '../../proto/status';

export type DesiredStateCall = grpc.ServerWritableStream<WatchRequest__Output, DesiredStateUpdate>;

export interface StreamDeps {
  cache: Pick<ClusterCache, 'state' | 'subscribe'>;
  kv: EtcdKV;
  logger: Logger;
  /** called with a function that ends the stream (server stop); returns the unregister function */
  track(end: () => void): () => void;
  /** view computation, replaceable in tests */
  computeView?: (cluster: ClusterState, host: string) => HostState;
}

/** Whether a batch can change the view `view` of `host` (false only when it certainly cannot). */
export function batchTouchesView(batch: BatchInfo, host: string, view: HostState): boolean {
  if (batch.full) return true;
  if (batch.endpoints.length === 0 && batch.agentHosts.length === 0) return false;
  const nets = new Set(view.networks.map((n) => n.key));
  const groups = new Set(view.groups.map((g) => g.key));
  for (const e of batch.endpoints) {
    if (e.homingHost === host || nets.has(e.network)) return true;
    if (e.groupName && groups.has(`${e.tenantName}:${e.groupName}`)) return true;
  }
  // agent records change rarely (registrations, expiries) and decide which remote endpoints are
  // reachable at all (their VTEP): always recompute
  return batch.agentHosts.length > 0;
}

/** Wait (at most `waitMs`) until the cache has applied `revision`: another replica may be a little ahead. */
async function cacheReaches(
  cache: Pick<ClusterCache, 'state'>,
  revision: bigint,
  stopped: () => boolean,
  waitMs = 1000,
  clock: Clock = systemClock,
): Promise<boolean> {
  const deadline = clock.monotonic() + waitMs;
  while (BigInt(cache.state.revision) < revision) {
    if (stopped() || clock.monotonic() >= deadline) return false;
    await clock.sleep(20);
  }
  return true;
}

/** The marker that closes a group of changes. */
export function commitMarker(revision: string): DesiredStateUpdate {
  return { revision, change: { deleted: false, key: '' } };
}

export async function serveDesiredState(call: DesiredStateCall, deps: StreamDeps): Promise<void> {
  const compute = deps.computeView ?? computeHostView;
  const host = call.request.host;
  let resume: bigint;
  try {
    checkHost(host);
    resume = BigInt(call.request.resumeFromRevision || '0');
  } catch (e) {
    call.emit('error', toServiceError(e));
    return;
  }
  let closed = false;
  let unsubscribe: () => void = () => undefined;
  let untrack: () => void = () => undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    untrack();
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);
  untrack = deps.track(() => {
    if (closed) return;
    close();
    call.end();
  });

  let lastSent: HostState;
  let waitingDrain = false;
  let dirty = false;
  const write = (u: DesiredStateUpdate): void => {
    if (!call.write(u)) waitingDrain = true;
  };
  const sendSnapshot = (reason: 'INITIAL' | 'COMPACTED' | 'RESYNC'): void => {
    const state = deps.cache.state;
    lastSent = compute(state, host);
    write({ revision: state.revision, snapshot: { reason, state: lastSent } });
  };
  const flush = (batch: BatchInfo = { full: true, endpoints: [], agentHosts: [] }): void => {
    if (closed) return;
    // the view may change only through a batch that touches it (lastSent is the view as sent)
    if (!dirty && !batchTouchesView(batch, host, lastSent)) return;
    if (waitingDrain) {
      dirty = true;
      return;
    }
    const state = deps.cache.state;
    const view = compute(state, host);
    const changes = diffViews(lastSent, view);
    if (changes.length === 0) return;
    for (const change of changes) write({ revision: state.revision, change });
    write(commitMarker(state.revision));
    lastSent = view;
    if (waitingDrain) {
      call.once('drain', () => {
        waitingDrain = false;
        if (dirty) {
          dirty = false;
          flush();
        }
      });
    }
  };

  try {
    if (resume === 0n) {
      sendSnapshot('INITIAL');
    } else if (!(await cacheReaches(deps.cache, resume, () => closed))) {
      // a revision this server has not seen (within a second): etcd was restored from a backup,
      // or the agent comes from a replica far ahead
      if (closed) return;
      sendSnapshot('RESYNC');
    } else {
      let past: ClusterState | undefined;
      try {
        past = await readCluster(deps.kv, String(resume));
      } catch (e) {
        if (isCompactedError(e)) past = undefined;
        else if (isFutureRevisionError(e)) past = undefined;
        else throw e;
      }
      if (closed) return;
      if (!past) {
        sendSnapshot('COMPACTED');
      } else {
        lastSent = compute(past, host);
        const state = deps.cache.state;
        const view = compute(state, host);
        for (const change of diffViews(lastSent, view)) write({ revision: state.revision, change });
        write(commitMarker(state.revision));
        lastSent = view;
      }
    }
  } catch (e) {
    deps.logger.warn({ host, err: e instanceof Error ? e.message : String(e) }, 'desired-state stream failed to start');
    close();
    call.emit('error', toServiceError(e));
    return;
  }
  if (closed) return;
  if (waitingDrain) {
    call.once('drain', () => {
      waitingDrain = false;
      flush();
    });
  }
  unsubscribe = deps.cache.subscribe((_state, batch) => flush(batch));
  deps.logger.info({ host, resume: String(resume), revision: deps.cache.state.revision }, 'desired-state stream opened');
}
