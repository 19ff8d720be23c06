/**
 * Table 20, ARP. The switch itself answers ARP requests: it turns the request into the reply
 * in place with Nicira move/load actions (requester's MAC and IP become the target, the answered
 * MAC and IP the sender, op 2) and sends it back out of the port it came in on.
 *
 * - The network's gateway is always answered, for requests from local endpoints.
 * - proxy mode (default): known endpoints of the network are answered too, for requests from local
 *   endpoints; a local endpoint of a VLAN network is also answered for requests from the uplink
 *   (devices on the VLAN that are not netloom's), the reply tagged again. Any other request,
 *   and any broadcast or multicast ARP, is dropped: no ARP broadcast ever leaves the host.
 * - flood mode: requests for endpoints are not answered here; they miss this table and flood in
 *   the network like any broadcast.
 * - external endpoints (bare metal, VMs on a VLAN network; both modes): one host (NetworkView.
 *   uplinkGateway) answers their requests for the gateway from the uplink, so they get exactly one
 *   reply; in proxy mode local endpoints' requests for them are answered like any endpoint's.
 * The network register (reg0) is part of every match, so tenants with overlapping subnets and a
 * tenant's different networks never see each other's answers.
 */
import type { Feature } from '../../reconcile/cookie';
import type { DesiredFlow } from '../../reconcile/flow-key';
import { NetworkView, pipelineView, PipelineInput } from '../input';
import { externalVlanGroups, fromUplinkVlan } from '../group-vlan';
import { act, apply, ARP_OP, ETH_TYPE, field, flow, match, MULTICAST_MAC, OFPVID_PRESENT, reg } from '../flow-builder';
import { FLAG } from '../tables';
import type { Action, KnownOxm } from '../../../ovs/openflow/messages';

export const ARP_RESPONDER_PRIORITY = 100;
export const ARP_DROP_REQUEST_PRIORITY = 10;
export const ARP_DROP_BROADCAST_PRIORITY = 9;

/** The request turned into the reply `ip is-at mac`, in place (the caller sends it back out of in_port). */
export function arpReplyActions(ip: string, mac: string): Action[] {
  return [
    act.move('eth_src', 'eth_dst'),
    act.load('eth_src', mac),
    act.load('arp_op', ARP_OP.REPLY),
    act.move('arp_sha', 'arp_tha'),
    act.move('arp_spa', 'arp_tpa'),
    act.load('arp_sha', mac),
    act.load('arp_spa', ip),
  ];
}

/**
 * A flow answering `who-has ip` in network `nv` with `mac`, for requests matching `extra`;
 * `retag` puts that VLAN tag back on a reply going out of the uplink.
 */
export function responder(
  nv: NetworkView,
  ip: string,
  mac: string,
  extra: KnownOxm[],
  object: string,
  retag?: number,
  feature: Feature = 'arp',
): DesiredFlow {
  return flow({
    table: 'arp',
    priority: ARP_RESPONDER_PRIORITY,
    match: [reg('network', nv.net.networkId), ...extra, match.ethType(ETH_TYPE.ARP), field('arp_op', ARP_OP.REQUEST), field('arp_tpa', ip)],
    instructions: [
      apply(
        ...arpReplyActions(ip, mac),
        ...(retag === undefined ? [] : [act.pushVlan(), act.setField('vlan_vid', OFPVID_PRESENT | retag)]),
        act.inPort(),
      ),
    ],
    feature,
    object,
  });
}

export function arpFlows(input: PipelineInput): DesiredFlow[] {
  const view = pipelineView(input);
  const proxy = input.state.global.arpMode === 'proxy';
  const out: DesiredFlow[] = [];
  for (const nv of view.networks) {
    if (nv.gatewayMac !== undefined)
      out.push(responder(nv, nv.net.gateway, nv.gatewayMac, [match.flagSet(FLAG.fromLocal)], `${nv.net.key}:gateway`));
    if (nv.uplinkGateway && nv.gatewayMac !== undefined) {
      // on each VLAN an external endpoint uses (ACI mode: its group's)
      for (const group of externalVlanGroups(nv)) {
        const on = fromUplinkVlan(nv, group);
        const object = `${nv.net.key}:gateway:uplink${group ? `:${group.key}` : ''}`;
        out.push(responder(nv, nv.net.gateway, nv.gatewayMac, on.match, object, on.vlan));
      }
    }
    if (!proxy) continue;
    for (const e of nv.endpoints) {
      out.push(responder(nv, e.ep.ip, e.mac, [match.flagSet(FLAG.fromLocal)], e.ep.id));
      if (e.local && nv.net.encap === 'vlan') {
        const on = fromUplinkVlan(nv, e.vlanGroup);
        out.push(responder(nv, e.ep.ip, e.mac, on.match, e.ep.id, on.vlan));
      }
    }
  }
  if (proxy) {
    out.push(
      flow({
        table: 'arp',
        priority: ARP_DROP_REQUEST_PRIORITY,
        match: [match.ethType(ETH_TYPE.ARP), field('arp_op', ARP_OP.REQUEST)],
        instructions: [],
        feature: 'arp',
        object: 'proxy:drop-requests',
      }),
      flow({
        table: 'arp',
        priority: ARP_DROP_BROADCAST_PRIORITY,
        match: [match.ethType(ETH_TYPE.ARP), field('eth_dst', MULTICAST_MAC, MULTICAST_MAC)],
        instructions: [],
        feature: 'arp',
        object: 'proxy:drop-broadcast',
      }),
    );
  }
  return out;
}
