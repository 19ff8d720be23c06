/**
 * The packet tracer's conntrack: ct_mark stored by ct(commit, exec(...)), seen after recirculation,
 * updated by a later commit; connections inspected, flushed and shared between tracers.
 */
import { strict as assert } from 'node:assert';
import type { DesiredFlow } from '../../../netplugin/reconcile/flow-key';
import type { Action, Match } from '../../../ovs/openflow/messages';
import { Conntrack, PacketTracer, Packet, TraceResult } from '../../support/packet-tracer';
import { apply, base, ct, f, goto, out } from './tracer-flows';

const TRK_NEW = 0x21;
const TRK_EST = 0x22;
const TRK_RPL = 0x28;
const SYN = 0x02;
const ACK = 0x10;

const state = (bits: number): Match => [{ field: 'ct_state', value: bits, mask: bits }];
const setMark = (value: number, mask?: number): Action => ({ type: 'set_field', field: { field: 'ct_mark', value, mask } });
const ports = (r: TraceResult): number[] => r.outputs.map((o) => o.port);

const client: Packet = { ...base, ip_proto: 6, tcp_src: 40000, tcp_dst: 80, udp_src: undefined, udp_dst: undefined };
const server: Packet = { ...client, in_port: 2, ipv4_src: client.ipv4_dst!, ipv4_dst: client.ipv4_src!, tcp_src: 80, tcp_dst: 40000 };

/**
 * Table 0 sends IP to conntrack (zone 5), back in table 1: a new connection is committed with mark
 * 0x10 in its upper nibble and leaves by 2; an established packet leaves by 30 + its mark, by 20 +
 * its mark when it is a reply.
 */
function flows(): DesiredFlow[] {
  const est: DesiredFlow[] = [];
  for (const mark of [0x00, 0x10, 0x11, 0x12]) {
    est.push(f(1, 20, [...state(TRK_EST | TRK_RPL), { field: 'ct_mark', value: mark }], [apply(out(20 + mark))], `reply-${mark}`));
    est.push(f(1, 10, [...state(TRK_EST), { field: 'ct_mark', value: mark }], [apply(out(30 + mark))], `est-${mark}`));
  }
  return [
    f(0, 1, [{ field: 'eth_type', value: 0x0800 }], [apply(ct({ table: 1 }))]),
    f(1, 10, state(TRK_NEW), [apply(ct({ commit: true, exec: [setMark(0x10, 0xf0)] }), out(2))], 'new'),
    ...est,
  ];
}

describe('packet tracer: conntrack marks', () => {
  it('ct(commit, exec(set_field->ct_mark)) stores the mark; later packets of the connection carry it, both ways', () => {
    const t = new PacketTracer(flows());
    assert.deepEqual(ports(t.trace({ ...client, tcp_flags: SYN })), [2], 'the SYN is new and committed');
    assert.deepEqual(t.conntrack.entries(), [
      { zone: 5, proto: 6, src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, mark: 0x10 },
    ]);
    const synAck = t.trace({ ...server, tcp_flags: SYN | ACK });
    assert.deepEqual(ports(synAck), [20 + 0x10], 'the reply is +est+rpl with the mark');
    assert.equal(synAck.steps.at(-1)!.object, 'reply-16');
    assert.deepEqual(ports(t.trace({ ...client, tcp_flags: ACK })), [30 + 0x10], 'the next client packet is +est with the mark');
    assert.equal(t.conntrack.size, 1);
  });

  it('the first packet of a connection committed with a mark already sees it after ct(commit, table=N)', () => {
    const t = new PacketTracer([
      f(0, 1, [], [apply(ct({ commit: true, table: 1, exec: [setMark(0x12)] }))]),
      f(1, 1, [{ field: 'ct_mark', value: 0x12 }, ...state(TRK_NEW)], [apply(out(4))]),
    ]);
    assert.deepEqual(ports(t.trace(client)), [4]);
  });

  it('a second commit updates the mark: set_field with a mask and reg_load keep the other bits, in either direction', () => {
    const recommit = (mark: Action, port: number): DesiredFlow =>
      f(1, 30, [...state(TRK_EST), { field: 'ip_ttl', value: port }], [apply(ct({ commit: true, exec: [mark] }), out(port))]);
    const t = new PacketTracer([
      ...flows(),
      // a "retag" packet (marked by its TTL) commits its connection again
      recommit({ type: 'reg_load', dst: { field: 'ct_mark', ofs: 0, nBits: 4 }, value: 1n }, 7),
      recommit(setMark(0x02, 0x0f), 8),
    ]);
    t.trace({ ...client, tcp_flags: SYN });
    assert.deepEqual(ports(t.trace({ ...client, ip_ttl: 7 })), [7]);
    assert.equal(t.conntrack.entries()[0]!.mark, 0x11);
    assert.deepEqual(ports(t.trace(client)), [30 + 0x11]);
    assert.deepEqual(ports(t.trace({ ...server, ip_ttl: 8 })), [8], 'the reply direction commits the same connection');
    assert.deepEqual(
      t.conntrack.entries().map((e) => [e.src, e.mark]),
      [['10.0.0.1', 0x12]],
    );
    assert.deepEqual(ports(t.trace(server)), [20 + 0x12]);
  });

  it('flush() forgets every connection; a Conntrack passed in is shared between tracers', () => {
    const shared = new Conntrack();
    new PacketTracer(flows(), { conntrack: shared }).trace({ ...client, tcp_flags: SYN });
    const after = new PacketTracer(flows(), { conntrack: shared });
    assert.deepEqual(ports(after.trace(server)), [20 + 0x10], 'the new tracer sees the connection and its mark');
    after.conntrack.flush();
    assert.deepEqual(shared.entries(), []);
    assert.deepEqual(ports(after.trace({ ...client, tcp_flags: SYN })), [2], 'new again');
  });

  it('the packet that goes on after ct() has no conntrack state, zone or mark', () => {
    const t = new PacketTracer([
      f(0, 1, [], [apply(ct({ table: 1 }))]),
      f(1, 1, [], [apply(ct({ commit: true, exec: [setMark(0x10)] })), goto(2)]),
      f(
        2,
        2,
        [
          { field: 'ct_state', value: 0 },
          { field: 'ct_zone', value: 0 },
          { field: 'ct_mark', value: 0 },
        ],
        [apply(out(7))],
        'untracked',
      ),
      f(2, 1, [], [apply(out(8))], 'tracked'),
    ]);
    assert.deepEqual(ports(t.trace(client)), [7]);
    assert.deepEqual(ports(t.trace(client)), [7], 'also once the connection is established and marked');
  });

  it('rejects ct_mark writes without commit, and nested actions it does not model', () => {
    const run = (a: Action): TraceResult => new PacketTracer([f(0, 1, [], [apply(a)])]).trace(client);
    assert.throws(() => run(ct({ exec: [setMark(1)] })), /without commit/);
    assert.throws(() => run(ct({ commit: true, exec: [{ type: 'set_field', field: { field: 'ct_label', value: 1n } }] })), /not modelled/);
    assert.throws(() => run(ct({ commit: true, force: true })), /force/);
  });
});
