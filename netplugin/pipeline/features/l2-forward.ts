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
 *
 * ACI mode (a VLAN network with groups that have VLANs of their own, NetworkView.vlanGroups): a
 * packet leaves by the uplink with the VLAN it is on (reg8: its sender's group VLAN), and the
 * switch delivers to a local endpoint only what is on the endpoint's own VLAN: from its own group
 * (a local port or the uplink on that VLAN). Between two groups it never switches locally: the packet goes to
 * the fabric with the sender's VLAN and comes back with the receiver's (the leaf switches between
 * the EPGs of a bridge domain and applies their contracts), as Contiv's ACI mode did with OVS
 * access ports tagged with the EPG's VLAN. Broadcasts stay within the source's VLAN likewise.
 * Other networks' flows are exactly those without groups.
 */
import type { Action } from '../../../ovs/openflow/messages';
import type { DesiredFlow } from '../../reconcile/flow-key';
import type { EndpointGroup } from '../../state/host-state';
import { EndpointView, NetworkView, pipelineView, PipelineInput } from '../input';
import { act, apply, flow, match, meter, OFPVID_PRESENT, reg } from '../flow-builder';
import { ingressMeterId, meteredProfile } from '../meters';
import { FLAG } from '../tables';

export const UNICAST_PRIORITY = 100;
/** a routed packet from the uplink to a remote VLAN endpoint goes back out of the uplink */
export const HAIRPIN_PRIORITY = 110;
export const FLOOD_FROM_LOCAL_PRIORITY = 50;
export const FLOOD_FROM_REMOTE_PRIORITY = 40;
/** ACI mode: a packet of a group with its own VLAN to an endpoint outside that group: to the fabric */
export const OTHER_GROUP_PRIORITY = 105;
/** ACI mode: a local packet without a group VLAN to a local endpoint of a group VLAN: to the fabric */
export const TO_GROUP_VLAN_PRIORITY = 90;
/** ACI mode: broadcasts of a group VLAN, from a local port (to the uplink too) and from the uplink */
export const GROUP_FLOOD_FROM_LOCAL_PRIORITY = 55;
export const GROUP_FLOOD_FROM_REMOTE_PRIORITY = 45;

function toUplink(nv: NetworkView, uplink: number, vlan = nv.net.pktTag): Action[] {
  return [act.pushVlan(), act.setField('vlan_vid', OFPVID_PRESENT | vlan), act.output(uplink)];
}

function toVtep(nv: NetworkView, vtepIp: string, vxlan: number): Action[] {
  return [act.setField('tunnel_id', BigInt(nv.net.pktTag)), act.setField('tun_ipv4_dst', vtepIp), act.output(vxlan)];
}

function unicast(e: EndpointView, uplink: number | undefined, vxlan: number | undefined): DesiredFlow | undefined {
  const nv = e.net;
  // ACI mode: a local endpoint with a group VLAN takes only its own VLAN's packets (reg8: its group)
  const own = e.local && e.vlanGroup ? [reg('vlanGroup', e.vlanGroup.groupId)] : [];
  const m = [reg('network', nv.net.networkId), ...own, match.ethDst(e.mac)];
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

/** ACI mode: the network's groups with a VLAN of their own and a plugged endpoint here (the VLANs local packets are on) */
function localVlanGroups(nv: NetworkView): EndpointGroup[] {
  return nv.vlanGroups.filter((g) => portsOf(nv, (e) => e.vlanGroup === g).length > 0);
}

function portsOf(nv: NetworkView, pick: (e: EndpointView) => boolean): number[] {
  return nv.endpoints.flatMap((e) => (e.ofport !== undefined && pick(e) ? [e.ofport] : [])).sort((a, b) => a - b);
}

/**
 * ACI mode, towards endpoint `e` (local or remote): a packet on the VLAN of one of `senders`
 * goes to the fabric with that VLAN, unless `e` is a local endpoint of that same group. A
 * packet on such a VLAN from the uplink would leave by the port it came in by, which OpenFlow
 * never does: dropped, as the fabric hands a VLAN's packets only to endpoints of that VLAN. A
 * local endpoint of a group VLAN gets a local packet of no group VLAN through the fabric too,
 * with the network's VLAN.
 */
function throughFabric(e: EndpointView, uplink: number, senders: readonly EndpointGroup[]): DesiredFlow[] {
  const nv = e.net;
  const out: DesiredFlow[] = [];
  for (const g of senders) {
    if (e.local && e.vlanGroup === g) continue;
    out.push(
      flow({
        table: 'l2Forward',
        priority: OTHER_GROUP_PRIORITY,
        match: [reg('network', nv.net.networkId), reg('vlanGroup', g.groupId), match.ethDst(e.mac)],
        instructions: [apply(...toUplink(nv, uplink, g.pktTag))],
        feature: 'vlan',
        object: `${e.ep.id}:from:${g.key}`,
      }),
    );
  }
  if (e.local && e.vlanGroup)
    out.push(
      flow({
        table: 'l2Forward',
        priority: TO_GROUP_VLAN_PRIORITY,
        match: [reg('network', nv.net.networkId), match.flagSet(FLAG.fromLocal), match.ethDst(e.mac)],
        instructions: [apply(...toUplink(nv, uplink))],
        feature: 'vlan',
        object: `${e.ep.id}:from-network-vlan`,
      }),
    );
  return out;
}

/**
 * ACI mode: broadcasts of each group VLAN reach only that group's local ports and, from a local
 * port, the uplink with the group's VLAN (the fabric floods it to the other EPGs of the bridge
 * domain). Every group VLAN gets its from-uplink flow, also without a local port here, so that its
 * broadcasts never reach the network VLAN's ports below.
 */
function groupFloods(nv: NetworkView, uplink: number): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const g of nv.vlanGroups) {
    const ports = portsOf(nv, (e) => e.vlanGroup === g).map((p) => act.output(p));
    const bcast = [reg('network', nv.net.networkId), reg('vlanGroup', g.groupId), match.multicastDst()];
    if (ports.length > 0)
      out.push(
        flow({
          table: 'l2Forward',
          priority: GROUP_FLOOD_FROM_LOCAL_PRIORITY,
          match: [...bcast, match.flagSet(FLAG.fromLocal)],
          instructions: [apply(...ports, ...toUplink(nv, uplink, g.pktTag))],
          feature: 'l2Forward',
          object: `${nv.net.key}:${g.key}:flood-local`,
        }),
      );
    out.push(
      flow({
        table: 'l2Forward',
        priority: GROUP_FLOOD_FROM_REMOTE_PRIORITY,
        match: bcast,
        instructions: ports.length > 0 ? [apply(...ports)] : [],
        feature: 'l2Forward',
        object: `${nv.net.key}:${g.key}:flood-remote`,
      }),
    );
  }
  return out;
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
    const aci = nv.vlanGroups.length > 0 && uplink !== undefined;
    const senders = aci ? localVlanGroups(nv) : [];
    for (const e of nv.endpoints) {
      if (!e.local && !nv.reachable) continue;
      const f = unicast(e, uplink, vxlan);
      if (f) out.push(f);
      // towards a local endpoint every group VLAN gets a flow: one without a sender here may still
      // come in by the uplink, and must not reach a port of the network's own VLAN
      if (aci && !e.local) out.push(...throughFabric(e, uplink, senders));
      if (aci && e.local && e.ofport !== undefined) out.push(...throughFabric(e, uplink, nv.vlanGroups));
      if (!e.local && nv.net.encap === 'vlan' && uplink !== undefined && routedFromUplink.has(nv.tenant.name)) out.push(hairpin(e));
    }
    if (nv.localPorts.length === 0) continue;
    if (aci) out.push(...groupFloods(nv, uplink));
    // the network's own VLAN floods to the ports of no group VLAN (all of them outside ACI mode)
    const locals = (aci ? portsOf(nv, (e) => !e.vlanGroup) : nv.localPorts).map((p) => act.output(p));
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
