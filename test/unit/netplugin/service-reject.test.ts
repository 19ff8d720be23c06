/**
 * The agent's answers to connections to a service without provider (agent/service-reject.ts):
 * a TCP RST that the client's stack accepts (ports swapped, acknowledging the SYN, checksums
 * valid), an ICMP port unreachable quoting the UDP datagram, nothing for a RST or other traffic;
 * and the packet-in listener answering only the service feature's packet-ins, out of their port.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { answerServiceRejects, packetInPort, rejectReply } from '../../../netplugin/agent/service-reject';
import { makeCookie } from '../../../netplugin/reconcile/cookie';
import type { OfConnection, OfMessage, PacketIn } from '../../../ovs/openflow';

const CLIENT_MAC = '02:00:00:00:00:0a';
const SVC_MAC = '02:6e:6c:00:00:02';

function mac(s: string): Buffer {
  return Buffer.from(s.split(':').join(''), 'hex');
}
function ip4(s: string): Buffer {
  return Buffer.from(s.split('.').map(Number));
}

function sum16(buf: Buffer, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) s += buf.readUInt16BE(i);
  if (buf.length % 2) s += buf[buf.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** An Ethernet + IPv4 frame from the client to the service with an L4 payload. */
function frame(proto: number, l4: Buffer): Buffer {
  const eth = Buffer.concat([mac(SVC_MAC), mac(CLIENT_MAC), Buffer.from([0x08, 0x00])]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip[8] = 64;
  ip[9] = proto;
  ip4('10.1.1.10').copy(ip, 12);
  ip4('10.1.1.100').copy(ip, 16);
  ip.writeUInt16BE(~sum16(ip) & 0xffff, 10);
  return Buffer.concat([eth, ip, l4]);
}

function tcpSegment(flags: number, seq: number, ack = 0, payload = 0): Buffer {
  const t = Buffer.alloc(20 + payload);
  t.writeUInt16BE(40000, 0);
  t.writeUInt16BE(80, 2);
  t.writeUInt32BE(seq, 4);
  t.writeUInt32BE(ack, 8);
  t[12] = 5 << 4;
  t[13] = flags;
  return t;
}

describe('service rejects (agent)', () => {
  it('answers a SYN with RST|ACK acknowledging it, from the service address and port, checksums valid', () => {
    const reply = rejectReply(frame(6, tcpSegment(0x02, 0xfffffff0)))!;
    assert.ok(reply);
    assert.equal(reply.subarray(0, 6).toString('hex'), mac(CLIENT_MAC).toString('hex'), 'to the client');
    assert.equal(reply.subarray(6, 12).toString('hex'), mac(SVC_MAC).toString('hex'), 'from the service MAC');
    const ip = reply.subarray(14, 34);
    assert.equal(sum16(ip), 0xffff, 'IPv4 header checksum');
    assert.deepEqual([...ip.subarray(12, 16)], [10, 1, 1, 100]);
    assert.deepEqual([...ip.subarray(16, 20)], [10, 1, 1, 10]);
    const tcp = reply.subarray(34);
    assert.equal(tcp.readUInt16BE(0), 80);
    assert.equal(tcp.readUInt16BE(2), 40000);
    assert.equal(tcp.readUInt32BE(8), 0xfffffff1, 'ack = seq + 1 (the SYN), wrapping');
    assert.equal(tcp[13], 0x14, 'RST|ACK');
    const pseudo = sum16(Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, 0, tcp.length])]));
    assert.equal(sum16(tcp, pseudo), 0xffff, 'TCP checksum with the pseudo-header');
  });

  it('answers a segment carrying an ACK with a RST whose sequence number is that ack', () => {
    const tcp = rejectReply(frame(6, tcpSegment(0x10, 100, 5555, 10)))!.subarray(34);
    assert.equal(tcp[13], 0x04);
    assert.equal(tcp.readUInt32BE(4), 5555);
  });

  it('never answers a RST, and ignores other protocols and non-IP frames', () => {
    assert.equal(rejectReply(frame(6, tcpSegment(0x04, 1))), undefined);
    assert.equal(rejectReply(frame(1, Buffer.alloc(8))), undefined);
    assert.equal(rejectReply(Buffer.alloc(60)), undefined);
    assert.equal(rejectReply(Buffer.alloc(10)), undefined);
  });

  it('answers a UDP datagram with ICMP port unreachable quoting its IP header and ports', () => {
    const udp = Buffer.alloc(12);
    udp.writeUInt16BE(5000, 0);
    udp.writeUInt16BE(53, 2);
    udp.writeUInt16BE(12, 4);
    const f = frame(17, udp);
    const reply = rejectReply(f)!;
    const ip = reply.subarray(14, 34);
    assert.equal(ip[9], 1, 'ICMP');
    assert.equal(sum16(ip), 0xffff);
    const icmp = reply.subarray(34);
    assert.deepEqual([icmp[0], icmp[1]], [3, 3], 'destination unreachable, port unreachable');
    assert.equal(sum16(icmp), 0xffff, 'ICMP checksum');
    assert.deepEqual(icmp.subarray(8), f.subarray(14, 14 + 28), 'the IP header and the first 8 bytes of the datagram');
  });

  it('answers only the service feature packet-ins, out of the port they came in on', async () => {
    const sent: OfMessage[] = [];
    const of = new EventEmitter() as unknown as OfConnection;
    (of as unknown as { send: (m: OfMessage) => Promise<void> }).send = async (m) => void sent.push(m);
    const results: boolean[] = [];
    const stop = answerServiceRejects(of, (ok) => results.push(ok));
    const pi = (feature: 'service' | 'policy'): PacketIn => ({
      type: 'packet_in',
      xid: 0,
      bufferId: 0xffffffff,
      totalLen: 54,
      reason: 1,
      tableId: 36,
      cookie: makeCookie(feature, 1, 'blue:svc:tcp/80:reject'),
      match: [{ field: 'in_port', value: 12 }],
      data: frame(6, tcpSegment(0x02, 1)),
    });
    assert.equal(packetInPort(pi('service')), 12);
    of.emit('packet_in', pi('policy'));
    of.emit('packet_in', pi('service'));
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 1);
    const out = sent[0]!;
    assert.equal(out.type, 'packet_out');
    if (out.type === 'packet_out') assert.deepEqual(out.actions, [{ type: 'output', port: 12, maxLen: 0 }]);
    assert.deepEqual(results, [true]);
    stop();
    of.emit('packet_in', pi('service'));
    await new Promise((r) => setImmediate(r));
    assert.equal(sent.length, 1, 'stopped');
  });
});
