/**
 * Unit tests of the OpenFlow codec's connection-level messages (hello, echo, features, barrier,
 * error, bundle control/add) against hand-checked OpenFlow 1.3 bytes.
 */
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, errorFor, errorNames, OfDecodeError, readHeader } from '../../../../ovs/openflow/codec';
import { canonicalMatch } from '../../../../ovs/openflow/match-order';
import { flowMod, OFPBF, type OfMessage } from '../../../../ovs/openflow/messages';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('openflow codec: connection messages', () => {
  it('encodes and decodes an OF1.3 hello with a version bitmap like OVS sends', () => {
    const bytes = hex('04 00 0010 00000007 0001 0008 00000010');
    assert.deepEqual(encodeMessage({ type: 'hello', xid: 7, versions: [4] }), bytes);
    assert.deepEqual(decodeMessage(bytes), { type: 'hello', xid: 7, version: 4, versions: [4] });
  });

  it("decodes a hello of another version (negotiation is the connection's job)", () => {
    const m = decodeMessage(hex('06 00 0010 00000001 0001 0008 00000050'));
    assert.deepEqual(m, { type: 'hello', xid: 1, version: 6, versions: [4, 6] });
    assert.deepEqual(decodeMessage(hex('01 00 0008 00000002')), { type: 'hello', xid: 2, version: 1 });
  });

  it('decodes several version-bitmap elements as the union of their versions, each once (re-encodes the same)', () => {
    // found by the decoder fuzz (seed -1142645696): a duplicated element listed 1 and 4 twice
    const m = decodeMessage(hex('04 00 0018 00000001 0001 0008 00000012 0001 0008 00000050'));
    assert.deepEqual(m, { type: 'hello', xid: 1, version: 4, versions: [1, 4, 6] });
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });

  it('round-trips echo, features, barrier', () => {
    const msgs: OfMessage[] = [
      { type: 'echo_request', xid: 1, data: Buffer.from('ping') },
      { type: 'echo_reply', xid: 1, data: Buffer.alloc(0) },
      { type: 'features_request', xid: 2 },
      { type: 'features_reply', xid: 2, datapathId: 0x0000aabbccddeeffn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f },
      { type: 'barrier_request', xid: 3 },
      { type: 'barrier_reply', xid: 3 },
    ];
    for (const m of msgs) assert.deepEqual(decodeMessage(encodeMessage(m)), m);
    assert.deepEqual(encodeMessage({ type: 'barrier_request', xid: 0x01020304 }), hex('04 14 0008 01020304'));
    assert.equal(encodeMessage(msgs[3]!).length, 32);
  });

  it('names error types and codes and exposes the failed request header', () => {
    const req = encodeMessage({ ...flowMod(), xid: 99 });
    const raw = Buffer.concat([hex('04 01 0000 00000063 0002 0004'), req.subarray(0, 64)]);
    raw.writeUInt16BE(raw.length, 2);
    const e = decodeMessage(raw);
    assert.equal(e.type, 'error');
    if (e.type !== 'error') return;
    assert.equal(e.typeName, 'OFPET_BAD_ACTION');
    assert.equal(e.codeName, 'OFPBAC_BAD_OUT_PORT');
    assert.deepEqual(e.failedRequest, { type: 14, xid: 99 });
  });

  it('names ONF bundle errors and Nicira errors sent as experimenter errors', () => {
    const onf = hex('04 01 0010 00000005 ffff 090a 4f4e4600'); // 2314 = OFPBFC_TIMEOUT
    const e = decodeMessage(onf);
    assert.ok(e.type === 'error' && e.codeName === 'OFPBFC_TIMEOUT' && e.experimenter === 0x4f4e4600);
    const nx = decodeMessage(hex('04 01 0010 00000005 ffff 0002 00002320')); // NXBRC_NXM_INVALID
    assert.ok(nx.type === 'error' && nx.codeName === 'NXBRC_NXM_INVALID');
    assert.deepEqual(
      encodeMessage({ type: 'error', xid: 5, errType: 0xffff, code: 2314, experimenter: 0x4f4e4600, data: Buffer.alloc(0) }),
      onf,
    );
  });

  it('encodes ONF bundle control and bundle add (OF1.3 experimenter form)', () => {
    const open = encodeMessage({
      type: 'bundle_control',
      xid: 9,
      bundleId: 1,
      ctrlType: 'open_request',
      flags: OFPBF.ATOMIC | OFPBF.ORDERED,
      properties: Buffer.alloc(0),
    });
    assert.deepEqual(open, hex('04 04 0018 00000009 4f4e4600 000008fc 00000001 0000 0003'));
    const inner = { ...flowMod({ priority: 5 }), xid: 10 };
    const add = encodeMessage({ type: 'bundle_add', xid: 10, bundleId: 1, flags: 3, message: inner, properties: Buffer.alloc(0) });
    assert.equal(readHeader(add, 0).length, add.length);
    assert.deepEqual(add.subarray(24), encodeMessage(inner));
    assert.deepEqual(decodeMessage(add), {
      type: 'bundle_add',
      xid: 10,
      bundleId: 1,
      flags: 3,
      message: inner,
      properties: Buffer.alloc(0),
    });
  });

  it('rejects malformed input with OfDecodeError carrying the offset', () => {
    assert.throws(
      () => decodeMessage(hex('04 00 00')),
      (e: unknown) => e instanceof OfDecodeError && e.code === 'DECODE_ERROR' && e.offset === 0,
    );
    assert.throws(
      () => decodeMessage(hex('04 14 0010 00000001')),
      (e: unknown) => e instanceof OfDecodeError && e.offset === 2,
    );
    assert.throws(
      () => decodeMessage(hex('04 63 0008 00000001')),
      (e: unknown) => e instanceof OfDecodeError && /unsupported message type 99/.test(e.message),
    );
    assert.throws(() => decodeMessage(hex('04 14 000c 00000001 00000000')), OfDecodeError);
  });
});

describe('openflow codec: bounded decoding', () => {
  it('refuses ct() actions nested deeper than 4 with OfDecodeError instead of recursing', () => {
    let actions: import('../../../../ovs/openflow/messages').Action[] = [{ type: 'dec_nw_ttl' }];
    for (let i = 0; i < 6; i++) actions = [{ type: 'ct', flags: 0, zoneImm: 0, recircTable: 255, alg: 0, actions }];
    const bytes = encodeMessage({ type: 'packet_out', xid: 1, bufferId: 0xffffffff, inPort: 0xfffffffd, actions, data: Buffer.alloc(0) });
    assert.throws(
      () => decodeMessage(bytes),
      (e: unknown) => e instanceof OfDecodeError && /nested deeper/.test(e.message),
    );
    let ok: import('../../../../ovs/openflow/messages').Action[] = [{ type: 'dec_nw_ttl' }];
    for (let i = 0; i < 4; i++) ok = [{ type: 'ct', flags: 0, zoneImm: 0, recircTable: 255, alg: 0, actions: ok }];
    const m = { type: 'packet_out' as const, xid: 1, bufferId: 0xffffffff, inPort: 0xfffffffd, actions: ok, data: Buffer.alloc(0) };
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });
});

describe('openflow canonical match and error helpers', () => {
  it('canonicalMatch orders like OVS, masks values, drops full/empty masks, splits xregs and vlan_tci', () => {
    const m = canonicalMatch([
      { field: 'reg1', value: 7 },
      { field: 'ipv4_src', value: '10.1.2.3', mask: '255.255.0.0' },
      { field: 'eth_type', value: 0x800 },
      { field: 'eth_dst', value: 'aa:bb:cc:dd:ee:ff', mask: 'ff:ff:ff:ff:ff:ff' },
      { field: 'eth_src', value: '00:00:00:00:00:01' },
      { field: 'xreg3', value: 0x100000002n },
      { field: 'metadata', value: 5n, mask: 0n },
      { field: 'vlan_tci', value: 0x1064, mask: 0x1fff },
    ]);
    assert.deepEqual(m, [
      { field: 'eth_src', value: '00:00:00:00:00:01' },
      { field: 'eth_dst', value: 'aa:bb:cc:dd:ee:ff' },
      { field: 'eth_type', value: 0x800 },
      { field: 'vlan_vid', value: 0x1064 },
      { field: 'ipv4_src', value: '10.1.0.0', mask: '255.255.0.0' },
      { field: 'reg1', value: 7 },
      { field: 'reg6', value: 1 },
      { field: 'reg7', value: 2 },
    ]);
  });

  it('errorFor answers a request with its xid and first 64 bytes, and names the error', () => {
    const req = encodeMessage({ ...flowMod({ match: [{ field: 'reg0', value: 1 }] }), xid: 42 });
    const err = decodeMessage(encodeMessage(errorFor(req, 5, 2)));
    assert.ok(err.type === 'error');
    assert.equal(err.xid, 42);
    assert.deepEqual(err.data, req.subarray(0, 64));
    assert.equal(err.codeName, 'OFPFMFC_BAD_TABLE_ID');
    assert.deepEqual(errorNames(0xffff, 2313, 0x4f4e4600), { typeName: 'OFPET_EXPERIMENTER', codeName: 'OFPBFC_MSG_FAILED' });
  });
});
