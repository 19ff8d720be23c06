import assert from 'node:assert/strict';
import { ReconnectingSwitch } from '../../../../ovs/openflow/connection-dial';
import { FakeClock } from '../../../support/fake-clock';
import { NetloomError, isNetloomError } from '../../../../lib/errors';
import { FakeSwitch, FakeTransport, featuresReply, settle } from './connection-fakes';

describe('ReconnectingSwitch', () => {
  it('retries with exponential backoff until the switch answers, then handshakes', async () => {
    const clock = new FakeClock();
    const attempts: number[] = [];
    const retries: number[] = [];
    let up = false;
    const transports: FakeTransport[] = [];
    const sw = new ReconnectingSwitch('unix:/nonexistent/br0.mgmt', {
      clock,
      outbound: { schedule: (fn) => fn() },
      backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 },
      onRetry: (r) => retries.push(r.retryInMs),
      connect: async () => {
        attempts.push(clock.now());
        if (!up) throw new NetloomError('UNAVAILABLE', 'connection refused');
        const t = new FakeTransport();
        new FakeSwitch(t);
        transports.push(t);
        return t;
      },
    });
    const connected: string[] = [];
    sw.on('connected', (f) => connected.push(f.datapathId));
    const first = sw.start({ timeoutMs: 60_000 });
    for (const ms of [100, 200, 400, 800, 1000]) {
      await settle();
      clock.advance(ms);
    }
    up = true;
    await settle();
    clock.advance(1000);
    await settle();
    await first;
    assert.deepEqual(retries, [100, 200, 400, 800, 1000]);
    const start = attempts[0] as number;
    assert.deepEqual(
      attempts.map((a) => a - start),
      [0, 100, 300, 700, 1500, 2500],
    );
    assert.equal(connected.length, 1);
    assert.equal(sw.connects, 1);
    sw.close();
  });

  it('reconnects after the switch goes away, emits disconnected then connected, and serves requests again', async () => {
    const clock = new FakeClock();
    const transports: FakeTransport[] = [];
    const sw = new ReconnectingSwitch('tcp:127.0.0.1:1', {
      clock,
      outbound: { schedule: (fn) => fn() },
      backoff: { initialMs: 50, maxMs: 50, factor: 1, jitter: 0 },
      connect: async () => {
        const t = new FakeTransport();
        new FakeSwitch(t);
        transports.push(t);
        return t;
      },
    });
    const events: string[] = [];
    sw.on('connected', () => events.push('connected'));
    sw.on('disconnected', (d) => events.push(`disconnected: ${d.reason}`));
    await sw.start();
    await sw.barrier();
    clock.advance(5000); // it was up a while: reconnect at once
    (transports[0] as FakeTransport).peerCloses();
    await assert.rejects(sw.barrier(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    const again = sw.waitConnected(10_000);
    await settle();
    await again;
    assert.equal(sw.connects, 2);
    assert.deepEqual(events, ['connected', 'disconnected: transport closed by peer', 'connected']);
    const r = await sw.barrier();
    assert.deepEqual(r.errors, []);
    sw.close();
    await settle();
    assert.equal(transports.length, 2, 'no reconnect after close()');
  });

  it('backs off from a switch that accepts and then drops the connection at once, again and again', async () => {
    const clock = new FakeClock();
    const retries: number[] = [];
    let connects = 0;
    const sw = new ReconnectingSwitch('tcp:127.0.0.1:1', {
      clock,
      outbound: { schedule: (fn) => fn() },
      backoff: { initialMs: 100, maxMs: 800, factor: 2, jitter: 0 },
      onRetry: (r) => retries.push(r.retryInMs),
      connect: async () => {
        connects++;
        const t = new FakeTransport();
        const fs = new FakeSwitch(t);
        // drop the connection right after the handshake
        fs.responders.push((f, send) => {
          if (f[1] !== 5) return false;
          send(featuresReply(f.readUInt32BE(4)));
          setImmediate(() => t.peerCloses());
          return true;
        });
        return t;
      },
    });
    void sw.start().catch(() => undefined);
    for (let i = 0; i < 6; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    sw.close();
    assert.ok(connects >= 4, `${connects} connects`);
    assert.deepEqual(retries.slice(0, 4), [100, 200, 400, 800]);
  });

  it('close() fails whoever waits for a connection, at once', async () => {
    const clock = new FakeClock();
    const sw = new ReconnectingSwitch('tcp:127.0.0.1:1', {
      clock,
      connect: async () => {
        throw new NetloomError('UNAVAILABLE', 'refused');
      },
    });
    const first = sw.start({ timeoutMs: 60_000 });
    await settle();
    sw.close('test over');
    await assert.rejects(first, (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /test over/.test(e.message));
    await assert.rejects(sw.waitConnected(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
  });
});
