/**
 * A thin layer over etcd v3 (the `etcd3` package's raw KV service): multi-key reads at one
 * revision (one read-only transaction), guarded commits (compare mod_revision of keys, or that a
 * whole key range has not changed since a revision), watches from a revision, leases and leader
 * elections. Everything above it speaks plain keys, guards and write ops; it is the only module
 * that talks to the etcd client, and every failure leaves it as a NetloomError (errors.ts).
 */
import { circuitBreaker, ConsecutiveBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import type { Logger } from '../../lib/logger';
import { BadValues } from './bad-values';
import { etcdElection, type Election, type ElectionStore } from './election';
import { storeError } from './errors';
import { prefixEnd } from './layout';
import { afterTooLarge, ETCD_MAX_RECEIVE_BYTES, FIRST_PAGE, FragmentJoiner, isTooLargeError, nextPageSize } from './paging';
import { kindOfKey, TOO_LARGE_TO_RECEIVE as TOO_LARGE } from './stored-values';

export interface KeyValue {
  key: string;
  value: string;
  modRevision: string;
  createRevision: string;
  /**
   * the value was too large to receive (over ETCD_MAX_RECEIVE_BYTES): `value` is empty and the
   * key is reported bad. Only a `get` in `read` returns such a key (its revision guards a write);
   * lists leave it out.
   */
  tooLarge?: true;
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

/** An etcd failure worth retrying and counting against a host: not a response over the receive limit (it would only come again). */
const transient = (e: Error): boolean => isRecoverableError(e) && !isTooLargeError(e);

/**
 * The client's limits and fault handling: the receive limit raised to a bounded size
 * (paging.ts), and etcd3's default policies (three tries, a circuit breaker per host opening
 * for 5 s after three failures in a row) except that a response over the limit is neither
 * retried nor counted: it says nothing of etcd's health, and counting it let one oversized
 * list open the breaker for every other request.
 */
export function withClientLimits(o: IOptions): IOptions {
  return {
    ...o,
    grpcOptions: { 'grpc.max_receive_message_length': ETCD_MAX_RECEIVE_BYTES, ...o.grpcOptions },
    faultHandling: {
      host: () => circuitBreaker(handleWhen(transient), { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(3) }),
      global: retry(handleWhen(transient), { maxAttempts: 3 }),
      ...o.faultHandling,
    },
  };
}

/** How long one lease keep-alive may take before it counts as failed. */
const KEEPALIVE_TIMEOUT_MS = 5000;

export class EtcdKV implements ElectionStore {
  private readonly client: Etcd3;
  /** stored values skipped because they cannot be served (every reader of this client reports here) */
  readonly badValues: BadValues;

  /** Connect with `options`, or run over a given client (unit tests hand in a fake one). */
  constructor(connection: IOptions | { client: Etcd3 }, opts: { logger?: Logger } = {}) {
    this.client = 'client' in connection ? connection.client : new Etcd3(withClientLimits(connection));
    this.badValues = new BadValues(opts.logger);
  }

  /**
   * Run every read at one revision; returns the revision and one result per op. One
   * transaction when its answer fits the receive limit; otherwise each op on its own, paged,
   * at the revision of a first empty transaction (still one revision for all of them).
   */
  async read(ops: readonly ReadOp[]): Promise<{ revision: string; results: ReadResult[] }> {
    try {
      return await this.readInOneTxn(ops);
    } catch (e) {
      if (!isTooLargeError(e)) throw storeError(e);
    }
    const { revision } = await this.readInOneTxn([]);
    const results: ReadResult[] = [];
    for (const op of ops) results.push(await this.readOneAt(op, revision));
    return { revision, results };
  }

  /** One read op on its own at `revision`, never one response over the receive limit. */
  private async readOneAt(op: ReadOp, revision: string): Promise<ReadResult> {
    const count = async (prefix: string, from = prefix): Promise<number> => {
      const res = await this.range({ key: Buffer.from(from), range_end: prefixEnd(prefix), count_only: true, revision });
      return Number(res.count);
    };
    if (op.kind === 'count') return { kvs: [], count: await count(op.prefix), more: false };
    if (op.kind === 'get') {
      let res;
      try {
        res = await this.range({ key: Buffer.from(op.key), revision });
      } catch (e) {
        if (!isTooLargeError(e)) throw e;
        // the value alone is over the limit: the key and its revisions still guard a write
        const keyOnly = await this.range({ key: Buffer.from(op.key), revision, keys_only: true });
        const kvs = (keyOnly.kvs as unknown as RawKv[]).map((kv) => ({ ...toKv(kv), value: '', tooLarge: true as const }));
        for (const kv of kvs) this.badValues.report(kv.key, kindOfKey(kv.key), TOO_LARGE);
        return { kvs, count: kvs.length, more: false };
      }
      const kvs = (res.kvs as unknown as RawKv[]).map(toKv);
      return { kvs, count: kvs.length, more: false };
    }
    const limit = op.limit ?? 0;
    const { kvs, more } = await this.listPaged(op.prefix, {
      revision,
      from: op.from ?? op.prefix,
      ...(limit > 0 ? { limit } : {}),
      ...(op.keysOnly ? { keysOnly: true } : {}),
    });
    return { kvs, count: await count(op.prefix, op.from ?? op.prefix), more };
  }

  /** One range request; failures as NetloomErrors (whose message keeps gRPC's, for isTooLargeError). */
  private async range(req: Parameters<Etcd3['kv']['range']>[0]): ReturnType<Etcd3['kv']['range']> {
    try {
      return await this.client.kv.range(req);
    } catch (e) {
      throw storeError(e);
    }
  }

  private async readInOneTxn(ops: readonly ReadOp[]): Promise<{ revision: string; results: ReadResult[] }> {
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
    const res = await this.client.kv.txn({ compare: [], success, failure: [] });
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

  /**
   * Every key/value under `prefix`, read in pages at one revision. Pages are sized by bytes
   * (paging.ts) up to `pageSize` keys; a value too large to receive even alone is left out and
   * reported (badValues), so a list always completes.
   */
  async list(
    prefix: string,
    opts: { pageSize?: number; revision?: string; keysOnly?: boolean } = {},
  ): Promise<{ revision: string; kvs: KeyValue[]; /** keys left out: values too large to receive */ skipped?: string[] }> {
    const { kvs, revision, skipped } = await this.listPaged(prefix, {
      ...(opts.revision ? { revision: opts.revision } : {}),
      from: prefix,
      ...(opts.pageSize ? { maxPage: opts.pageSize } : {}),
      ...(opts.keysOnly ? { keysOnly: true } : {}),
    });
    return { revision, kvs, skipped };
  }

  /**
   * At most `limit` keys under `prefix`, from `from` (default: the prefix itself), at `revision`
   * (default: now); `more`: keys are left after them. One page of a list a caller continues later
   * at the same revision (the Kubernetes API stand-in's limit/continue).
   */
  async listPage(
    prefix: string,
    opts: { limit: number; from?: string; revision?: string; keysOnly?: boolean },
  ): Promise<{ kvs: KeyValue[]; more: boolean; revision: string }> {
    const { kvs, more, revision } = await this.listPaged(prefix, {
      from: opts.from ?? prefix,
      limit: opts.limit,
      ...(opts.revision ? { revision: opts.revision } : {}),
      ...(opts.keysOnly ? { keysOnly: true } : {}),
    });
    return { kvs, more, revision };
  }

  /** The keys under `prefix` from `from`, at `revision`, in byte-sized pages; at most `limit` of them (`more`: some left). */
  private async listPaged(
    prefix: string,
    o: { revision?: string; from: string; limit?: number; maxPage?: number; keysOnly?: boolean },
  ): Promise<{ kvs: KeyValue[]; more: boolean; revision: string; skipped: string[] }> {
    const maxPage = o.maxPage ?? 2000;
    const skipped: string[] = [];
    // the first answer's revision when none is given: every page after it reads at that one
    let revision = o.revision;
    const at = () => (revision ? { revision } : {});
    const out: KeyValue[] = [];
    let from = o.from;
    let size = Math.min(FIRST_PAGE, maxPage);
    const end = prefixEnd(prefix);
    for (let page = 0; page < 1_000_000; page++) {
      const want = o.limit === undefined ? size : Math.min(size, o.limit - out.length);
      if (want <= 0) return { kvs: out, more: true, revision: revision ?? '0', skipped };
      let res;
      try {
        res = await this.range({
          key: Buffer.from(from),
          range_end: end,
          limit: want,
          ...at(),
          ...(o.keysOnly ? { keys_only: true } : {}),
        });
      } catch (e) {
        if (!isTooLargeError(e)) throw e;
        const smaller = afterTooLarge(want);
        if (smaller > 0) {
          size = smaller;
          continue;
        }
        // one value alone is over the limit: name it, skip it, go on after it
        const keyOnly = await this.range({ key: Buffer.from(from), range_end: end, limit: 1, ...at(), keys_only: true });
        revision ??= String(keyOnly.header.revision);
        const tooLarge = (keyOnly.kvs as unknown as RawKv[])[0];
        if (!tooLarge) return { kvs: out, more: false, revision, skipped };
        const key = tooLarge.key.toString();
        skipped.push(key);
        this.badValues.report(key, kindOfKey(key), TOO_LARGE);
        from = `${key}\0`;
        size = 1;
        continue;
      }
      revision ??= String(res.header.revision);
      const kvs = (res.kvs as unknown as RawKv[]).map(toKv);
      out.push(...kvs);
      if (!res.more || kvs.length === 0) return { kvs: out, more: false, revision, skipped };
      let bytes = 0;
      for (const kv of res.kvs as unknown as RawKv[]) bytes += kv.key.length + (kv.value?.length ?? 0);
      size = nextPageSize(want, kvs.length, bytes, maxPage);
      from = `${kvs[kvs.length - 1]?.key ?? prefix}\0`;
    }
    return { kvs: out, more: true, revision: revision ?? '0', skipped };
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
    // etcd sends a replay of many revisions as one response; `fragment` has it cut responses over
    // its request limit (1.5 MiB by default) into parts, joined again below. etcd3's builder has
    // no setter for it: its request object is set directly.
    const request = (builder as unknown as { request?: { fragment?: boolean } }).request;
    if (request) request.fragment = true;
    let watcher;
    try {
      watcher = await builder.create();
    } catch (e) {
      throw storeError(e);
    }
    const joiner = new FragmentJoiner<WatchEvent>();
    let failed = false;
    let cancelled: Promise<void> | undefined;
    // once: etcd3 waits for a second cancel's answer that never comes
    const cancel = (): Promise<void> => (cancelled ??= watcher.cancel());
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      joiner.reset();
      void cancel().catch(() => undefined);
      onError(storeError(e));
    };
    watcher.on('data', (res) => {
      if (failed) return;
      const events = joiner.add(
        res.events.map((ev) => {
          const kv = ev.kv as unknown as RawKv;
          const prev = ev.prev_kv as unknown as RawKv | undefined;
          return {
            type: ev.type === 'Delete' ? ('delete' as const) : ('put' as const),
            key: kv.key.toString(),
            value: kv.value ? kv.value.toString() : '',
            prevValue: prev?.value ? prev.value.toString() : undefined,
            modRevision: String(kv.mod_revision),
          };
        }),
        Boolean((res as { fragment?: boolean }).fragment),
      );
      if (events) onBatch(events);
    });
    watcher.on('error', (e: Error) => fail(e));
    // etcd3 reconnects a lost watch stream by itself, resuming after the last revision it saw:
    // a response over the receive limit would come again and again (nothing ever delivered), and
    // a stream lost between fragments would resume past the part not yet delivered. Both end
    // this watch with an error instead; its owner reads again and watches from there.
    watcher.on('disconnected', (e: unknown) => {
      if (isTooLargeError(e)) fail(e as Error);
      else if (joiner.pending > 0) fail(new Error('etcd watch stream lost in the middle of a fragmented response'));
    });
    return async () => {
      failed = true;
      await cancel();
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
    return etcdElection(() => this.client.election(name, ttlSeconds));
  }

  close(): void {
    this.client.close();
  }
}
