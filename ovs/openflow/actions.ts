/**
 * OpenFlow 1.3 action lists on the wire. Each action kind is one ActionCodec (standard ones in
 * `actions-standard.ts`, Nicira extensions in `actions-nicira.ts`, collected by
 * `action-registry.ts`); this file frames them: type, length, experimenter id and subtype,
 * padding to 8. An action no codec decodes stays `raw` and re-encodes to the same bytes.
 */
import { bad, DecodeContext, EncodeContext, OFPAT } from './action-codec';
import { codecFor, experimenterCodec, hasExperimenterCodecs, standardCodec } from './action-registry';
import type { Action } from './messages';
import { Reader, Writer } from './wire';

export { NXAST, OFPAT, portFrom16, portTo16 } from './action-codec';

/** ct() and clone() nest actions; deeper nesting than this is refused rather than recursed into. */
const MAX_NESTING = 4;

export function writeActions(w: Writer, actions: readonly Action[], where = 'actions'): void {
  for (const a of actions) writeAction(w, a, where);
}

export function writeAction(w: Writer, a: Action, where = 'actions'): void {
  const start = w.pos;
  if (a.type === 'raw') {
    if (a.payload.length + 4 > 0xffff) bad(where, 'raw action too long');
    w.u16(a.actionType);
    w.u16(4 + a.payload.length);
    w.bytes(a.payload);
    return;
  }
  const codec = codecFor(a);
  if ('ofpat' in codec.wire) {
    w.u16(codec.wire.ofpat);
    w.u16(0);
  } else {
    w.u16(OFPAT.EXPERIMENTER);
    w.u16(0);
    w.u32(codec.wire.experimenter);
    w.u16(codec.wire.subtype);
  }
  const ctx: EncodeContext = { where, writeActions };
  codec.encode(w, a, ctx);
  w.pad8(start);
  const len = w.pos - start;
  if (len > 0xffff) bad('actions', 'action longer than 65535 bytes');
  w.setU16(start + 2, len);
}

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
  const body = r.sub(len - 4, 'action body');
  const raw = (): Action => ({ type: 'raw', actionType: type, payload: Buffer.from(r.buf.subarray(start + 4, start + len)) });
  const ctx: DecodeContext = {
    start,
    len,
    readNested: (nested, what) => {
      if (depth >= MAX_NESTING) nested.fail(`${what} actions nested deeper than ${MAX_NESTING}`, start);
      return readActions(nested, depth + 1);
    },
  };
  if (type !== OFPAT.EXPERIMENTER) return standardCodec(type)?.decode(body, ctx) ?? raw();
  const experimenter = body.u32('experimenter');
  if (!hasExperimenterCodecs(experimenter)) return raw();
  const subtype = body.u16('nicira subtype');
  return experimenterCodec(experimenter, subtype)?.decode(body, ctx) ?? raw();
}
