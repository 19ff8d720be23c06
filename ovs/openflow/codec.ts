/**
 * The OpenFlow 1.3 codec: `encodeMessage` turns an OfMessage into one wire message, and
 * `decodeMessage` turns exactly one wire message (8-byte header plus body) back into an OfMessage.
 * Decoding any byte sequence yields a message or throws OfDecodeError (offset + reason); it never
 * allocates more than the input's size. Encoding rejects bad input with NetloomError
 * INVALID_ARGUMENT naming the field.
 */
import { NetloomError } from '../../lib/errors';
import { readActions, writeActions } from './actions';
import { readInstructions, writeInstructions } from './instructions';
import { ERROR_TYPE_NAMES, NICIRA_ERROR_NAMES, ONF_ERROR_NAMES, STANDARD_ERROR_NAMES } from './error-codes';
import type { ErrorMessage, HelloMessage, OfMessage } from './messages';
import {
  BUNDLE_CTRL_TYPES,
  FLOW_MOD_COMMANDS,
  GROUP_MOD_COMMANDS,
  METER_MOD_COMMANDS,
  NX_VENDOR_ID,
  OFP13_VERSION,
  OFPT,
  ONF_VENDOR_ID,
  ONFT_BUNDLE_ADD_MESSAGE,
  ONFT_BUNDLE_CONTROL,
  OFPHET_VERSIONBITMAP,
  ROLE_NAMES,
} from './messages';
import {
  groupTypeFrom,
  groupTypeNumber,
  multipartType,
  readBands,
  readBuckets,
  readMultipartReplyBody,
  readMultipartRequestBody,
  readPort,
  writeBands,
  writeBuckets,
  writeMultipartReplyBody,
  writeMultipartRequestBody,
  writePort,
} from './multipart';
import { readMatch, writeMatch } from './oxm';
import { OfDecodeError, Reader, Writer } from './wire';

export { OfDecodeError } from './wire';

import type { OfHeader } from './messages';
export type { OfHeader };

export { ONFT_BUNDLE_ADD_MESSAGE, ONFT_BUNDLE_CONTROL } from './messages';

const HEADER_LEN = 8;
const MAX_LEN = 0xffff;

/**
 * The header at `offset`. Throws OfDecodeError if fewer than 8 bytes remain or the length field is
 * below 8 (a framer cannot make progress on such a stream).
 */
export function readHeader(buf: Buffer, offset = 0): OfHeader {
  if (offset < 0 || buf.length - offset < HEADER_LEN)
    throw new OfDecodeError(offset, `header needs 8 bytes, ${Math.max(0, buf.length - offset)} available`);
  const length = buf.readUInt16BE(offset + 2);
  if (length < HEADER_LEN) throw new OfDecodeError(offset + 2, `message length ${length} < 8`);
  return { version: buf[offset]!, type: buf[offset + 1]!, length, xid: buf.readUInt32BE(offset + 4) };
}

function wireType(msg: OfMessage): number {
  switch (msg.type) {
    case 'hello':
      return OFPT.HELLO;
    case 'error':
      return OFPT.ERROR;
    case 'echo_request':
      return OFPT.ECHO_REQUEST;
    case 'echo_reply':
      return OFPT.ECHO_REPLY;
    case 'features_request':
      return OFPT.FEATURES_REQUEST;
    case 'features_reply':
      return OFPT.FEATURES_REPLY;
    case 'get_config_request':
      return OFPT.GET_CONFIG_REQUEST;
    case 'get_config_reply':
      return OFPT.GET_CONFIG_REPLY;
    case 'set_config':
      return OFPT.SET_CONFIG;
    case 'packet_in':
      return OFPT.PACKET_IN;
    case 'packet_out':
      return OFPT.PACKET_OUT;
    case 'flow_removed':
      return OFPT.FLOW_REMOVED;
    case 'port_status':
      return OFPT.PORT_STATUS;
    case 'flow_mod':
      return OFPT.FLOW_MOD;
    case 'group_mod':
      return OFPT.GROUP_MOD;
    case 'meter_mod':
      return OFPT.METER_MOD;
    case 'multipart_request':
      return OFPT.MULTIPART_REQUEST;
    case 'multipart_reply':
      return OFPT.MULTIPART_REPLY;
    case 'barrier_request':
      return OFPT.BARRIER_REQUEST;
    case 'barrier_reply':
      return OFPT.BARRIER_REPLY;
    case 'role_request':
      return OFPT.ROLE_REQUEST;
    case 'role_reply':
      return OFPT.ROLE_REPLY;
    case 'bundle_control':
    case 'bundle_add':
    case 'experimenter':
      return OFPT.EXPERIMENTER;
  }
}

function bad(field: string, msg: string): never {
  throw new NetloomError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

function indexOf<T>(list: readonly T[], v: T, field: string): number {
  const i = list.indexOf(v);
  if (i < 0) bad(field, `unknown value '${String(v)}'`);
  return i;
}

/** Encode one message (version 4 header with the message's xid). */
export function encodeMessage(msg: OfMessage): Buffer {
  // one scratch writer, reused: encoding is synchronous, so calls never interleave
  const w = scratch;
  w.reset();
  try {
    encodeInto(w, msg);
  } finally {
    if (w.buf.length > 1 << 20) scratch = new Writer(4096); // do not keep a huge buffer forever
  }
  return w.finish();
}

let scratch = new Writer(4096);

/** Encode one message at the writer's position (used for bundle_add's inner message). */
export function encodeInto(w: Writer, msg: OfMessage): void {
  const start = w.pos;
  w.u8(OFP13_VERSION);
  w.u8(wireType(msg));
  w.u16(0);
  w.u32(msg.xid);
  writeBody(w, msg);
  const len = w.pos - start;
  if (len > MAX_LEN) bad(msg.type, `message of ${len} bytes exceeds 65535`);
  w.setU16(start + 2, len);
}

function writeBody(w: Writer, m: OfMessage): void {
  switch (m.type) {
    case 'hello': {
      if (m.versions === undefined) return;
      const words = Math.max(1, Math.ceil((Math.max(0, ...m.versions) + 1) / 32));
      const bitmap = new Array<number>(words).fill(0);
      for (const v of m.versions) {
        if (!Number.isInteger(v) || v < 0 || v > 127) bad('hello.versions', `version ${v} out of range`);
        bitmap[v >> 5]! |= 1 << (v & 31);
      }
      const start = w.pos;
      w.u16(OFPHET_VERSIONBITMAP);
      w.u16(4 + 4 * words);
      for (const b of bitmap) w.u32(b >>> 0);
      w.pad8(start);
      return;
    }
    case 'error':
      w.u16(m.errType);
      if (m.errType === 0xffff) {
        w.u16(m.code);
        w.u32(m.experimenter ?? 0);
      } else w.u16(m.code);
      w.bytes(m.data);
      return;
    case 'echo_request':
    case 'echo_reply':
      w.bytes(m.data);
      return;
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
      return;
    case 'features_reply':
      w.u64(m.datapathId);
      w.u32(m.nBuffers);
      w.u8(m.nTables);
      w.u8(m.auxiliaryId);
      w.zeros(2);
      w.u32(m.capabilities);
      w.u32(0);
      return;
    case 'get_config_reply':
    case 'set_config':
      w.u16(m.flags);
      w.u16(m.missSendLen);
      return;
    case 'packet_in':
      w.u32(m.bufferId);
      w.u16(m.totalLen);
      w.u8(m.reason);
      w.u8(m.tableId);
      w.u64(m.cookie);
      writeMatch(w, m.match, 'packet_in.match');
      w.zeros(2);
      w.bytes(m.data);
      return;
    case 'packet_out': {
      w.u32(m.bufferId);
      w.u32(m.inPort);
      const lenAt = w.pos;
      w.u16(0);
      w.zeros(6);
      const aStart = w.pos;
      writeActions(w, m.actions, 'packet_out.actions');
      w.setU16(lenAt, w.pos - aStart);
      w.bytes(m.data);
      return;
    }
    case 'flow_removed':
      w.u64(m.cookie);
      w.u16(m.priority);
      w.u8(m.reason);
      w.u8(m.tableId);
      w.u32(m.durationSec);
      w.u32(m.durationNsec);
      w.u16(m.idleTimeout);
      w.u16(m.hardTimeout);
      w.u64(m.packetCount);
      w.u64(m.byteCount);
      writeMatch(w, m.match, 'flow_removed.match');
      return;
    case 'port_status':
      w.u8(m.reason);
      w.zeros(7);
      writePort(w, m.port);
      return;
    case 'flow_mod':
      w.u64(m.cookie);
      w.u64(m.cookieMask);
      w.u8(m.tableId);
      w.u8(indexOf(FLOW_MOD_COMMANDS, m.command, 'flow_mod.command'));
      w.u16(m.idleTimeout);
      w.u16(m.hardTimeout);
      w.u16(m.priority);
      w.u32(m.bufferId);
      w.u32(m.outPort);
      w.u32(m.outGroup);
      w.u16(m.flags);
      w.zeros(2);
      writeMatch(w, m.match, 'flow_mod.match');
      writeInstructions(w, m.instructions, 'flow_mod.instructions');
      return;
    case 'group_mod':
      w.u16(indexOf(GROUP_MOD_COMMANDS, m.command, 'group_mod.command'));
      w.u8(
        groupTypeNumber(m.groupType) < 0 ? bad('group_mod.groupType', `unknown group type '${m.groupType}'`) : groupTypeNumber(m.groupType),
      );
      w.u8(0);
      w.u32(m.groupId);
      writeBuckets(w, m.buckets, 'group_mod');
      return;
    case 'meter_mod':
      w.u16(indexOf(METER_MOD_COMMANDS, m.command, 'meter_mod.command'));
      w.u16(m.flags);
      w.u32(m.meterId);
      writeBands(w, m.bands);
      return;
    case 'multipart_request':
      w.u16(multipartType(m.body));
      w.u16(m.flags);
      w.zeros(4);
      writeMultipartRequestBody(w, m.body);
      return;
    case 'multipart_reply':
      w.u16(multipartType(m.body));
      w.u16(m.flags);
      w.zeros(4);
      writeMultipartReplyBody(w, m.body);
      return;
    case 'role_request':
    case 'role_reply':
      w.u32(indexOf(ROLE_NAMES, m.role, 'role'));
      w.zeros(4);
      w.u64(m.generationId);
      return;
    case 'bundle_control':
      w.u32(ONF_VENDOR_ID);
      w.u32(ONFT_BUNDLE_CONTROL);
      w.u32(m.bundleId);
      w.u16(indexOf(BUNDLE_CTRL_TYPES, m.ctrlType, 'bundle_control.ctrlType'));
      w.u16(m.flags);
      w.bytes(m.properties);
      return;
    case 'bundle_add':
      if (m.message.type === 'bundle_add' || m.message.type === 'bundle_control')
        bad('bundle_add.message', 'a bundle cannot contain bundle messages');
      w.u32(ONF_VENDOR_ID);
      w.u32(ONFT_BUNDLE_ADD_MESSAGE);
      w.u32(m.bundleId);
      w.zeros(2);
      w.u16(m.flags);
      encodeInto(w, m.message);
      w.bytes(m.properties);
      return;
    case 'experimenter':
      w.u32(m.experimenter);
      w.u32(m.expType);
      w.bytes(m.data);
      return;
  }
}

// ---------- decode ----------

/** Decode exactly one whole message. Throws OfDecodeError for anything malformed. */
export function decodeMessage(buf: Buffer): OfMessage {
  try {
    return decodeAt(buf, 0, buf.length, 0);
  } catch (e) {
    if (e instanceof OfDecodeError) throw e;
    // a value check deeper down (never expected): report it as a decode error rather than leak it
    throw new OfDecodeError(0, `malformed message: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodeAt(buf: Buffer, start: number, end: number, depth: number): OfMessage {
  const h = readHeader(buf, start);
  if (h.length !== end - start) throw new OfDecodeError(start + 2, `header length ${h.length} but ${end - start} bytes given`);
  const r = new Reader(buf, start + HEADER_LEN, end);
  const xid = h.xid;
  if (h.type === OFPT.HELLO) return decodeHello(r, xid, h.version);
  if (h.type === OFPT.ERROR) return decodeError(r, xid);
  if (h.version !== OFP13_VERSION) throw new OfDecodeError(start, `unsupported OpenFlow version 0x${h.version.toString(16)} (only 0x04)`);
  const done = <T>(m: T): T => {
    if (r.remaining !== 0) r.fail(`${r.remaining} unexpected trailing bytes`);
    return m;
  };
  switch (h.type) {
    case OFPT.ECHO_REQUEST:
      return { type: 'echo_request', xid, data: r.bytes(r.remaining) };
    case OFPT.ECHO_REPLY:
      return { type: 'echo_reply', xid, data: r.bytes(r.remaining) };
    case OFPT.FEATURES_REQUEST:
      return done({ type: 'features_request', xid });
    case OFPT.GET_CONFIG_REQUEST:
      return done({ type: 'get_config_request', xid });
    case OFPT.BARRIER_REQUEST:
      return done({ type: 'barrier_request', xid });
    case OFPT.BARRIER_REPLY:
      return done({ type: 'barrier_reply', xid });
    case OFPT.FEATURES_REPLY: {
      const datapathId = r.u64();
      const nBuffers = r.u32();
      const nTables = r.u8();
      const auxiliaryId = r.u8();
      r.skip(2);
      const capabilities = r.u32();
      r.skip(4);
      // OF1.0-style port list may follow in other versions; ignore extra bytes
      return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
    }
    case OFPT.GET_CONFIG_REPLY:
    case OFPT.SET_CONFIG: {
      const flags = r.u16();
      const missSendLen = r.u16();
      return done({ type: h.type === OFPT.SET_CONFIG ? 'set_config' : 'get_config_reply', xid, flags, missSendLen });
    }
    case OFPT.PACKET_IN: {
      const bufferId = r.u32();
      const totalLen = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const cookie = r.u64();
      const match = readMatch(r);
      r.skip(2);
      return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.bytes(r.remaining) };
    }
    case OFPT.PACKET_OUT: {
      const bufferId = r.u32();
      const inPort = r.u32();
      const actionsLen = r.u16();
      r.skip(6);
      const actions = readActions(r.sub(actionsLen, 'packet_out actions'));
      return { type: 'packet_out', xid, bufferId, inPort, actions, data: r.bytes(r.remaining) };
    }
    case OFPT.FLOW_REMOVED: {
      const cookie = r.u64();
      const priority = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const durationSec = r.u32();
      const durationNsec = r.u32();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const packetCount = r.u64();
      const byteCount = r.u64();
      const match = readMatch(r);
      return done({
        type: 'flow_removed',
        xid,
        cookie,
        priority,
        reason,
        tableId,
        durationSec,
        durationNsec,
        idleTimeout,
        hardTimeout,
        packetCount,
        byteCount,
        match,
      });
    }
    case OFPT.PORT_STATUS: {
      const reason = r.u8();
      r.skip(7);
      return done({ type: 'port_status', xid, reason, port: readPort(r) });
    }
    case OFPT.FLOW_MOD: {
      const cookie = r.u64();
      const cookieMask = r.u64();
      const tableId = r.u8();
      const cmdAt = r.pos;
      const command = FLOW_MOD_COMMANDS[r.u8()] ?? r.fail('unknown flow_mod command', cmdAt);
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const priority = r.u16();
      const bufferId = r.u32();
      const outPort = r.u32();
      const outGroup = r.u32();
      const flags = r.u16();
      r.skip(2);
      const match = readMatch(r);
      const instructions = readInstructions(r);
      return {
        type: 'flow_mod',
        xid,
        cookie,
        cookieMask,
        tableId,
        command,
        idleTimeout,
        hardTimeout,
        priority,
        bufferId,
        outPort,
        outGroup,
        flags,
        match,
        instructions,
      };
    }
    case OFPT.GROUP_MOD: {
      const cmdAt = r.pos;
      const command = GROUP_MOD_COMMANDS[r.u16()] ?? r.fail('unknown group_mod command', cmdAt);
      const groupType = groupTypeFrom(r.u8(), r, cmdAt + 2);
      r.skip(1);
      const groupId = r.u32();
      return { type: 'group_mod', xid, command, groupType, groupId, buckets: readBuckets(r) };
    }
    case OFPT.METER_MOD: {
      const cmdAt = r.pos;
      const command = METER_MOD_COMMANDS[r.u16()] ?? r.fail('unknown meter_mod command', cmdAt);
      const flags = r.u16();
      const meterId = r.u32();
      return { type: 'meter_mod', xid, command, flags, meterId, bands: readBands(r) };
    }
    case OFPT.MULTIPART_REQUEST:
    case OFPT.MULTIPART_REPLY: {
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      if (h.type === OFPT.MULTIPART_REQUEST)
        return done({ type: 'multipart_request', xid, flags, body: readMultipartRequestBody(mpType, r) });
      return done({ type: 'multipart_reply', xid, flags, body: readMultipartReplyBody(mpType, r) });
    }
    case OFPT.ROLE_REQUEST:
    case OFPT.ROLE_REPLY: {
      const roleAt = r.pos;
      const role = ROLE_NAMES[r.u32()] ?? r.fail('unknown controller role', roleAt);
      r.skip(4);
      const generationId = r.u64();
      return done({ type: h.type === OFPT.ROLE_REQUEST ? 'role_request' : 'role_reply', xid, role, generationId });
    }
    case OFPT.EXPERIMENTER: {
      const experimenter = r.u32('experimenter id');
      const expType = r.u32('experimenter type');
      if (experimenter === ONF_VENDOR_ID && expType === ONFT_BUNDLE_CONTROL) {
        const bundleId = r.u32();
        const tAt = r.pos;
        const ctrlType = BUNDLE_CTRL_TYPES[r.u16()] ?? r.fail('unknown bundle control type', tAt);
        const flags = r.u16();
        return { type: 'bundle_control', xid, bundleId, ctrlType, flags, properties: r.bytes(r.remaining) };
      }
      if (experimenter === ONF_VENDOR_ID && expType === ONFT_BUNDLE_ADD_MESSAGE) {
        const bundleId = r.u32();
        r.skip(2);
        const flags = r.u16();
        const inner = readHeader(buf, r.pos);
        if (inner.length > r.remaining) r.fail(`bundled message length ${inner.length} exceeds the ${r.remaining} bytes left`);
        if (depth > 0 || (inner.type === OFPT.EXPERIMENTER && inner.length >= 16 && buf.readUInt32BE(r.pos + 8) === ONF_VENDOR_ID)) {
          r.fail('a bundle cannot contain bundle messages');
        }
        const message = decodeAt(buf, r.pos, r.pos + inner.length, depth + 1);
        r.skip(inner.length);
        return { type: 'bundle_add', xid, bundleId, flags, message, properties: r.bytes(r.remaining) };
      }
      return { type: 'experimenter', xid, experimenter, expType, data: r.bytes(r.remaining) };
    }
    default:
      throw new OfDecodeError(start + 1, `unsupported message type ${h.type}`);
  }
}

function decodeHello(r: Reader, xid: number, version: number): HelloMessage {
  const out: HelloMessage = { type: 'hello', xid, version };
  while (r.remaining >= 4) {
    const start = r.pos;
    const type = r.u16('hello element type');
    const len = r.u16('hello element length');
    if (len < 4) r.fail(`hello element length ${len} < 4`, start);
    const e = r.sub(len - 4, 'hello element');
    r.skip(Math.min(r.remaining, (8 - (len % 8)) % 8), 'hello element padding');
    if (type === OFPHET_VERSIONBITMAP) {
      // several bitmap elements (the spec expects one) offer the union of theirs, each version once
      const versions = new Set(out.versions ?? []);
      let word = 0;
      while (e.remaining >= 4) {
        const bits = e.u32();
        for (let b = 0; b < 32; b++) if (bits & (1 << b)) versions.add(word * 32 + b);
        word++;
      }
      out.versions = [...versions].sort((x, y) => x - y);
    }
  }
  return out;
}

/** Type/code names of an error, e.g. ['OFPET_BAD_ACTION', 'OFPBAC_BAD_OUT_PORT']. */
export function errorNames(errType: number, code: number, experimenter?: number): { typeName: string; codeName: string } {
  const typeName = ERROR_TYPE_NAMES[errType] ?? `OFPET_${errType}`;
  let codeName: string | undefined;
  if (errType === 0xffff) {
    if (experimenter === NX_VENDOR_ID) codeName = NICIRA_ERROR_NAMES.get(code);
    else if (experimenter === ONF_VENDOR_ID) codeName = ONF_ERROR_NAMES.get(code);
  } else codeName = STANDARD_ERROR_NAMES.get(errType * 65536 + code);
  return { typeName, codeName: codeName ?? `code_${code}` };
}

function decodeError(r: Reader, xid: number): ErrorMessage {
  const errType = r.u16('error type');
  const code = r.u16('error code');
  let experimenter: number | undefined;
  if (errType === 0xffff) experimenter = r.u32('error experimenter');
  const data = r.bytes(r.remaining);
  const out: ErrorMessage = { type: 'error', xid, errType, code, data, ...errorNames(errType, code, experimenter) };
  if (experimenter !== undefined) out.experimenter = experimenter;
  if (data.length >= 8 && errType !== 0) out.failedRequest = { type: data[1]!, xid: data.readUInt32BE(4) };
  return out;
}

/** Build an ERROR message answering `request` (its first 64 bytes kept as data, as switches do). */
export function errorFor(request: Buffer, errType: number, code: number, experimenter?: number): ErrorMessage {
  const h = readHeader(request, 0);
  const out: ErrorMessage = { type: 'error', xid: h.xid, errType, code, data: Buffer.from(request.subarray(0, 64)) };
  if (experimenter !== undefined) out.experimenter = experimenter;
  return out;
}
