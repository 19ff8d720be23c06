/**
 * The session of one running agent server: a single etcd lease (TTL = the agent lease TTL) that
 * every agent record this replica writes is attached to, kept alive by one loop (every ttl/3).
 * When the replica dies the lease expires and its agents' records vanish with it; agents fail
 * over to another replica and register there.
 *
 * When etcd says the lease is gone (keep-alive answers TTL 0: expired while etcd was unreachable
 * for longer than the TTL, or revoked), a new lease is granted and `onRenewed` is told, so that
 * the registry writes its records again on it. The lease is not revoked on stop: agents have the
 * TTL to register at another replica before their records disappear (no gap in the cluster view).
 */
import { Backoff } from '../../lib/backoff';
import type { Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

/** What the session needs of EtcdKV. */
export interface SessionKv {
  grantLease(ttlSeconds: number): Promise<string>;
  /** TTL left after keeping the lease alive once; 0 when the lease is gone */
  keepLeaseAlive(leaseId: string): Promise<number>;
}

export interface ReplicaSessionOptions {
  kv: SessionKv;
  clock: Clock;
  logger: Logger;
  ttlSeconds: number;
  /**
   * a new lease replaced a lost one (`lost`): write what was on the old lease again. Not awaited
   * by whoever asked for the lease (those writes need the lease themselves).
   */
  onRenewed(lease: string, lost: string): Promise<void>;
}

export class ReplicaSession {
  private lease = '';
  private granting: Promise<string> | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private renewals: Promise<void> = Promise.resolve();
  private renewedCount = 0;

  constructor(private readonly opts: ReplicaSessionOptions) {}

  /** The current session lease ('' before start or while a new one is being granted). */
  get leaseId(): string {
    return this.lease;
  }

  /** How many times a lost lease was replaced. */
  get renewed(): number {
    return this.renewedCount;
  }

  /** Grant the lease and start keeping it alive. */
  async start(): Promise<string> {
    const lease = await this.current();
    this.loop = this.keepAliveLoop();
    return lease;
  }

  /** The session lease, granted first when there is none (lost, or not granted yet). */
  current(): Promise<string> {
    if (this.lease !== '') return Promise.resolve(this.lease);
    this.granting ??= this.grant().finally(() => (this.granting = undefined));
    return this.granting;
  }

  /** etcd said `lost` is gone: resolves with its replacement (granted once, however many say so). */
  replace(lost: string): Promise<string> {
    if (this.lease === lost) {
      this.lease = '';
      this.lostLease = lost;
    }
    return this.current();
  }

  /**
   * Keep the lease alive once now: 'alive', or 'renewed' when it was gone and has been replaced.
   * Throws when etcd cannot be reached.
   */
  async check(): Promise<'alive' | 'renewed'> {
    const lease = await this.current();
    const ttl = await this.opts.kv.keepLeaseAlive(lease);
    if (ttl > 0) return 'alive';
    this.opts.logger.warn({ lease, ttl: this.opts.ttlSeconds }, 'netmaster session lease lost: granting a new one');
    await this.replace(lease);
    return 'renewed';
  }

  /** Resolves once the writes of every renewal so far are done (for tests and stop). */
  settled(): Promise<void> {
    return this.renewals;
  }

  /** Stop keeping the lease alive (it expires after its TTL; see the module comment). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.renewals;
  }

  private lostLease = '';

  private async grant(): Promise<string> {
    const lease = await this.opts.kv.grantLease(this.opts.ttlSeconds);
    this.lease = lease;
    const lost = this.lostLease;
    this.lostLease = '';
    if (lost !== '') {
      this.renewedCount++;
      this.opts.logger.info({ lease, lost }, 'netmaster session lease renewed: writing the agent records again');
      this.renewals = this.renewals.then(() =>
        this.opts.onRenewed(lease, lost).catch((e: unknown) => {
          this.opts.logger.warn({ err: errorMessage(e), lease }, 'agent records not written again on the new session lease');
        }),
      );
    } else {
      this.opts.logger.info({ lease, ttl: this.opts.ttlSeconds }, 'netmaster session lease granted');
    }
    return lease;
  }

  private async keepAliveLoop(): Promise<void> {
    const signal = this.stopping.signal;
    const period = Math.max(100, Math.floor((this.opts.ttlSeconds * 1000) / 3));
    // after a failed keep-alive, try again sooner than the period (but not in a tight loop)
    const backoff = new Backoff({ initialMs: Math.min(200, period), maxMs: period }, { clock: this.opts.clock });
    let wait = period;
    while (!signal.aborted) {
      await this.opts.clock.sleep(wait, signal, { unref: true });
      if (signal.aborted) return;
      try {
        await this.check();
        backoff.reset();
        wait = period;
      } catch (e) {
        wait = backoff.next();
        this.opts.logger.warn({ err: errorMessage(e), lease: this.lease, retryMs: wait }, 'netmaster session lease keep-alive failed');
      }
    }
  }
}
