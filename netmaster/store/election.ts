/**
 * Leader elections on etcd (the `etcd3` package's election recipe: a lease-backed key per
 * candidate; the oldest holds the role), as the store hands them out: ha/leader.ts campaigns
 * through these interfaces and never sees the etcd client. Errors come out as NetloomErrors.
 */
import { EventEmitter } from 'node:events';
import type { Campaign as EtcdCampaign, Election as EtcdElection } from 'etcd3';
import { storeError } from './errors';

export interface CampaignEvents {
  /** this candidate holds the role */
  elected: [];
  /** the campaign is over (its lease was lost, or etcd failed); campaign again to go on */
  error: [err: Error];
}

/** One candidacy: emits 'elected' once it leads, 'error' when it ends without resigning. */
export interface Campaign extends EventEmitter<CampaignEvents> {
  /** Give the role up (or stop waiting for it). */
  resign(): Promise<void>;
}

export interface Election {
  /** Stand as `value` (this replica's identity, which leader() then answers). */
  campaign(value: string): Campaign;
  /** The current leader's value, undefined when nobody leads. */
  leader(): Promise<string | undefined>;
}

/** What hands out elections (EtcdKV; a fake in unit tests). */
export interface ElectionStore {
  election(name: string, ttlSeconds: number): Election;
}

class StoreCampaign extends EventEmitter<CampaignEvents> implements Campaign {
  constructor(
    private readonly inner: EtcdCampaign,
    private readonly watches: WatchManagerLike | undefined,
  ) {
    super();
    inner.on('elected', () => this.emit('elected'));
    inner.on('error', (e: Error) => this.emit('error', storeError(e)));
  }

  async resign(): Promise<void> {
    try {
      await this.inner.resign();
    } catch (e) {
      throw storeError(e);
    } finally {
      if (this.watches) releaseWatches(this.watches);
    }
  }
}

/** What etcd3 1.1 keeps privately for a namespace's watches (Namespace.watchManager). */
interface WatcherLike {
  cancel(): Promise<void>;
}
interface WatchManagerLike {
  watchers: WatcherLike[];
  attach(w: WatcherLike): void;
}

/** The watch manager of an etcd3 Election's own namespace, when it has the shape this module knows. */
function watchManagerOf(election: EtcdElection): WatchManagerLike | undefined {
  // private in etcd3's typings (Election.namespace, Namespace.watchManager): read at run time, checked below
  const ns = (election as unknown as { namespace?: { watchManager?: unknown } }).namespace;
  const m = ns?.watchManager as Partial<WatchManagerLike> | undefined;
  return m && Array.isArray(m.watchers) && typeof m.attach === 'function' ? (m as WatchManagerLike) : undefined;
}

/**
 * etcd3's Campaign.resign revokes the lease but leaves a waiting candidate's watch on the key ahead
 * of it; once etcd is gone or the client closed, that watch retries every 30 s for ever and keeps
 * the process alive. The campaign has a namespace of its own, so every watch in it is the
 * campaign's: cancel them, and any the campaign's wait loop still attaches afterwards.
 */
function releaseWatches(m: WatchManagerLike): void {
  m.attach = (w) => void w.cancel().catch(() => undefined);
  for (const w of [...m.watchers]) void w.cancel().catch(() => undefined);
}

/**
 * An etcd3 election behind the store's interfaces. `make` gives a new etcd3 Election (a namespace
 * of its own) for each campaign, so that resigning can release exactly that campaign's watches.
 */
export function etcdElection(make: () => EtcdElection): Election {
  return {
    campaign: (value) => {
      const own = make();
      return new StoreCampaign(own.campaign(value), watchManagerOf(own));
    },
    async leader() {
      try {
        return await make().leader();
      } catch (e) {
        throw storeError(e);
      }
    },
  };
}
