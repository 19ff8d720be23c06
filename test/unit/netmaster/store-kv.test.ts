/**
 * The store's etcd operations over a fake etcd client: what each one asks etcd for (a put on a
 * lease, a watch from a revision with or without previous values, one keep-alive), what it
 * answers, and that every etcd failure leaves the store as a NetloomError UNAVAILABLE.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Etcd3 } from 'etcd3';
import { NetloomError, isNetloomError } from '../../../lib/errors';
import { EtcdKV, type WatchEvent } from '../../../netmaster/store/kv';
import { isCompactedError, isFutureRevisionError, storeError } from '../../../netmaster/store/errors';

const raw = (key: string, value: string, rev: string) => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  mod_revision: rev,
  create_revision: rev,
});

/** The parts of an etcd3 client the store uses, recording calls; `fail` makes every call reject. */
class FakeEtcd {
  calls: { op: string; req: unknown }[] = [];
  fail: Error | undefined;
  keepAliveTtl = '10';
  keepAliveError: Error | undefined;
  streamsEnded = 0;
  watcher = new EventEmitter() as EventEmitter & { cancel(): Promise<void>; cancelled: boolean };
  watchBuilder = { prefixed: '', startRevision: '', previousKv: false };
  campaign = new EventEmitter() as EventEmitter & { resign(): Promise<void> };
  leaderValue: string | undefined = 'nm-1';

  constructor() {
    this.watcher.cancelled = false;
    this.watcher.cancel = async () => {
      this.watcher.cancelled = true;
    };
    this.campaign.resign = async () => {
      if (this.fail) throw this.fail;
    };
  }

  private async answer<T>(op: string, req: unknown, res: T): Promise<T> {
    this.calls.push({ op, req });
    if (this.fail) throw this.fail;
    return res;
  }

  kv = {
    txn: (req: unknown) => this.answer('txn', req, { succeeded: true, header: { revision: '42' }, responses: [] }),
  };

  leaseClient = {
    leaseGrant: (req: { TTL: number }) => this.answer('leaseGrant', req, { ID: '7587', TTL: String(req.TTL) }),
    leaseRevoke: (req: { ID: string }) => this.answer('leaseRevoke', req, {}),
    leaseKeepAlive: async () => {
      await this.answer('leaseKeepAlive', undefined, undefined);
      const stream = new EventEmitter() as EventEmitter & { write(r: { ID: string }): void; end(): void };
      stream.write = (r) => {
        this.calls.push({ op: 'keepAliveWrite', req: r });
        setImmediate(() =>
          this.keepAliveError ? stream.emit('error', this.keepAliveError) : stream.emit('data', { ID: r.ID, TTL: this.keepAliveTtl }),
        );
      };
      stream.end = () => {
        this.streamsEnded++;
      };
      return stream;
    },
  };

  maintenance = {
    status: () => this.answer('status', undefined, { header: { cluster_id: '14841639068965178418', revision: '42' } }),
  };

  watch() {
    const b = this.watchBuilder;
    const builder = {
      prefix: (p: string) => ((b.prefixed = p), builder),
      startRevision: (r: string) => ((b.startRevision = r), builder),
      withPreviousKV: () => ((b.previousKv = true), builder),
      create: async () => {
        await this.answer('watch', { ...b }, undefined);
        return this.watcher;
      },
    };
    return builder;
  }

  election(name: string, ttl: number) {
    this.calls.push({ op: 'election', req: { name, ttl } });
    return {
      campaign: (value: string) => {
        this.calls.push({ op: 'campaign', req: value });
        return this.campaign;
      },
      leader: async () => this.answer('leader', undefined, this.leaderValue),
    };
  }
}

function store(): { fake: FakeEtcd; kv: EtcdKV } {
  const fake = new FakeEtcd();
  return { fake, kv: new EtcdKV({ client: fake as unknown as Etcd3 }) };
}

/** A callback that must not be called. */
const unexpected = (what: unknown): void => assert.fail(`unexpected call: ${String(what)}`);

async function assertUnavailable(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isNetloomError(e, 'UNAVAILABLE'), `a NetloomError UNAVAILABLE, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

describe('netmaster store: etcd operations', () => {
  describe('commit', () => {
    it('puts a key on a lease when the write names one, and only then', async () => {
      const { fake, kv } = store();
      const r = await kv.commit(
        [],
        [
          { kind: 'put', key: '/a', value: 'x', lease: '7587' },
          { kind: 'put', key: '/b', value: 'y' },
        ],
      );
      assert.deepEqual(r, { ok: true, revision: '42' });
      const req = fake.calls[0]?.req as { compare: unknown[]; success: { request_put: Record<string, unknown> }[] };
      assert.deepEqual(req.compare, []);
      assert.equal(req.success[0]?.request_put.lease, '7587');
      assert.equal(req.success[0]?.request_put.key?.toString(), '/a');
      assert.ok(!('lease' in (req.success[1]?.request_put ?? {})), 'no lease field on a plain put');
    });

    it('maps an etcd failure to UNAVAILABLE', async () => {
      const { fake, kv } = store();
      fake.fail = new Error('connection refused');
      await assertUnavailable(kv.commit([], [{ kind: 'delete', key: '/a' }]), /^etcd: connection refused$/);
    });
  });

  describe('leases', () => {
    it('grants a lease of the TTL asked for and answers its id', async () => {
      const { fake, kv } = store();
      assert.equal(await kv.grantLease(10), '7587');
      assert.deepEqual(fake.calls, [{ op: 'leaseGrant', req: { TTL: 10 } }]);
    });

    it('keeps a lease alive once: answers its TTL and ends the stream', async () => {
      const { fake, kv } = store();
      assert.equal(await kv.keepLeaseAlive('7587'), 10);
      assert.deepEqual(fake.calls[1], { op: 'keepAliveWrite', req: { ID: '7587' } });
      assert.equal(fake.streamsEnded, 1);
    });

    it('answers 0 for a lease etcd no longer has (TTL 0 or negative)', async () => {
      const { fake, kv } = store();
      for (const ttl of ['0', '-1']) {
        fake.keepAliveTtl = ttl;
        assert.equal(await kv.keepLeaseAlive('7587'), 0, `TTL ${ttl}`);
      }
      assert.equal(fake.streamsEnded, 2);
    });

    it('maps a failed keep-alive to UNAVAILABLE and still ends the stream', async () => {
      const { fake, kv } = store();
      fake.keepAliveError = new Error('stream reset');
      await assertUnavailable(kv.keepLeaseAlive('7587'), /^etcd: stream reset$/);
      assert.equal(fake.streamsEnded, 1);
    });

    it('revokes a lease by id; failures are UNAVAILABLE', async () => {
      const { fake, kv } = store();
      await kv.revokeLease('7587');
      assert.deepEqual(fake.calls, [{ op: 'leaseRevoke', req: { ID: '7587' } }]);
      fake.fail = new Error('etcdserver: requested lease not found');
      await assertUnavailable(kv.revokeLease('1'), /lease not found/);
      await assertUnavailable(kv.grantLease(10), /lease not found/);
    });
  });

  it("answers etcd's cluster id in hex", async () => {
    const { kv } = store();
    assert.equal(await kv.clusterId(), BigInt('14841639068965178418').toString(16));
  });

  describe('watches', () => {
    it('hands over a watch response whole, from the revision after the one given, without previous values', async () => {
      const { fake, kv } = store();
      const batches: WatchEvent[][] = [];
      const stop = await kv.watchBatches('/netloom/v1/', '41', (b) => batches.push(b), unexpected);
      assert.deepEqual(fake.watchBuilder, { prefixed: '/netloom/v1/', startRevision: '42', previousKv: false });
      fake.watcher.emit('data', {
        events: [
          { type: 'Put', kv: raw('/netloom/v1/ep/a', '{}', '42') },
          { type: 'Delete', kv: { ...raw('/netloom/v1/ep/b', '', '43'), value: undefined } },
        ],
      });
      assert.deepEqual(batches, [
        [
          { type: 'put', key: '/netloom/v1/ep/a', value: '{}', prevValue: undefined, modRevision: '42' },
          { type: 'delete', key: '/netloom/v1/ep/b', value: '', prevValue: undefined, modRevision: '43' },
        ],
      ]);
      await stop();
      assert.ok(fake.watcher.cancelled);
    });

    it('watch: from now with revision 0, one event at a time with previous values', async () => {
      const { fake, kv } = store();
      const events: WatchEvent[] = [];
      await kv.watch('/p/', '0', (e) => events.push(e), unexpected);
      assert.deepEqual(fake.watchBuilder, { prefixed: '/p/', startRevision: '', previousKv: true });
      fake.watcher.emit('data', {
        events: [
          { type: 'Put', kv: raw('/p/a', '2', '5'), prev_kv: raw('/p/a', '1', '4') },
          { type: 'Put', kv: raw('/p/b', '1', '5') },
        ],
      });
      assert.deepEqual(
        events.map((e) => [e.key, e.value, e.prevValue]),
        [
          ['/p/a', '2', '1'],
          ['/p/b', '1', undefined],
        ],
      );
    });

    it("reports a failed watch as UNAVAILABLE, keeping etcd's words (a compacted revision is recognised)", async () => {
      const { fake, kv } = store();
      const errors: Error[] = [];
      await kv.watchBatches('/p/', '3', unexpected, (e) => errors.push(e));
      fake.watcher.emit('error', new Error('etcdserver: mvcc: required revision has been compacted'));
      assert.equal(errors.length, 1);
      assert.ok(isNetloomError(errors[0], 'UNAVAILABLE'));
      assert.ok(isCompactedError(errors[0]));
    });

    it('maps a watch that cannot be created to UNAVAILABLE', async () => {
      const { fake, kv } = store();
      fake.fail = new Error('no connection');
      await assertUnavailable(kv.watchBatches('/p/', '0', unexpected, unexpected), /^etcd: no connection$/);
    });
  });

  describe('elections', () => {
    it('campaigns in the named election and forwards elected; answers the leader', async () => {
      const { fake, kv } = store();
      const election = kv.election('netmaster', 3);
      const c = election.campaign('nm-1');
      let elected = 0;
      c.on('elected', () => elected++);
      c.on('error', unexpected);
      fake.campaign.emit('elected');
      assert.equal(elected, 1);
      assert.deepEqual(fake.calls.slice(0, 2), [
        { op: 'election', req: { name: 'netmaster', ttl: 3 } },
        { op: 'campaign', req: 'nm-1' },
      ]);
      assert.equal(await election.leader(), 'nm-1');
      fake.leaderValue = undefined;
      assert.equal(await election.leader(), undefined);
      await c.resign();
    });

    it('maps campaign, resign and leader failures to UNAVAILABLE', async () => {
      const { fake, kv } = store();
      const election = kv.election('netmaster', 3);
      const c = election.campaign('nm-1');
      const errors: Error[] = [];
      c.on('error', (e) => errors.push(e));
      fake.campaign.emit('error', new Error('lease expired'));
      assert.equal(errors.length, 1);
      assert.ok(isNetloomError(errors[0], 'UNAVAILABLE'));
      assert.equal(errors[0]?.message, 'etcd: lease expired');
      fake.fail = new Error('no leader');
      await assertUnavailable(c.resign(), /no leader/);
      await assertUnavailable(election.leader(), /no leader/);
    });
  });

  describe('error mapping', () => {
    it('keeps a NetloomError as it is and wraps anything else as UNAVAILABLE with its cause', () => {
      const mine = new NetloomError('CONFLICT', 'taken');
      assert.equal(storeError(mine), mine);
      const cause = new Error('deadline exceeded');
      const e = storeError(cause);
      assert.ok(isNetloomError(e, 'UNAVAILABLE'));
      assert.equal(e.message, 'etcd: deadline exceeded');
      assert.equal(e.cause, cause);
      assert.equal(storeError('plain text').message, 'etcd: plain text');
    });

    it("recognises compacted and future revisions by etcd's wording, raw or mapped", () => {
      const compacted = new Error('etcdserver: mvcc: required revision has been compacted');
      const future = new Error('etcdserver: mvcc: required revision is a future revision');
      assert.ok(isCompactedError(compacted) && isCompactedError(storeError(compacted)));
      assert.ok(isFutureRevisionError(future) && isFutureRevisionError(storeError(future)));
      assert.ok(!isCompactedError(future) && !isFutureRevisionError(compacted));
      assert.ok(!isCompactedError('compacted'), 'only errors');
    });
  });
});
