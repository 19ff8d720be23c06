/**
 * The agent's background registration of the endpoints it allocated from its own blocks (issue 15
 * item 2): registrations and deregistrations wait here and go to netmaster in SyncEndpoints
 * batches, so that an ADD never waits for netmaster and a burst of ADDs costs a few calls.
 *
 * - Coalescing: one entry per endpoint; while a call is in flight, what arrives waits for the next
 *   batch (no call per item under load).
 * - Order: deregistrations before registrations in every batch (the RPC applies them first too),
 *   since an address freed by a DEL may already be held by a newer endpoint of this host.
 * - A DEL of an endpoint whose registration was never sent cancels it (nothing reaches netmaster);
 *   one whose registration is in flight or done is deregistered.
 * - Failure of the call (netmaster down, a replica failing): everything stays queued and the call
 *   is retried with the one backoff (lib/backoff); `kick()` (the stream reconnected) retries at
 *   once. ADDs go on meanwhile: they only add to the queue.
 * - Results: OK -> `onRegistered` (the caller makes it durable); CONFLICT / NOT_OWNER / NOT_FOUND /
 *   INVALID -> `onRejected` (the caller logs it and counts it; the address stays held here, so it
 *   is never handed to another container).
 */
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { Registration, SyncRequest, SyncResponse, SyncResult } from './registration';

export const DEFAULT_SYNC_BATCH = 256;
export const DEFAULT_SYNC_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 10_000, jitter: 0.2 };

export interface RegistrationQueueOptions {
  sync: (req: SyncRequest) => Promise<SyncResponse>;
  onRegistered: (endpointId: string) => void | Promise<void>;
  onRejected: (result: SyncResult, what: 'register' | 'deregister') => void;
  /** awaited before each call is put together (start reconcile; the crash-point hook 'answered') */
  beforeSend?: () => Promise<void>;
  /** items per call (deregistrations and registrations together) */
  maxBatch?: number;
  backoff?: BackoffPolicy;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

export class RegistrationQueue {
  private readonly registers = new Map<string, Registration>();
  private readonly deregisters = new Set<string>();
  /** ids in the call in flight, as registrations (a DEL of one must be sent as a deregistration) */
  private readonly inFlight = new Set<string>();
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private readonly maxBatch: number;
  private running: Promise<void> | undefined;
  /** ends the backoff pause in progress (kick, stop) */
  private wake = new AbortController();
  private stopped = false;
  /** calls made and items sent, for tests and metrics */
  readonly stats = { calls: 0, failedCalls: 0, registered: 0, rejected: 0 };

  constructor(private readonly opts: RegistrationQueueOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff(opts.backoff ?? DEFAULT_SYNC_BACKOFF, {
      clock: this.clock,
      ...(opts.random ? { random: opts.random } : {}),
    });
    this.maxBatch = opts.maxBatch ?? DEFAULT_SYNC_BATCH;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new NetloomError('INVALID_ARGUMENT', `registration batch must be an integer >= 1, got ${this.maxBatch}`, { field: 'maxBatch' });
  }

  /** registrations and deregistrations not yet confirmed by netmaster (the in-flight ones included) */
  get pending(): number {
    let n = this.deregisters.size + this.registers.size;
    for (const id of this.inFlight) if (!this.registers.has(id) && !this.deregisters.has(id)) n++;
    return n;
  }

  /** Whether `endpointId` waits to be registered (or is being). */
  isPending(endpointId: string): boolean {
    return this.registers.has(endpointId) || this.inFlight.has(endpointId);
  }

  register(r: Registration): void {
    this.registers.set(r.id, r);
    this.schedule();
  }

  /** Forget `endpointId` at netmaster; a registration never sent is just cancelled. */
  deregister(endpointId: string): void {
    const queued = this.registers.delete(endpointId);
    if (queued && !this.inFlight.has(endpointId)) return;
    this.deregisters.add(endpointId);
    this.schedule();
  }

  /** Retry now (netmaster is back): ends the backoff pause. */
  kick(): void {
    this.backoff.reset();
    this.wake.abort();
  }

  /** Resolves once nothing is queued (tests). */
  async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    await this.running;
  }

  private schedule(): void {
    if (this.running || this.stopped) return;
    // started on the next microtask: what one synchronous burst queues goes in one call
    this.running = Promise.resolve()
      .then(() => this.loop())
      .finally(() => {
        this.running = undefined;
        // something arrived while the loop was ending
        if (!this.stopped && this.registers.size + this.deregisters.size > 0) this.schedule();
      });
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.registers.size + this.deregisters.size > 0) {
      // items are taken only once the call can go: until then a DEL still just cancels
      await this.opts.beforeSend?.();
      if (this.stopped) return;
      const req = this.takeBatch();
      if (req.deregister.length + req.register.length === 0) return;
      try {
        this.stats.calls++;
        const res = await this.opts.sync(req);
        this.backoff.reset();
        await this.settle(req, res);
      } catch (e) {
        this.stats.failedCalls++;
        this.putBack(req);
        const delay = this.backoff.next();
        this.opts.logger?.warn(
          { err: errorMessage(e), deregister: req.deregister.length, register: req.register.length, retryInMs: delay },
          'endpoint registration with netmaster failed; retrying',
        );
        this.wake = new AbortController();
        await this.clock.sleep(delay, this.wake.signal);
      } finally {
        this.inFlight.clear();
      }
    }
  }

  /** Deregistrations first, then registrations, up to maxBatch items; taken out of the queue. */
  private takeBatch(): SyncRequest {
    const deregister = [...this.deregisters].slice(0, this.maxBatch);
    for (const id of deregister) this.deregisters.delete(id);
    const register = [...this.registers.values()].slice(0, this.maxBatch - deregister.length);
    for (const r of register) {
      this.registers.delete(r.id);
      this.inFlight.add(r.id);
    }
    return { deregister, register };
  }

  /** A failed call: its items wait again, unless newer requests for them replaced them meanwhile. */
  private putBack(req: SyncRequest): void {
    for (const id of req.deregister) if (!this.registers.has(id)) this.deregisters.add(id);
    for (const r of req.register) {
      // deregistered while in flight: netmaster may have applied the lost call, so the queued
      // deregistration stays (deregistering an unknown endpoint succeeds)
      if (this.deregisters.has(r.id)) continue;
      if (!this.registers.has(r.id)) this.registers.set(r.id, r);
    }
  }

  private async settle(req: SyncRequest, res: SyncResponse): Promise<void> {
    const byId = (rs: SyncResult[]): Map<string, SyncResult> => new Map(rs.map((r) => [r.endpointId, r]));
    const deregs = byId(res.deregistered);
    for (const id of req.deregister) {
      const r = deregs.get(id);
      if (r && r.outcome !== 'OK') {
        this.stats.rejected++;
        this.opts.onRejected(r, 'deregister');
      }
    }
    const regs = byId(res.registered);
    for (const reg of req.register) {
      const r = regs.get(reg.id);
      if (!r) {
        // netmaster answered without it: send it again (a deregistration queued meanwhile wins)
        if (!this.deregisters.has(reg.id) && !this.registers.has(reg.id)) this.registers.set(reg.id, reg);
        continue;
      }
      if (r.outcome === 'OK') {
        this.stats.registered++;
        // deregistered while in flight: the queued deregistration undoes it; nothing to record
        if (!this.deregisters.has(reg.id)) await this.opts.onRegistered(reg.id);
      } else {
        this.stats.rejected++;
        this.opts.onRejected(r, 'register');
      }
    }
  }
}
