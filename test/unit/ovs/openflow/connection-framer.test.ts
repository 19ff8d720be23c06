import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OfFramer, OfFramingError } from '../../../../ovs/openflow/framer';
import { ofFrame } from '../../../../ovs/openflow/connection-wire';

function msg(type: number, xid: number, bodyLen: number): Buffer {
  return ofFrame(type, xid, Buffer.alloc(bodyLen, xid & 0xff));
}

describe('OfFramer', () => {
  it('splits a stream cut at arbitrary points into the original messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.integer({ min: 1, max: 29 }), len: fc.integer({ min: 0, max: 3000 }) }), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }),
        (specs, cuts) => {
          const msgs = specs.map((s, i) => msg(s.type, i + 1, s.len));
          const stream = Buffer.concat(msgs);
          const f = new OfFramer();
          const out: Buffer[] = [];
          let off = 0;
          let c = 0;
          while (off < stream.length) {
            const n = cuts[c++ % cuts.length] as number;
            out.push(...f.push(stream.subarray(off, off + n)));
            off += n;
            assert.ok(f.bufferedBytes <= 0xffff);
          }
          assert.equal(out.length, msgs.length);
          out.forEach((m, i) => assert.ok(m.equals(msgs[i] as Buffer)));
          assert.equal(f.bufferedBytes, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('returns nothing until a frame is complete, then exactly that frame', () => {
    const f = new OfFramer();
    const m = msg(14, 7, 100);
    assert.deepEqual(f.push(m.subarray(0, 5)), []);
    assert.deepEqual(f.push(m.subarray(5, 50)), []);
    assert.equal(f.bufferedBytes, 50);
    const out = f.push(m.subarray(50));
    assert.equal(out.length, 1);
    assert.ok((out[0] as Buffer).equals(m));
  });

  it('holds at most one maximum-size partial message', () => {
    const f = new OfFramer();
    const big = ofFrame(14, 1, Buffer.alloc(0xffff - 8));
    f.push(big.subarray(0, 0xffff - 1));
    assert.equal(f.bufferedBytes, 0xffff - 1);
    const out = f.push(Buffer.concat([big.subarray(0xffff - 1), big.subarray(0, 10)]));
    assert.equal(out.length, 1);
    assert.equal(f.bufferedBytes, 10);
  });

  it('rejects a length below the header size with a typed error and an offset, and stays failed', () => {
    const f = new OfFramer();
    const good = msg(2, 1, 4);
    const bad = Buffer.from([4, 2, 0, 7, 0, 0, 0, 1]);
    assert.throws(
      () => f.push(Buffer.concat([good, bad])),
      (e: unknown) => e instanceof OfFramingError && e.offset === good.length && e.code === 'DECODE_ERROR' && /length 7/.test(e.message),
    );
    assert.throws(() => f.push(good), OfFramingError);
  });

  it('rejects a version other than 1.3 except on HELLO', () => {
    const f = new OfFramer();
    const hello10 = Buffer.from([1, 0, 0, 8, 0, 0, 0, 1]);
    assert.equal(f.push(hello10).length, 1);
    const echo10 = Buffer.from([1, 2, 0, 8, 0, 0, 0, 2]);
    assert.throws(
      () => f.push(echo10),
      (e: unknown) => e instanceof OfFramingError && /version 0x01/.test(e.message) && e.offset === 8,
    );
  });
});
