/**
 * OpenFlow 1.3 actions and instructions on the wire, including the Nicira extension actions Open
 * vSwitch needs (resubmit, conjunction, ct, nat, reg_load/reg_load2/move, learn, note, controller).
 */
import { NetloomError } from '../../lib/errors';
import type { Action, FieldRef, Instruction, LearnSpec, OxmFieldName } from './messages';
import { NX_VENDOR_ID } from './messages';
import { bytesToValue, FIELD_BY_NAME, fieldHeader, refBits, OXM_CLASS, readOxm, specByHeader, valueToBytes, writeOxm } from './oxm';
import { Reader, Writer } from './wire';

export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  EXPERIMENTER: 0xffff,
} as const;

export const NXAST = {
  RESUBMIT: 1,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  RESUBMIT_TABLE: 14,
  LEARN: 16,
  CONTROLLER: 20,
  OUTPUT_REG: 15,
  EXIT: 17,
  FIN_TIMEOUT: 19,
  DEC_TTL_CNT_IDS: 21,
  OUTPUT_TRUNC: 39,
  CLONE: 42,
  CT_CLEAR: 43,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
} as const;

export const OFPIT = { GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6 } as const;

const NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;
const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;

function bad(field: string, msg: string): never {
  throw new NetloomError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

/** OF1.3 32-bit port number to the OF1.0 16-bit form Nicira actions carry. */
export function portTo16(p: number): number {
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p > 0xfeff) bad('port', `port ${p} does not fit the 16-bit port field of this action`);
  return p;
}

export function portFrom16(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}

// ---------- field references (NXM headers) ----------

/** Write the NXM/OXM header naming a field reference (4 bytes, or 8 for experimenter fields). */
function writeRefHeader(w: Writer, field: OxmFieldName | number, where: string): void {
  if (typeof field === 'number') {
    w.u32(field);
    return;
  }
  const spec = FIELD_BY_NAME.get(field);
  if (!spec) bad(where, `unknown field '${field}'`);
  w.u32(fieldHeader(spec));
  if (!spec.nxm && spec.experimenter !== undefined) w.u32(spec.experimenter);
}

function refHeaderLen(field: OxmFieldName | number): number {
  if (typeof field === 'number') return 4;
  const spec = FIELD_BY_NAME.get(field);
  return spec && !spec.nxm && spec.experimenter !== undefined ? 8 : 4;
}

function readRefHeader(r: Reader): OxmFieldName | number {
  const header = r.u32('field header');
  if (header >>> 16 === OXM_CLASS.EXPERIMENTER) {
    const exp = r.u32('field experimenter');
    return specByHeader(header, exp)?.name ?? header;
  }
  return specByHeader(header)?.name ?? header;
}

function fieldBits(field: OxmFieldName | number): number | undefined {
  if (typeof field === 'number') return undefined;
  const s = FIELD_BY_NAME.get(field);
  return s ? refBits(s) : undefined;
}

function checkRef(ref: FieldRef, where: string): void {
  const bits = fieldBits(ref.field);
  if (!Number.isInteger(ref.ofs) || !Number.isInteger(ref.nBits) || ref.ofs < 0 || ref.nBits < 1)
    bad(where, `bad bit range [${ref.ofs}+${ref.nBits}]`);
  if (bits !== undefined && ref.ofs + ref.nBits > bits)
    bad(where, `bits ${ref.ofs}..${ref.ofs + ref.nBits - 1} exceed the ${bits}-bit field ${String(ref.field)}`);
  if (ref.ofs > 1023 || ref.nBits > 1024) bad(where, 'bit range too large');
}

function ofsNbits(ofs: number, nBits: number): number {
  return (ofs << 6) | (nBits - 1);
}

// ---------- encode ----------

function nxHeader(w: Writer, subtype: number): number {
  const start = w.pos;
  w.u16(OFPAT.EXPERIMENTER);
  w.u16(0);
  w.u32(NX_VENDOR_ID);
  w.u16(subtype);
  return start;
}

function finishAction(w: Writer, start: number): void {
  w.pad8(start);
  const len = w.pos - start;
  if (len > 0xffff) bad('actions', 'action longer than 65535 bytes');
  w.setU16(start + 2, len);
}

export function writeActions(w: Writer, actions: readonly Action[], where = 'actions'): void {
  for (const a of actions) writeAction(w, a, where);
}

export function writeAction(w: Writer, a: Action, where = 'actions'): void {
  switch (a.type) {
    case 'output':
      w.u16(OFPAT.OUTPUT);
      w.u16(16);
      w.u32(a.port);
      w.u16(a.maxLen);
      w.zeros(6);
      return;
    case 'group':
      w.u16(OFPAT.GROUP);
      w.u16(8);
      w.u32(a.groupId);
      return;
    case 'set_queue':
      w.u16(OFPAT.SET_QUEUE);
      w.u16(8);
      w.u32(a.queueId);
      return;
    case 'push_vlan':
    case 'push_mpls':
    case 'pop_mpls':
      w.u16(a.type === 'push_vlan' ? OFPAT.PUSH_VLAN : a.type === 'push_mpls' ? OFPAT.PUSH_MPLS : OFPAT.POP_MPLS);
      w.u16(8);
      w.u16(a.ethertype);
      w.zeros(2);
      return;
    case 'pop_vlan':
    case 'dec_nw_ttl':
    case 'copy_ttl_out':
    case 'copy_ttl_in':
      w.u16(
        a.type === 'pop_vlan'
          ? OFPAT.POP_VLAN
          : a.type === 'dec_nw_ttl'
            ? OFPAT.DEC_NW_TTL
            : a.type === 'copy_ttl_out'
              ? OFPAT.COPY_TTL_OUT
              : OFPAT.COPY_TTL_IN,
      );
      w.u16(8);
      w.zeros(4);
      return;
    case 'set_nw_ttl':
    case 'set_mpls_ttl':
      w.u16(a.type === 'set_nw_ttl' ? OFPAT.SET_NW_TTL : OFPAT.SET_MPLS_TTL);
      w.u16(8);
      w.u8(a.ttl);
      w.zeros(3);
      return;
    case 'dec_mpls_ttl':
      w.u16(OFPAT.DEC_MPLS_TTL);
      w.u16(8);
      w.zeros(4);
      return;
    case 'set_field': {
      if (a.field.field !== 'raw' && a.field.mask !== undefined)
        bad(`${where}.set_field`, 'set_field cannot carry a mask in OpenFlow 1.3 (use reg_load2)');
      const start = w.pos;
      w.u16(OFPAT.SET_FIELD);
      w.u16(0);
      writeOxm(w, a.field, `${where}.set_field`);
      finishAction(w, start);
      return;
    }
    case 'resubmit': {
      const legacy = a.legacy === true && a.table === 0xff;
      const start = nxHeader(w, legacy ? NXAST.RESUBMIT : NXAST.RESUBMIT_TABLE);
      w.u16(portTo16(a.inPort));
      w.u8(legacy ? 0 : a.table);
      w.zeros(3);
      finishAction(w, start);
      return;
    }
    case 'conjunction': {
      if (a.nClauses < 2 || a.nClauses > 64 || a.clause >= a.nClauses)
        bad(`${where}.conjunction`, `clause ${a.clause + 1}/${a.nClauses} is invalid (need 2 <= n <= 64 and 1 <= k <= n)`);
      const start = nxHeader(w, NXAST.CONJUNCTION);
      w.u8(a.clause);
      w.u8(a.nClauses);
      w.u32(a.id);
      finishAction(w, start);
      return;
    }
    case 'ct': {
      const start = nxHeader(w, NXAST.CT);
      w.u16(a.flags);
      if (a.zoneSrc) {
        checkRef(a.zoneSrc, `${where}.ct.zone`);
        if (refHeaderLen(a.zoneSrc.field) !== 4) bad(`${where}.ct.zone`, 'zone source must be an NXM field');
        writeRefHeader(w, a.zoneSrc.field, `${where}.ct.zone`);
        w.u16(ofsNbits(a.zoneSrc.ofs, a.zoneSrc.nBits));
      } else {
        w.u32(0);
        w.u16(a.zoneImm);
      }
      w.u8(a.recircTable);
      w.zeros(3);
      w.u16(a.alg);
      writeActions(w, a.actions, `${where}.ct`);
      finishAction(w, start);
      return;
    }
    case 'nat': {
      const start = nxHeader(w, NXAST.NAT);
      w.zeros(2);
      w.u16(a.flags);
      const rpAt = w.pos;
      w.u16(0);
      let rp = 0;
      const v6 = (a.ipMin ?? a.ipMax ?? '').includes(':');
      if (a.ipMin !== undefined) {
        rp |= v6 ? NAT_RANGE.IPV6_MIN : NAT_RANGE.IPV4_MIN;
        writeIp(w, a.ipMin, v6, `${where}.nat`);
      }
      if (a.ipMax !== undefined) {
        rp |= v6 ? NAT_RANGE.IPV6_MAX : NAT_RANGE.IPV4_MAX;
        writeIp(w, a.ipMax, v6, `${where}.nat`);
      }
      if (a.portMin !== undefined) {
        rp |= NAT_RANGE.PROTO_MIN;
        w.u16(a.portMin);
      }
      if (a.portMax !== undefined) {
        rp |= NAT_RANGE.PROTO_MAX;
        w.u16(a.portMax);
      }
      w.setU16(rpAt, rp);
      finishAction(w, start);
      return;
    }
    case 'reg_load': {
      checkRef(a.dst, `${where}.load`);
      if (a.dst.nBits > 64) bad(`${where}.load`, 'reg_load loads at most 64 bits');
      if (a.value < 0n || a.value >> BigInt(a.dst.nBits) !== 0n)
        bad(`${where}.load`, `value ${a.value} does not fit in ${a.dst.nBits} bits`);
      const start = nxHeader(w, NXAST.REG_LOAD);
      w.u16(ofsNbits(a.dst.ofs, a.dst.nBits));
      writeRefHeader(w, a.dst.field, `${where}.load`);
      w.u64(a.value);
      finishAction(w, start);
      return;
    }
    case 'reg_load2': {
      const start = nxHeader(w, NXAST.REG_LOAD2);
      writeOxm(w, a.field, `${where}.set_field`);
      finishAction(w, start);
      return;
    }
    case 'reg_move': {
      checkRef(a.src, `${where}.move.src`);
      checkRef(a.dst, `${where}.move.dst`);
      if (a.src.nBits !== a.dst.nBits) bad(`${where}.move`, `source has ${a.src.nBits} bits but destination ${a.dst.nBits}`);
      const start = nxHeader(w, NXAST.REG_MOVE);
      w.u16(a.src.nBits);
      w.u16(a.src.ofs);
      w.u16(a.dst.ofs);
      writeRefHeader(w, a.src.field, `${where}.move.src`);
      writeRefHeader(w, a.dst.field, `${where}.move.dst`);
      finishAction(w, start);
      return;
    }
    case 'learn': {
      const start = nxHeader(w, NXAST.LEARN);
      w.u16(a.idleTimeout);
      w.u16(a.hardTimeout);
      w.u16(a.priority);
      w.u64(a.cookie);
      w.u16(a.flags);
      w.u8(a.tableId);
      w.u8(0);
      w.u16(a.finIdleTimeout);
      w.u16(a.finHardTimeout);
      for (const s of a.specs) writeLearnSpec(w, s, `${where}.learn`);
      finishAction(w, start);
      return;
    }
    case 'note': {
      const start = nxHeader(w, NXAST.NOTE);
      w.bytes(a.data);
      if (a.data.length < 6) w.zeros(6 - a.data.length);
      finishAction(w, start);
      return;
    }
    case 'controller': {
      if (a.userdata !== undefined || a.pause || a.meterId !== undefined) {
        const start = nxHeader(w, NXAST.CONTROLLER2);
        w.zeros(6);
        if (a.maxLen !== 0xffff) prop(w, NXAC2PT.MAX_LEN, (x) => (x.u16(a.maxLen), x.zeros(2)));
        if (a.controllerId !== 0) prop(w, NXAC2PT.CONTROLLER_ID, (x) => (x.u16(a.controllerId), x.zeros(2)));
        if (a.reason !== 1) prop(w, NXAC2PT.REASON, (x) => x.u8(a.reason));
        if (a.userdata !== undefined && a.userdata.length > 0) prop(w, NXAC2PT.USERDATA, (x) => x.bytes(a.userdata!));
        if (a.pause) prop(w, NXAC2PT.PAUSE, () => undefined);
        if (a.meterId !== undefined) prop(w, NXAC2PT.METER_ID, (x) => x.u32(a.meterId!));
        finishAction(w, start);
        return;
      }
      const start = nxHeader(w, NXAST.CONTROLLER);
      w.u16(a.maxLen);
      w.u16(a.controllerId);
      w.u8(a.reason);
      w.u8(0);
      finishAction(w, start);
      return;
    }
    case 'output_reg': {
      checkRef(a.src, `${where}.output`);
      if (refHeaderLen(a.src.field) !== 4) bad(`${where}.output`, 'output source must be an NXM field');
      const start = nxHeader(w, NXAST.OUTPUT_REG);
      w.u16(ofsNbits(a.src.ofs, a.src.nBits));
      writeRefHeader(w, a.src.field, `${where}.output`);
      w.u16(a.maxLen);
      w.zeros(6);
      finishAction(w, start);
      return;
    }
    case 'output_trunc': {
      const start = nxHeader(w, NXAST.OUTPUT_TRUNC);
      w.u16(portTo16(a.port));
      w.u32(a.maxLen);
      finishAction(w, start);
      return;
    }
    case 'fin_timeout': {
      const start = nxHeader(w, NXAST.FIN_TIMEOUT);
      w.u16(a.idleTimeout);
      w.u16(a.hardTimeout);
      finishAction(w, start);
      return;
    }
    case 'ct_clear': {
      const start = nxHeader(w, NXAST.CT_CLEAR);
      w.zeros(6);
      finishAction(w, start);
      return;
    }
    case 'clone': {
      const start = nxHeader(w, NXAST.CLONE);
      w.zeros(6);
      writeActions(w, a.actions, `${where}.clone`);
      finishAction(w, start);
      return;
    }
    case 'exit': {
      const start = nxHeader(w, NXAST.EXIT);
      w.zeros(6);
      finishAction(w, start);
      return;
    }
    case 'dec_ttl_ids': {
      const start = nxHeader(w, NXAST.DEC_TTL_CNT_IDS);
      w.u16(a.ids.length);
      w.zeros(4);
      for (const id of a.ids) w.u16(id);
      finishAction(w, start);
      return;
    }
    case 'raw': {
      if (a.payload.length + 4 > 0xffff) bad(where, 'raw action too long');
      w.u16(a.actionType);
      w.u16(4 + a.payload.length);
      w.bytes(a.payload);
      return;
    }
  }
}

/** A property TLV: type, length (without padding), value, zero padding to 8. (OVS counts 2 pad bytes of u16 properties in the length.) */
function prop(w: Writer, type: number, body: (w: Writer) => void): void {
  const start = w.pos;
  w.u16(type);
  w.u16(0);
  body(w);
  w.setU16(start + 2, w.pos - start);
  w.pad8(start);
}

function writeIp(w: Writer, ip: string, v6: boolean, where: string): void {
  w.bytes(valueToBytes(FIELD_BY_NAME.get(v6 ? 'ipv6_src' : 'ipv4_src')!, ip, where));
}

const LEARN_SRC_IMM = 1 << 13;
const LEARN_DST_LOAD = 1 << 11;
const LEARN_DST_OUTPUT = 2 << 11;

function writeLearnSpec(w: Writer, s: LearnSpec, where: string): void {
  if (s.nBits < 1 || s.nBits > 0x3ff) bad(where, `learn spec width ${s.nBits} out of range`);
  let h = s.nBits;
  if (s.src.kind === 'imm') h |= LEARN_SRC_IMM;
  if (s.dst.kind === 'load') h |= LEARN_DST_LOAD;
  if (s.dst.kind === 'output') h |= LEARN_DST_OUTPUT;
  w.u16(h);
  if (s.src.kind === 'field') {
    checkRef(s.src.ref, `${where}.src`);
    writeRefHeader(w, s.src.ref.field, `${where}.src`);
    w.u16(s.src.ref.ofs);
  } else {
    const nBytes = 2 * Math.ceil(s.nBits / 16);
    let v = s.src.value;
    if (v < 0n || v >> BigInt(s.nBits) !== 0n) bad(where, `learn immediate ${v} does not fit in ${s.nBits} bits`);
    const b = Buffer.alloc(nBytes);
    for (let i = nBytes - 1; i >= 0; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    w.bytes(b);
  }
  if (s.dst.kind !== 'output') {
    checkRef(s.dst.ref, `${where}.dst`);
    writeRefHeader(w, s.dst.ref.field, `${where}.dst`);
    w.u16(s.dst.ref.ofs);
  }
}

// ---------- decode ----------

/** ct() and clone() nest actions; deeper nesting than this is refused rather than recursed into. */
const MAX_NESTING = 4;

export function readActions(r: Reader, depth = 0): Action[] {
  const out: Action[] = [];
  while (r.remaining > 0) out.push(readAction(r, depth));
  return out;
}

export function readAction(r: Reader, depth = 0): Action {
  const start = r.pos;
  const type = r.u16('action type');
  const len = r.u16('action length');
  if (len < 8) r.fail(`action length ${len} < 8`, start);
  const a = r.sub(len - 4, 'action body');
  const raw = (): Action => ({ type: 'raw', actionType: type, payload: Buffer.from(r.buf.subarray(start + 4, start + len)) });
  switch (type) {
    case OFPAT.OUTPUT: {
      if (len !== 16) r.fail(`output action length ${len} != 16`, start);
      return { type: 'output', port: a.u32(), maxLen: a.u16() };
    }
    case OFPAT.GROUP:
      return { type: 'group', groupId: a.u32() };
    case OFPAT.SET_QUEUE:
      return { type: 'set_queue', queueId: a.u32() };
    case OFPAT.PUSH_VLAN:
      return { type: 'push_vlan', ethertype: a.u16() };
    case OFPAT.PUSH_MPLS:
      return { type: 'push_mpls', ethertype: a.u16() };
    case OFPAT.POP_MPLS:
      return { type: 'pop_mpls', ethertype: a.u16() };
    case OFPAT.POP_VLAN:
      return { type: 'pop_vlan' };
    case OFPAT.DEC_NW_TTL:
      return { type: 'dec_nw_ttl' };
    case OFPAT.COPY_TTL_OUT:
      return { type: 'copy_ttl_out' };
    case OFPAT.COPY_TTL_IN:
      return { type: 'copy_ttl_in' };
    case OFPAT.SET_NW_TTL:
      return { type: 'set_nw_ttl', ttl: a.u8() };
    case OFPAT.SET_MPLS_TTL:
      return { type: 'set_mpls_ttl', ttl: a.u8() };
    case OFPAT.DEC_MPLS_TTL:
      return { type: 'dec_mpls_ttl' };
    case OFPAT.SET_FIELD: {
      const field = readOxm(a);
      if (field.field !== 'raw' && field.mask !== undefined) return raw();
      return { type: 'set_field', field };
    }
    case OFPAT.EXPERIMENTER: {
      const vendor = a.u32('experimenter');
      if (vendor !== NX_VENDOR_ID) return raw();
      const subtype = a.u16('nicira subtype');
      const decoded = readNicira(a, subtype, start, depth);
      return decoded ?? raw();
    }
    default:
      return raw();
  }
}

function readNicira(a: Reader, subtype: number, start: number, depth: number): Action | undefined {
  switch (subtype) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE: {
      const inPort = portFrom16(a.u16());
      const table = a.u8();
      return subtype === NXAST.RESUBMIT ? { type: 'resubmit', inPort, table: 0xff, legacy: true } : { type: 'resubmit', inPort, table };
    }
    case NXAST.CONJUNCTION: {
      const clause = a.u8();
      const nClauses = a.u8();
      return { type: 'conjunction', clause, nClauses, id: a.u32() };
    }
    case NXAST.CT: {
      const flags = a.u16();
      const zoneHeader = a.u32();
      const zv = a.u16();
      const recircTable = a.u8();
      a.skip(3);
      const alg = a.u16();
      if (depth >= MAX_NESTING) a.fail(`ct actions nested deeper than ${MAX_NESTING}`, start);
      const actions = readActions(a, depth + 1);
      if (zoneHeader !== 0) {
        const field = specByHeader(zoneHeader)?.name ?? zoneHeader;
        return { type: 'ct', flags, zoneSrc: { field, ofs: zv >> 6, nBits: (zv & 0x3f) + 1 }, zoneImm: 0, recircTable, alg, actions };
      }
      return { type: 'ct', flags, zoneImm: zv, recircTable, alg, actions };
    }
    case NXAST.NAT: {
      a.skip(2);
      const flags = a.u16();
      const rp = a.u16();
      const out: Action & { type: 'nat' } = { type: 'nat', flags };
      const v4 = FIELD_BY_NAME.get('ipv4_src')!;
      const v6 = FIELD_BY_NAME.get('ipv6_src')!;
      const ip = (spec: typeof v4): string => String(bytesToValue(spec, a.bytes(spec.bytes, 'nat address')));
      if (rp & NAT_RANGE.IPV4_MIN) out.ipMin = ip(v4);
      if (rp & NAT_RANGE.IPV4_MAX) out.ipMax = ip(v4);
      if (rp & NAT_RANGE.IPV6_MIN) out.ipMin = ip(v6);
      if (rp & NAT_RANGE.IPV6_MAX) out.ipMax = ip(v6);
      if (rp & NAT_RANGE.PROTO_MIN) out.portMin = a.u16();
      if (rp & NAT_RANGE.PROTO_MAX) out.portMax = a.u16();
      return out;
    }
    case NXAST.REG_LOAD: {
      const on = a.u16();
      const field = readRefHeader(a);
      const value = a.u64();
      return { type: 'reg_load', dst: { field, ofs: on >> 6, nBits: (on & 0x3f) + 1 }, value };
    }
    case NXAST.REG_LOAD2: {
      // OXM TLV then zero padding
      const field = readOxm(a);
      return { type: 'reg_load2', field };
    }
    case NXAST.REG_MOVE: {
      const nBits = a.u16();
      const srcOfs = a.u16();
      const dstOfs = a.u16();
      const src = readRefHeader(a);
      const dst = readRefHeader(a);
      if (nBits < 1) a.fail('move of 0 bits', start);
      return { type: 'reg_move', src: { field: src, ofs: srcOfs, nBits }, dst: { field: dst, ofs: dstOfs, nBits } };
    }
    case NXAST.NOTE:
      return { type: 'note', data: a.bytes(a.remaining) };
    case NXAST.OUTPUT_REG: {
      const on = a.u16();
      const field = readRefHeader(a);
      const maxLen = a.u16();
      return { type: 'output_reg', src: { field, ofs: on >> 6, nBits: (on & 0x3f) + 1 }, maxLen };
    }
    case NXAST.EXIT:
      return { type: 'exit' };
    case NXAST.OUTPUT_TRUNC:
      return { type: 'output_trunc', port: portFrom16(a.u16()), maxLen: a.u32() };
    case NXAST.FIN_TIMEOUT:
      return { type: 'fin_timeout', idleTimeout: a.u16(), hardTimeout: a.u16() };
    case NXAST.CT_CLEAR:
      return { type: 'ct_clear' };
    case NXAST.CLONE:
      a.skip(6);
      if (depth >= MAX_NESTING) a.fail(`clone actions nested deeper than ${MAX_NESTING}`, start);
      return { type: 'clone', actions: readActions(a, depth + 1) };
    case NXAST.DEC_TTL_CNT_IDS: {
      const n = a.u16();
      a.skip(4);
      if (n * 2 > a.remaining) a.fail(`dec_ttl lists ${n} controller ids but has room for ${a.remaining >> 1}`, start);
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push(a.u16());
      return { type: 'dec_ttl_ids', ids };
    }
    case NXAST.CONTROLLER: {
      const maxLen = a.u16();
      const controllerId = a.u16();
      const reason = a.u8();
      return { type: 'controller', maxLen, controllerId, reason };
    }
    case NXAST.CONTROLLER2: {
      a.skip(6);
      const out: Action & { type: 'controller' } = { type: 'controller', maxLen: 0xffff, controllerId: 0, reason: 1 };
      while (a.remaining > 0) {
        const pstart = a.pos;
        const ptype = a.u16('property type');
        const plen = a.u16('property length');
        if (plen < 4) a.fail(`property length ${plen} < 4`, pstart);
        const p = a.sub(plen - 4, 'property');
        a.skip(Math.min(a.remaining, (8 - (plen % 8)) % 8), 'property padding');
        switch (ptype) {
          case NXAC2PT.MAX_LEN:
            out.maxLen = p.u16();
            break;
          case NXAC2PT.CONTROLLER_ID:
            out.controllerId = p.u16();
            break;
          case NXAC2PT.REASON:
            out.reason = p.u8();
            break;
          case NXAC2PT.USERDATA:
            out.userdata = p.bytes(p.remaining);
            break;
          case NXAC2PT.PAUSE:
            out.pause = true;
            break;
          case NXAC2PT.METER_ID:
            out.meterId = p.u32();
            break;
          default:
            return undefined;
        }
      }
      // keep it a CONTROLLER2 on re-encoding: an empty userdata marks that
      if (out.userdata === undefined && !out.pause && out.meterId === undefined) out.userdata = Buffer.alloc(0);
      return out;
    }
    case NXAST.LEARN: {
      const idleTimeout = a.u16();
      const hardTimeout = a.u16();
      const priority = a.u16();
      const cookie = a.u64();
      const flags = a.u16();
      const tableId = a.u8();
      a.skip(1);
      const finIdleTimeout = a.u16();
      const finHardTimeout = a.u16();
      const specs: LearnSpec[] = [];
      while (a.remaining >= 2) {
        const h = a.u16('learn spec header');
        if (h === 0) break;
        const nBits = h & 0x3ff;
        if (nBits === 0) a.fail('learn spec with 0 bits', a.pos - 2);
        const srcImm = (h & LEARN_SRC_IMM) !== 0;
        const dstType = (h >> 11) & 3;
        if (dstType === 3 || (h & 0xc000) !== 0 || (h & 0x400) !== 0) a.fail(`learn spec header 0x${h.toString(16)} invalid`, a.pos - 2);
        let src: LearnSpec['src'];
        if (srcImm) {
          const nBytes = 2 * Math.ceil(nBits / 16);
          const b = a.bytes(nBytes, 'learn immediate');
          let v = 0n;
          for (const x of b) v = (v << 8n) | BigInt(x);
          src = { kind: 'imm', value: v };
        } else {
          const field = readRefHeader(a);
          src = { kind: 'field', ref: { field, ofs: a.u16(), nBits } };
        }
        let dst: LearnSpec['dst'];
        if (dstType === 2) dst = { kind: 'output' };
        else {
          const field = readRefHeader(a);
          dst = { kind: dstType === 1 ? 'load' : 'match', ref: { field, ofs: a.u16(), nBits } };
        }
        specs.push({ nBits, src, dst });
      }
      return { type: 'learn', idleTimeout, hardTimeout, priority, cookie, flags, tableId, finIdleTimeout, finHardTimeout, specs };
    }
    default:
      return undefined;
  }
}

// ---------- instructions ----------

export function writeInstructions(w: Writer, instructions: readonly Instruction[], where = 'instructions'): void {
  for (const ins of instructions) {
    const start = w.pos;
    switch (ins.type) {
      case 'goto_table':
        w.u16(OFPIT.GOTO_TABLE);
        w.u16(8);
        w.u8(ins.tableId);
        w.zeros(3);
        break;
      case 'write_metadata':
        w.u16(OFPIT.WRITE_METADATA);
        w.u16(24);
        w.zeros(4);
        w.u64(ins.metadata);
        w.u64(ins.mask);
        break;
      case 'write_actions':
      case 'apply_actions':
        w.u16(ins.type === 'write_actions' ? OFPIT.WRITE_ACTIONS : OFPIT.APPLY_ACTIONS);
        w.u16(0);
        w.zeros(4);
        writeActions(w, ins.actions, `${where}.${ins.type}`);
        if (w.pos - start > 0xffff) bad(where, 'instruction longer than 65535 bytes');
        w.setU16(start + 2, w.pos - start);
        break;
      case 'clear_actions':
        w.u16(OFPIT.CLEAR_ACTIONS);
        w.u16(8);
        w.zeros(4);
        break;
      case 'meter':
        w.u16(OFPIT.METER);
        w.u16(8);
        w.u32(ins.meterId);
        break;
      case 'raw':
        w.u16(ins.instructionType);
        w.u16(4 + ins.payload.length);
        w.bytes(ins.payload);
        break;
    }
  }
}

export function readInstructions(r: Reader): Instruction[] {
  const out: Instruction[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    const type = r.u16('instruction type');
    const len = r.u16('instruction length');
    if (len < 8) r.fail(`instruction length ${len} < 8`, start);
    const b = r.sub(len - 4, 'instruction body');
    switch (type) {
      case OFPIT.GOTO_TABLE:
        out.push({ type: 'goto_table', tableId: b.u8() });
        break;
      case OFPIT.WRITE_METADATA:
        b.skip(4);
        out.push({ type: 'write_metadata', metadata: b.u64(), mask: b.u64() });
        break;
      case OFPIT.WRITE_ACTIONS:
      case OFPIT.APPLY_ACTIONS:
        b.skip(4);
        out.push({ type: type === OFPIT.WRITE_ACTIONS ? 'write_actions' : 'apply_actions', actions: readActions(b) });
        break;
      case OFPIT.CLEAR_ACTIONS:
        out.push({ type: 'clear_actions' });
        break;
      case OFPIT.METER:
        out.push({ type: 'meter', meterId: b.u32() });
        break;
      default:
        out.push({ type: 'raw', instructionType: type, payload: Buffer.from(r.buf.subarray(start + 4, start + len)) });
    }
  }
  return out;
}
