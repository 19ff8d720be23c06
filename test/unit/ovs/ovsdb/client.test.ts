/**
 * Unit tests of the JSON-RPC connection and OVSDB client against an in-memory fake server: id
 * correlation, errors, echo both ways, notifications, monitors, cancel, keepalive on a manual
 * clock, close semantics, and transact error mapping.
 */
import { strict as assert } from 'node:assert';
import { isNetloomError, NetloomError } from '../../../../lib/errors';
import { checkTransactResults, OvsdbClient, parseTarget } from '../../../../ovs/ovsdb/client';
import { codeForOvsdbError, isOvsdbError, OvsdbError } from '../../../../ovs/ovsdb/errors';
import { rowChanges } from '../../../../ovs/ovsdb/monitor';
import { insert, select, update, wait, eq } from '../../../../ovs/ovsdb/operations';
import { JsonRpcConnection } from '../../../../ovs/ovsdb/rpc';
import { fakePeer, settle } from './fake-peer';
import { FakeClock } from '../../../support/fake-clock';

const U1 = '11111111-1111-4111-8111-111111111111';

describe('ovsdb JSON-RPC connection', () => {
  it('correlates replies to requests by id, in any order, even merged in one chunk', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const a = rpc.request('list_dbs', []);
    const b = rpc.request('echo', ['x']);
    await peer.waitSent(2);
    assert.deepEqual(peer.sent[0], { method: 'list_dbs', params: [], id: 1 });
    assert.deepEqual(peer.sent[1], { method: 'echo', params: ['x'], id: 2 });
    peer.write(`{"id":2,"result":["x"],"error":null}{"id":1,"re`);
    peer.write(`sult":["Open_vSwitch"],"error":null}`);
    assert.deepEqual(await a, ['Open_vSwitch']);
    assert.deepEqual(await b, ['x']);
    assert.equal(rpc.pendingCount, 0);
    await rpc.close();
  });

  it('rejects a request whose reply carries an error with an OvsdbError (server error and details)', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const p = rpc.request('get_schema', ['nope']);
    await peer.waitSent(1);
    peer.send({ id: 1, result: null, error: { error: 'unknown database', details: 'nope is not a database' } });
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof OvsdbError);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.equal(e.ovsdbError, 'unknown database');
      assert.equal(e.serverDetails, 'nope is not a database');
      assert.equal(e.method, 'get_schema');
      return true;
    });
    await rpc.close();
  });

  it('answers the server echo with the same params and id, and unknown server calls with an error', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    peer.send({ method: 'echo', params: ['probe', 3], id: 'echo' });
    peer.send({ method: 'frobnicate', params: [], id: 9 });
    await peer.waitSent(2);
    assert.deepEqual(peer.sent[0], { result: ['probe', 3], error: null, id: 'echo' });
    assert.deepEqual(peer.sent[1], { result: null, error: { error: 'unknown method', details: 'frobnicate' }, id: 9 });
    await rpc.close();
  });

  it('delivers notifications to handlers', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const got: Array<[string, unknown]> = [];
    rpc.onNotification((m, p) => got.push([m, p]));
    peer.send({ method: 'locked', params: ['lk'], id: null });
    await settle();
    assert.deepEqual(got, [['locked', ['lk']]]);
    await rpc.close();
  });

  it('rejects every pending request with UNAVAILABLE when the peer closes, and later requests too', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const a = rpc.request('transact', ['Open_vSwitch']);
    const b = rpc.request('list_dbs', []);
    await peer.waitSent(2);
    let closeReason: NetloomError | undefined | 'not called' = 'not called';
    rpc.onClose((r) => (closeReason = r));
    peer.end();
    await assert.rejects(a, (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /before a reply to transact/.test((e as Error).message));
    await assert.rejects(b, (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    assert.equal(closeReason, undefined);
    assert.ok(rpc.isClosed);
    await assert.rejects(rpc.request('echo', []), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
  });

  it('rejects params that cannot be encoded, without leaving a pending request', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    await assert.rejects(
      rpc.request('transact', [{ n: 1n }]),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as NetloomError).field === 'params',
    );
    assert.equal(rpc.pendingCount, 0);
    await rpc.close();
  });

  it('rejects pending requests when the client closes', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const a = rpc.request('transact', ['Open_vSwitch']);
    const rejected = assert.rejects(a, (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    await rpc.close();
    await rejected;
  });

  it('closes with DECODE_ERROR on garbage and on an oversize message, failing pending requests with it', async () => {
    for (const [bytes, max, re] of [
      ['garbage!', undefined, /unexpected byte/],
      [`{"id":1,"result":"${'x'.repeat(300)}"}`, 256, /exceeds 256 bytes/],
    ] as const) {
      const peer = fakePeer();
      const rpc = new JsonRpcConnection(peer.clientSide, max ? { maxMessageBytes: max } : {});
      const p = rpc.request('list_dbs', []);
      await peer.waitSent(1);
      peer.write(bytes);
      await assert.rejects(p, (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && re.test((e as Error).message));
      assert.ok(rpc.isClosed);
    }
  });

  it('cancel: aborting sends a cancel notification with the request id and rejects with the reason', async () => {
    const peer = fakePeer();
    const rpc = new JsonRpcConnection(peer.clientSide);
    const ac = new AbortController();
    const p = rpc.request('transact', ['Open_vSwitch', { op: 'wait' }], { signal: ac.signal });
    await peer.waitSent(1);
    ac.abort(new Error('caller gave up'));
    await assert.rejects(p, /caller gave up/);
    await peer.waitSent(2);
    assert.deepEqual(peer.sent[1], { method: 'cancel', params: [1], id: null });
    // the server's late "canceled" reply is ignored
    peer.send({ id: 1, result: null, error: { error: 'canceled' } });
    await settle();
    assert.equal(rpc.pendingCount, 0);
    assert.ok(!rpc.isClosed);
    await rpc.close();
  });

  describe('keepalive on an injected clock', () => {
    it('probes an idle peer with echo and declares it dead (TIMEOUT) when it stays silent', async () => {
      const peer = fakePeer();
      const clock = new FakeClock(0, 0);
      const rpc = new JsonRpcConnection(peer.clientSide, { keepalive: { intervalMs: 1000, clock } });
      const pending = rpc.request('transact', ['Open_vSwitch']);
      const outcome = pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      await peer.waitSent(1);
      await clock.tick(1000);
      await peer.waitSent(2);
      assert.equal(peer.sent[1]?.method, 'echo');
      assert.ok(!rpc.isClosed);
      await clock.tick(1000);
      assert.ok(rpc.isClosed, 'closed after a silent interval following the probe');
      const e = await outcome;
      assert.ok(isNetloomError(e, 'TIMEOUT') && /did not answer an echo/.test(e.message), String(e));
    });

    it('stays up while the peer answers the probes', async () => {
      const peer = fakePeer();
      const clock = new FakeClock(0, 0);
      const rpc = new JsonRpcConnection(peer.clientSide, { keepalive: { intervalMs: 1000, clock } });
      for (let i = 0; i < 5; i++) {
        await clock.tick(1000);
        const probe = peer.sent.at(-1);
        assert.equal(probe?.method, 'echo', `probe ${i}`);
        peer.send({ id: probe?.id, result: probe?.params, error: null });
        await settle();
      }
      await clock.tick(1000);
      assert.ok(!rpc.isClosed);
      assert.equal(peer.sent.length, 6);
      await rpc.close();
    });

    it('sends no probe while traffic flows', async () => {
      const peer = fakePeer();
      const clock = new FakeClock(0, 0);
      const rpc = new JsonRpcConnection(peer.clientSide, { keepalive: { intervalMs: 1000, clock } });
      for (let i = 0; i < 4; i++) {
        await clock.tick(600);
        peer.send({ method: 'update', params: ['m', {}], id: null });
        await settle();
      }
      assert.equal(peer.sent.length, 0);
      assert.ok(!rpc.isClosed);
      await rpc.close();
    });
  });
});

describe('ovsdb client', () => {
  it('parses targets', () => {
    assert.deepEqual(parseTarget('unix:/run/db.sock'), { path: '/run/db.sock' });
    assert.deepEqual(parseTarget('/run/db.sock'), { path: '/run/db.sock' });
    assert.deepEqual(parseTarget('tcp:127.0.0.1:6640'), { host: '127.0.0.1', port: 6640 });
    assert.deepEqual(parseTarget('tcp:[::1]:6640'), { host: '::1', port: 6640 });
    assert.throws(
      () => parseTarget('tcp:127.0.0.1'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'target',
    );
    assert.throws(
      () => parseTarget('ssl:x:1'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('transact sends [db, ...ops] and returns per-operation results', async () => {
    const peer = fakePeer();
    const c = new OvsdbClient(peer.clientSide);
    const p = c.transact('Open_vSwitch', [insert('Bridge', { name: 'b' }), select('Bridge', [eq('name', 'b')], ['name'])] as const);
    await peer.waitSent(1);
    assert.deepEqual(peer.sent[0]?.params, [
      'Open_vSwitch',
      { op: 'insert', table: 'Bridge', row: { name: 'b' } },
      { op: 'select', table: 'Bridge', where: [['name', '==', 'b']], columns: ['name'] },
    ]);
    peer.send({ id: 1, result: [{ uuid: ['uuid', U1] }, { rows: [{ name: 'b' }] }], error: null });
    const [ins, sel] = await p;
    assert.deepEqual(ins.uuid, ['uuid', U1]);
    assert.deepEqual(sel.rows, [{ name: 'b' }]);
    await c.close();
  });

  it('maps a failing operation to an OvsdbError with its index; the commit failure to atCommit', () => {
    const ops = [insert('Bridge', { name: 'b' }), update('Bridge', [], { fail_mode: 'x' }), select('Bridge')];
    assert.throws(
      () => checkTransactResults(ops, [{ uuid: ['uuid', U1] }, { error: 'constraint violation', details: 'x is not allowed' }, null]),
      (e: unknown) => {
        assert.ok(isOvsdbError(e, 'constraint violation'));
        assert.equal(e.opIndex, 1);
        assert.equal(e.op, 'update');
        assert.equal(e.atCommit, false);
        assert.equal(e.code, 'CONFLICT');
        assert.equal(e.details?.serverDetails, 'x is not allowed');
        assert.match(e.message, /operation 1 \(update\) failed: constraint violation: x is not allowed/);
        return true;
      },
    );
    assert.throws(
      () =>
        checkTransactResults(ops, [
          { uuid: ['uuid', U1] },
          { count: 1 },
          { rows: [] },
          { error: 'referential integrity violation', details: 'd' },
        ]),
      (e: unknown) => isOvsdbError(e) && e.atCommit && e.opIndex === 3 && e.code === 'IN_USE',
    );
    assert.throws(
      () => checkTransactResults([wait('Port', [], [], '==', [], 0)], [{ error: 'timed out' }]),
      (e: unknown) => isOvsdbError(e) && e.code === 'TIMEOUT' && e.opIndex === 0,
    );
    assert.throws(
      () => checkTransactResults(ops, [{ count: 1 }]),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.throws(
      () => checkTransactResults(ops, 'nope'),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.deepEqual(checkTransactResults(ops, [{ uuid: ['uuid', U1] }, { count: 0 }, { rows: [] }]), [
      { uuid: ['uuid', U1] },
      { count: 0 },
      { rows: [] },
    ]);
  });

  it('maps every RFC 7047 error string to a stable code', () => {
    assert.equal(codeForOvsdbError('referential integrity violation'), 'IN_USE');
    assert.equal(codeForOvsdbError('resources exhausted'), 'EXHAUSTED');
    assert.equal(codeForOvsdbError('permission error'), 'PERMISSION_DENIED');
    assert.equal(codeForOvsdbError('syntax error'), 'INVALID_ARGUMENT');
    assert.equal(codeForOvsdbError('not owner'), 'CONFLICT');
    assert.equal(codeForOvsdbError('aborted'), 'COMMAND_FAILED');
    assert.equal(codeForOvsdbError('something new'), 'COMMAND_FAILED');
  });

  it('refuses an empty transaction', async () => {
    const c = new OvsdbClient(fakePeer().clientSide);
    await assert.rejects(
      c.transact('Open_vSwitch', []),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'ops',
    );
    await c.close();
  });

  it('monitor: initial rows, then update notifications as typed row changes; monitor_cancel', async () => {
    const peer = fakePeer();
    const c = new OvsdbClient(peer.clientSide);
    const p = c.monitor('Open_vSwitch', { Port: { columns: ['name'] } });
    await peer.waitSent(1);
    const [db, id, req] = peer.sent[0]?.params as [string, string, unknown];
    assert.equal(db, 'Open_vSwitch');
    assert.deepEqual(req, { Port: { columns: ['name'] } });
    // reply and a first update in the same chunk
    peer.write(
      JSON.stringify({ id: 1, result: { Port: { [U1]: { new: { name: 'p0' } } } }, error: null }) +
        JSON.stringify({
          method: 'update',
          params: [id, { Port: { 'aaaaaaaa-1111-4111-8111-111111111111': { new: { name: 'p1' } } } }],
          id: null,
        }),
    );
    const m = await p;
    assert.deepEqual(m.initial, [{ table: 'Port', uuid: U1, kind: 'initial', new: { name: 'p0' } }]);
    const seen: string[] = [];
    m.onUpdate((changes) => changes.forEach((ch) => seen.push(`${ch.kind}:${String((ch.new ?? ch.old)?.name)}`)));
    await settle();
    peer.send({ method: 'update', params: [id, { Port: { [U1]: { old: { name: 'p0' }, new: { name: 'p0b' } } } }], id: null });
    peer.send({ method: 'update', params: ['someone-else', { Port: { [U1]: { old: { name: 'zz' } } } }], id: null });
    peer.send({ method: 'update', params: [id, { Port: { [U1]: { old: { name: 'p0b' } } } }], id: null });
    await settle();
    assert.deepEqual(seen, ['modify:p0b', 'delete:p0b']);
    const cancel = m.cancel();
    await peer.waitSent(2);
    assert.deepEqual(peer.sent[1], { method: 'monitor_cancel', params: [id], id: 2 });
    peer.send({ id: 2, result: {}, error: null });
    await cancel;
    await c.close();
  });

  it('Monitor.waitFor resolves on the first matching change and times out with TIMEOUT otherwise', async () => {
    const peer = fakePeer();
    const c = new OvsdbClient(peer.clientSide);
    const p = c.monitor('Open_vSwitch', { Bridge: { columns: ['name'] } });
    await peer.waitSent(1);
    const id = (peer.sent[0]?.params as unknown[])[1];
    peer.send({ id: 1, result: {}, error: null });
    const m = await p;
    assert.deepEqual(m.initial, []);
    const hit = m.waitFor((ch) => ch.new?.name === 'b2', 2000);
    peer.send({ method: 'update', params: [id, { Bridge: { [U1]: { new: { name: 'b1' } } } }], id: null });
    peer.send({
      method: 'update',
      params: [id, { Bridge: { 'aaaaaaaa-1111-4111-8111-111111111111': { new: { name: 'b2' } } } }],
      id: null,
    });
    assert.equal((await hit).uuid, 'aaaaaaaa-1111-4111-8111-111111111111');
    await assert.rejects(
      m.waitFor(() => false, 30),
      (e: unknown) => isNetloomError(e, 'TIMEOUT'),
    );
    await c.close();
  });

  it('rowChanges classifies insert/modify/delete and refuses malformed updates', () => {
    const ch = rowChanges({ T: { a: { new: { x: 1 } }, b: { old: { x: 1 }, new: { x: 2 } }, c: { old: { x: 3 } } } }, false);
    assert.deepEqual(
      ch.map((x) => x.kind),
      ['insert', 'modify', 'delete'],
    );
    assert.throws(
      () => rowChanges({ T: { a: {} } }, false),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    assert.throws(
      () => rowChanges([], false),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
  });

  it('lock, steal and their notifications', async () => {
    const peer = fakePeer();
    const c = new OvsdbClient(peer.clientSide);
    const events: string[] = [];
    c.onLockEvent((ev, id) => events.push(`${ev}:${id}`));
    const p = c.lock('lk');
    await peer.waitSent(1);
    assert.deepEqual(peer.sent[0], { method: 'lock', params: ['lk'], id: 1 });
    peer.send({ id: 1, result: { locked: false }, error: null });
    assert.equal(await p, false);
    peer.send({ method: 'locked', params: ['lk'], id: null });
    peer.send({ method: 'stolen', params: ['lk'], id: null });
    await settle();
    assert.deepEqual(events, ['locked:lk', 'stolen:lk']);
    await c.close();
  });
});
