/**
 * Table 25: the gateway answers ping. An ICMP echo request from a local endpoint to its network's
 * gateway (gateway MAC and IP) is turned into the echo reply in the switch: MACs and IPs swapped,
 * ICMP type 0, TTL reset to 64, out of the port it came in on. OVS updates the IP and ICMP
 * checksums when these fields are rewritten. Works in both forwarding modes.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, ETH_TYPE, field, flow, ICMP_TYPE, IP_PROTO, match, reg } from '../flow-builder';
import { FLAG } from '../tables';

export const GATEWAY_PRIORITY = 100;
export const ECHO_REPLY_TTL = 64;

export function gatewayIcmpFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const nv of pipelineView(input).networks) {
    if (nv.gatewayMac === undefined) continue;
    const gw = nv.net.gateway;
    out.push(
      flow({
        table: 'gateway',
        priority: GATEWAY_PRIORITY,
        match: [
          reg('network', nv.net.networkId),
          match.flagSet(FLAG.fromLocal),
          match.ethDst(nv.gatewayMac),
          match.ethType(ETH_TYPE.IPV4),
          field('ip_proto', IP_PROTO.ICMP),
          field('ipv4_dst', gw),
          field('icmpv4_type', ICMP_TYPE.ECHO_REQUEST),
        ],
        instructions: [
          apply(
            act.move('eth_src', 'eth_dst'),
            act.load('eth_src', nv.gatewayMac),
            act.move('ipv4_src', 'ipv4_dst'),
            act.load('ipv4_src', gw),
            act.load('icmpv4_type', ICMP_TYPE.ECHO_REPLY),
            act.setTtl(ECHO_REPLY_TTL),
            act.inPort(),
          ),
        ],
        feature: 'routing',
        object: `${nv.net.key}:gateway`,
      }),
    );
  }
  return out;
}
