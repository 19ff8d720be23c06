import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../../lib/errors';
import { RegistrationQueue } from '../../../../netplugin/ipam/registration-queue';
import type { Registration, SyncRequest, SyncResponse, SyncResult } from '../../../../netplugin/ipam/registration';
import { FakeClock, flushAsync } from '../../../support/fake-clock';

const reg = (id: string): Registration => ({
  id,
  idempotencyKey: `k-${id}`,
  tenant: 't',
  network: 'n',
  group: '',
  containerId: `c-${id}`,
  containerName: '',
  intfName: 'eth0',
  ip: '10.1.0.2',
  mac: '02:00:00:00:00:02',
  labels: {},
});

const ok = (endpointId: string): SyncResult => ({ endpointId, outcome: 'OK', message: '', conflictingEndpoint: '' });

/** A netmaster whose answers the test releases one call at a time. */
function fakeSync() {
  const calls: { req: SyncRequest; answer: (res?: SyncResponse | Error) => void }[] = [];
  const sync = (req: SyncRequest): Promise<SyncResponse> =>
    new Promise((resolve, reject) =>
      calls.push({
        req,
        answer: (res) =>
          res instanceof Error
            ? reject(res)
            : resolve(res ?? { deregistered: req.deregister.map(ok), registered: req.register.map((r) => ok(r.id)) }),
      }),
    );
  return { calls, sync };
}

describe('ipam registration queue', () => {
  let clock: FakeClock;
  beforeEach(() => (clock = new FakeClock()));

  it('batches what arrives while a call is in flight into one next call, deregistrations first', async () => {
    const f = fakeSync();
    const done: string[] = [];
    const q = new RegistrationQueue({ sync: f.sync, onRegistered: (id) => void done.push(id), onRejected: () => undefined, clock });
    q.register(reg('a'));
    await flushAsync();
    assert.equal(f.calls.length, 1);
    for (const id of ['b', 'c', 'd']) q.register(reg(id));
    q.deregister('old');
    q.register(reg('b')); // coalesced: one entry per endpoint
    assert.equal(q.pending, 5);
    f.calls[0]!.answer();
    await flushAsync();
    assert.equal(f.calls.length, 2, 'one call for the whole burst');
    assert.deepEqual(f.calls[1]!.req.deregister, ['old']);
    assert.deepEqual(
      f.calls[1]!.req.register.map((r) => r.id),
      ['b', 'c', 'd'],
    );
    f.calls[1]!.answer();
    await q.drained();
    assert.deepEqual(done, ['a', 'b', 'c', 'd']);
    assert.equal(q.pending, 0);
  });

  it('splits into calls of at most maxBatch items', async () => {
    const f = fakeSync();
    const q = new RegistrationQueue({ sync: f.sync, onRegistered: () => undefined, onRejected: () => undefined, clock, maxBatch: 2 });
    q.deregister('x');
    for (const id of ['a', 'b', 'c']) q.register(reg(id));
    for (let i = 0; i < 2; i++) {
      await flushAsync();
      f.calls[i]!.answer();
    }
    await q.drained();
    assert.deepEqual(
      f.calls.map((c) => [c.req.deregister, c.req.register.map((r) => r.id)]),
      [
        [['x'], ['a']],
        [[], ['b', 'c']],
      ],
    );
  });

  it('keeps everything while netmaster is down, retries with the backoff, and drains at once on kick', async () => {
    const f = fakeSync();
    const done: string[] = [];
    const q = new RegistrationQueue({
      sync: f.sync,
      onRegistered: (id) => void done.push(id),
      onRejected: () => undefined,
      clock,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    q.register(reg('a'));
    await flushAsync();
    f.calls[0]!.answer(new NetloomError('UNAVAILABLE', 'netmaster down'));
    await flushAsync();
    q.register(reg('b'));
    assert.equal(f.calls.length, 1, 'waits the backoff');
    clock.advance(99);
    await flushAsync();
    assert.equal(f.calls.length, 1);
    clock.advance(1);
    await flushAsync();
    assert.equal(f.calls.length, 2);
    assert.deepEqual(
      f.calls[1]!.req.register.map((r) => r.id),
      ['a', 'b'],
    );
    f.calls[1]!.answer(new NetloomError('UNAVAILABLE', 'still down'));
    await flushAsync();
    assert.equal(clock.nextDueIn, 200, 'the delay doubles');
    q.kick();
    await flushAsync();
    assert.equal(f.calls.length, 3, 'kick retries without waiting');
    f.calls[2]!.answer();
    await q.drained();
    assert.deepEqual(done, ['a', 'b']);
  });

  it('a DEL of a never-sent registration cancels it; of one in flight, deregisters it after', async () => {
    const f = fakeSync();
    const done: string[] = [];
    const q = new RegistrationQueue({ sync: f.sync, onRegistered: (id) => void done.push(id), onRejected: () => undefined, clock });
    q.register(reg('a'));
    await flushAsync();
    q.register(reg('b'));
    q.deregister('b'); // never sent
    q.deregister('a'); // in flight
    f.calls[0]!.answer();
    await flushAsync();
    assert.deepEqual(done, [], 'a deregistered while in flight is not recorded as registered');
    assert.deepEqual(f.calls[1]!.req, { deregister: ['a'], register: [] });
    f.calls[1]!.answer();
    await q.drained();
    assert.equal(f.calls.length, 2, 'nothing about b reached netmaster');
  });

  it('refusals go to onRejected and are not retried', async () => {
    const f = fakeSync();
    const rejected: SyncResult[] = [];
    const q = new RegistrationQueue({ sync: f.sync, onRegistered: () => undefined, onRejected: (r) => void rejected.push(r), clock });
    q.register(reg('a'));
    await flushAsync();
    f.calls[0]!.answer({
      deregistered: [],
      registered: [{ endpointId: 'a', outcome: 'CONFLICT', message: '10.1.0.2 is held by z', conflictingEndpoint: 'z' }],
    });
    await q.drained();
    assert.equal(rejected[0]?.conflictingEndpoint, 'z');
    assert.equal(f.calls.length, 1);
    assert.equal(q.pending, 0);
  });

  it('waits for beforeSend (reconcile at start) before the first call', async () => {
    const f = fakeSync();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const q = new RegistrationQueue({
      sync: f.sync,
      onRegistered: () => undefined,
      onRejected: () => undefined,
      clock,
      beforeSend: () => gate,
    });
    q.register(reg('a'));
    await flushAsync();
    assert.equal(f.calls.length, 0);
    open();
    await flushAsync();
    assert.equal(f.calls.length, 1);
  });
});
