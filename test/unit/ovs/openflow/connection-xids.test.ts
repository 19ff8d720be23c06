import assert from 'node:assert/strict';
import { PendingRequests, XidAllocator } from '../../../../ovs/openflow/connection-xids';
import { FakeClock } from '../../../support/fake-clock';
import { OfSwitchError } from '../../../../ovs/openflow/connection-errors';
import { OFPT, errorFrame, ofFrame } from '../../../../ovs/openflow/connection-wire';
import { isNetloomError } from '../../../../lib/errors';

function mpReply(xid: number, more: boolean, tag: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(1, 0); // OFPMP_FLOW
  body.writeUInt16BE(more ? 1 : 0, 2);
  body[7] = tag;
  return ofFrame(OFPT.MULTIPART_REPLY, xid, body);
}

describe('XidAllocator', () => {
  it('counts up, skips 0 when wrapping, and skips xids in use', () => {
    const a = new XidAllocator(0xfffffffe);
    assert.equal(a.next(), 0xffffffff);
    assert.equal(a.next(), 1);
    assert.equal(
      a.next((x) => x === 2 || x === 3),
      4,
    );
  });
});

describe('PendingRequests', () => {
  const opts = { multipart: false, timeoutMs: 1000, context: 'test' };

  it('resolves the request whose xid the reply carries, and only that one', async () => {
    const p = new PendingRequests(new FakeClock());
    const a = p.expect(10, opts);
    const b = p.expect(11, opts);
    assert.equal(p.deliver(ofFrame(OFPT.BARRIER_REPLY, 11)), true);
    assert.equal((await b)[0]?.readUInt32BE(4), 11);
    assert.equal(p.size, 1);
    assert.equal(p.deliver(ofFrame(OFPT.BARRIER_REPLY, 99)), false);
    p.deliver(ofFrame(OFPT.BARRIER_REPLY, 10));
    await a;
    assert.equal(p.size, 0);
  });

  it('rejects with the switch error, type and code named', async () => {
    const p = new PendingRequests(new FakeClock());
    const r = p.expect(5, { ...opts, context: 'FLOW_MOD' });
    p.deliver(errorFrame(5, 5, 2, Buffer.alloc(8)));
    await assert.rejects(
      r,
      (e: unknown) =>
        e instanceof OfSwitchError &&
        e.typeName === 'FLOW_MOD_FAILED' &&
        e.codeName === 'BAD_TABLE_ID' &&
        e.xid === 5 &&
        /FLOW_MOD/.test(e.message),
    );
  });

  it('collects multipart parts until the MORE flag clears', async () => {
    const p = new PendingRequests(new FakeClock());
    const r = p.expect(7, { ...opts, multipart: true });
    p.deliver(mpReply(7, true, 1));
    p.deliver(mpReply(7, true, 2));
    assert.equal(p.size, 1);
    p.deliver(mpReply(7, false, 3));
    const parts = await r;
    assert.deepEqual(
      parts.map((f) => f[15]),
      [1, 2, 3],
    );
  });

  it('times out with TIMEOUT after the deadline, and a late reply is then unsolicited', async () => {
    const t = new FakeClock();
    const p = new PendingRequests(t);
    const r = p.expect(3, opts);
    t.advance(999);
    assert.equal(p.size, 1);
    t.advance(1);
    await assert.rejects(r, (e: unknown) => isNetloomError(e, 'TIMEOUT'));
    assert.equal(p.deliver(ofFrame(OFPT.BARRIER_REPLY, 3)), false);
  });

  it('is bounded: refuses more than maxPending requests', async () => {
    const p = new PendingRequests(new FakeClock(), { maxPending: 2, maxReplyBytes: 1e6 });
    void p.expect(1, opts).catch(() => undefined);
    void p.expect(2, opts).catch(() => undefined);
    await assert.rejects(p.expect(3, opts), (e: unknown) => isNetloomError(e, 'EXHAUSTED'));
    await assert.rejects(p.expect(1, opts), (e: unknown) => isNetloomError(e, 'CONFLICT'));
  });

  it('fails every waiting request when the connection closes', async () => {
    const t = new FakeClock();
    const p = new PendingRequests(t);
    const rs = [p.expect(1, opts), p.expect(2, opts)];
    p.failAll(new Error('gone'));
    for (const r of rs) await assert.rejects(r, /gone/);
    assert.equal(t.pending, 0);
  });
});
