/**
 * A watch-fed copy of the cluster state (cluster.ts) shared by every desired-state stream of one
 * server: one full read, then one etcd watch over `/netloom/v1/` from that revision. After each
 * watch response (one or more etcd revisions) it tells its subscribers which keys changed, with
 * their values before and after (view-engine.ts reacts to exactly those). It also keeps tenant
 * ids allocated (tenant-ids.ts). When the watch fails (e.g. its revision was compacted while
 * disconnected) it reads everything again and tells its subscribers to start over (`reload`).
 */
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { EtcdKV, WatchEvent } from '../store/kv';
import { ROOT } from '../store/layout';
import { applyKeyChange, readCluster, type ClusterState, type KeyChange } from './cluster';
import { reconcileTenantIds } from './tenant-ids';

/** What one applied watch response changed; `reload`: the whole state was read again (start over). */
export interface ClusterBatch {
  reload: boolean;
  changes: KeyChange[];
}

export type ClusterListener = (state: ClusterState, batch: ClusterBatch) => void;

const RELOAD: ClusterBatch = { reload: true, changes: [] };

/** One etcd watch of this cache; events of a replaced (stale) watch are ignored. */
interface Watch {
  stop(): Promise<void>;
}

export class ClusterCache {
  private current: ClusterState | undefined;
  private watcher: Watch | undefined;
  private readonly listeners = new Set<ClusterListener>();
  private stopped = false;
  private tenantWork: Promise<void> = Promise.resolve();
  private tenantDirty = false;
  private tenantRunning = false;
  private reloading = false;
  private lastChange = '0';

  constructor(
    private readonly kv: EtcdKV,
    private readonly logger: Logger,
    private readonly opts: { manageTenantIds?: boolean; clock?: Clock } = {},
  ) {}

  /**
   * The newest revision that changed the cluster state (keys outside the cluster prefixes, such
   * as the replicas' realization reports, move etcd's revision but not this one).
   */
  get changedAt(): string {
    return this.lastChange;
  }

  /** The state as of the last applied revision (throws before start()). */
  get state(): ClusterState {
    if (!this.current) throw new Error('cluster cache not started');
    return this.current;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.load();
  }

  private async load(): Promise<void> {
    const state = await readCluster(this.kv);
    // a stable identity for the callbacks to compare with this.watcher; they run from network
    // callbacks, so never before the synchronous assignments below
    const watcher: Watch = { stop: async () => undefined };
    watcher.stop = await this.kv.watchBatches(
      ROOT,
      state.revision,
      (events) => this.onResponse(watcher, events),
      (err) => void this.onWatchError(watcher, err),
    );
    if (this.stopped) {
      await watcher.stop();
      return;
    }
    this.current = state;
    this.lastChange = state.revision;
    this.watcher = watcher;
    this.afterChange(RELOAD);
  }

  private onResponse(watcher: Watch, events: WatchEvent[]): void {
    if (watcher !== this.watcher || !this.current || events.length === 0) return;
    const state = this.current;
    let rev = BigInt(state.revision);
    const batch: ClusterBatch = { reload: false, changes: [] };
    for (const ev of events) {
      const { key, modRevision } = ev;
      const change = applyKeyChange(state, key, ev.type === 'delete' ? undefined : ev.value, modRevision, this.kv.badValues);
      if (BigInt(modRevision) > rev) rev = BigInt(modRevision);
      if (change) {
        batch.changes.push(change);
        if (BigInt(modRevision) > BigInt(this.lastChange)) this.lastChange = modRevision;
      }
    }
    state.revision = String(rev);
    this.afterChange(batch);
  }

  private async onWatchError(watcher: Watch, err: Error): Promise<void> {
    if (watcher !== this.watcher || this.stopped || this.reloading) return;
    this.reloading = true;
    this.logger.warn({ err: err.message }, 'cluster watch failed: reading the cluster again');
    try {
      await watcher.stop().catch(() => undefined);
      // 100 ms doubling to 5 s between reloads
      const backoff = new Backoff({ initialMs: 100, maxMs: 5000 }, { clock: this.opts.clock ?? systemClock });
      for (let attempt = 0; attempt < 1000 && !this.stopped; attempt++) {
        try {
          await this.load();
          return;
        } catch (e) {
          this.logger.warn({ err: e instanceof Error ? e.message : String(e), attempt }, 'cluster reload failed');
          await backoff.wait();
        }
      }
    } finally {
      this.reloading = false;
    }
  }

  private afterChange(batch: ClusterBatch): void {
    const state = this.current;
    if (!state) return;
    for (const l of [...this.listeners]) {
      try {
        l(state, batch);
      } catch (e) {
        this.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'cluster listener failed');
      }
    }
    const tenantsMoved = batch.reload || batch.changes.some((c) => c.kind === 'tenantId' || (c.kind === 'object' && c.type === 'tenant'));
    if (this.opts.manageTenantIds !== false && tenantsMoved) this.scheduleTenantIds();
  }

  private scheduleTenantIds(): void {
    this.tenantDirty = true;
    if (this.tenantRunning) return;
    this.tenantRunning = true;
    this.tenantWork = (async () => {
      for (let round = 0; round < 100 && this.tenantDirty && !this.stopped; round++) {
        this.tenantDirty = false;
        try {
          if (this.current) await reconcileTenantIds(this.kv, this.current, this.logger);
        } catch (e) {
          this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'tenant id allocation failed (retried on the next change)');
        }
      }
      this.tenantRunning = false;
    })();
  }

  /** Call `l` after every applied change; returns the unsubscribe function. */
  subscribe(l: ClusterListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.listeners.clear();
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await w.stop().catch(() => undefined);
    await this.tenantWork.catch(() => undefined);
  }
}

/** Wait (at most `waitMs`) until the cache has applied `revision`: another replica may be a little ahead. */
export async function cacheReaches(
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
