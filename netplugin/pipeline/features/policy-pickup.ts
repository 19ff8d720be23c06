/**
 * Table 51: TCP connections conntrack picked up in the middle, at endpoints whose policy can deny.
 * The userspace datapath's conntrack lives in ovs-vswitchd, so a restart of it forgets every
 * connection. The next segment of each, from either side, is then tracked as new and its sender
 * judged as the opener. A connection policy had denied could come back that way: the server's
 * retransmission, judged as a connection from the server, passes rules written for the other
 * direction, and once it is committed the client's segments are its replies.
 *
 * So a TCP segment other than a SYN, of a connection this host's conntrack does not know, from or
 * to a local endpoint whose policy can deny (a deny rule or isolation), is dropped. Such
 * connections end with an ovs-vswitchd restart (the applications reconnect, and their SYNs are
 * judged); the connections of other endpoints carry on. BGP mode does the same with a TCP reset
 * (routed/policy-nft.ts); OpenFlow cannot make one without a controller. The kernel datapath
 * keeps its connections across ovs-vswitchd restarts, so there this only meets connections
 * conntrack lost otherwise (expired, flushed).
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { PipelineInput } from '../input';
import { CT, ETH_TYPE, field, flow, goto, IP_PROTO, match, reg } from '../flow-builder';
import { denyCapableEndpoints } from './policy';

/** a SYN without ACK opens a connection: judged by policy as usual */
export const PICKUP_SYN_PRIORITY = 60;
/** any other new TCP segment at a deny-capable endpoint: dropped */
export const PICKUP_DROP_PRIORITY = 50;
const TCP_SYN = 0x002;
const TCP_ACK = 0x010;

export function policyPickupFlows(input: PipelineInput): DesiredFlow[] {
  const endpoints = denyCapableEndpoints(input);
  if (endpoints.length === 0) return [];
  const newTcp = [field('ct_state', CT.TRK | CT.NEW, CT.TRK | CT.NEW), match.ethType(ETH_TYPE.IPV4), field('ip_proto', IP_PROTO.TCP)];
  const out: DesiredFlow[] = [
    flow({
      table: 'ctState',
      priority: PICKUP_SYN_PRIORITY,
      match: [...newTcp, field('tcp_flags', TCP_SYN, TCP_SYN | TCP_ACK)],
      instructions: [goto('egressPolicy')],
      feature: 'policy',
      object: 'pickup:syn',
    }),
  ];
  for (const e of endpoints) {
    if (e.ofport !== undefined)
      out.push(
        flow({
          table: 'ctState',
          priority: PICKUP_DROP_PRIORITY,
          match: [match.inPort(e.ofport), ...newTcp],
          instructions: [],
          feature: 'policy',
          object: `pickup:from:${e.ep.id}`,
        }),
      );
    out.push(
      flow({
        table: 'ctState',
        priority: PICKUP_DROP_PRIORITY,
        match: [reg('tenant', e.net.tenant.vrfId), ...newTcp, field('ipv4_dst', e.ep.ip)],
        instructions: [],
        feature: 'policy',
        object: `pickup:to:${e.ep.id}`,
      }),
    );
  }
  return out;
}
