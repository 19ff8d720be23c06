/**
 * A trace query and its answer as they travel over the agent API (proto/netloom/agent.proto's
 * TraceRequest and TraceResult), to and from the agent's own types. 64-bit integers travel as
 * decimal strings (the loader's longs:String).
 */
import { NetloomError } from '../../lib/errors';
import type { TraceRequest__Output } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult } from '../../proto/gen/netloom/v1/TraceResult';
import type { HostTraceResult } from './host-trace';
import { PROTOCOLS, type Arrival, type TracePacket, type TraceProtocol } from './trace-flow';

const ARRIVALS: readonly Arrival[] = ['endpoint', 'tunnel', 'uplink'];

export function tracePacketOf(r: TraceRequest__Output): TracePacket {
  if (!(PROTOCOLS as readonly string[]).includes(r.protocol))
    throw new NetloomError('INVALID_ARGUMENT', `protocol must be tcp, udp or icmp, got '${r.protocol}'`, { field: 'protocol' });
  if (!(ARRIVALS as readonly string[]).includes(r.arrival))
    throw new NetloomError('INVALID_ARGUMENT', `arrival must be endpoint, tunnel or uplink, got '${r.arrival}'`, { field: 'arrival' });
  if (!/^\d*$/.test(r.tunId)) throw new NetloomError('INVALID_ARGUMENT', `tun_id must be a number, got '${r.tunId}'`, { field: 'tun_id' });
  return {
    protocol: r.protocol as TraceProtocol,
    srcIp: r.srcIp,
    dstIp: r.dstIp,
    srcMac: r.srcMac,
    dstMac: r.dstMac,
    srcNetwork: r.srcNetwork,
    dstNetwork: r.dstNetwork,
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    ttl: r.ttl,
    arrival: r.arrival as Arrival,
    srcEndpoint: r.srcEndpoint,
    tunId: BigInt(r.tunId || '0'),
    tunSrc: r.tunSrc,
    tunDst: r.tunDst,
    vlan: r.vlan,
  };
}

export function traceResultToProto(r: HostTraceResult): TraceResult {
  return { ...r, outputs: r.outputs.map((o) => ({ ...o, tunId: o.tunId.toString() })) };
}
