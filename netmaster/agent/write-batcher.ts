/**
 * Coalesces the agent registry's etcd writes into few transactions: items submitted while a
 * commit is in flight (or in the same event-loop turn) go out together, at most `maxOps` write
 * ops per transaction and never two items touching the same key in one. Each item has its own
 * guards (key mod revisions, '0' for absent): when a guard of a batch fails, the batch's guarded
 * keys are read once, the items whose guards no longer hold are answered `ok: false` and the rest
 * is committed again. Puts are built at commit time with the session lease then current, and a
 * commit refused because that lease is gone asks for a new one and is tried again.
 */
import { NetloomError } from '../../lib/errors';
import type { Guard, ReadOp, WriteOp } from '../store/kv';
import { isLeaseNotFoundError } from '../store/errors';

/** What the batcher needs of EtcdKV. */
export interface BatchKv {
  commit(guards: readonly Guard[], writes: readonly WriteOp[]): Promise<{ ok: boolean; revision: string }>;
  read(ops: readonly ReadOp[]): Promise<{ revision: string; results: { kvs: { key: string; modRevision: string }[] }[] }>;
}

export interface BatchItem {
  /** every key the item writes (two items sharing a key never go into one transaction) */
  keys: string[];
  /** the item is written only if each key has this mod revision ('0': the key is absent) */
  guards: { key: string; modRevision: string }[];
  /** the item's writes, given the session lease to attach puts to */
  writes(lease: string): WriteOp[];
}

export interface BatchResult {
  /** false: a guard of this item failed and nothing of it was written */
  ok: boolean;
  /** the revision of the commit (or of the read that found the guard failed) */
  revision: string;
}

export interface WriteBatcherOptions {
  kv: BatchKv;
  /** the session lease to attach puts to */
  lease(): Promise<string>;
  /** etcd said `lease` is gone: resolve once a new one is granted */
  leaseLost(lease: string): Promise<unknown>;
  /** after each successful commit; `wrote`: it contained a put, so the revision is this commit's own */
  committed?(revision: string, wrote: boolean): void;
  /** write ops per transaction (default 64; etcd refuses more than 128 by default) */
  maxOps?: number;
}

interface Pending {
  item: BatchItem;
  resolve(r: BatchResult): void;
  reject(e: unknown): void;
}

/** Rounds of guard failures (or lost leases) after which a batch gives up. */
const MAX_ROUNDS = 5;

export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = false;
  private txns = 0;

  constructor(private readonly opts: WriteBatcherOptions) {}

  /** Transactions sent so far (guard retries included). */
  get commits(): number {
    return this.txns;
  }

  /** Items waiting for or in a commit. */
  get pending(): number {
    return this.queue.length;
  }

  submit(item: BatchItem): Promise<BatchResult> {
    return new Promise<BatchResult>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // one event-loop turn: registrations that arrive together share the transaction
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.commitBatch(this.take());
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** The next batch: queued items in order, up to maxOps write ops, none sharing a key. */
  private take(): Pending[] {
    const maxOps = this.opts.maxOps ?? 64;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const keys = new Set<string>();
    let ops = 0;
    for (const p of this.queue) {
      const n = p.item.keys.length;
      if (batch.length > 0 && (ops + n > maxOps || p.item.keys.some((k) => keys.has(k)))) {
        rest.push(p);
        continue;
      }
      batch.push(p);
      ops += n;
      for (const k of p.item.keys) keys.add(k);
    }
    this.queue = rest;
    return batch;
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    let items = batch;
    for (let round = 0; items.length > 0; round++) {
      let lease = '';
      if (round >= MAX_ROUNDS) {
        const e = new NetloomError('UNAVAILABLE', `etcd: agent records not written after ${MAX_ROUNDS} attempts`);
        for (const p of items) p.reject(e);
        return;
      }
      try {
        lease = await this.opts.lease();
        const writes = items.flatMap((p) => p.item.writes(lease));
        const guards: Guard[] = items.flatMap((p) => p.item.guards.map((g) => ({ kind: 'modEquals' as const, ...g })));
        this.txns++;
        const res = await this.opts.kv.commit(guards, writes);
        if (res.ok) {
          this.opts.committed?.(
            res.revision,
            writes.some((w) => w.kind === 'put'),
          );
          for (const p of items) p.resolve({ ok: true, revision: res.revision });
          return;
        }
        // which items' guards failed: read the guarded keys once
        const keys = [...new Set(guards.map((g) => (g.kind === 'modEquals' ? g.key : g.prefix)))];
        const read = await this.opts.kv.read(keys.map((key) => ({ kind: 'get' as const, key })));
        const mod = new Map<string, string>();
        keys.forEach((k, i) => mod.set(k, read.results[i]?.kvs[0]?.modRevision ?? '0'));
        const holding: Pending[] = [];
        for (const p of items) {
          if (p.item.guards.every((g) => mod.get(g.key) === g.modRevision)) holding.push(p);
          else p.resolve({ ok: false, revision: read.revision });
        }
        items = holding;
      } catch (e) {
        if (lease !== '' && isLeaseNotFoundError(e)) {
          // the session lease expired under us: write on the next one
          try {
            await this.opts.leaseLost(lease);
            continue;
          } catch (e2) {
            for (const p of items) p.reject(e2);
            return;
          }
        }
        for (const p of items) p.reject(e);
        return;
      }
    }
  }
}
