/**
 * Mutation fuzz of the OpenFlow decoder from the stored corpus (the bytes ovs-ofctl sent for
 * test/fixtures/openflow/*.golden.hex), and from messages built around it: flow stats replies,
 * flow_removed and packet_in with the corpus's matches, packet_out with its actions, bundle_add and
 * error messages wrapping corpus messages, group and meter descriptions. Where
 * codec-property.test.ts corrupts generated messages a little, this one stacks mutations that aim
 * at the framing: inner length fields set to edge values, ranges deleted, duplicated or inserted,
 * splices of two messages, the header length fixed up or left lying.
 *
 * Asserts for every mutated message: decode returns or throws OfDecodeError (code DECODE_ERROR,
 * integer offset), nothing else; no decode takes 50 ms or more (issue 13 measured 12 ms at worst
 * over 2.2 million; a decode measured slower is timed again, best of three, so that a GC pause
 * during it does not count); a decoded message re-encodes (or the encoder refuses it with a NetloomError)
 * and decoding that again gives the same message. The unmutated seeds re-encode byte for byte, as
 * CODEC.md promises for what OVS sends.
 *
 * NETLOOM_FUZZ_OPENFLOW_MESSAGES sets the number of mutated messages (default 20,000, ~2 s).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { isNetloomError } from '../../../../lib/errors';
import { decodeMessage, encodeMessage, OfDecodeError } from '../../../../ovs/openflow/codec';
import type { Action, FlowMod, GroupMod, MeterMod, OfMessage } from '../../../../ovs/openflow/messages';

const MESSAGES = Number(process.env.NETLOOM_FUZZ_OPENFLOW_MESSAGES ?? 20_000);
/** The bound per decode; generous against the 12 ms measured, so that a slow CI machine does not flake. */
const DECODE_BOUND_MS = 50;
const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures/openflow');

function corpus(): Buffer[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.golden.hex'))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(FIXTURES, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#'))
        .map((l) => Buffer.from(l.trim(), 'hex')),
    );
}

/** Messages of other types, built from the corpus's matches, actions, buckets and bands. */
function derived(decoded: OfMessage[]): OfMessage[] {
  const flows = decoded.filter((m): m is FlowMod => m.type === 'flow_mod');
  const groups = decoded.filter((m): m is GroupMod => m.type === 'group_mod');
  const meters = decoded.filter((m): m is MeterMod => m.type === 'meter_mod');
  const out: OfMessage[] = [
    { type: 'hello', xid: 1, versions: [1, 4] },
    { type: 'echo_request', xid: 2, data: Buffer.from('ping') },
    { type: 'features_reply', xid: 3, datapathId: 0xfedcba9876543210n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f },
    { type: 'role_reply', xid: 4, role: 'master', generationId: 7n },
    { type: 'bundle_control', xid: 5, bundleId: 9, ctrlType: 'open_request', flags: 3, properties: Buffer.alloc(0) },
    {
      type: 'multipart_reply',
      xid: 6,
      flags: 0,
      body: { kind: 'desc', mfrDesc: 'a', hwDesc: 'b', swDesc: 'c', serialNum: 'd', dpDesc: 'e' },
    },
    { type: 'multipart_reply', xid: 7, flags: 0, body: { kind: 'aggregate', packetCount: 1n, byteCount: 2n, flowCount: 3 } },
  ];
  flows.forEach((f, i) => {
    if (i % 3 === 0) {
      const entries = flows.slice(i, i + 3).map((g) => ({
        tableId: g.tableId,
        durationSec: 1,
        durationNsec: 2,
        priority: g.priority,
        idleTimeout: g.idleTimeout,
        hardTimeout: g.hardTimeout,
        flags: g.flags,
        cookie: g.cookie,
        packetCount: 3n,
        byteCount: 4n,
        match: g.match,
        instructions: g.instructions,
      }));
      out.push({ type: 'multipart_reply', xid: 10 + i, flags: 0, body: { kind: 'flow', entries } });
    }
    if (i % 4 === 1) {
      out.push({
        type: 'flow_removed',
        xid: 10 + i,
        cookie: f.cookie,
        priority: f.priority,
        reason: 0,
        tableId: f.tableId,
        durationSec: 5,
        durationNsec: 6,
        idleTimeout: f.idleTimeout,
        hardTimeout: f.hardTimeout,
        packetCount: 7n,
        byteCount: 8n,
        match: f.match,
      });
      out.push({ type: 'bundle_add', xid: 10 + i, bundleId: 1, flags: 0, message: { ...f, xid: 10 + i }, properties: Buffer.alloc(0) });
    }
    if (i % 4 === 2) {
      const data = Buffer.alloc(60, 0xab);
      out.push({
        type: 'packet_in',
        xid: 10 + i,
        bufferId: 0xffffffff,
        totalLen: 60,
        reason: 1,
        tableId: 0,
        cookie: f.cookie,
        match: f.match,
        data,
      });
      const actions: Action[] = f.instructions.flatMap((ins) => (ins.type === 'apply_actions' ? ins.actions : []));
      out.push({ type: 'packet_out', xid: 10 + i, bufferId: 0xffffffff, inPort: 0xfffffffd, actions, data });
    }
    if (i % 4 === 3) {
      const bytes = encodeMessage(f);
      out.push({ type: 'error', xid: 10 + i, errType: 4, code: 2, data: bytes.subarray(0, Math.min(bytes.length, 64)) });
    }
  });
  out.push({
    type: 'multipart_reply',
    xid: 8,
    flags: 0,
    body: { kind: 'group_desc', entries: groups.map((g) => ({ groupType: g.groupType, groupId: g.groupId, buckets: g.buckets })) },
  });
  out.push({
    type: 'multipart_reply',
    xid: 9,
    flags: 0,
    body: { kind: 'meter_config', entries: meters.map((m) => ({ flags: m.flags, meterId: m.meterId, bands: m.bands })) },
  });
  return out;
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'u16'; at: number; value: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; other: number; at: number };

const INTERESTING_U16 = [0, 1, 2, 4, 7, 8, 15, 16, 17, 24, 0x7fff, 0x8000, 0xfff8, 0xffff];
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff) }),
  // even offsets: OpenFlow's length fields are 16-bit and aligned
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING_U16), fc.nat(0xffff)) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), other: fc.nat(), at: fc.nat() }),
);

/** Mutations leave the 8-byte header's version and type alone unless they hit it on purpose (at < 8 happens too). */
function mutate(seed: Buffer, ms: Mutation[], seeds: Buffer[], fixLength: boolean): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'byte':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'u16': {
        const even = at & ~1;
        if (even + 2 <= b.length) b.writeUInt16BE(m.value, even);
        break;
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'splice': {
        const other = seeds[m.other % seeds.length]!;
        b = Buffer.concat([b.subarray(0, at), other.subarray(m.at % Math.max(1, other.length))]);
        break;
      }
    }
  }
  if (fixLength && b.length >= 4) b.writeUInt16BE(Math.min(b.length, 0xffff), 2);
  return b;
}

/** The fastest of three decodes of `input`: a GC pause or the JIT during one decode is not the decoder's time. */
function bestOfThree(input: Buffer): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    try {
      decodeMessage(input);
    } catch {
      // what it throws is checked by the caller
    }
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Fails when decoding `input` takes the bound or more, measured again when one decode was slow. */
function assertQuick(input: Buffer, ms: number): void {
  if (ms < DECODE_BOUND_MS) return;
  const again = bestOfThree(input);
  assert.ok(again < DECODE_BOUND_MS, `decode took ${ms.toFixed(1)} ms, ${again.toFixed(1)} ms at best of three: ${input.toString('hex')}`);
}

const isTypedDecodeError = (e: unknown): boolean => e instanceof OfDecodeError && e.code === 'DECODE_ERROR' && Number.isInteger(e.offset);

/**
 * Drop what decoding reports but encoding does not write: an error message's names and correlation,
 * and the header version of a received hello (we always send 4).
 */
function comparable(m: OfMessage): unknown {
  if (m.type === 'bundle_add') return { ...m, message: comparable(m.message) };
  if (m.type === 'hello') {
    const { version: _v, ...rest } = m;
    return rest;
  }
  if (m.type !== 'error') return m;
  const { typeName: _t, codeName: _c, failedRequest: _f, ...rest } = m;
  return rest;
}

describe('openflow decoder mutation fuzz (corpus and derived messages)', function () {
  this.timeout(Math.max(60_000, MESSAGES * 5));
  const raw = corpus();
  const seeds = [...raw, ...derived(raw.map((b) => decodeMessage(b))).map((m) => encodeMessage(m))];

  it('the seeds decode and re-encode byte for byte', () => {
    assert.ok(raw.length >= 800, `corpus has ${raw.length} messages`);
    const types = new Set<string>();
    for (const s of seeds) {
      const m = decodeMessage(s);
      types.add(m.type);
      assert.ok(encodeMessage(m).equals(s), `${m.type} ${s.toString('hex')}`);
    }
    assert.ok(types.size >= 14, `seed types: ${[...types].join(', ')}`);
  });

  it('every mutated message decodes or fails with OfDecodeError, quickly, and a decoded one re-encodes stably', () => {
    const stats = {
      decoded: 0,
      typedErrors: 0,
      reencoded: 0,
      sameBytes: 0,
      encoderRefused: 0,
      slowestMs: 0,
      slowest: Buffer.alloc(0),
    };
    const started = performance.now();
    fc.assert(
      fc.property(fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (seedIndex, mutations, fixLength) => {
        const input = mutate(seeds[seedIndex % seeds.length]!, mutations, seeds, fixLength);
        const t0 = performance.now();
        let m: OfMessage;
        try {
          m = decodeMessage(input);
        } catch (e) {
          const ms = performance.now() - t0;
          if (ms > stats.slowestMs) Object.assign(stats, { slowestMs: ms, slowest: input });
          assertQuick(input, ms);
          if (!isTypedDecodeError(e)) assert.fail(`decode threw ${String(e)} for ${input.toString('hex')}`);
          stats.typedErrors++;
          return;
        }
        const ms = performance.now() - t0;
        if (ms > stats.slowestMs) Object.assign(stats, { slowestMs: ms, slowest: input });
        assertQuick(input, ms);
        stats.decoded++;
        let again: Buffer;
        try {
          again = encodeMessage(m);
        } catch (e) {
          // the encoder checks what the decoder only reads (prerequisites, ranges): a typed refusal is fine
          assert.ok(isNetloomError(e), `encode of a decoded message threw ${String(e)} for ${input.toString('hex')}`);
          stats.encoderRefused++;
          return;
        }
        stats.reencoded++;
        if (again.equals(input)) stats.sameBytes++;
        assert.deepStrictEqual(comparable(decodeMessage(again)), comparable(m), `decode(encode(m)) differs for ${input.toString('hex')}`);
      }),
      { numRuns: MESSAGES },
    );
    const s = ((performance.now() - started) / 1000).toFixed(1);
    // a slow single decode is usually the JIT or a GC pause: time the slowest input again, alone
    const retimed = bestOfThree(stats.slowest);
    process.stdout.write(
      `      ${MESSAGES} mutated messages in ${s} s: ${stats.typedErrors} OfDecodeError, ${stats.decoded} decoded ` +
        `(${stats.reencoded} re-encoded, ${stats.sameBytes} to the same bytes, ${stats.encoderRefused} refused by the encoder); ` +
        `slowest decode ${stats.slowestMs.toFixed(2)} ms (${stats.slowest.length} bytes; ${retimed.toFixed(2)} ms at best of three)\n`,
    );
    assert.ok(stats.decoded > 0 && stats.typedErrors > 0, 'the mutations produce both decodable and undecodable messages');
  });

  // Found by this fuzz (1 in ~125,000 mutated messages): a learn spec whose dst names an unknown
  // experimenter field (header 0xffff0048 + experimenter id 0x00002320). Decoding kept only the
  // header, so the message re-encoded 4 bytes short; such a reference is now refused.
  it('a field reference to an unknown experimenter field is a typed decode error, not a reference that cannot be written back', () => {
    const input = Buffer.from(
      '040400e0000003274f4e4600000008fd0000000100000000040e009000000327000000000000000000000000000000000000000000000455ffffff' +
        'ffffffffffffffffff000000000001000a80000a0208000000000000000004005000000000ffff0048000023200010ffff000000000001000a80' +
        '000a0208000000000000000004005000000000ffff0048000023200010000000000000ffff0048000023200010000000008000000000000000000' +
        '0000028000000000020100800000006020000002000000e04000000000e04000028100005000102040000000000000000',
      'hex',
    );
    assert.throws(
      () => decodeMessage(input),
      (e: unknown) => isTypedDecodeError(e) && /unknown experimenter field 0xffff0048 of experimenter 0x2320/.test((e as Error).message),
    );
  });
});
