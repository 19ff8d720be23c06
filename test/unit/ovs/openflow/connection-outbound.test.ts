import assert from 'node:assert/strict';
import { OutboundQueue } from '../../../../ovs/openflow/transport';
import { isNetloomError } from '../../../../lib/errors';
import { FakeTransport } from './connection-fakes';

describe('OutboundQueue', () => {
  function setup(): { t: FakeTransport; q: OutboundQueue; runFlush: () => void } {
    const t = new FakeTransport();
    let pending: (() => void) | undefined;
    const q = new OutboundQueue(t, {
      highWaterBytes: 1000,
      maxQueuedBytes: 3000,
      maxWriteBytes: 400,
      yieldBytes: 200,
      schedule: (fn) => {
        pending = fn;
      },
    });
    return {
      t,
      q,
      runFlush: () => {
        const f = pending;
        pending = undefined;
        f?.();
      },
    };
  }

  it('resolves at once below yieldBytes, after the next flush above it, after draining above high water', async () => {
    const { t, q, runFlush } = setup();
    const state: string[] = [];
    void q.push(Buffer.alloc(100)).then(() => state.push('a'));
    void q.push(Buffer.alloc(150)).then(() => state.push('b')); // 250 > yieldBytes
    await Promise.resolve();
    assert.deepEqual(state, ['a']);
    runFlush();
    await Promise.resolve();
    assert.deepEqual(state, ['a', 'b']);
    assert.equal(t.writtenBytes, 250);
    assert.equal(t.written.length, 1, 'coalesced into one write');
  });

  it('stops writing while the transport is full, and makes senders wait until half the high-water mark', async () => {
    const { t, q, runFlush } = setup();
    t.full = true;
    void q.push(Buffer.alloc(100));
    runFlush(); // first write: transport reports full
    let done = false;
    for (let i = 0; i < 11; i++) void q.push(Buffer.alloc(100));
    void q.push(Buffer.alloc(100)).then(() => (done = true)); // 1200 queued: above high water
    runFlush();
    await Promise.resolve();
    assert.equal(t.written.length, 1, 'nothing written while full');
    assert.equal(q.queuedBytes, 1200);
    assert.equal(done, false);
    t.drain(); // writes 400-byte batches until the fake is "full" again (it stays writable now)
    await Promise.resolve();
    assert.equal(q.queuedBytes, 0);
    assert.equal(done, true);
    assert.ok(t.written.slice(1).every((b) => b.length <= 400));
  });

  it('refuses past the hard limit and after close', () => {
    const { q } = setup();
    for (let i = 0; i < 30; i++) void q.push(Buffer.alloc(100)).catch(() => undefined);
    assert.throws(
      () => q.push(Buffer.alloc(1)),
      (e: unknown) => isNetloomError(e, 'EXHAUSTED'),
    );
    q.close(new Error('closed'));
    assert.equal(q.queuedBytes, 0);
    assert.throws(() => q.push(Buffer.alloc(1)), /closed/);
  });
});
