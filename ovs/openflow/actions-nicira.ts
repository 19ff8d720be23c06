/**
 * The Nicira extension actions Open vSwitch needs (experimenter 0x2320), one ActionCodec per
 * subtype: resubmit, conjunction, ct, nat, reg_load/reg_load2/move, note, controller, output_reg,
 * output_trunc, fin_timeout, ct_clear, clone, exit, dec_ttl. learn is in `nicira-learn.ts`.
 */
import { ActionCodec, ActionKind, bad, bare, NXAST, portFrom16, portTo16 } from './action-codec';
import {
  checkRef,
  ofsNbits,
  readOfsNbitsRef,
  readRefHeader,
  refFromOfsNbits,
  refHeaderLen,
  writeOfsNbitsRef,
  writeRefHeader,
} from './field-ref';
import type { Action } from './messages';
import { NX_VENDOR_ID } from './messages';
import { learn } from './nicira-learn';
import { bytesToValue, FIELD_BY_NAME, readOxm, specByHeader, valueToBytes, writeOxm } from './oxm';
import { Writer } from './wire';

const NAT_RANGE = { IPV4_MIN: 1, IPV4_MAX: 2, IPV6_MIN: 4, IPV6_MAX: 8, PROTO_MIN: 16, PROTO_MAX: 32 } as const;
const NXAC2PT = { MAX_LEN: 0, CONTROLLER_ID: 1, REASON: 2, USERDATA: 3, PAUSE: 4, METER_ID: 5 } as const;

/** The wire form of Nicira subtype `subtype`. */
export function nicira(subtype: number): { experimenter: number; subtype: number } {
  return { experimenter: NX_VENDOR_ID, subtype };
}

function writeResubmit(w: Writer, inPort: number, table: number): void {
  w.u16(portTo16(inPort));
  w.u8(table);
  w.zeros(3);
}

/** NXAST_RESUBMIT (no table): only for a decoded one marked `legacy`, so it re-encodes identically. */
const resubmitLegacy: ActionCodec<'resubmit'> = {
  kind: 'resubmit',
  wire: nicira(NXAST.RESUBMIT),
  accepts: (a) => a.legacy === true && a.table === 0xff,
  encode: (w, a) => writeResubmit(w, a.inPort, 0),
  decode: (r) => {
    const inPort = portFrom16(r.u16());
    r.u8();
    return { type: 'resubmit', inPort, table: 0xff, legacy: true };
  },
};

/** NXAST_RESUBMIT_TABLE, as ovs-ofctl encodes every resubmit. */
const resubmitTable: ActionCodec<'resubmit'> = {
  kind: 'resubmit',
  wire: nicira(NXAST.RESUBMIT_TABLE),
  encode: (w, a) => writeResubmit(w, a.inPort, a.table),
  decode: (r) => {
    const inPort = portFrom16(r.u16());
    const table = r.u8();
    return { type: 'resubmit', inPort, table };
  },
};

const conjunction: ActionCodec<'conjunction'> = {
  kind: 'conjunction',
  wire: nicira(NXAST.CONJUNCTION),
  encode: (w, a, ctx) => {
    if (a.nClauses < 2 || a.nClauses > 64 || a.clause >= a.nClauses)
      bad(`${ctx.where}.conjunction`, `clause ${a.clause + 1}/${a.nClauses} is invalid (need 2 <= n <= 64 and 1 <= k <= n)`);
    w.u8(a.clause);
    w.u8(a.nClauses);
    w.u32(a.id);
  },
  decode: (r) => {
    const clause = r.u8();
    const nClauses = r.u8();
    return { type: 'conjunction', clause, nClauses, id: r.u32() };
  },
};

const ct: ActionCodec<'ct'> = {
  kind: 'ct',
  wire: nicira(NXAST.CT),
  encode: (w, a, ctx) => {
    const where = ctx.where;
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
    ctx.writeActions(w, a.actions, `${where}.ct`);
  },
  decode: (r, ctx) => {
    const flags = r.u16();
    const zoneHeader = r.u32();
    const zv = r.u16();
    const recircTable = r.u8();
    r.skip(3);
    const alg = r.u16();
    const actions = ctx.readNested(r, 'ct');
    if (zoneHeader !== 0) {
      const zoneSrc = refFromOfsNbits(specByHeader(zoneHeader)?.name ?? zoneHeader, zv);
      return { type: 'ct', flags, zoneSrc, zoneImm: 0, recircTable, alg, actions };
    }
    return { type: 'ct', flags, zoneImm: zv, recircTable, alg, actions };
  },
};

function writeIp(w: Writer, ip: string, v6: boolean, where: string): void {
  w.bytes(valueToBytes(FIELD_BY_NAME.get(v6 ? 'ipv6_src' : 'ipv4_src')!, ip, where));
}

const nat: ActionCodec<'nat'> = {
  kind: 'nat',
  wire: nicira(NXAST.NAT),
  encode: (w, a, ctx) => {
    w.zeros(2);
    w.u16(a.flags);
    const rpAt = w.pos;
    w.u16(0);
    let rp = 0;
    const v6 = (a.ipMin ?? a.ipMax ?? '').includes(':');
    if (a.ipMin !== undefined) {
      rp |= v6 ? NAT_RANGE.IPV6_MIN : NAT_RANGE.IPV4_MIN;
      writeIp(w, a.ipMin, v6, `${ctx.where}.nat`);
    }
    if (a.ipMax !== undefined) {
      rp |= v6 ? NAT_RANGE.IPV6_MAX : NAT_RANGE.IPV4_MAX;
      writeIp(w, a.ipMax, v6, `${ctx.where}.nat`);
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
  },
  decode: (r) => {
    r.skip(2);
    const flags = r.u16();
    const rp = r.u16();
    const out: Action & { type: 'nat' } = { type: 'nat', flags };
    const v4 = FIELD_BY_NAME.get('ipv4_src')!;
    const v6 = FIELD_BY_NAME.get('ipv6_src')!;
    const ip = (spec: typeof v4): string => String(bytesToValue(spec, r.bytes(spec.bytes, 'nat address')));
    if (rp & NAT_RANGE.IPV4_MIN) out.ipMin = ip(v4);
    if (rp & NAT_RANGE.IPV4_MAX) out.ipMax = ip(v4);
    if (rp & NAT_RANGE.IPV6_MIN) out.ipMin = ip(v6);
    if (rp & NAT_RANGE.IPV6_MAX) out.ipMax = ip(v6);
    if (rp & NAT_RANGE.PROTO_MIN) out.portMin = r.u16();
    if (rp & NAT_RANGE.PROTO_MAX) out.portMax = r.u16();
    return out;
  },
};

const regLoad: ActionCodec<'reg_load'> = {
  kind: 'reg_load',
  wire: nicira(NXAST.REG_LOAD),
  encode: (w, a, ctx) => {
    const where = `${ctx.where}.load`;
    checkRef(a.dst, where);
    if (a.dst.nBits > 64) bad(where, 'reg_load loads at most 64 bits');
    if (a.value < 0n || a.value >> BigInt(a.dst.nBits) !== 0n) bad(where, `value ${a.value} does not fit in ${a.dst.nBits} bits`);
    writeOfsNbitsRef(w, a.dst, where);
    w.u64(a.value);
  },
  decode: (r) => {
    const dst = readOfsNbitsRef(r);
    return { type: 'reg_load', dst, value: r.u64() };
  },
};

/** NXAST_REG_LOAD2: an OXM TLV, then zero padding. */
const regLoad2: ActionCodec<'reg_load2'> = {
  kind: 'reg_load2',
  wire: nicira(NXAST.REG_LOAD2),
  encode: (w, a, ctx) => writeOxm(w, a.field, `${ctx.where}.set_field`),
  decode: (r) => ({ type: 'reg_load2', field: readOxm(r) }),
};

const regMove: ActionCodec<'reg_move'> = {
  kind: 'reg_move',
  wire: nicira(NXAST.REG_MOVE),
  encode: (w, a, ctx) => {
    const where = `${ctx.where}.move`;
    checkRef(a.src, `${where}.src`);
    checkRef(a.dst, `${where}.dst`);
    if (a.src.nBits !== a.dst.nBits) bad(where, `source has ${a.src.nBits} bits but destination ${a.dst.nBits}`);
    w.u16(a.src.nBits);
    w.u16(a.src.ofs);
    w.u16(a.dst.ofs);
    writeRefHeader(w, a.src.field, `${where}.src`);
    writeRefHeader(w, a.dst.field, `${where}.dst`);
  },
  decode: (r, ctx) => {
    const nBits = r.u16();
    const srcOfs = r.u16();
    const dstOfs = r.u16();
    const src = readRefHeader(r);
    const dst = readRefHeader(r);
    if (nBits < 1) r.fail('move of 0 bits', ctx.start);
    return { type: 'reg_move', src: { field: src, ofs: srcOfs, nBits }, dst: { field: dst, ofs: dstOfs, nBits } };
  },
};

const note: ActionCodec<'note'> = {
  kind: 'note',
  wire: nicira(NXAST.NOTE),
  encode: (w, a) => {
    w.bytes(a.data);
    if (a.data.length < 6) w.zeros(6 - a.data.length);
  },
  decode: (r) => ({ type: 'note', data: r.bytes(r.remaining) }),
};

/** A property TLV: type, length (without padding), value, zero padding to 8. (OVS counts 2 pad bytes of u16 properties in the length.) */
function prop(w: Writer, type: number, body: (w: Writer) => void): void {
  const start = w.pos;
  w.u16(type);
  w.u16(0);
  body(w);
  w.setU16(start + 2, w.pos - start);
  w.pad8(start);
}

/** NXAST_CONTROLLER2 (properties): for a controller action with userdata, pause or a meter. */
const controller2: ActionCodec<'controller'> = {
  kind: 'controller',
  wire: nicira(NXAST.CONTROLLER2),
  accepts: (a) => a.userdata !== undefined || a.pause === true || a.meterId !== undefined,
  encode: (w, a) => {
    w.zeros(6);
    if (a.maxLen !== 0xffff) prop(w, NXAC2PT.MAX_LEN, (x) => (x.u16(a.maxLen), x.zeros(2)));
    if (a.controllerId !== 0) prop(w, NXAC2PT.CONTROLLER_ID, (x) => (x.u16(a.controllerId), x.zeros(2)));
    if (a.reason !== 1) prop(w, NXAC2PT.REASON, (x) => x.u8(a.reason));
    if (a.userdata !== undefined && a.userdata.length > 0) prop(w, NXAC2PT.USERDATA, (x) => x.bytes(a.userdata!));
    if (a.pause) prop(w, NXAC2PT.PAUSE, () => undefined);
    if (a.meterId !== undefined) prop(w, NXAC2PT.METER_ID, (x) => x.u32(a.meterId!));
  },
  decode: (r) => {
    r.skip(6);
    const out: Action & { type: 'controller' } = { type: 'controller', maxLen: 0xffff, controllerId: 0, reason: 1 };
    while (r.remaining > 0) {
      const pstart = r.pos;
      const ptype = r.u16('property type');
      const plen = r.u16('property length');
      if (plen < 4) r.fail(`property length ${plen} < 4`, pstart);
      const p = r.sub(plen - 4, 'property');
      r.skip(Math.min(r.remaining, (8 - (plen % 8)) % 8), 'property padding');
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
  },
};

const controller: ActionCodec<'controller'> = {
  kind: 'controller',
  wire: nicira(NXAST.CONTROLLER),
  encode: (w, a) => {
    w.u16(a.maxLen);
    w.u16(a.controllerId);
    w.u8(a.reason);
    w.u8(0);
  },
  decode: (r) => {
    const maxLen = r.u16();
    const controllerId = r.u16();
    const reason = r.u8();
    return { type: 'controller', maxLen, controllerId, reason };
  },
};

const outputReg: ActionCodec<'output_reg'> = {
  kind: 'output_reg',
  wire: nicira(NXAST.OUTPUT_REG),
  encode: (w, a, ctx) => {
    const where = `${ctx.where}.output`;
    checkRef(a.src, where);
    if (refHeaderLen(a.src.field) !== 4) bad(where, 'output source must be an NXM field');
    writeOfsNbitsRef(w, a.src, where);
    w.u16(a.maxLen);
    w.zeros(6);
  },
  decode: (r) => {
    const src = readOfsNbitsRef(r);
    return { type: 'output_reg', src, maxLen: r.u16() };
  },
};

const outputTrunc: ActionCodec<'output_trunc'> = {
  kind: 'output_trunc',
  wire: nicira(NXAST.OUTPUT_TRUNC),
  encode: (w, a) => {
    w.u16(portTo16(a.port));
    w.u32(a.maxLen);
  },
  decode: (r) => ({ type: 'output_trunc', port: portFrom16(r.u16()), maxLen: r.u32() }),
};

const finTimeout: ActionCodec<'fin_timeout'> = {
  kind: 'fin_timeout',
  wire: nicira(NXAST.FIN_TIMEOUT),
  encode: (w, a) => {
    w.u16(a.idleTimeout);
    w.u16(a.hardTimeout);
  },
  decode: (r) => ({ type: 'fin_timeout', idleTimeout: r.u16(), hardTimeout: r.u16() }),
};

const clone: ActionCodec<'clone'> = {
  kind: 'clone',
  wire: nicira(NXAST.CLONE),
  encode: (w, a, ctx) => {
    w.zeros(6);
    ctx.writeActions(w, a.actions, `${ctx.where}.clone`);
  },
  decode: (r, ctx) => {
    r.skip(6);
    return { type: 'clone', actions: ctx.readNested(r, 'clone') };
  },
};

const decTtlIds: ActionCodec<'dec_ttl_ids'> = {
  kind: 'dec_ttl_ids',
  wire: nicira(NXAST.DEC_TTL_CNT_IDS),
  encode: (w, a) => {
    w.u16(a.ids.length);
    w.zeros(4);
    for (const id of a.ids) w.u16(id);
  },
  decode: (r, ctx) => {
    const n = r.u16();
    r.skip(4);
    if (n * 2 > r.remaining) r.fail(`dec_ttl lists ${n} controller ids but has room for ${r.remaining >> 1}`, ctx.start);
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(r.u16());
    return { type: 'dec_ttl_ids', ids };
  },
};

export const NICIRA_ACTIONS = {
  resubmit: [resubmitLegacy, resubmitTable],
  conjunction: [conjunction],
  ct: [ct],
  nat: [nat],
  reg_load: [regLoad],
  reg_load2: [regLoad2],
  reg_move: [regMove],
  learn: [learn],
  note: [note],
  controller: [controller2, controller],
  output_reg: [outputReg],
  output_trunc: [outputTrunc],
  fin_timeout: [finTimeout],
  ct_clear: [bare('ct_clear', nicira(NXAST.CT_CLEAR))],
  clone: [clone],
  exit: [bare('exit', nicira(NXAST.EXIT))],
  dec_ttl_ids: [decTtlIds],
} as const satisfies { readonly [K in ActionKind]?: readonly ActionCodec<K>[] };
