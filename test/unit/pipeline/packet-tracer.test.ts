/**
 * The packet tracer itself, on hand-written flows: it must follow OpenFlow/OVS semantics for the
 * pipeline tests to mean anything.
 */
import { strict as assert } from 'node:assert';
import { flowMod, NO_TABLE, OFPP } from '../../../ovs/openflow/messages';
import type { Action } from '../../../ovs/openflow/messages';
import { PacketTracer } from '../../support/packet-tracer';
import { apply, base, f, goto, out } from './tracer-flows';

describe('packet tracer', () => {
  it('takes the highest-priority matching flow and honours masks', () => {
    const t = new PacketTracer([
      f(0, 10, [], [apply(out(9))]),
      f(0, 20, [{ field: 'ipv4_dst', value: '10.0.0.0', mask: '255.255.255.0' }], [apply(out(2))]),
      f(0, 30, [{ field: 'ipv4_dst', value: '10.0.1.0', mask: '255.255.255.0' }], [apply(out(3))]),
    ]);
    assert.deepEqual(
      t.trace(base).outputs.map((o) => o.port),
      [2],
    );
    assert.deepEqual(
      t.trace({ ...base, ipv4_dst: '10.0.1.7' }).outputs.map((o) => o.port),
      [3],
    );
    assert.deepEqual(
      t.trace({ ...base, ipv4_dst: '192.0.2.1' }).outputs.map((o) => o.port),
      [9],
    );
  });

  it('a field the packet does not have never matches (prerequisites)', () => {
    const t = new PacketTracer([f(0, 10, [{ field: 'arp_op', value: 0 }], [apply(out(2))])]);
    const r = t.trace(base);
    assert.deepEqual(r.outputs, []);
    assert.equal(r.steps[0]!.noMatch, true);
  });

  it('refuses two matching flows of equal priority, and a goto that does not go forward', () => {
    assert.throws(
      () =>
        new PacketTracer([f(0, 10, [], [apply(out(2))], 'x'), f(0, 10, [{ field: 'in_port', value: 1 }], [apply(out(3))], 'y')]).trace(
          base,
        ),
      /two flows of priority 10/,
    );
    assert.throws(() => new PacketTracer([f(0, 1, [], [goto(5)]), f(5, 1, [], [goto(3)])]).trace(base), /does not go forward/);
  });

  it('suppresses output to the input port unless it is IN_PORT, and snapshots the packet at each output', () => {
    const t = new PacketTracer([
      f(
        0,
        1,
        [],
        [apply(out(1), out(2), { type: 'set_field', field: { field: 'eth_dst', value: '02:00:00:00:00:99' } }, out(OFPP.IN_PORT))],
      ),
    ]);
    const r = t.trace(base);
    assert.deepEqual(
      r.outputs.map((o) => [o.port, o.packet.eth_dst]),
      [
        [2, '02:00:00:00:00:02'],
        [1, '02:00:00:00:00:99'],
      ],
    );
    assert.ok(r.notes.some((n) => n.includes('suppressed')));
  });

  it('implements reg_load bit ranges, reg_move and goto with registers carried between tables', () => {
    const t = new PacketTracer([
      f(
        0,
        1,
        [],
        [
          apply(
            { type: 'reg_load', dst: { field: 'reg5', ofs: 3, nBits: 1 }, value: 1n },
            { type: 'reg_move', src: { field: 'ipv4_src', ofs: 0, nBits: 32 }, dst: { field: 'reg1', ofs: 0, nBits: 32 } },
          ),
          goto(10),
        ],
      ),
      f(
        10,
        5,
        [{ field: 'reg5', value: 8, mask: 8 }],
        [apply({ type: 'reg_move', src: { field: 'eth_src', ofs: 0, nBits: 48 }, dst: { field: 'eth_dst', ofs: 0, nBits: 48 } }, out(4))],
      ),
    ]);
    const o = t.trace(base).outputs[0]!;
    assert.equal(o.port, 4);
    assert.equal(o.regs[5], 8);
    assert.equal(o.regs[1], 0x0a000001);
    assert.equal(o.packet.eth_dst, base.eth_src);
  });

  it('pushes, sets and pops VLAN tags in the OpenFlow 1.3 vlan_vid form', () => {
    const t = new PacketTracer([
      f(0, 2, [{ field: 'vlan_vid', value: 0x1000 | 7 }], [apply({ type: 'pop_vlan' }, out(3))]),
      f(
        0,
        1,
        [],
        [apply({ type: 'push_vlan', ethertype: 0x8100 }, { type: 'set_field', field: { field: 'vlan_vid', value: 0x1000 | 100 } }, out(2))],
      ),
    ]);
    assert.deepEqual(
      t.trace(base).outputs.map((o) => [o.port, o.packet.vlan]),
      [[2, 100]],
    );
    assert.deepEqual(
      t.trace({ ...base, vlan: 7 }).outputs.map((o) => [o.port, o.packet.vlan]),
      [[3, undefined]],
    );
  });

  it('dec_nw_ttl drops the packet when the TTL runs out', () => {
    const t = new PacketTracer([f(0, 1, [], [apply({ type: 'dec_nw_ttl' }, out(2))])]);
    assert.equal(t.trace({ ...base, ip_ttl: 2 }).outputs[0]!.packet.ip_ttl, 1);
    assert.deepEqual(t.trace({ ...base, ip_ttl: 1 }).outputs, []);
  });

  it('resubmit runs another table and comes back', () => {
    const t = new PacketTracer([
      f(0, 1, [], [apply({ type: 'resubmit', inPort: OFPP.IN_PORT, table: 7 }, out(3))]),
      f(7, 1, [], [apply(out(2))]),
    ]);
    assert.deepEqual(
      t.trace(base).outputs.map((o) => o.port),
      [2, 3],
    );
  });

  it('ct(table) forks the packet with ct_state; ct(commit) makes the next packets established and replies +rpl', () => {
    const ct = (flags: number, recircTable: number): Action => ({ type: 'ct', flags, zoneImm: 5, recircTable, alg: 0, actions: [] });
    const t = new PacketTracer([
      f(0, 1, [{ field: 'eth_type', value: 0x0800 }], [apply(ct(0, 1))]),
      f(1, 10, [{ field: 'ct_state', value: 0x21, mask: 0x21 }], [apply(ct(1, NO_TABLE), out(2))], 'new'),
      f(1, 10, [{ field: 'ct_state', value: 0x2a, mask: 0x2a }], [apply(out(4))], 'reply'),
      f(1, 9, [{ field: 'ct_state', value: 0x22, mask: 0x22 }], [apply(out(3))], 'est'),
    ]);
    assert.deepEqual(
      t.trace(base).outputs.map((o) => o.port),
      [2],
      'first packet is new and is committed',
    );
    assert.deepEqual(
      t.trace(base).outputs.map((o) => o.port),
      [3],
      'second is established',
    );
    const reply = { ...base, in_port: 2, ipv4_src: base.ipv4_dst!, ipv4_dst: base.ipv4_src!, udp_src: 2000, udp_dst: 1000 };
    assert.deepEqual(
      t.trace(reply).outputs.map((o) => o.port),
      [4],
      'the reply is +est+rpl',
    );
    assert.deepEqual(
      t.trace({ ...base, udp_src: 1001 }).outputs.map((o) => o.port),
      [2],
      'another 5-tuple is a new connection',
    );
  });

  it('loads add flow_mods as well as desired flows, and rejects what it does not model', () => {
    const t = new PacketTracer([
      flowMod({ tableId: 0, priority: 1, match: [{ field: 'in_port', value: 1 }], instructions: [apply(out(2))] }),
    ]);
    assert.deepEqual(
      t.trace(base).outputs.map((o) => o.port),
      [2],
    );
    assert.throws(() => new PacketTracer([flowMod({ command: 'delete' })]), /only add/);
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply({ type: 'group', groupId: 1 })])]).trace(base), /group 1 does not exist/);
    assert.throws(() => new PacketTracer([f(0, 1, [], [apply({ type: 'exit' })])]).trace(base), /not modelled/);
  });
});
