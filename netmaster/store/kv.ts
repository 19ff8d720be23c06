/**
 * A thin layer over etcd v3 (the `etcd3` package's raw KV service): multi-key reads at one
 * revision (one read-only transaction), guarded commits (compare mod_revision of keys, or that a
 * whole key range has not changed since a revision), watches from a revision, leases and leader
 * elections. Everything above it speaks plain keys, guards and write ops; it is the only module
 * that talks to the etcd client, and every failure leaves it as a NetloomError (errors.ts).
 */
import { Etcd3, type IOptions } from 'etcd3';
import { etcdElection, type Election, type ElectionStore } from './election';
import { storeError } from './errors';
import { prefixEnd } from './layout';

export interface KeyValue {
  key: string;
  value: string;
  modRevision: string;
  createRevision: string;
}

export type ReadOp =
  | { kind: 'get'; key: string }
  | { kind: 'prefix'; prefix: string; from?: string; limit?: number; keysOnly?: boolean }
  | { kind: 'count'; prefix: string };

export interface ReadResult {
  kvs: KeyValue[];
  count: number;
  more: boolean;
}

export type Guard =
  /** the key's mod_revision equals this ('0': the key must be absent) */
  | { kind: 'modEquals'; key: string; modRevision: string }
  /** no key under the prefix was created or modified after `revision` */
  | { kind: 'rangeUnchangedSince'; prefix: string; revision: string };

export type WriteOp =
  /** `lease`: the key is deleted when that lease expires or is revoked */
  { kind: 'put'; key: string; value: string; lease?: string } | { kind: 'delete'; key: string } | { kind: 'deletePrefix'; prefix: string };

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  value: string;
  prevValue: string | undefined;
  modRevision: string;
}

interface RawKv {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
  create_revision: string;
}

function toKv(kv: RawKv): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    modRevision: String(kv.mod_revision),
    createRevision: String(kv.create_revision),
  };
}

/** How to reach etcd: its client URLs and, for TLS, a CA and optionally a client certificate. */
export function etcdOptions(endpoints: string[], tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }): IOptions {
  const o: IOptions = { hosts: endpoints, dialTimeout: 5000 };
  if (tls && (tls.ca || tls.cert)) {
    o.credentials = {
      rootCertificate: tls.ca ?? Buffer.alloc(0),
      ...(tls.key ? { privateKey: tls.key } : {}),
      ...(tls.cert ? { certChain: tls.cert } : {}),
    };
  }
  return o;
}

/** How long one lease keep-alive may take before it counts as failed. */
const KEEPALIVE_TIMEOUT_MS = 5000;

export class EtcdKV implements ElectionStore {
  private readonly client: Etcd3;

  /** Connect with `options`, or run over a given client (unit tests hand in a fake one). */
  constructor(connection: IOptions | { client: Etcd3 }) {
    this.client = 'client' in connection ? connection.client : new Etcd3(connection);
  }

  /** Run every read at one revision; returns the revision and one result per op. */
  async read(ops: readonly ReadOp[]): Promise<{ revision: string; results: ReadResult[] }> {
    const success = ops.map((op) => {
      if (op.kind === 'get') return { request_range: { key: Buffer.from(op.key) } };
      const end = prefixEnd(op.prefix);
      if (op.kind === 'count') return { request_range: { key: Buffer.from(op.prefix), range_end: end, count_only: true } };
      return {
        request_range: {
          key: Buffer.from(op.from ?? op.prefix),
          range_end: end,
          ...(op.limit ? { limit: op.limit } : {}),
          ...(op.keysOnly ? { keys_only: true } : {}),
        },
      };
    });
    let res;
    try {
      res = await this.client.kv.txn({ compare: [], success, failure: [] });
    } catch (e) {
      throw storeError(e);
    }
    const results = (res.responses ?? []).map((r) => {
      const rr = r.response_range as unknown as { kvs: RawKv[]; count: string; more: boolean };
      return { kvs: (rr.kvs ?? []).map(toKv), count: Number(rr.count), more: Boolean(rr.more) };
    });
    return { revision: String(res.header.revision), results };
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return (await this.read([{ kind: 'get', key }])).results[0]?.kvs[0];
  }

  /** Commit `writes` if every guard holds; `ok` false means some guard failed (nothing written). */
  async commit(guards: readonly Guard[], writes: readonly WriteOp[]): Promise<{ ok: boolean; revision: string }> {
    const compare = guards.map((g) =>
      g.kind === 'modEquals'
        ? { key: Buffer.from(g.key), target: 'Mod' as const, result: 'Equal' as const, mod_revision: g.modRevision }
        : {
            key: Buffer.from(g.prefix),
            range_end: prefixEnd(g.prefix),
            target: 'Mod' as const,
            result: 'Less' as const,
            mod_revision: String(BigInt(g.revision) + 1n),
          },
    );
    const success = writes.map((w) => {
      if (w.kind === 'put')
        return { request_put: { key: Buffer.from(w.key), value: Buffer.from(w.value), ...(w.lease ? { lease: w.lease } : {}) } };
      if (w.kind === 'delete') return { request_delete_range: { key: Buffer.from(w.key) } };
      return { request_delete_range: { key: Buffer.from(w.prefix), range_end: prefixEnd(w.prefix) } };
    });
    try {
      const res = await this.client.kv.txn({ compare, success, failure: [] });
      return { ok: Boolean(res.succeeded), revision: String(res.header.revision) };
    } catch (e) {
      throw storeError(e);
    }
  }

  /** Every key/value under `prefix`, read in pages at one revision. */
  async list(
    prefix: string,
    opts: { pageSize?: number; revision?: string; keysOnly?: boolean } = {},
  ): Promise<{ revision: string; kvs: KeyValue[] }> {
    const pageSize = opts.pageSize ?? 2000;
    const out: KeyValue[] = [];
    let from = prefix;
    let revision: string | undefined = opts.revision;
    for (let page = 0; page < 100_000; page++) {
      const req = {
        key: Buffer.from(from),
        range_end: prefixEnd(prefix),
        limit: pageSize,
        ...(revision ? { revision } : {}),
        ...(opts.keysOnly ? { keys_only: true } : {}),
      };
      let res;
      try {
        res = await this.client.kv.range(req);
      } catch (e) {
        throw storeError(e);
      }
      revision ??= String(res.header.revision);
      const kvs = (res.kvs as unknown as RawKv[]).map(toKv);
      out.push(...kvs);
      if (!res.more || kvs.length === 0) break;
      from = `${kvs[kvs.length - 1]?.key ?? prefix}\0`;
    }
    return { revision: revision ?? '0', kvs: out };
  }

  /**
   * Watch every change under `prefix` after `sinceRevision` (0: from now). Returns a stop
   * function. Errors (e.g. a compacted revision) go to `onError`.
   */
  async watch(
    prefix: string,
    sinceRevision: string,
    onEvent: (e: WatchEvent) => void,
    onError: (e: Error) => void,
  ): Promise<() => Promise<void>> {
    return this.watchBatches(
      prefix,
      sinceRevision,
      (events) => {
        for (const e of events) onEvent(e);
      },
      onError,
      { prevValues: true },
    );
  }

  /**
   * Like `watch`, but hands over each etcd watch response whole (the events of one or more
   * revisions, in order), for a follower that acts once per response. `prevValues`: fill
   * `prevValue` (etcd then sends each key's previous value too; off by default).
   */
  async watchBatches(
    prefix: string,
    sinceRevision: string,
    onBatch: (events: WatchEvent[]) => void,
    onError: (e: Error) => void,
    opts: { prevValues?: boolean } = {},
  ): Promise<() => Promise<void>> {
    let builder = this.client.watch().prefix(prefix);
    if (opts.prevValues) builder = builder.withPreviousKV();
    if (sinceRevision !== '0') builder = builder.startRevision(String(BigInt(sinceRevision) + 1n));
    let watcher;
    try {
      watcher = await builder.create();
    } catch (e) {
      throw storeError(e);
    }
    watcher.on('data', (res) => {
      onBatch(
        res.events.map((ev) => {
          const kv = ev.kv as unknown as RawKv;
          const prev = ev.prev_kv as unknown as RawKv | undefined;
          return {
            type: ev.type === 'Delete' ? 'delete' : 'put',
            key: kv.key.toString(),
            value: kv.value ? kv.value.toString() : '',
            prevValue: prev?.value ? prev.value.toString() : undefined,
            modRevision: String(kv.mod_revision),
          };
        }),
      );
    });
    watcher.on('error', (e: Error) => onError(storeError(e)));
    return async () => {
      await watcher.cancel();
    };
  }

  /** Grant a lease of `ttlSeconds`; returns its id. */
  async grantLease(ttlSeconds: number): Promise<string> {
    try {
      return String((await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds })).ID);
    } catch (e) {
      throw storeError(e);
    }
  }

  /** Keep a lease alive once; returns its TTL in seconds, 0 when the lease is gone. */
  async keepLeaseAlive(leaseId: string): Promise<number> {
    try {
      const stream = await this.client.leaseClient.leaseKeepAlive();
      try {
        const res = await new Promise<{ TTL: string }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('lease keepalive timed out')), KEEPALIVE_TIMEOUT_MS);
          stream.on('data', (d: { TTL: string }) => {
            clearTimeout(timer);
            resolve(d);
          });
          stream.on('error', (err: Error) => {
            clearTimeout(timer);
            reject(err);
          });
          stream.write({ ID: leaseId });
        });
        const ttl = Number(res.TTL);
        return ttl > 0 ? ttl : 0;
      } finally {
        stream.end();
      }
    } catch (e) {
      throw storeError(e);
    }
  }

  /** Revoke a lease: every key attached to it is deleted. */
  async revokeLease(leaseId: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId });
    } catch (e) {
      throw storeError(e);
    }
  }

  /** The etcd cluster's id, in hex. */
  async clusterId(): Promise<string> {
    try {
      return BigInt((await this.client.maintenance.status()).header.cluster_id).toString(16);
    } catch (e) {
      throw storeError(e);
    }
  }

  /** The election `name` whose leaders hold a lease of `ttlSeconds` (ha/leader.ts campaigns in it). */
  election(name: string, ttlSeconds: number): Election {
    return etcdElection(this.client.election(name, ttlSeconds));
  }

  close(): void {
    this.client.close();
  }
}
