/** Unit tests of the JSON-RPC stream splitter: split and merged chunks, garbage, oversize. */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { isNetloomError } from '../../../../lib/errors';
import { JsonStreamSplitter } from '../../../../ovs/ovsdb/framing';

function feedAll(s: JsonStreamSplitter, chunks: Buffer[]): unknown[] {
  return chunks.flatMap((c) => s.push(c));
}

describe('ovsdb framing (JsonStreamSplitter)', () => {
  it('returns one value per complete object, several from one merged chunk', () => {
    const s = new JsonStreamSplitter();
    const out = s.push(Buffer.from('{"id":1,"result":[]}{"id":2,"result":{"a":[1,2]}}  \n{"method":"echo","params":[],"id":"echo"}'));
    assert.deepEqual(out, [
      { id: 1, result: [] },
      { id: 2, result: { a: [1, 2] } },
      { method: 'echo', params: [], id: 'echo' },
    ]);
    assert.equal(s.pendingBytes, 0);
  });

  it('reassembles a value split byte by byte, with brackets, quotes and escapes inside strings', () => {
    const msg = { id: 7, result: { s: 'a } ] { [ " \\ \\" end', n: null, u: 'héllo €𝄞' } };
    const bytes = Buffer.from(JSON.stringify(msg) + JSON.stringify({ id: 8 }));
    const s = new JsonStreamSplitter();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i++) {
      out.push(...s.push(bytes.subarray(i, i + 1)));
      if (i < bytes.length - JSON.stringify({ id: 8 }).length - 1) assert.equal(out.length, 0, `no value before byte ${i}`);
    }
    assert.deepEqual(out, [msg, { id: 8 }]);
  });

  it('keeps a multi-byte UTF-8 character split between chunks intact', () => {
    const bytes = Buffer.from('{"x":"€"}');
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte euro sign
    const s = new JsonStreamSplitter();
    assert.deepEqual(s.push(bytes.subarray(0, cut)), []);
    assert.deepEqual(s.push(bytes.subarray(cut)), [{ x: '€' }]);
  });

  it('does not keep a reference to the caller buffer of an incomplete value', () => {
    const s = new JsonStreamSplitter();
    const buf = Buffer.from('{"a":"bc');
    s.push(buf);
    buf.fill(0x20);
    assert.deepEqual(s.push(Buffer.from('d"}')), [{ a: 'bcd' }]);
  });

  it('any split of a stream of random objects yields the same values (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (values, cuts) => {
          const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(prev, p));
            prev = p;
          }
          const out = feedAll(new JsonStreamSplitter(), chunks);
          assert.deepEqual(out, JSON.parse(JSON.stringify(values)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects garbage between messages with DECODE_ERROR, and stays failed', () => {
    const s = new JsonStreamSplitter();
    assert.deepEqual(s.push(Buffer.from('{"id":1}')), [{ id: 1 }]);
    assert.throws(
      () => s.push(Buffer.from('HTTP/1.1 400')),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /unexpected byte 0x48/.test((e as Error).message),
    );
    assert.throws(
      () => s.push(Buffer.from('{"id":2}')),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
  });

  it('rejects a bare scalar at top level (JSON-RPC messages are objects)', () => {
    assert.throws(
      () => new JsonStreamSplitter().push(Buffer.from('42')),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
  });

  it('rejects invalid JSON inside balanced brackets', () => {
    assert.throws(
      () => new JsonStreamSplitter().push(Buffer.from('{"a":1,}')),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /invalid JSON/.test((e as Error).message),
    );
  });

  it('fails an oversize value, whether complete in one chunk or growing over several', () => {
    const big = Buffer.from(JSON.stringify({ s: 'x'.repeat(200) }));
    assert.throws(
      () => new JsonStreamSplitter({ maxMessageBytes: 100 }).push(big),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /exceeds 100 bytes/.test((e as Error).message),
    );
    const s = new JsonStreamSplitter({ maxMessageBytes: 100 });
    s.push(Buffer.from('{"s":"'));
    for (let i = 0; i < 9; i++) s.push(Buffer.from('x'.repeat(10)));
    assert.ok(s.pendingBytes <= 100);
    assert.throws(
      () => s.push(Buffer.from('x'.repeat(10))),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR'),
    );
    // a value of exactly the limit is fine
    const exact = Buffer.from(JSON.stringify({ s: 'y'.repeat(92) }));
    assert.equal(exact.length, 100);
    assert.equal(new JsonStreamSplitter({ maxMessageBytes: 100 }).push(exact).length, 1);
  });

  it('end() reports a value cut off by the end of the stream', () => {
    const s = new JsonStreamSplitter();
    s.push(Buffer.from('{"id":1}{"id":'));
    assert.throws(
      () => s.end(),
      (e: unknown) => isNetloomError(e, 'DECODE_ERROR') && /ended inside/.test((e as Error).message),
    );
    const ok = new JsonStreamSplitter();
    ok.push(Buffer.from('{"id":1}\n'));
    ok.end();
  });

  it('rejects a silly maxMessageBytes with the field named', () => {
    assert.throws(
      () => new JsonStreamSplitter({ maxMessageBytes: 0 }),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'maxMessageBytes',
    );
  });
});
