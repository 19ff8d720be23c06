/**
 * No etcd response over the client's receive limit, whatever is stored: the paging helpers
 * (pure), and EtcdKV over a fake etcd that refuses any answer larger than a limit exactly as
 * gRPC does ("Received message larger than max"). Lists come in pages sized by bytes, a refused
 * page is asked again smaller, a value too large even alone is skipped and reported; a read of
 * several ops that does not fit one transaction is answered op by op at one revision; a watch
 * joins fragments and ends with an error (not a silent reconnect loop) on a response over the limit.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import { EtcdKV, type WatchEvent } from '../../../netmaster/store/kv';
import { afterTooLarge, FragmentJoiner, isTooLargeError, nextPageSize } from '../../../netmaster/store/paging';
import { layout } from '../../../netmaster/store/layout';

const tooLarge = (n: number, max: number) =>
  Object.assign(new Error(`8 RESOURCE_EXHAUSTED: Received message larger than max (${n} vs ${max})`), { code: 8 });

/** A sorted key space with etcd's range semantics, answering nothing over `limit` bytes. */
class LimitedEtcd {
  readonly data = new Map<string, string>();
  readonly ranges: Array<{ key: string; limit: number; revision?: string; keysOnly: boolean; countOnly: boolean }> = [];
  txns = 0;
  revision = 100;
  watcher = new EventEmitter() as EventEmitter & { cancel(): Promise<void>; cancels: number };
  watchRequest: Record<string, unknown> = {};

  constructor(readonly limit: number) {
    this.watcher.cancels = 0;
    this.watcher.cancel = async () => {
      this.watcher.cancels++;
    };
  }

  private inRange(from: string, end: Buffer | undefined): string[] {
    const keys = [...this.data.keys()].sort();
    if (!end) return keys.filter((k) => k === from);
    return keys.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from(from)) >= 0 && Buffer.compare(Buffer.from(k), end) < 0);
  }

  private answer(req: { key: Buffer; range_end?: Buffer; limit?: number; keys_only?: boolean; count_only?: boolean }) {
    const all = this.inRange(req.key.toString(), req.range_end);
    const limit = req.limit ?? 0;
    const keys = limit > 0 ? all.slice(0, limit) : all;
    const kvs = req.count_only
      ? []
      : keys.map((k) => ({
          key: Buffer.from(k),
          value: Buffer.from(req.keys_only ? '' : (this.data.get(k) ?? '')),
          mod_revision: '5',
          create_revision: '5',
        }));
    const bytes = kvs.reduce((n, kv) => n + kv.key.length + kv.value.length + 16, 0);
    if (bytes > this.limit) throw tooLarge(bytes, this.limit);
    return { kvs, count: String(all.length), more: keys.length < all.length, bytes };
  }

  kv = {
    range: async (req: {
      key: Buffer;
      range_end?: Buffer;
      limit?: number;
      keys_only?: boolean;
      count_only?: boolean;
      revision?: string;
    }) => {
      this.ranges.push({
        key: req.key.toString(),
        limit: req.limit ?? 0,
        ...(req.revision ? { revision: req.revision } : {}),
        keysOnly: Boolean(req.keys_only),
        countOnly: Boolean(req.count_only),
      });
      const a = this.answer(req);
      return { header: { revision: String(this.revision) }, kvs: a.kvs, count: a.count, more: a.more };
    },
    txn: async (req: { success: Array<{ request_range: { key: Buffer; range_end?: Buffer; limit?: number } }> }) => {
      this.txns++;
      let bytes = 0;
      const responses = req.success.map((op) => {
        const a = this.answer({ ...op.request_range, limit: 0 });
        bytes += a.bytes;
        return { response_range: { kvs: a.kvs, count: a.count, more: a.more } };
      });
      if (bytes > this.limit) throw tooLarge(bytes, this.limit);
      return { header: { revision: String(this.revision) }, responses };
    },
  };

  watch() {
    const request = this.watchRequest;
    const builder = {
      request,
      prefix: (p: string) => ((request.prefix = p), builder),
      startRevision: (r: string) => ((request.start_revision = r), builder),
      withPreviousKV: () => ((request.prev_kv = true), builder),
      create: async () => this.watcher,
    };
    return builder;
  }
}

function store(limit: number): { fake: LimitedEtcd; kv: EtcdKV } {
  const fake = new LimitedEtcd(limit);
  return { fake, kv: new EtcdKV({ client: fake as unknown as Etcd3 }) };
}

const net = (i: number) => layout.cfg('network', `t1:n${String(i).padStart(4, '0')}`);

describe('netmaster store: no etcd response over the receive limit', () => {
  describe('paging helpers', () => {
    it('size the next page by the bytes per key of the last one, within [1, maxPage]', () => {
      assert.equal(nextPageSize(64, 64, 64 * 1000, 2000, 1_000_000), 1000);
      assert.equal(nextPageSize(64, 64, 64 * 100, 2000, 1_000_000), 2000, 'small values: the largest page');
      assert.equal(nextPageSize(64, 2, 2 * 5_000_000, 2000, 1_000_000), 1, 'values over the target: one at a time');
      assert.equal(nextPageSize(64, 0, 0, 2000), 64, 'an empty page says nothing: the same size');
    });

    it('halve a refused page down to one key, then give up (0: skip that key)', () => {
      assert.deepEqual([afterTooLarge(64), afterTooLarge(3), afterTooLarge(2), afterTooLarge(1)], [32, 1, 1, 0]);
    });

    it("recognise gRPC's over-the-limit error, not etcd's 'too many requests'", () => {
      assert.equal(isTooLargeError(tooLarge(5, 4)), true);
      assert.equal(isTooLargeError(new Error('etcd: 8 RESOURCE_EXHAUSTED: Received message larger than max (5 vs 4)')), true);
      assert.equal(isTooLargeError(new Error('8 RESOURCE_EXHAUSTED: etcdserver: too many requests')), false);
      assert.equal(isTooLargeError('larger than max'), false);
    });

    it('join the fragments of one watch response, in order', () => {
      const j = new FragmentJoiner<number>();
      assert.equal(j.add([1, 2], true), undefined);
      assert.equal(j.pending, 2);
      assert.deepEqual(j.add([3], false), [1, 2, 3]);
      assert.deepEqual(j.add([4], false), [4], 'a response in one piece as it is');
      j.add([5], true);
      j.reset();
      assert.deepEqual(j.add([6], false), [6], 'a reset drops a half-received response');
    });
  });

  describe('list', () => {
    it('reads 5 x 1 MB values under a 4 MiB limit in pages, all at the first answer’s revision', async () => {
      const { fake, kv } = store(4 * 1024 * 1024);
      for (let i = 0; i < 5; i++) fake.data.set(net(i), 'x'.repeat(1_000_000));
      for (let i = 5; i < 300; i++) fake.data.set(net(i), 'y'.repeat(100));
      const { kvs, revision, skipped } = await kv.list(layout.cfgPrefix('network'));
      assert.equal(kvs.length, 300);
      assert.equal(revision, '100');
      assert.deepEqual(skipped, []);
      assert.ok(fake.ranges.length > 1, 'more than one page');
      // the first pages are refused (64 keys hold all five values) until one answers
      const first = fake.ranges.findIndex((r) => r.revision !== undefined);
      assert.ok(first > 0);
      assert.ok(
        fake.ranges.slice(first).every((r) => r.revision === '100'),
        'once a page answered, every later one reads at its revision',
      );
    });

    it('asks again at half the size when a page is refused, and skips and reports a value too large alone', async () => {
      const { fake, kv } = store(1_000_000);
      fake.data.set(net(1), 'a'.repeat(10));
      fake.data.set(net(2), 'b'.repeat(600_000));
      fake.data.set(net(3), 'c'.repeat(2_000_000)); // over the limit even alone
      fake.data.set(net(4), 'd'.repeat(600_000));
      fake.data.set(net(5), 'e'.repeat(10));
      const { kvs, skipped } = await kv.list(layout.cfgPrefix('network'));
      assert.deepEqual(
        kvs.map((k) => k.key),
        [net(1), net(2), net(4), net(5)],
      );
      assert.deepEqual(skipped, [net(3)]);
      assert.deepEqual(
        kv.badValues.list().map((b) => [b.key, b.kind]),
        [[net(3), 'network']],
      );
      assert.match(kv.badValues.list()[0]?.reason ?? '', /receive limit/);
    });

    it('keeps to `limit` in a read op and says whether more is left', async () => {
      const { fake, kv } = store(1_000_000);
      for (let i = 0; i < 10; i++) fake.data.set(net(i), 'v'.repeat(300_000));
      const prefix = layout.cfgPrefix('network');
      const { results } = await kv.read([{ kind: 'prefix', prefix, limit: 4 }]);
      assert.equal(results[0]?.kvs.length, 4);
      assert.equal(results[0]?.more, true);
      assert.equal(results[0]?.count, 10);
    });
  });

  it('property: whatever is stored, a list returns every key whose value fits alone and skips the rest, in order, with no answer over the limit', async () => {
    // NETLOOM_FUZZ_RUNS sets the number of runs (default 60, about a second)
    const LIMIT = 64 * 1024;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 2000, max: 40_000 }), fc.integer({ min: 60_000, max: 100_000 })),
          {
            maxLength: 60,
          },
        ),
        fc.integer({ min: 1, max: 3000 }),
        async (sizes, maxPage) => {
          const { fake, kv } = store(LIMIT);
          sizes.forEach((n, i) => fake.data.set(net(i), 'v'.repeat(n)));
          const { kvs, skipped } = await kv.list(layout.cfgPrefix('network'), { pageSize: maxPage });
          const fits = (i: number) => net(i).length + (sizes[i] ?? 0) + 16 <= LIMIT;
          assert.deepEqual(
            kvs.map((k) => k.key),
            sizes
              .map((_n, i) => i)
              .filter(fits)
              .map(net),
          );
          assert.deepEqual(
            skipped,
            sizes
              .map((_n, i) => i)
              .filter((i) => !fits(i))
              .map(net),
          );
          assert.ok(
            fake.ranges.every((r) => r.limit <= maxPage || r.keysOnly),
            'no page over pageSize',
          );
        },
      ),
      { numRuns: Number(process.env.NETLOOM_FUZZ_RUNS ?? 60) },
    );
  });

  describe('read', () => {
    it('answers op by op at one revision when the whole transaction is over the limit', async () => {
      const { fake, kv } = store(1_000_000);
      for (let i = 0; i < 4; i++) fake.data.set(net(i), 'v'.repeat(400_000));
      fake.data.set(layout.cfg('tenant', 't1'), '{}');
      const { revision, results } = await kv.read([
        { kind: 'prefix', prefix: layout.cfgPrefix('network') },
        { kind: 'get', key: layout.cfg('tenant', 't1') },
        { kind: 'count', prefix: layout.cfgPrefix('network') },
      ]);
      assert.equal(revision, '100');
      assert.equal(results[0]?.kvs.length, 4);
      assert.equal(results[1]?.kvs[0]?.value, '{}');
      assert.equal(results[2]?.count, 4);
      assert.equal(fake.txns, 2, 'the refused transaction, then an empty one for the revision');
      assert.ok(
        fake.ranges.every((r) => r.revision === '100'),
        'every op at that revision',
      );
    });

    it('returns a key whose value is too large alone as tooLarge, with its revision, and reports it', async () => {
      const { fake, kv } = store(1_000_000);
      fake.data.set(net(1), 'v'.repeat(2_000_000));
      const got = await kv.get(net(1));
      assert.deepEqual(got, { key: net(1), value: '', modRevision: '5', createRevision: '5', tooLarge: true });
      assert.equal(kv.badValues.has(net(1)), true);
    });
  });

  describe('watch', () => {
    const response = (keys: string[], fragment: boolean) => ({
      fragment,
      header: { revision: '200' },
      events: keys.map((k) => ({ type: 'Put', kv: { key: Buffer.from(k), value: Buffer.from('v'), mod_revision: '150' } })),
    });

    it('asks etcd to fragment responses and hands a fragmented response over whole', async () => {
      const { fake, kv } = store(1_000_000);
      const batches: WatchEvent[][] = [];
      await kv.watchBatches(
        '/p/',
        '10',
        (b) => batches.push(b),
        () => assert.fail('no error'),
      );
      assert.equal(fake.watchRequest.fragment, true);
      fake.watcher.emit('data', response(['/p/a', '/p/b'], true));
      fake.watcher.emit('data', response(['/p/c'], true));
      assert.equal(batches.length, 0, 'nothing before the last fragment');
      fake.watcher.emit('data', response(['/p/d'], false));
      assert.deepEqual(
        batches.map((b) => b.map((e) => e.key)),
        [['/p/a', '/p/b', '/p/c', '/p/d']],
      );
    });

    it('ends with an error when a response is over the limit (etcd3 would reconnect and fail again forever)', async () => {
      const { fake, kv } = store(1_000_000);
      const errors: Error[] = [];
      await kv.watchBatches(
        '/p/',
        '10',
        () => undefined,
        (e) => errors.push(e),
      );
      fake.watcher.emit('disconnected', tooLarge(5_000_000, 4_194_304));
      fake.watcher.emit('disconnected', tooLarge(5_000_000, 4_194_304));
      assert.equal(errors.length, 1, 'reported once');
      assert.match(errors[0]?.message ?? '', /larger than max/);
      assert.equal(fake.watcher.cancels, 1, 'the watch is cancelled');
    });

    it('ends with an error when the stream is lost between fragments, and not on a plain reconnect', async () => {
      const { fake, kv } = store(1_000_000);
      const errors: Error[] = [];
      await kv.watchBatches(
        '/p/',
        '10',
        () => undefined,
        (e) => errors.push(e),
      );
      fake.watcher.emit('disconnected', new Error('14 UNAVAILABLE: connection reset'));
      assert.equal(errors.length, 0, 'etcd3 resumes a plain reconnect by itself');
      fake.watcher.emit('data', response(['/p/a'], true));
      fake.watcher.emit('disconnected', new Error('14 UNAVAILABLE: connection reset'));
      assert.equal(errors.length, 1);
      assert.match(errors[0]?.message ?? '', /fragmented/);
    });
  });
});
