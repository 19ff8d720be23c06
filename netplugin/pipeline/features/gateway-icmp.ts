/**
 * Table 25: the gateway answers ping. An ICMP echo request from a local endpoint to its network's
 * gateway (gateway MAC and IP) is turned into the echo reply in the switch: MACs and IPs swapped,
 * ICMP type 0, TTL reset to 64, out of the port it came in on. OVS updates the IP and ICMP
 * checksums when these fields are rewritten. Works in both forwarding modes; when fwdMode is
 * routing, the gateways of the tenant's other networks answer too (as a router's other
 * interfaces would), through the gateway MAC the endpoint sent to. External endpoints (stations
 * on a VLAN network's VLAN) ping the gateway through the uplink: whichever host the VLAN delivers
 * the request to answers it, tagged again.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import type { KnownOxm } from '../../../ovs/openflow/messages';
import { pipelineView, PipelineInput, takesUplink } from '../input';
import { act, apply, ETH_TYPE, field, flow, ICMP_TYPE, IP_PROTO, match, OFPVID_PRESENT, reg } from '../flow-builder';
import { FLAG } from '../tables';
import { externalVlanGroups, fromUplinkVlan } from '../group-vlan';

export const GATEWAY_PRIORITY = 100;
export const OTHER_GATEWAY_PRIORITY = 90;
export const ECHO_REPLY_TTL = 64;

/**
 * `uplink`: the request came from the uplink (matching `uplink.match`); the reply goes back there
 * with `uplink.vlan`. Else the request came from a local endpoint.
 */
function echoReply(
  scope: KnownOxm,
  priority: number,
  gwMac: string,
  gwIp: string,
  object: string,
  uplink?: { match: KnownOxm[]; vlan: number },
): DesiredFlow {
  return flow({
    table: 'gateway',
    priority,
    match: [
      scope,
      ...(uplink === undefined ? [match.flagSet(FLAG.fromLocal)] : uplink.match),
      match.ethDst(gwMac),
      match.ethType(ETH_TYPE.IPV4),
      field('ip_proto', IP_PROTO.ICMP),
      field('ipv4_dst', gwIp),
      field('icmpv4_type', ICMP_TYPE.ECHO_REQUEST),
    ],
    instructions: [
      apply(
        act.move('eth_src', 'eth_dst'),
        act.load('eth_src', gwMac),
        act.move('ipv4_src', 'ipv4_dst'),
        act.load('ipv4_src', gwIp),
        act.load('icmpv4_type', ICMP_TYPE.ECHO_REPLY),
        act.setTtl(ECHO_REPLY_TTL),
        ...(uplink === undefined ? [] : [act.pushVlan(), act.setField('vlan_vid', OFPVID_PRESENT | uplink.vlan)]),
        act.inPort(),
      ),
    ],
    feature: 'routing',
    object,
  });
}

export function gatewayIcmpFlows(input: PipelineInput): DesiredFlow[] {
  const view = pipelineView(input);
  const out: DesiredFlow[] = [];
  for (const nv of view.networks) {
    if (nv.gatewayMac === undefined) continue;
    out.push(echoReply(reg('network', nv.net.networkId), GATEWAY_PRIORITY, nv.gatewayMac, nv.net.gateway, `${nv.net.key}:gateway`));
    // external endpoints ping their gateway too: answered by the host the VLAN delivers it to, on
    // each VLAN they use (ACI mode: their group's)
    if (nv.externals.length > 0 && takesUplink(nv))
      for (const group of externalVlanGroups(nv))
        out.push(
          echoReply(
            reg('network', nv.net.networkId),
            GATEWAY_PRIORITY,
            nv.gatewayMac,
            nv.net.gateway,
            `${nv.net.key}:gateway:uplink${group ? `:${group.key}` : ''}`,
            fromUplinkVlan(nv, group),
          ),
        );
  }
  if (input.state.global.fwdMode !== 'routing') return out;
  for (const t of view.tenants) {
    const nets = view.networks.filter((nv) => nv.tenant === t && nv.gatewayMac !== undefined && nv.reachable);
    const macs = [...new Set(nets.map((nv) => nv.gatewayMac!))].sort();
    for (const mac of macs)
      for (const nv of nets)
        out.push(echoReply(reg('tenant', t.vrfId), OTHER_GATEWAY_PRIORITY, mac, nv.net.gateway, `${nv.net.key}:gateway:${mac}`));
  }
  return out;
}
