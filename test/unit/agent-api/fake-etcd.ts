/**
 * A small in-memory etcd for the agent registry's unit tests: the few EtcdKV methods the registry
 * uses (read, commit, list, watchBatches, grantLease, keepLeaseAlive), with etcd's revisions,
 * guards, leases (keys go when their lease expires), its refusals (a put on an unknown lease, a
 * key twice in one transaction, more than 128 ops) and watch batches delivered asynchronously.
 * Every call is counted, so a test can prove that something made none.
 */
import type { Guard, KeyValue, ReadOp, WatchEvent, WriteOp } from '../../../netmaster/store/kv';
import type { RegistryKv } from '../../../netmaster/agent/registry';

interface Stored {
  value: string;
  modRevision: number;
  createRevision: number;
  lease: string;
}

interface Watcher {
  prefix: string;
  onBatch(events: WatchEvent[]): void;
}

export class FakeEtcd {
  rev = 1;
  readonly keys = new Map<string, Stored>();
  readonly leases = new Map<string, number>();
  /** calls per method, over every client */
  readonly calls = { read: 0, commit: 0, list: 0, watch: 0, grantLease: 0, keepLeaseAlive: 0 };
  /** the write ops of each successful commit */
  readonly txnSizes: number[] = [];
  /** when set, every call fails with it (etcd unreachable) */
  down: Error | undefined;
  private watchers = new Set<Watcher>();
  private nextLease = 7000;

  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  value(key: string): string | undefined {
    return this.keys.get(key)?.value;
  }

  /** The lease expires (or is revoked): its keys are deleted in one revision. */
  expireLease(id: string): void {
    this.leases.delete(id);
    const gone = [...this.keys].filter(([, s]) => s.lease === id).map(([k]) => k);
    if (gone.length === 0) return;
    this.rev++;
    const events: WatchEvent[] = [];
    for (const k of gone) {
      events.push({ type: 'delete', key: k, value: '', prevValue: this.keys.get(k)?.value, modRevision: String(this.rev) });
      this.keys.delete(k);
    }
    this.emit(events);
  }

  /** A client of this etcd (each counts into the same `calls`). */
  client(): RegistryKv {
    return {
      read: (ops) => this.read(ops),
      commit: (guards, writes) => this.commit(guards, writes),
      list: (prefix) => this.list(prefix),
      watchBatches: (prefix, since, onBatch) => this.watch(prefix, since, onBatch),
      grantLease: (ttl) => this.grant(ttl),
      keepLeaseAlive: (id) => this.keepAlive(id),
    };
  }

  private check(): void {
    if (this.down) throw this.down;
  }

  private kv(key: string, s: Stored): KeyValue {
    return { key, value: s.value, modRevision: String(s.modRevision), createRevision: String(s.createRevision) };
  }

  private async read(ops: readonly ReadOp[]): Promise<{ revision: string; results: { kvs: KeyValue[]; count: number; more: boolean }[] }> {
    this.calls.read++;
    await Promise.resolve();
    this.check();
    const results = ops.map((op) => {
      if (op.kind !== 'get') throw new Error('fake etcd: only get reads');
      const s = this.keys.get(op.key);
      const kvs = s ? [this.kv(op.key, s)] : [];
      return { kvs, count: kvs.length, more: false };
    });
    return { revision: String(this.rev), results };
  }

  private async list(prefix: string): Promise<{ revision: string; kvs: KeyValue[] }> {
    this.calls.list++;
    await Promise.resolve();
    this.check();
    const kvs = [...this.keys].filter(([k]) => k.startsWith(prefix)).map(([k, s]) => this.kv(k, s));
    return { revision: String(this.rev), kvs };
  }

  private async commit(guards: readonly Guard[], writes: readonly WriteOp[]): Promise<{ ok: boolean; revision: string }> {
    this.calls.commit++;
    await Promise.resolve();
    this.check();
    if (guards.length + writes.length > 128) throw new Error('etcdserver: too many operations in txn request');
    const seen = new Set<string>();
    for (const w of writes) {
      if (w.kind === 'deletePrefix') throw new Error('fake etcd: no deletePrefix');
      if (seen.has(w.key)) throw new Error('etcdserver: duplicate key given in txn request');
      seen.add(w.key);
    }
    for (const g of guards) {
      if (g.kind !== 'modEquals') throw new Error('fake etcd: only modEquals guards');
      if (String(this.keys.get(g.key)?.modRevision ?? 0) !== g.modRevision) return { ok: false, revision: String(this.rev) };
    }
    for (const w of writes)
      if (w.kind === 'put' && w.lease && !this.leases.has(w.lease)) throw new Error('etcdserver: requested lease not found');
    const changes = writes.filter((w) => w.kind === 'put' || (w.kind === 'delete' && this.keys.has(w.key)));
    if (changes.length === 0) return { ok: true, revision: String(this.rev) };
    this.rev++;
    const events: WatchEvent[] = [];
    for (const w of changes) {
      if (w.kind === 'put') {
        const prev = this.keys.get(w.key);
        this.keys.set(w.key, {
          value: w.value,
          modRevision: this.rev,
          createRevision: prev?.createRevision ?? this.rev,
          lease: w.lease ?? '',
        });
        events.push({ type: 'put', key: w.key, value: w.value, prevValue: prev?.value, modRevision: String(this.rev) });
      } else if (w.kind === 'delete') {
        const prev = this.keys.get(w.key);
        this.keys.delete(w.key);
        events.push({ type: 'delete', key: w.key, value: '', prevValue: prev?.value, modRevision: String(this.rev) });
      }
    }
    this.txnSizes.push(writes.length);
    this.emit(events);
    return { ok: true, revision: String(this.rev) };
  }

  private async watch(prefix: string, since: string, onBatch: (events: WatchEvent[]) => void): Promise<() => Promise<void>> {
    this.calls.watch++;
    await Promise.resolve();
    this.check();
    if (since !== String(this.rev)) throw new Error('fake etcd: watches start at the current revision only');
    const w: Watcher = { prefix, onBatch };
    this.watchers.add(w);
    return () => {
      this.watchers.delete(w);
      return Promise.resolve();
    };
  }

  private async grant(ttl: number): Promise<string> {
    this.calls.grantLease++;
    await Promise.resolve();
    this.check();
    const id = String(++this.nextLease);
    this.leases.set(id, ttl);
    return id;
  }

  private async keepAlive(id: string): Promise<number> {
    this.calls.keepLeaseAlive++;
    await Promise.resolve();
    this.check();
    return this.leases.get(id) ?? 0;
  }

  private emit(events: WatchEvent[]): void {
    for (const w of this.watchers) {
      const mine = events.filter((e) => e.key.startsWith(w.prefix));
      // like etcd: after the reply to the write that made them
      if (mine.length > 0) setImmediate(() => w.onBatch(mine));
    }
  }
}
