/**
 * OpenFlow 1.3 instructions on the wire (goto_table, write_metadata, write/apply/clear actions, meter).
 */
import { bad } from './action-codec';
import { readActions, writeActions } from './actions';
import type { Instruction } from './messages';
import { Reader, Writer } from './wire';

export const OFPIT = { GOTO_TABLE: 1, WRITE_METADATA: 2, WRITE_ACTIONS: 3, APPLY_ACTIONS: 4, CLEAR_ACTIONS: 5, METER: 6 } as const;

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
