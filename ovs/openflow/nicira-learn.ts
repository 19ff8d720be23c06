/**
 * NXAST_LEARN: the flow a learn action adds, as a header and a list of specs (each copies a field
 * range or an immediate into the new flow's match, a load, or an output).
 */
import { ActionCodec, bad, NXAST } from './action-codec';
import { checkRef, readRefHeader, writeRefHeader } from './field-ref';
import type { LearnSpec } from './messages';
import { NX_VENDOR_ID } from './messages';
import { Reader, Writer } from './wire';

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

/** The specs up to the end of the action or a zero header (the padding). */
function readLearnSpecs(r: Reader): LearnSpec[] {
  const specs: LearnSpec[] = [];
  while (r.remaining >= 2) {
    const h = r.u16('learn spec header');
    if (h === 0) break;
    const nBits = h & 0x3ff;
    if (nBits === 0) r.fail('learn spec with 0 bits', r.pos - 2);
    const srcImm = (h & LEARN_SRC_IMM) !== 0;
    const dstType = (h >> 11) & 3;
    if (dstType === 3 || (h & 0xc000) !== 0 || (h & 0x400) !== 0) r.fail(`learn spec header 0x${h.toString(16)} invalid`, r.pos - 2);
    let src: LearnSpec['src'];
    if (srcImm) {
      const nBytes = 2 * Math.ceil(nBits / 16);
      const b = r.bytes(nBytes, 'learn immediate');
      let v = 0n;
      for (const x of b) v = (v << 8n) | BigInt(x);
      src = { kind: 'imm', value: v };
    } else {
      const field = readRefHeader(r);
      src = { kind: 'field', ref: { field, ofs: r.u16(), nBits } };
    }
    let dst: LearnSpec['dst'];
    if (dstType === 2) dst = { kind: 'output' };
    else {
      const field = readRefHeader(r);
      dst = { kind: dstType === 1 ? 'load' : 'match', ref: { field, ofs: r.u16(), nBits } };
    }
    specs.push({ nBits, src, dst });
  }
  return specs;
}

export const learn: ActionCodec<'learn'> = {
  kind: 'learn',
  wire: { experimenter: NX_VENDOR_ID, subtype: NXAST.LEARN },
  encode: (w, a, ctx) => {
    w.u16(a.idleTimeout);
    w.u16(a.hardTimeout);
    w.u16(a.priority);
    w.u64(a.cookie);
    w.u16(a.flags);
    w.u8(a.tableId);
    w.u8(0);
    w.u16(a.finIdleTimeout);
    w.u16(a.finHardTimeout);
    for (const s of a.specs) writeLearnSpec(w, s, `${ctx.where}.learn`);
  },
  decode: (r) => {
    const idleTimeout = r.u16();
    const hardTimeout = r.u16();
    const priority = r.u16();
    const cookie = r.u64();
    const flags = r.u16();
    const tableId = r.u8();
    r.skip(1);
    const finIdleTimeout = r.u16();
    const finHardTimeout = r.u16();
    const specs = readLearnSpecs(r);
    return { type: 'learn', idleTimeout, hardTimeout, priority, cookie, flags, tableId, finIdleTimeout, finHardTimeout, specs };
  },
};
