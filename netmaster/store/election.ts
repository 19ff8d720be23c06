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
  constructor(private readonly inner: EtcdCampaign) {
    super();
    inner.on('elected', () => this.emit('elected'));
    inner.on('error', (e: Error) => this.emit('error', storeError(e)));
  }

  async resign(): Promise<void> {
    try {
      await this.inner.resign();
    } catch (e) {
      throw storeError(e);
    }
  }
}

/** An etcd3 election behind the store's interfaces. */
export function etcdElection(inner: EtcdElection): Election {
  return {
    campaign: (value) => new StoreCampaign(inner.campaign(value)),
    async leader() {
      try {
        return await inner.leader();
      } catch (e) {
        throw storeError(e);
      }
    },
  };
}
