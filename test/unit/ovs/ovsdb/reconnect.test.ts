/** Unit tests of ReconnectingOvsdb with an injected connector (fake peers) and a fake clock. */
import { strict as assert } from 'node:assert';
import { isNetloomError, NetloomError } from '../../../../lib/errors';
import { OvsdbClient } from '../../../../ovs/ovsdb/client';
import { ConnectionState, ReconnectingOvsdb } from '../../../../ovs/ovsdb/reconnect';
import { FakePeer, fakePeer, settle } from './fake-peer';
import { FakeClock } from '../../../support/fake-clock';

describe('ovsdb ReconnectingOvsdb', () => {
  it('retries with exponential backoff, runs onConnect, and reconnects after the connection drops', async () => {
    const clock = new FakeClock(0, 0);
    const peers: FakePeer[] = [];
    let failuresLeft = 3;
    const attempts: number[] = [];
    const states: ConnectionState[] = [];
    const onConnectCalls: OvsdbClient[] = [];
    const rc = new ReconnectingOvsdb('/nowhere.sock', {
      clock,
      minBackoffMs: 100,
      maxBackoffMs: 300,
      connector: async () => {
        attempts.push(clock.monotonic());
        if (failuresLeft-- > 0) throw new NetloomError('UNAVAILABLE', 'refused');
        const p = fakePeer();
        peers.push(p);
        return new OvsdbClient(p.clientSide);
      },
      onConnect: async (c) => {
        onConnectCalls.push(c);
      },
    });
    rc.onState((s) => states.push(s));
    const ready = rc.ready();
    await settle();
    // failures at t=0, then backoff 100, 200, 300 (capped)
    await clock.tick(100);
    await clock.tick(200);
    await clock.tick(300);
    const c1 = await ready;
    assert.deepEqual(attempts, [0, 100, 300, 600]);
    assert.equal(onConnectCalls.length, 1);
    assert.equal(onConnectCalls[0], c1);
    assert.equal(rc.current, c1);
    assert.equal(rc.connectionCount, 1);

    // the server drops the connection: a pending request fails, a new connection follows
    const pending = c1.listDbs();
    await peers[0]?.waitSent(1);
    peers[0]?.end();
    await assert.rejects(pending, (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    await settle();
    assert.equal(rc.current, undefined);
    const next = rc.ready();
    await clock.tick(100);
    const c2 = await next;
    assert.notEqual(c2, c1);
    assert.equal(onConnectCalls.length, 2);
    assert.equal(rc.connectionCount, 2);
    assert.deepEqual(states.filter((s) => s === 'connected').length, 2);
    assert.ok(states.includes('disconnected'));

    await rc.stop();
    assert.ok(c2.isClosed);
    await assert.rejects(rc.ready(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    assert.equal(states.at(-1), 'stopped');
  });

  it('a failing onConnect drops that connection and retries', async () => {
    const clock = new FakeClock(0, 0);
    let n = 0;
    const clients: OvsdbClient[] = [];
    const rc = new ReconnectingOvsdb('/nowhere.sock', {
      clock,
      minBackoffMs: 50,
      connector: async () => {
        const c = new OvsdbClient(fakePeer().clientSide);
        clients.push(c);
        return c;
      },
      onConnect: async () => {
        if (n++ === 0) throw new Error('monitor setup failed');
      },
    });
    const ready = rc.ready();
    await settle();
    await clock.tick(50);
    const c = await ready;
    assert.equal(clients.length, 2);
    assert.ok(clients[0]?.isClosed, 'the first connection was closed');
    assert.equal(c, clients[1]);
    await rc.stop();
  });

  it('stop() rejects callers still waiting for a connection', async () => {
    const clock = new FakeClock(0, 0);
    const rc = new ReconnectingOvsdb('/nowhere.sock', {
      clock,
      connector: async () => {
        throw new NetloomError('UNAVAILABLE', 'refused');
      },
    });
    const ready = rc.ready();
    const outcome = ready.then(
      () => 'connected',
      (e: unknown) => e,
    );
    await settle();
    await rc.stop();
    assert.ok(isNetloomError(await outcome, 'UNAVAILABLE'));
  });
});
