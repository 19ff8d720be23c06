/**
 * Property tests of the OpenFlow codec (fast-check): every message type, generated with arbitrary
 * matches, instructions and actions, survives encode → decode unchanged and re-encodes to the same
 * bytes; random byte strings, truncations and corruptions of valid messages never make the decoder
 * throw anything but OfDecodeError.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, encodeMessage, OfDecodeError } from '../../../../ovs/openflow/codec';
import type {
  Action,
  Bucket,
  FieldRef,
  Instruction,
  KnownOxm,
  LearnSpec,
  Match,
  MeterBand,
  OfMessage,
  OxmFieldName,
  PortDesc,
} from '../../../../ovs/openflow/messages';
import { BUNDLE_CTRL_TYPES, FLOW_MOD_COMMANDS, GROUP_TYPES, ROLE_NAMES } from '../../../../ovs/openflow/messages';
import { bytesToValue, FIELD_BY_NAME, refBits } from '../../../../ovs/openflow/oxm';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const bytes = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

/** A value of a field generated as raw bytes, so that decoding yields exactly the same JS value. */
function fieldValue(name: OxmFieldName): fc.Arbitrary<KnownOxm['value']> {
  const spec = FIELD_BY_NAME.get(name)!;
  return fc.uint8Array({ minLength: spec.bytes, maxLength: spec.bytes }).map((a) => bytesToValue(spec, Buffer.from(a)));
}

// fields without prerequisites; a generated match uses each at most once
const FREE_FIELDS: OxmFieldName[] = [
  'in_port',
  'eth_dst',
  'eth_src',
  'eth_type',
  'metadata',
  'tunnel_id',
  'reg0',
  'reg5',
  'reg15',
  'xreg2',
  'tun_ipv4_src',
  'tun_ipv4_dst',
  'pkt_mark',
  'conj_id',
  'ct_state',
  'ct_zone',
  'ct_mark',
  'ct_label',
  'vlan_vid',
];

function oxmEntry(name: OxmFieldName): fc.Arbitrary<KnownOxm> {
  const spec = FIELD_BY_NAME.get(name)!;
  if (!spec.maskable) return fieldValue(name).map((value) => ({ field: name, value }));
  return fc
    .tuple(fieldValue(name), fc.option(fieldValue(name), { nil: undefined }))
    .map(([value, mask]) => (mask === undefined ? { field: name, value } : { field: name, value, mask }));
}

const freeMatch: fc.Arbitrary<Match> = fc
  .uniqueArray(fc.constantFrom(...FREE_FIELDS.filter((f) => f !== 'eth_type')), { maxLength: 6 })
  .chain((names) => (names.length ? fc.tuple(...names.map(oxmEntry)) : fc.constant([] as KnownOxm[])));

const ipMatch: fc.Arbitrary<Match> = fc
  .tuple(fc.constantFrom(6, 17), oxmEntry('ipv4_src'), u16, fc.option(oxmEntry('ip_dscp'), { nil: undefined }))
  .map(([proto, src, port, dscp]) => {
    const m: Match = [
      { field: 'eth_type', value: 0x0800 },
      src,
      { field: 'ip_proto', value: proto },
      { field: proto === 6 ? 'tcp_dst' : 'udp_dst', value: port },
    ];
    if (dscp) m.push({ ...dscp, value: Number(dscp.value) & 0x3f });
    return m;
  });

const match: fc.Arbitrary<Match> = fc.oneof(
  freeMatch,
  ipMatch,
  freeMatch.chain((a) => ipMatch.map((b) => [...b, ...a])),
);

const REF_FIELDS: OxmFieldName[] = [
  'reg0',
  'reg1',
  'reg7',
  'tunnel_id',
  'eth_src',
  'eth_dst',
  'ipv4_src',
  'in_port',
  'metadata',
  'pkt_mark',
  'ct_mark',
  'ct_label',
  'vlan_tci',
  'xreg1',
  'tcp_dst',
];

function refOfWidth(n: number): fc.Arbitrary<FieldRef> {
  const fields = REF_FIELDS.filter((f) => refBits(FIELD_BY_NAME.get(f)!) >= n);
  return fc
    .constantFrom(...fields)
    .chain((field) => fc.integer({ min: 0, max: refBits(FIELD_BY_NAME.get(field)!) - n }).map((ofs) => ({ field, ofs, nBits: n })));
}

const ipv4 = fc.tuple(u8, u8, u8, u8).map((a) => a.join('.'));
const port16 = fc.oneof(fc.integer({ min: 0, max: 0xfeff }), fc.constantFrom(0xfffffff8, 0xfffffffe, 0xfffffffd));

const learnSpec: fc.Arbitrary<LearnSpec> = fc.integer({ min: 1, max: 64 }).chain((n) =>
  fc.oneof(
    fc
      .tuple(refOfWidth(n), refOfWidth(n))
      .map(([s, d]): LearnSpec => ({ nBits: n, src: { kind: 'field', ref: s }, dst: { kind: 'match', ref: d } })),
    fc
      .tuple(fc.bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n }), refOfWidth(n))
      .map(([v, d]): LearnSpec => ({ nBits: n, src: { kind: 'imm', value: v }, dst: { kind: 'load', ref: d } })),
    refOfWidth(n).map((s): LearnSpec => ({ nBits: n, src: { kind: 'field', ref: s }, dst: { kind: 'output' } })),
  ),
);

const setFieldAction: fc.Arbitrary<Action> = fc
  .constantFrom(...FREE_FIELDS)
  .chain((f) => fieldValue(f).map((value): Action => ({ type: 'set_field', field: { field: f, value } })));

const leafAction: fc.Arbitrary<Action> = fc.oneof(
  fc.tuple(u32, u16).map(([port, maxLen]): Action => ({ type: 'output', port, maxLen })),
  u32.map((groupId): Action => ({ type: 'group', groupId })),
  u32.map((queueId): Action => ({ type: 'set_queue', queueId })),
  u16.map((ethertype): Action => ({ type: 'push_vlan', ethertype })),
  fc.constant<Action>({ type: 'pop_vlan' }),
  fc.constant<Action>({ type: 'dec_nw_ttl' }),
  u8.map((ttl): Action => ({ type: 'set_nw_ttl', ttl })),
  u8.map((ttl): Action => ({ type: 'set_mpls_ttl', ttl })),
  fc.constant<Action>({ type: 'dec_mpls_ttl' }),
  u16.map((ethertype): Action => ({ type: 'push_mpls', ethertype })),
  u16.map((ethertype): Action => ({ type: 'pop_mpls', ethertype })),
  setFieldAction,
  fc.tuple(port16, fc.integer({ min: 0, max: 254 })).map(([inPort, table]): Action => ({ type: 'resubmit', inPort, table })),
  port16.map((inPort): Action => ({ type: 'resubmit', inPort, table: 255, legacy: true })),
  fc
    .integer({ min: 2, max: 64 })
    .chain((n) =>
      fc.tuple(fc.integer({ min: 0, max: n - 1 }), u32).map(([clause, id]): Action => ({ type: 'conjunction', id, clause, nClauses: n })),
    ),
  fc
    .record({
      flags: fc.integer({ min: 0, max: 31 }),
      ipMin: fc.option(ipv4, { nil: undefined }),
      portMin: fc.option(u16, { nil: undefined }),
    })
    .map((r): Action => {
      const a: Action & { type: 'nat' } = { type: 'nat', flags: r.flags };
      if (r.ipMin !== undefined) a.ipMin = r.ipMin;
      if (r.portMin !== undefined) a.portMin = r.portMin;
      return a;
    }),
  fc.tuple(fc.constantFrom<OxmFieldName>('reg0', 'reg3', 'tunnel_id', 'pkt_mark', 'eth_dst'), fc.nat()).chain(([field, seed]) => {
    const bits = Math.min(64, refBits(FIELD_BY_NAME.get(field)!));
    const n = (seed % bits) + 1;
    const ofs = seed % (bits - n + 1);
    return fc
      .bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n })
      .map((value): Action => ({ type: 'reg_load', dst: { field, ofs, nBits: n }, value }));
  }),
  fc
    .constantFrom<OxmFieldName>('reg2', 'metadata', 'pkt_mark')
    .chain((f) =>
      fc.tuple(fieldValue(f), fieldValue(f)).map(([value, mask]): Action => ({ type: 'reg_load2', field: { field: f, value, mask } })),
    ),
  fc
    .integer({ min: 1, max: 16 })
    .chain((n) => fc.tuple(refOfWidth(n), refOfWidth(n)).map(([src, dst]): Action => ({ type: 'reg_move', src, dst }))),
  fc.tuple(refOfWidth(16), u16).map(([src, maxLen]): Action => ({ type: 'output_reg', src, maxLen })),
  fc.constant<Action>({ type: 'exit' }),
  fc.tuple(port16, u32).map(([port, maxLen]): Action => ({ type: 'output_trunc', port, maxLen })),
  fc.constant<Action>({ type: 'ct_clear' }),
  fc.tuple(u16, u16).map(([idleTimeout, hardTimeout]): Action => ({ type: 'fin_timeout', idleTimeout, hardTimeout })),
  fc.array(u16, { maxLength: 6 }).map((ids): Action => ({ type: 'dec_ttl_ids', ids })),
  fc
    .constantFrom(6, 14, 22)
    .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }).map((a): Action => ({ type: 'note', data: Buffer.from(a) }))),
  fc.tuple(u16, u16, u8).map(([maxLen, controllerId, reason]): Action => ({ type: 'controller', maxLen, controllerId, reason })),
  fc
    .record({
      maxLen: u16,
      controllerId: u16,
      reason: u8,
      userdata: fc.uint8Array({ minLength: 0, maxLength: 12 }),
      pause: fc.boolean(),
      meterId: fc.option(u32, { nil: undefined }),
    })
    .map((r): Action => {
      const a: Action & { type: 'controller' } = { type: 'controller', maxLen: r.maxLen, controllerId: r.controllerId, reason: r.reason };
      if (r.userdata.length > 0 || (!r.pause && r.meterId === undefined)) a.userdata = Buffer.from(r.userdata);
      if (r.pause) a.pause = true;
      if (r.meterId !== undefined) a.meterId = r.meterId;
      return a;
    }),
  fc
    .record({
      idleTimeout: u16,
      hardTimeout: u16,
      priority: u16,
      cookie: u64,
      flags: fc.integer({ min: 0, max: 3 }),
      tableId: fc.integer({ min: 0, max: 254 }),
      finIdleTimeout: u16,
      finHardTimeout: u16,
      specs: fc.array(learnSpec, { maxLength: 5 }),
    })
    .map((r): Action => ({ type: 'learn', ...r })),
);

const ctAction: fc.Arbitrary<Action> = fc
  .record({
    flags: fc.integer({ min: 0, max: 3 }),
    zone: fc.oneof(u16, refOfWidth(16)),
    recircTable: u8,
    alg: u16,
    actions: fc.array(
      fc.oneof(
        setFieldAction,
        leafAction.filter((a) => a.type === 'nat'),
      ),
      { maxLength: 3 },
    ),
  })
  .map(
    (r): Action =>
      typeof r.zone === 'number'
        ? { type: 'ct', flags: r.flags, zoneImm: r.zone, recircTable: r.recircTable, alg: r.alg, actions: r.actions }
        : { type: 'ct', flags: r.flags, zoneSrc: r.zone, zoneImm: 0, recircTable: r.recircTable, alg: r.alg, actions: r.actions },
  );

const cloneAction: fc.Arbitrary<Action> = fc
  .array(fc.oneof(leafAction, ctAction), { maxLength: 3 })
  .map((actions): Action => ({ type: 'clone', actions }));
const action = fc.oneof({ weight: 6, arbitrary: leafAction }, { weight: 1, arbitrary: ctAction }, { weight: 1, arbitrary: cloneAction });
const actions = fc.array(action, { maxLength: 6 });

const instruction: fc.Arbitrary<Instruction> = fc.oneof(
  u8.map((tableId): Instruction => ({ type: 'goto_table', tableId })),
  fc.tuple(u64, u64).map(([metadata, mask]): Instruction => ({ type: 'write_metadata', metadata, mask })),
  actions.map((a): Instruction => ({ type: 'write_actions', actions: a })),
  actions.map((a): Instruction => ({ type: 'apply_actions', actions: a })),
  fc.constant<Instruction>({ type: 'clear_actions' }),
  u32.map((meterId): Instruction => ({ type: 'meter', meterId })),
);
const instructions = fc.array(instruction, { maxLength: 4 });

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join(':'));
const portDesc: fc.Arbitrary<PortDesc> = fc.record({
  portNo: u32,
  hwAddr: mac,
  name: fc.stringMatching(/^[a-z0-9-]{0,15}$/),
  config: u32,
  state: u32,
  curr: u32,
  advertised: u32,
  supported: u32,
  peer: u32,
  currSpeed: u32,
  maxSpeed: u32,
});
const bucket: fc.Arbitrary<Bucket> = fc.record({ weight: u16, watchPort: u32, watchGroup: u32, actions });
const band: fc.Arbitrary<MeterBand> = fc.oneof(
  fc.record({ rate: u32, burstSize: u32 }).map((r): MeterBand => ({ type: 'drop', ...r })),
  fc.record({ rate: u32, burstSize: u32, precLevel: u8 }).map((r): MeterBand => ({ type: 'dscp_remark', ...r })),
  fc.record({ rate: u32, burstSize: u32, experimenter: u32 }).map((r): MeterBand => ({ type: 'experimenter', ...r })),
);
const flowStatsReq = fc.record({ tableId: u8, outPort: u32, outGroup: u32, cookie: u64, cookieMask: u64, match });
const flowMod = fc
  .record({
    xid: u32,
    cookie: u64,
    cookieMask: u64,
    tableId: u8,
    command: fc.constantFrom(...FLOW_MOD_COMMANDS),
    idleTimeout: u16,
    hardTimeout: u16,
    priority: u16,
    bufferId: u32,
    outPort: u32,
    outGroup: u32,
    flags: u16,
    match,
    instructions,
  })
  .map((r): OfMessage => ({ type: 'flow_mod', ...r }));
const groupMod = fc
  .record({
    xid: u32,
    command: fc.constantFrom('add' as const, 'modify' as const, 'delete' as const),
    groupType: fc.constantFrom(...GROUP_TYPES),
    groupId: u32,
    buckets: fc.array(bucket, { maxLength: 3 }),
  })
  .map((r): OfMessage => ({ type: 'group_mod', ...r }));

const message: fc.Arbitrary<OfMessage> = fc.oneof(
  fc
    .record({ xid: u32, versions: fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 1 }).map((v) => v.sort((a, b) => a - b)) })
    .map((r): OfMessage => ({ type: 'hello', xid: r.xid, versions: r.versions, version: 4 })),
  fc
    .record({ xid: u32, errType: fc.integer({ min: 0, max: 13 }), code: u16, data: bytes(80) })
    .map((r): OfMessage => ({ type: 'error', ...r })),
  fc
    .record({ xid: u32, code: u16, experimenter: fc.constantFrom(0x2320, 0x4f4e4600), data: bytes(20) })
    .map((r): OfMessage => ({ type: 'error', errType: 0xffff, ...r })),
  fc
    .record({ xid: u32, data: bytes(64), t: fc.constantFrom('echo_request' as const, 'echo_reply' as const) })
    .map((r): OfMessage => ({ type: r.t, xid: r.xid, data: r.data })),
  fc
    .record({
      xid: u32,
      t: fc.constantFrom('features_request' as const, 'get_config_request' as const, 'barrier_request' as const, 'barrier_reply' as const),
    })
    .map((r): OfMessage => ({ type: r.t, xid: r.xid })),
  fc
    .record({ xid: u32, datapathId: u64, nBuffers: u32, nTables: u8, auxiliaryId: u8, capabilities: u32 })
    .map((r): OfMessage => ({ type: 'features_reply', ...r })),
  fc
    .record({ xid: u32, flags: u16, missSendLen: u16, t: fc.constantFrom('get_config_reply' as const, 'set_config' as const) })
    .map((r): OfMessage => ({ type: r.t, xid: r.xid, flags: r.flags, missSendLen: r.missSendLen })),
  fc
    .record({ xid: u32, bufferId: u32, totalLen: u16, reason: u8, tableId: u8, cookie: u64, match, data: bytes(100) })
    .map((r): OfMessage => ({ type: 'packet_in', ...r })),
  fc.record({ xid: u32, bufferId: u32, inPort: u32, actions, data: bytes(100) }).map((r): OfMessage => ({ type: 'packet_out', ...r })),
  fc
    .record({
      xid: u32,
      cookie: u64,
      priority: u16,
      reason: u8,
      tableId: u8,
      durationSec: u32,
      durationNsec: u32,
      idleTimeout: u16,
      hardTimeout: u16,
      packetCount: u64,
      byteCount: u64,
      match,
    })
    .map((r): OfMessage => ({ type: 'flow_removed', ...r })),
  fc.record({ xid: u32, reason: u8, port: portDesc }).map((r): OfMessage => ({ type: 'port_status', ...r })),
  flowMod,
  groupMod,
  fc
    .record({
      xid: u32,
      command: fc.constantFrom('add' as const, 'modify' as const, 'delete' as const),
      flags: u16,
      meterId: u32,
      bands: fc.array(band, { maxLength: 3 }),
    })
    .map((r): OfMessage => ({ type: 'meter_mod', ...r })),
  fc
    .record({
      xid: u32,
      flags: fc.integer({ min: 0, max: 1 }),
      body: fc.oneof(
        fc.constantFrom(
          { kind: 'desc' as const },
          { kind: 'table' as const },
          { kind: 'port_desc' as const },
          { kind: 'group_desc' as const },
        ),
        flowStatsReq.map((b) => ({ kind: 'flow' as const, ...b })),
        flowStatsReq.map((b) => ({ kind: 'aggregate' as const, ...b })),
        u32.map((portNo) => ({ kind: 'port_stats' as const, portNo })),
        u32.map((meterId) => ({ kind: 'meter_stats' as const, meterId })),
        u32.map((meterId) => ({ kind: 'meter_config' as const, meterId })),
        bytes(16).map((data) => ({ kind: 'raw' as const, mpType: 0xffff, data })),
      ),
    })
    .map((r): OfMessage => ({ type: 'multipart_request', ...r })),
  fc
    .record({
      xid: u32,
      flags: fc.integer({ min: 0, max: 1 }),
      body: fc.oneof(
        fc
          .record({
            mfrDesc: fc.stringMatching(/^[ -~]{0,40}$/),
            hwDesc: fc.string({ maxLength: 10 }).map((s) => s.replace(/[^ -~]/g, '')),
            swDesc: fc.constant('3.1.0'),
            serialNum: fc.constant(''),
            dpDesc: fc.constant('br0'),
          })
          .map((d) => ({ kind: 'desc' as const, ...d })),
        fc
          .array(
            fc.record({
              tableId: u8,
              durationSec: u32,
              durationNsec: u32,
              priority: u16,
              idleTimeout: u16,
              hardTimeout: u16,
              flags: u16,
              cookie: u64,
              packetCount: u64,
              byteCount: u64,
              match,
              instructions,
            }),
            { maxLength: 3 },
          )
          .map((entries) => ({ kind: 'flow' as const, entries })),
        fc.record({ packetCount: u64, byteCount: u64, flowCount: u32 }).map((a) => ({ kind: 'aggregate' as const, ...a })),
        fc
          .array(fc.record({ tableId: u8, activeCount: u32, lookupCount: u64, matchedCount: u64 }), { maxLength: 3 })
          .map((entries) => ({ kind: 'table' as const, entries })),
        fc
          .array(
            fc.record({
              portNo: u32,
              rxPackets: u64,
              txPackets: u64,
              rxBytes: u64,
              txBytes: u64,
              rxDropped: u64,
              txDropped: u64,
              rxErrors: u64,
              txErrors: u64,
              rxFrameErr: u64,
              rxOverErr: u64,
              rxCrcErr: u64,
              collisions: u64,
              durationSec: u32,
              durationNsec: u32,
            }),
            { maxLength: 3 },
          )
          .map((entries) => ({ kind: 'port_stats' as const, entries })),
        fc.array(portDesc, { maxLength: 3 }).map((ports) => ({ kind: 'port_desc' as const, ports })),
        fc
          .array(fc.record({ groupType: fc.constantFrom(...GROUP_TYPES), groupId: u32, buckets: fc.array(bucket, { maxLength: 2 }) }), {
            maxLength: 3,
          })
          .map((entries) => ({ kind: 'group_desc' as const, entries })),
        fc
          .array(
            fc.record({
              meterId: u32,
              flowCount: u32,
              packetInCount: u64,
              byteInCount: u64,
              durationSec: u32,
              durationNsec: u32,
              bands: fc.array(fc.record({ packetBandCount: u64, byteBandCount: u64 }), { maxLength: 3 }),
            }),
            { maxLength: 3 },
          )
          .map((entries) => ({ kind: 'meter_stats' as const, entries })),
        fc
          .array(fc.record({ flags: u16, meterId: u32, bands: fc.array(band, { maxLength: 3 }) }), { maxLength: 3 })
          .map((entries) => ({ kind: 'meter_config' as const, entries })),
      ),
    })
    .map((r): OfMessage => ({ type: 'multipart_reply', ...r })),
  fc
    .record({
      xid: u32,
      role: fc.constantFrom(...ROLE_NAMES),
      generationId: u64,
      t: fc.constantFrom('role_request' as const, 'role_reply' as const),
    })
    .map((r): OfMessage => ({ type: r.t, xid: r.xid, role: r.role, generationId: r.generationId })),
  fc
    .record({ xid: u32, bundleId: u32, ctrlType: fc.constantFrom(...BUNDLE_CTRL_TYPES), flags: fc.integer({ min: 0, max: 3 }) })
    .map((r): OfMessage => ({ type: 'bundle_control', ...r, properties: Buffer.alloc(0) })),
  fc
    .record({ xid: u32, bundleId: u32, flags: fc.integer({ min: 0, max: 3 }), message: fc.oneof(flowMod, groupMod) })
    .map((r): OfMessage => ({ type: 'bundle_add', ...r, properties: Buffer.alloc(0) })),
  fc
    .record({ xid: u32, experimenter: u32.filter((e) => e !== 0x4f4e4600), expType: u32, data: bytes(32) })
    .map((r): OfMessage => ({ type: 'experimenter', ...r })),
);

/** A deep copy with ordinary prototypes (fast-check records have null prototypes). */
function plain<T>(x: T): T {
  if (Array.isArray(x)) return x.map(plain) as T;
  if (x === null || typeof x !== 'object' || Buffer.isBuffer(x)) return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) out[k] = plain(v);
  return out as T;
}

/** Drop the derived, decode-only fields of an error message so it compares with what was generated. */
function comparable(m: OfMessage): OfMessage {
  if (m.type !== 'error') return m;
  const { typeName: _t, codeName: _c, failedRequest: _f, ...rest } = m;
  return rest;
}

const isDecodeError = (e: unknown): boolean => e instanceof OfDecodeError && e.code === 'DECODE_ERROR' && Number.isInteger(e.offset);

function decodeOnlyFailsTyped(buf: Buffer): void {
  try {
    decodeMessage(buf);
  } catch (e) {
    if (!isDecodeError(e)) throw new Error(`decodeMessage threw a non-OfDecodeError for ${buf.toString('hex')}: ${String(e)}`);
  }
}

describe('openflow codec properties', () => {
  it('encode → decode is the identity, and re-encoding gives the same bytes, for every message type', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(message, (m) => {
        seen.add(m.type);
        const bytes1 = encodeMessage(m);
        assert.equal(bytes1.readUInt16BE(2), bytes1.length);
        const d = decodeMessage(bytes1);
        assert.deepStrictEqual(comparable(d), plain(m));
        assert.ok(encodeMessage(d).equals(bytes1));
      }),
      { numRuns: 1500 },
    );
    assert.ok(seen.size >= 24, `generated ${seen.size} message types: ${[...seen].join(', ')}`);
  });

  it('random bytes never escape as anything but OfDecodeError', () => {
    fc.assert(
      fc.property(bytes(300), fc.integer({ min: 0, max: 29 }), fc.boolean(), (b, type, fix) => {
        if (fix && b.length >= 8) {
          b[0] = 4;
          b[1] = type;
          b.writeUInt16BE(b.length, 2);
        }
        decodeOnlyFailsTyped(b);
      }),
      { numRuns: 5000 },
    );
  });

  it('truncations and corruptions of valid messages decode or fail with OfDecodeError only', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }), (m, cut, flips) => {
        const full = encodeMessage(m);
        const len = 8 + (cut % Math.max(1, full.length - 7));
        const truncated = Buffer.from(full.subarray(0, Math.min(len, full.length)));
        truncated.writeUInt16BE(truncated.length, 2);
        decodeOnlyFailsTyped(truncated);
        decodeOnlyFailsTyped(full.subarray(0, Math.min(len, full.length))); // length field now lies
        const corrupt = Buffer.from(full);
        for (const [at, v] of flips) corrupt[8 + (at % Math.max(1, corrupt.length - 8))] = v;
        decodeOnlyFailsTyped(corrupt);
      }),
      { numRuns: 1500 },
    );
  });

  it('a length field beyond the input fails fast instead of allocating', () => {
    const b = Buffer.from('0406ffff00000001', 'hex');
    assert.throws(
      () => decodeMessage(b),
      (e: unknown) => isDecodeError(e) && (e as OfDecodeError).offset === 2,
    );
  });
});
