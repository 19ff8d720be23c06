/**
 * OpenFlow 1.3 instructions on the wire (goto_table, write_metadata, write/apply/clear actions,
 * meter): one codec per kind with both halves, as for actions; an unknown type stays `raw`.
 */
import { bad } from './action-codec';
import { readActions, writeActions } from './actions';
import type { Instruction } from './messages';
import { Reader, Writer } from './wire';

export const OFPIT = { GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6 } as const;

type InstructionKind = Exclude<Instruction['type'], 'raw'>;
type InstructionByKind = { [I in Instruction as I['type']]: I };

/** One instruction kind: its OFPIT type and its body after type and length (padding included). */
interface InstructionCodec<K extends InstructionKind> {
  ofpit: number;
  encode(w: Writer, ins: InstructionByKind[K], where: string): void;
  decode(r: Reader): InstructionByKind[K];
}

/** write_actions and apply_actions: 4 bytes of padding, then the action list. */
function actionList<K extends 'write_actions' | 'apply_actions'>(kind: K, ofpit: number): InstructionCodec<K> {
  return {
    ofpit,
    encode: (w, ins, where) => {
      w.zeros(4);
      writeActions(w, ins.actions, `${where}.${kind}`);
    },
    decode: (r) => {
      r.skip(4);
      // the cast restates K: { type: K, actions } is that instruction
      return { type: kind, actions: readActions(r) } as InstructionByKind[K];
    },
  };
}

/** Typed so that a kind of `Instruction` without a codec does not compile. */
export const INSTRUCTION_CODECS: { readonly [K in InstructionKind]: InstructionCodec<K> } = {
  goto_table: {
    ofpit: OFPIT.GOTO_TABLE,
    encode: (w, ins) => {
      w.u8(ins.tableId);
      w.zeros(3);
    },
    decode: (r) => ({ type: 'goto_table', tableId: r.u8() }),
  },
  write_metadata: {
    ofpit: OFPIT.WRITE_METADATA,
    encode: (w, ins) => {
      w.zeros(4);
      w.u64(ins.metadata);
      w.u64(ins.mask);
    },
    decode: (r) => {
      r.skip(4);
      return { type: 'write_metadata', metadata: r.u64(), mask: r.u64() };
    },
  },
  write_actions: actionList('write_actions', OFPIT.WRITE_ACTIONS),
  apply_actions: actionList('apply_actions', OFPIT.APPLY_ACTIONS),
  clear_actions: { ofpit: OFPIT.CLEAR_ACTIONS, encode: (w) => w.zeros(4), decode: () => ({ type: 'clear_actions' }) },
  meter: { ofpit: OFPIT.METER, encode: (w, ins) => w.u32(ins.meterId), decode: (r) => ({ type: 'meter', meterId: r.u32() }) },
};

const BY_OFPIT = new Map<number, InstructionCodec<InstructionKind>>(Object.values(INSTRUCTION_CODECS).map((c) => [c.ofpit, c]));

export function writeInstructions(w: Writer, instructions: readonly Instruction[], where = 'instructions'): void {
  for (const ins of instructions) {
    const start = w.pos;
    if (ins.type === 'raw') {
      w.u16(ins.instructionType);
      w.u16(4 + ins.payload.length);
      w.bytes(ins.payload);
      continue;
    }
    const codec: InstructionCodec<InstructionKind> = INSTRUCTION_CODECS[ins.type];
    w.u16(codec.ofpit);
    w.u16(0);
    codec.encode(w, ins, where);
    if (w.pos - start > 0xffff) bad(where, 'instruction longer than 65535 bytes');
    w.setU16(start + 2, w.pos - start);
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
    const codec = BY_OFPIT.get(type);
    out.push(
      codec ? codec.decode(b) : { type: 'raw', instructionType: type, payload: Buffer.from(r.buf.subarray(start + 4, start + len)) },
    );
  }
  return out;
}
