/**
 * Field references in Nicira actions (reg_load, reg_move, output_reg, learn, ct zone): the NXM/OXM
 * header naming the field, and the bit range `field[ofs..ofs+nBits-1]`.
 */
import { bad } from './action-codec';
import type { FieldRef, OxmFieldName } from './messages';
import { FIELD_BY_NAME, fieldHeader, refBits, OXM_CLASS, specByHeader } from './oxm';
import { Reader, Writer } from './wire';

/** Write the NXM/OXM header naming a field reference (4 bytes, or 8 for experimenter fields). */
export function writeRefHeader(w: Writer, field: OxmFieldName | number, where: string): void {
  if (typeof field === 'number') {
    w.u32(field);
    return;
  }
  const spec = FIELD_BY_NAME.get(field);
  if (!spec) bad(where, `unknown field '${field}'`);
  w.u32(fieldHeader(spec));
  if (!spec.nxm && spec.experimenter !== undefined) w.u32(spec.experimenter);
}

export function refHeaderLen(field: OxmFieldName | number): number {
  if (typeof field === 'number') return 4;
  const spec = FIELD_BY_NAME.get(field);
  return spec && !spec.nxm && spec.experimenter !== undefined ? 8 : 4;
}

export function readRefHeader(r: Reader): OxmFieldName | number {
  const header = r.u32('field header');
  if (header >>> 16 === OXM_CLASS.EXPERIMENTER) {
    const exp = r.u32('field experimenter');
    const spec = specByHeader(header, exp);
    // an unknown field keeps only its 4-byte header here: with the experimenter id lost it could not be written back
    if (!spec) bad('field reference', `unknown experimenter field 0x${header.toString(16)} of experimenter 0x${exp.toString(16)}`);
    return spec.name;
  }
  return specByHeader(header)?.name ?? header;
}

function fieldBits(field: OxmFieldName | number): number | undefined {
  if (typeof field === 'number') return undefined;
  const s = FIELD_BY_NAME.get(field);
  return s ? refBits(s) : undefined;
}

export function checkRef(ref: FieldRef, where: string): void {
  const bits = fieldBits(ref.field);
  if (!Number.isInteger(ref.ofs) || !Number.isInteger(ref.nBits) || ref.ofs < 0 || ref.nBits < 1)
    bad(where, `bad bit range [${ref.ofs}+${ref.nBits}]`);
  if (bits !== undefined && ref.ofs + ref.nBits > bits)
    bad(where, `bits ${ref.ofs}..${ref.ofs + ref.nBits - 1} exceed the ${bits}-bit field ${String(ref.field)}`);
  if (ref.ofs > 1023 || ref.nBits > 1024) bad(where, 'bit range too large');
}

/** The 16-bit `ofs_nbits` word: offset in the upper 10 bits, nBits-1 in the lower 6. */
export function ofsNbits(ofs: number, nBits: number): number {
  return (ofs << 6) | (nBits - 1);
}

/** The field reference an `ofs_nbits` word and a field name make. */
export function refFromOfsNbits(field: OxmFieldName | number, on: number): FieldRef {
  return { field, ofs: on >> 6, nBits: (on & 0x3f) + 1 };
}

/** `ofs_nbits` then the field's header, as reg_load and output_reg carry a destination/source. */
export function writeOfsNbitsRef(w: Writer, ref: FieldRef, where: string): void {
  w.u16(ofsNbits(ref.ofs, ref.nBits));
  writeRefHeader(w, ref.field, where);
}

export function readOfsNbitsRef(r: Reader): FieldRef {
  const on = r.u16();
  return refFromOfsNbits(readRefHeader(r), on);
}
