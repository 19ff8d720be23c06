/**
 * The answer to a new connection to a service without provider: the switch sends its first
 * packet to the agent (serviceEndpoint, through a packets-per-second meter) and the agent sends
 * back, out of the port it came in on, what a host with nothing listening would: a TCP RST for a
 * TCP segment, an ICMP port unreachable for a UDP datagram. The client sees "connection refused"
 * at once instead of retrying SYNs into a black hole for two minutes. OVS cannot build either
 * answer itself (a RST must acknowledge the SYN's sequence number, which no OVS action reads; an
 * ICMP error must quote the packet), hence the round trip to the agent. Pure functions on frames.
 */
import type { OfConnection, PacketIn } from '../../ovs/openflow';
import { OFPP } from '../../ovs/openflow';
import { parseCookie } from '../reconcile/cookie';

const ETH_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMP = 1;
const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, ACK: 0x10 } as const;
const TTL = 64;
/** ICMP errors quote the IP header and the first 8 bytes after it at least (RFC 792): ports included */
const ICMP_QUOTE_AFTER_HEADER = 8;

function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2 === 1) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeaderSum(src: Buffer, dst: Buffer, proto: number, len: number): number {
  return src.readUInt16BE(0) + src.readUInt16BE(2) + dst.readUInt16BE(0) + dst.readUInt16BE(2) + proto + len;
}

function ipv4Header(src: Buffer, dst: Buffer, proto: number, payloadLen: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLen, 2);
  h.writeUInt16BE(0x4000, 6); // DF
  h[8] = TTL;
  h[9] = proto;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(checksum(h), 10);
  return h;
}

/**
 * The frame answering `frame` (Ethernet + IPv4 + TCP or UDP, possibly truncated after its
 * headers): TCP RST (RST|ACK acknowledging everything the segment occupied; a plain RST with the
 * segment's ack number when it carried one) or ICMP port unreachable. Undefined for anything else
 * (a RST is never answered, nor an IP fragment after the first).
 */
export function rejectReply(frame: Buffer): Buffer | undefined {
  if (frame.length < 14 + 20 || frame.readUInt16BE(12) !== ETH_IPV4) return undefined;
  const ip = frame.subarray(14);
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ip[0]! >> 4 !== 4 || ihl < 20 || ip.length < ihl) return undefined;
  if ((ip.readUInt16BE(6) & 0x1fff) !== 0) return undefined; // not the first fragment: no L4 header
  const totalLen = ip.readUInt16BE(2);
  const proto = ip[9]!;
  const src = ip.subarray(12, 16);
  const dst = ip.subarray(16, 20);
  const eth = Buffer.alloc(14);
  frame.copy(eth, 0, 6, 12); // to the sender
  frame.copy(eth, 6, 0, 6); // from the address it sent to
  eth.writeUInt16BE(ETH_IPV4, 12);
  if (proto === PROTO_TCP) {
    const tcp = ip.subarray(ihl);
    if (tcp.length < 20) return undefined;
    const flags = tcp[13]!;
    if (flags & TCP.RST) return undefined;
    const dataOff = (tcp[12]! >> 4) * 4;
    const segLen = totalLen - ihl - dataOff + (flags & TCP.SYN ? 1 : 0) + (flags & TCP.FIN ? 1 : 0);
    const rst = Buffer.alloc(20);
    rst.writeUInt16BE(tcp.readUInt16BE(2), 0);
    rst.writeUInt16BE(tcp.readUInt16BE(0), 2);
    if (flags & TCP.ACK) {
      rst.writeUInt32BE(tcp.readUInt32BE(8), 4);
      rst[13] = TCP.RST;
    } else {
      rst.writeUInt32BE((tcp.readUInt32BE(4) + segLen) >>> 0, 8);
      rst[13] = TCP.RST | TCP.ACK;
    }
    rst[12] = 5 << 4;
    rst.writeUInt16BE(checksum(rst, pseudoHeaderSum(dst, src, PROTO_TCP, 20)), 16);
    return Buffer.concat([eth, ipv4Header(dst, src, PROTO_TCP, 20), rst]);
  }
  if (proto === PROTO_UDP) {
    const quoted = ip.subarray(0, Math.min(ip.length, totalLen, ihl + ICMP_QUOTE_AFTER_HEADER));
    if (quoted.length < ihl + ICMP_QUOTE_AFTER_HEADER) return undefined;
    const icmp = Buffer.alloc(8 + quoted.length);
    icmp[0] = 3; // destination unreachable
    icmp[1] = 3; // port unreachable
    quoted.copy(icmp, 8);
    icmp.writeUInt16BE(checksum(icmp), 2);
    return Buffer.concat([eth, ipv4Header(dst, src, PROTO_ICMP, icmp.length), icmp]);
  }
  return undefined;
}

/** The in_port of a packet-in (its match always carries it). */
export function packetInPort(pi: PacketIn): number | undefined {
  const f = pi.match.find((m) => m.field === 'in_port');
  return f && f.field === 'in_port' && typeof f.value === 'number' ? f.value : undefined;
}

/**
 * Answer the service packet-ins that arrive on `of` (those whose flow cookie is the service
 * feature's); returns a function that stops listening. `onReject` counts them (metrics, tests).
 */
export function answerServiceRejects(of: OfConnection, onReject?: (ok: boolean) => void): () => void {
  const listener = (pi: PacketIn): void => {
    if (parseCookie(pi.cookie).feature !== 'service') return;
    const reply = rejectReply(pi.data);
    const inPort = packetInPort(pi);
    if (!reply || inPort === undefined) {
      onReject?.(false);
      return;
    }
    // from the controller, out of the port the packet came in on
    void of
      .send({
        type: 'packet_out',
        xid: 0,
        bufferId: 0xffffffff,
        inPort: OFPP.CONTROLLER,
        actions: [{ type: 'output', port: inPort, maxLen: 0 }],
        data: reply,
      })
      .then(
        () => onReject?.(true),
        () => onReject?.(false),
      );
  };
  of.on('packet_in', listener);
  return () => of.off('packet_in', listener);
}
