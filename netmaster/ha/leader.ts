/**
 * Leader election among netmaster replicas through an etcd lease. Every replica serves the API;
 * only the leader runs background work (node liveness, releasing endpoints of dead hosts, later
 * controllers). When the leader dies its lease expires and another replica takes over within the
 * lease TTL; when a replica loses its lease it stops its leader work at once.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../../lib/logger';
import { Clock, systemClock, type Timer } from '../../lib/clock';
import type { Campaign, ElectionStore } from '../store/election';

export interface LeaderElectorOptions {
  /** where the election is held (the netmaster's EtcdKV) */
  store: ElectionStore;
  /** this replica's identity, stored as the leader value (e.g. host:port) */
  id: string;
  /** lease TTL in seconds: the longest a dead leader keeps the role */
  ttlSeconds: number;
  electionName?: string;
  logger?: Logger;
  clock?: Clock;
  /** pause before campaigning again after a lost lease */
  retryMs?: number;
}

export interface LeaderEvents {
  elected: [];
  lost: [reason: string];
}

export class LeaderElector extends EventEmitter<LeaderEvents> {
  private campaign: Campaign | undefined;
  private leading = false;
  private stopped = true;
  /** the next campaign after a failed one (cancelled by stop) */
  private retryTimer: Timer | undefined;
  private readonly opts: Required<Omit<LeaderElectorOptions, 'logger'>> & { logger: Logger | undefined };

  constructor(opts: LeaderElectorOptions) {
    super();
    this.opts = { electionName: 'netmaster', clock: systemClock, retryMs: 500, logger: undefined, ...opts };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Start campaigning; returns at once. Listen for 'elected' and 'lost'. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.campaignOnce();
  }

  private campaignOnce(): void {
    if (this.stopped) return;
    const election = this.opts.store.election(this.opts.electionName, this.opts.ttlSeconds);
    const campaign = election.campaign(this.opts.id);
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.campaign !== campaign || this.stopped) return;
      this.leading = true;
      this.opts.logger?.info({ id: this.opts.id }, 'elected leader');
      this.emit('elected');
    });
    campaign.on('error', (err: Error) => {
      if (this.campaign !== campaign) return;
      this.campaign = undefined;
      this.dropLeadership(`campaign failed: ${err.message}`);
      if (!this.stopped) this.retryTimer = this.opts.clock.after(this.opts.retryMs, () => this.campaignOnce());
    });
  }

  private dropLeadership(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.logger?.warn({ id: this.opts.id, reason }, 'lost leadership');
    this.emit('lost', reason);
  }

  /** The current leader's id, as etcd holds it. */
  async leader(): Promise<string | undefined> {
    return this.opts.store.election(this.opts.electionName, this.opts.ttlSeconds).leader();
  }

  /** Resign (if leading) and stop campaigning. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    const c = this.campaign;
    this.campaign = undefined;
    this.dropLeadership('stopped');
    if (c) await c.resign().catch(() => undefined);
  }
}

/**
 * Run `task` while this replica leads: started on 'elected' with a signal that aborts on 'lost'.
 * Returns a function that detaches it.
 */
export function runWhileLeader(elector: LeaderElector, task: (signal: AbortSignal) => Promise<void>, logger?: Logger): () => void {
  let current: AbortController | undefined;
  const onElected = (): void => {
    current?.abort();
    const ac = new AbortController();
    current = ac;
    task(ac.signal).catch((e: unknown) => {
      if (!ac.signal.aborted) logger?.error({ err: e }, 'leader task failed');
    });
  };
  const onLost = (): void => {
    current?.abort();
    current = undefined;
  };
  elector.on('elected', onElected);
  elector.on('lost', onLost);
  if (elector.isLeader) onElected();
  return () => {
    elector.off('elected', onElected);
    elector.off('lost', onLost);
    onLost();
  };
}
