/**
 * The packet an agent traces, as the flow string `ofproto/trace` takes: the first packet of a new
 * connection (TCP SYN, a UDP datagram, an ICMP echo request) entering br-int where it would
 * really enter: a local endpoint's port, the VXLAN port (tun_id, tun_src, tun_dst set as the
 * tunnel would) or the VLAN uplink (tagged). A packet to another network of the tenant (routing
 * mode) leaves its endpoint for the gateway's MAC, as the endpoint's own stack would send it.
 * Pure; every bad field of the request is a NetloomError naming it.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';

export const PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type TraceProtocol = (typeof PROTOCOLS)[number];
export type Arrival = 'endpoint' | 'tunnel' | 'uplink';

/** TraceRequest of proto/netloom/agent.proto, as the agent uses it. */
export interface TracePacket {
  protocol: TraceProtocol;
  srcIp: string;
  dstIp: string;
  srcMac: string;
  dstMac: string;
  srcNetwork: string;
  dstNetwork: string;
  srcPort: number;
  dstPort: number;
  ttl: number;
  arrival: Arrival;
  srcEndpoint: string;
  tunId: bigint;
  tunSrc: string;
  tunDst: string;
  vlan: number;
}

/** What the host knows that the flow string needs. */
export interface TraceFacts {
  /** the ofport of a local endpoint (undefined: not plugged here) */
  endpointPort(id: string): number | undefined;
  vxlanPort: number | undefined;
  uplinkPort: number | undefined;
  /** the gateway MAC of a network in this host's state ('' or undefined when none) */
  gatewayMac(network: string): string | undefined;
}

/** Ephemeral source port used when the request names none. */
export const DEFAULT_SRC_PORT = 40000;

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function bad(field: string, message: string): NetloomError {
  return new NetloomError('INVALID_ARGUMENT', message, { field });
}

function ipv4(v: string, field: string): string {
  if (!ipaddr.IPv4.isValidFourPartDecimal(v)) throw bad(field, `${field} must be a dotted-quad IPv4 address, got '${v}'`);
  return v;
}

function mac(v: string, field: string): string {
  if (!MAC_RE.test(v)) throw bad(field, `${field} must be a MAC address, got '${v}'`);
  return v.toLowerCase();
}

function port(v: number, field: string, dflt: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw bad(field, `${field} must be 0..65535, got ${v}`);
  return v === 0 ? dflt : v;
}

/** The flow string for `ofproto/trace`. */
export function traceFlow(p: TracePacket, facts: TraceFacts): string {
  const parts: string[] = [];
  switch (p.arrival) {
    case 'endpoint': {
      const ofport = facts.endpointPort(p.srcEndpoint);
      if (ofport === undefined)
        throw new NetloomError('NOT_FOUND', `endpoint '${p.srcEndpoint}' is not plugged into this host's bridge`, { field: 'srcEndpoint' });
      parts.push(`in_port=${ofport}`);
      break;
    }
    case 'tunnel':
      if (facts.vxlanPort === undefined) throw new NetloomError('NOT_FOUND', 'this host has no VXLAN port', { field: 'arrival' });
      parts.push(
        `in_port=${facts.vxlanPort}`,
        `tun_id=${p.tunId}`,
        `tun_src=${ipv4(p.tunSrc, 'tunSrc')}`,
        `tun_dst=${ipv4(p.tunDst, 'tunDst')}`,
      );
      break;
    case 'uplink':
      if (facts.uplinkPort === undefined) throw new NetloomError('NOT_FOUND', 'this host has no VLAN uplink', { field: 'arrival' });
      if (!Number.isInteger(p.vlan) || p.vlan < 1 || p.vlan > 4094) throw bad('vlan', `vlan must be 1..4094, got ${p.vlan}`);
      parts.push(`in_port=${facts.uplinkPort}`, `dl_vlan=${p.vlan}`);
      break;
    default:
      throw bad('arrival', `arrival must be endpoint, tunnel or uplink, got '${String(p.arrival)}'`);
  }
  let dstMac = mac(p.dstMac, 'dstMac');
  if (p.arrival === 'endpoint' && p.dstNetwork !== '' && p.srcNetwork !== '' && p.dstNetwork !== p.srcNetwork) {
    // another network: the endpoint sends to its gateway, the switch routes
    const gw = facts.gatewayMac(p.srcNetwork);
    if (!gw) throw new NetloomError('NOT_FOUND', `network '${p.srcNetwork}' has no gateway MAC on this host`, { field: 'srcNetwork' });
    dstMac = mac(gw, 'gatewayMac');
  }
  if (!PROTOCOLS.includes(p.protocol)) throw bad('protocol', `protocol must be tcp, udp or icmp, got '${String(p.protocol)}'`);
  parts.push(p.protocol);
  const ttl = p.ttl === 0 ? 64 : p.ttl;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) throw bad('ttl', `ttl must be 1..255, got ${p.ttl}`);
  parts.push(
    `dl_src=${mac(p.srcMac, 'srcMac')}`,
    `dl_dst=${dstMac}`,
    `nw_src=${ipv4(p.srcIp, 'srcIp')}`,
    `nw_dst=${ipv4(p.dstIp, 'dstIp')}`,
    `nw_ttl=${ttl}`,
  );
  if (p.protocol === 'icmp') parts.push('icmp_type=8', 'icmp_code=0');
  else {
    const dst = port(p.dstPort, 'dstPort', 0);
    if (dst === 0) throw bad('dstPort', `dstPort is required for ${p.protocol}`);
    // ovs-ofctl's generic tp_src/tp_dst parse only after tcp: udp needs its own names
    parts.push(`${p.protocol}_src=${port(p.srcPort, 'srcPort', DEFAULT_SRC_PORT)}`, `${p.protocol}_dst=${dst}`);
    if (p.protocol === 'tcp') parts.push('tcp_flags=syn');
  }
  return parts.join(',');
}
