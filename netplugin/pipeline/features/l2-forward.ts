/**
 * Table 100: bridging by network (reg0) and destination MAC.
 * - a local endpoint's MAC: out of its port, through its ingress meter when its netprofile has a
 *   bandwidth (see meters.ts);
 * - a remote endpoint in a VXLAN network: VNI into tun_id, the peer's VTEP into tun_dst, out of
 *   the one flow-based VXLAN port;
 * - a remote endpoint in a VLAN network: tag pushed, out of the uplink;
 * - broadcast and multicast: to every local port of the network and, only for packets from a
 *   local port (split horizon), also to the uplink (tagged) or to each VTEP that shares the
 *   network. OVS never sends a packet back out of its input port, so the sender is left out.
 * Routing with external endpoints: a packet routed here from the uplink to a remote VLAN endpoint
 * leaves by the uplink again (IN_PORT).
 * Unknown unicast hits the drop miss. Flows towards other hosts exist only for networks this
 * host's traffic can reach (see NetworkView.reachable), so tunnels go only to hosts that share a
 * network with this one (or, when routing, a tenant).
 */
import type { Action } from '../../../ovs/openflow/messages';
import type { DesiredFlow } from '../../reconcile/flow-key';
import { EndpointView, NetworkView, pipelineView, PipelineInput } from '../input';
import { act, apply, flow, match, meter, OFPVID_PRESENT, reg } from '../flow-builder';
import { ingressMeterId, meteredProfile } from '../meters';
import { FLAG } from '../tables';

export const UNICAST_PRIORITY = 100;
/** a routed packet from the uplink to a remote VLAN endpoint goes back out of the uplink */
export const HAIRPIN_PRIORITY = 110;
export const FLOOD_FROM_LOCAL_PRIORITY = 50;
export const FLOOD_FROM_REMOTE_PRIORITY = 40;

function toUplink(nv: NetworkView, uplink: number): Action[] {
  return [act.pushVlan(), act.setField('vlan_vid', OFPVID_PRESENT | nv.net.pktTag), act.output(uplink)];
}

function toVtep(nv: NetworkView, vtepIp: string, vxlan: number): Action[] {
  return [act.setField('tunnel_id', BigInt(nv.net.pktTag)), act.setField('tun_ipv4_dst', vtepIp), act.output(vxlan)];
}

function unicast(e: EndpointView, uplink: number | undefined, vxlan: number | undefined): DesiredFlow | undefined {
  const nv = e.net;
  const m = [reg('network', nv.net.networkId), match.ethDst(e.mac)];
  const base = { table: 'l2Forward' as const, priority: UNICAST_PRIORITY, match: m, object: e.ep.id };
  if (e.local) {
    if (e.ofport === undefined) return undefined;
    const metered = meteredProfile(e) ? [meter(ingressMeterId(e.ofport))] : [];
    return flow({ ...base, instructions: [...metered, apply(act.output(e.ofport))], feature: 'l2Forward' });
  }
  if (nv.net.encap === 'vxlan')
    return vxlan === undefined ? undefined : flow({ ...base, instructions: [apply(...toVtep(nv, e.vtepIp, vxlan))], feature: 'tunnel' });
  return uplink === undefined ? undefined : flow({ ...base, instructions: [apply(...toUplink(nv, uplink))], feature: 'vlan' });
}

/**
 * Routing for an external endpoint: a packet it sent to the gateway MAC may arrive here from the
 * uplink and be routed to another VLAN network's remote endpoint, i.e. back out of the uplink it
 * came in by (OVS drops an output to the input port unless it is IN_PORT). Only routed packets:
 * an unrouted one from the uplink to a remote endpoint was flooded here by the VLAN, and sending
 * it back would loop between hosts.
 */
function hairpin(e: EndpointView): DesiredFlow {
  const nv = e.net;
  return flow({
    table: 'l2Forward',
    priority: HAIRPIN_PRIORITY,
    // routed only: a frame the VLAN flooded here (unknown unicast) must never go back to it
    match: [
      reg('network', nv.net.networkId),
      reg('flags', FLAG.fromUplink | FLAG.routed, FLAG.fromUplink | FLAG.routed),
      match.ethDst(e.mac),
    ],
    instructions: [apply(act.pushVlan(), act.setField('vlan_vid', OFPVID_PRESENT | nv.net.pktTag), act.inPort())],
    feature: 'vlan',
    object: `${e.ep.id}:hairpin`,
  });
}

export function l2ForwardFlows(input: PipelineInput): DesiredFlow[] {
  const { uplink, vxlan } = input.local.bridge;
  const out: DesiredFlow[] = [];
  const view = pipelineView(input);
  // tenants whose routed traffic may come in by the uplink (from an external endpoint)
  const routedFromUplink = new Set(
    input.state.global.fwdMode === 'routing' ? view.networks.filter((n) => n.externals.length > 0).map((n) => n.tenant.name) : [],
  );
  for (const nv of view.networks) {
    for (const e of nv.endpoints) {
      if (!e.local && !nv.reachable) continue;
      const f = unicast(e, uplink, vxlan);
      if (f) out.push(f);
      if (!e.local && nv.net.encap === 'vlan' && uplink !== undefined && routedFromUplink.has(nv.tenant.name)) out.push(hairpin(e));
    }
    if (nv.localPorts.length === 0) continue;
    const locals = nv.localPorts.map((p) => act.output(p));
    const remote: Action[] = [];
    if (nv.net.encap === 'vlan' && uplink !== undefined) remote.push(...toUplink(nv, uplink));
    if (nv.net.encap === 'vxlan' && vxlan !== undefined) for (const v of nv.vteps) remote.push(...toVtep(nv, v, vxlan));
    const bcast = [reg('network', nv.net.networkId), match.multicastDst()];
    out.push(
      flow({
        table: 'l2Forward',
        priority: FLOOD_FROM_LOCAL_PRIORITY,
        match: [...bcast, match.flagSet(FLAG.fromLocal)],
        instructions: [apply(...locals, ...remote)],
        feature: 'l2Forward',
        object: `${nv.net.key}:flood-local`,
      }),
      flow({
        table: 'l2Forward',
        priority: FLOOD_FROM_REMOTE_PRIORITY,
        match: bcast,
        instructions: [apply(...locals)],
        feature: 'l2Forward',
        object: `${nv.net.key}:flood-remote`,
      }),
    );
  }
  return out;
}
