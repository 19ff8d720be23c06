/**
 * The action codec registry: one codec per wire form, every kind encodable, and every registered
 * wire form round-trips (encode, decode, encode again gives the same action and the same bytes).
 */
import assert from 'node:assert/strict';
import { NXAST, OFPAT, wireKey, type ActionCodec, type ActionKind } from '../../../../ovs/openflow/action-codec';
import { ACTION_CODECS, CODECS_BY_KIND, indexByWire } from '../../../../ovs/openflow/action-registry';
import { readAction, writeAction } from '../../../../ovs/openflow/actions';
import { NX_VENDOR_ID, type Action } from '../../../../ovs/openflow/messages';
import { Reader, Writer } from '../../../../ovs/openflow/wire';

const reg = (field: 'reg0' | 'reg1', ofs: number, nBits: number) => ({ field, ofs, nBits });

/** One action per wire form (the test below fails when a codec has none here). */
const SAMPLES: Action[] = [
  { type: 'output', port: 1, maxLen: 0 },
  { type: 'group', groupId: 7 },
  { type: 'set_queue', queueId: 3 },
  { type: 'push_vlan', ethertype: 0x8100 },
  { type: 'push_mpls', ethertype: 0x8847 },
  { type: 'pop_mpls', ethertype: 0x0800 },
  { type: 'pop_vlan' },
  { type: 'dec_nw_ttl' },
  { type: 'copy_ttl_out' },
  { type: 'copy_ttl_in' },
  { type: 'dec_mpls_ttl' },
  { type: 'set_nw_ttl', ttl: 64 },
  { type: 'set_mpls_ttl', ttl: 9 },
  { type: 'set_field', field: { field: 'eth_dst', value: '00:11:22:33:44:55' } },
  { type: 'resubmit', inPort: 0xfffffff8, table: 0xff, legacy: true },
  { type: 'resubmit', inPort: 5, table: 3 },
  { type: 'conjunction', id: 5, clause: 0, nClauses: 2 },
  {
    type: 'ct',
    flags: 1,
    zoneSrc: reg('reg0', 0, 16),
    zoneImm: 0,
    recircTable: 2,
    alg: 0,
    actions: [{ type: 'nat', flags: 1, ipMin: '10.0.0.1', ipMax: '10.0.0.9', portMin: 1000, portMax: 2000 }],
  },
  { type: 'nat', flags: 2, ipMin: 'fd00::1' },
  { type: 'reg_load', dst: reg('reg0', 0, 16), value: 5n },
  { type: 'reg_load2', field: { field: 'reg1', value: 1, mask: 0xff } },
  { type: 'reg_move', src: reg('reg0', 0, 16), dst: reg('reg1', 16, 16) },
  {
    type: 'learn',
    idleTimeout: 10,
    hardTimeout: 0,
    priority: 100,
    cookie: 0x1234n,
    flags: 0,
    tableId: 4,
    finIdleTimeout: 0,
    finHardTimeout: 0,
    specs: [
      { nBits: 16, src: { kind: 'field', ref: reg('reg0', 0, 16) }, dst: { kind: 'match', ref: reg('reg1', 0, 16) } },
      { nBits: 16, src: { kind: 'imm', value: 7n }, dst: { kind: 'load', ref: reg('reg0', 16, 16) } },
      { nBits: 16, src: { kind: 'field', ref: reg('reg1', 0, 16) }, dst: { kind: 'output' } },
    ],
  },
  { type: 'note', data: Buffer.from([1, 2, 3, 4, 5, 6]) },
  { type: 'controller', maxLen: 128, controllerId: 0, reason: 1 },
  { type: 'controller', maxLen: 0xffff, controllerId: 2, reason: 1, userdata: Buffer.from([1, 2, 3]), pause: true, meterId: 9 },
  { type: 'output_reg', src: reg('reg0', 0, 16), maxLen: 0 },
  { type: 'output_trunc', port: 2, maxLen: 100 },
  { type: 'fin_timeout', idleTimeout: 10, hardTimeout: 20 },
  { type: 'ct_clear' },
  { type: 'clone', actions: [{ type: 'output', port: 2, maxLen: 0 }] },
  { type: 'exit' },
  { type: 'dec_ttl_ids', ids: [1, 2] },
];

function encode(a: Action): Buffer {
  const w = new Writer(64);
  writeAction(w, a);
  return w.finish();
}

/** The wire form the action's bytes name (type, or experimenter id and subtype). */
function wireOf(bytes: Buffer): string {
  const type = bytes.readUInt16BE(0);
  if (type !== OFPAT.EXPERIMENTER) return wireKey({ ofpat: type });
  return wireKey({ experimenter: bytes.readUInt32BE(4), subtype: bytes.readUInt16BE(8) });
}

describe('openflow action codec registry', () => {
  it('has one codec per wire form', () => {
    const keys = ACTION_CODECS.map((c) => wireKey(c.wire));
    assert.equal(new Set(keys).size, keys.length, `duplicate wire forms in ${keys.join(', ')}`);
    assert.equal(indexByWire(ACTION_CODECS).size, ACTION_CODECS.length);
  });

  it('refuses two codecs for one wire form', () => {
    const a = ACTION_CODECS.find((c) => c.kind === 'exit')!;
    const twin: ActionCodec = { ...ACTION_CODECS.find((c) => c.kind === 'ct_clear')!, wire: a.wire };
    assert.throws(() => indexByWire([a, twin]), /'exit' and 'ct_clear' both claim experimenter:8992:17/);
    assert.throws(() => indexByWire([ACTION_CODECS[0]!, ACTION_CODECS[0]!]), /both claim ofpat:0/);
  });

  it('gives every kind a last wire form that takes any action of that kind (so encoding always finds one)', () => {
    for (const [kind, forms] of Object.entries(CODECS_BY_KIND) as [ActionKind, readonly ActionCodec[]][]) {
      assert.ok(forms.length > 0, kind);
      for (const f of forms) assert.equal(f.kind, kind);
      assert.equal(forms[forms.length - 1]!.accepts, undefined, `${kind}: the last form must accept everything`);
    }
  });

  it('round-trips every registered wire form: encode, decode, encode again', () => {
    const seen = new Set<string>();
    for (const a of SAMPLES) {
      const bytes = encode(a);
      assert.equal(bytes.length % 8, 0, `${a.type}: length ${bytes.length} is not a multiple of 8`);
      assert.equal(bytes.readUInt16BE(2), bytes.length, `${a.type}: length field`);
      const r = new Reader(bytes);
      const back = readAction(r);
      assert.equal(r.remaining, 0, `${a.type}: bytes left over`);
      assert.deepEqual(back, a, `${a.type} (${wireOf(bytes)})`);
      assert.deepEqual(encode(back), bytes, `${a.type}: re-encoding`);
      seen.add(wireOf(bytes));
    }
    const missing = ACTION_CODECS.filter((c) => !seen.has(wireKey(c.wire))).map((c) => `${c.kind} (${wireKey(c.wire)})`);
    assert.deepEqual(missing, [], 'codecs without a sample');
    assert.ok(seen.has(wireKey({ experimenter: NX_VENDOR_ID, subtype: NXAST.RESUBMIT })));
  });

  it('keeps an action no codec decodes as raw bytes that re-encode identically', () => {
    const unknown = Buffer.from('ffff0010000023200063000000000000', 'hex'); // Nicira subtype 99
    const other = Buffer.from('ffff000800001234', 'hex'); // another experimenter, no subtype
    for (const bytes of [unknown, other]) {
      const a = readAction(new Reader(bytes));
      assert.equal(a.type, 'raw');
      assert.deepEqual(encode(a), bytes);
    }
  });
});
