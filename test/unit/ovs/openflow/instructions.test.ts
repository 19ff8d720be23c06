/**
 * Instruction codecs: every kind round-trips with the OFPIT type and length OpenFlow gives it, and
 * an unknown type stays raw bytes.
 */
import assert from 'node:assert/strict';
import { INSTRUCTION_CODECS, OFPIT, readInstructions, writeInstructions } from '../../../../ovs/openflow/instructions';
import type { Instruction } from '../../../../ovs/openflow/messages';
import { Reader, Writer } from '../../../../ovs/openflow/wire';

function encode(list: readonly Instruction[]): Buffer {
  const w = new Writer(64);
  writeInstructions(w, list);
  return w.finish();
}

describe('openflow instruction codecs', () => {
  it('round-trips every kind with its OFPIT type and length', () => {
    const samples: [Instruction, number, number][] = [
      [{ type: 'goto_table', tableId: 7 }, OFPIT.GOTO_TABLE, 8],
      [{ type: 'write_metadata', metadata: 0x1234n, mask: 0xffffn }, OFPIT.WRITE_METADATA, 24],
      [{ type: 'write_actions', actions: [{ type: 'group', groupId: 1 }] }, OFPIT.WRITE_ACTIONS, 16],
      [{ type: 'apply_actions', actions: [{ type: 'output', port: 2, maxLen: 0 }] }, OFPIT.APPLY_ACTIONS, 24],
      [{ type: 'clear_actions' }, OFPIT.CLEAR_ACTIONS, 8],
      [{ type: 'meter', meterId: 3 }, OFPIT.METER, 8],
    ];
    assert.deepEqual(new Set(samples.map(([i]) => i.type)), new Set(Object.keys(INSTRUCTION_CODECS)), 'a sample per codec');
    for (const [ins, ofpit, len] of samples) {
      const bytes = encode([ins]);
      assert.equal(bytes.readUInt16BE(0), ofpit, ins.type);
      assert.equal(bytes.readUInt16BE(2), len, ins.type);
      assert.equal(bytes.length, len, ins.type);
      assert.deepEqual(readInstructions(new Reader(bytes)), [ins]);
    }
    const all = samples.map(([i]) => i);
    assert.deepEqual(readInstructions(new Reader(encode(all))), all);
  });

  it('keeps an unknown instruction type as raw bytes that re-encode identically', () => {
    const bytes = Buffer.from('0063000800000000', 'hex');
    const list = readInstructions(new Reader(bytes));
    assert.deepEqual(list, [{ type: 'raw', instructionType: 0x63, payload: Buffer.alloc(4) }]);
    assert.deepEqual(encode(list), bytes);
  });
});
