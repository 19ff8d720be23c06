/**
 * The cluster as it was at a past revision, for streams that resume from it. When a replica
 * fails, all its agents resume elsewhere from the same few revisions at once: one etcd read per
 * revision serves them all (kept a short while), instead of one full read per agent.
 */
import { systemClock, type Clock } from '../../lib/clock';
import type { EtcdKV } from '../store/kv';
import { readCluster, type ClusterState } from './cluster';

export class PastClusters {
  private readonly entries = new Map<string, { at: number; state: Promise<ClusterState> }>();
  /** etcd reads made (for tests and metrics) */
  reads = 0;

  constructor(
    private readonly kv: EtcdKV,
    private readonly opts: { keepMs?: number; maxEntries?: number; clock?: Clock } = {},
  ) {}

  get(revision: string): Promise<ClusterState> {
    const clock = this.opts.clock ?? systemClock;
    const now = clock.monotonic();
    const keep = this.opts.keepMs ?? 10_000;
    for (const [rev, e] of this.entries) if (now - e.at > keep) this.entries.delete(rev);
    const hit = this.entries.get(revision);
    if (hit) return hit.state;
    this.reads++;
    const state = readCluster(this.kv, revision);
    // a failed read is not kept: the next stream asks etcd again
    state.catch(() => this.entries.delete(revision));
    this.entries.set(revision, { at: now, state });
    const max = this.opts.maxEntries ?? 8;
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string);
    return state;
  }
}
