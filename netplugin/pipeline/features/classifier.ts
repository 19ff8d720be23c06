/**
 * Table 0: where a packet came from. A local endpoint's port loads the endpoint's network, tenant
 * and group into registers and flags it local, then spoofguard checks it. The VLAN uplink maps a
 * tag to its network and pops it; the flow-based VXLAN port maps the VNI (tun_id) to its network.
 * Both then skip spoofguard (they carry other hosts' endpoints), except that an external endpoint's
 * address from the uplink must come with its registered MAC. A host takes a VLAN network from the
 * uplink when it has an endpoint there or, routing, when the network has an external endpoint
 * (see takesUplink). ACI mode: a group with a VLAN of its own (its EPG's encap) is a VLAN of its
 * network too: the VLAN's group goes into reg8 (the VLAN the packet is on, which decides delivery)
 * and into reg1 (the source group, for policy; srcGroup may refine it from the source address,
 * since the leaf delivers another EPG's packet on the receiver's VLAN). A local endpoint of such a
 * group gets its group in reg8 too. Anything else is dropped by the table-miss flow.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import type { Action, Instruction, KnownOxm } from '../../../ovs/openflow/messages';
import { EndpointView, NetworkView, pipelineView, PipelineInput, takesUplink } from '../input';
import { uplinkVlan } from '../group-vlan';
import { act, apply, ETH_TYPE, field, flow, goto, match, OFPVID_PRESENT } from '../flow-builder';
import { FLAG } from '../tables';

export const CLASSIFIER_PRIORITY = 100;
/** an external endpoint's address from the uplink: with its MAC it passes (above the network's flow), else it is dropped */
export const EXTERNAL_ACCEPT_PRIORITY = 120;
export const EXTERNAL_DROP_PRIORITY = 110;

/**
 * The spoofguard of an external endpoint, for packets from the uplink: its address (IPv4 source,
 * ARP sender) comes in only with its registered MAC (as Ethernet source and ARP sender hardware
 * address); anything else claiming it is dropped.
 */
function externalGuard(tagged: KnownOxm[], accept: Instruction[], x: EndpointView): DesiredFlow[] {
  const base = { table: 'classifier' as const, feature: 'spoofguard' as const, object: x.ep.id };
  const ip = [match.ethType(ETH_TYPE.IPV4), field('ipv4_src', x.ep.ip)];
  const arp = [match.ethType(ETH_TYPE.ARP), field('arp_spa', x.ep.ip)];
  return [
    flow({ ...base, priority: EXTERNAL_ACCEPT_PRIORITY, match: [...tagged, match.ethSrc(x.mac), ...ip], instructions: accept }),
    flow({
      ...base,
      priority: EXTERNAL_ACCEPT_PRIORITY,
      match: [...tagged, match.ethSrc(x.mac), ...arp, field('arp_sha', x.mac)],
      instructions: accept,
    }),
    flow({ ...base, priority: EXTERNAL_DROP_PRIORITY, match: [...tagged, ...ip], instructions: [] }),
    flow({ ...base, priority: EXTERNAL_DROP_PRIORITY, match: [...tagged, ...arp], instructions: [] }),
  ];
}

/**
 * An external endpoint comes in only on its own VLAN (its group's, else its network's): there with
 * its MAC, on every other VLAN of the network its address is dropped.
 */
function externalGuards(nv: NetworkView, vlans: UplinkVlan[]): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const x of nv.externals) {
    const own = uplinkVlan(x);
    for (const v of vlans) {
      const guard = externalGuard(v.match, v.instructions, x);
      out.push(...(v.tag === own ? guard : guard.filter((f) => f.priority === EXTERNAL_DROP_PRIORITY)));
    }
  }
  return out;
}

/** one VLAN of a network on the uplink: the network's own, or a group's (ACI mode) */
interface UplinkVlan {
  tag: number;
  match: KnownOxm[];
  instructions: Instruction[];
  object: string;
}

function uplinkVlans(nv: NetworkView, uplink: number): UplinkVlan[] {
  const regs = [act.loadReg('network', nv.net.networkId), act.loadReg('tenant', nv.tenant.vrfId)];
  const vlan = (tag: number, loads: Action[], object: string): UplinkVlan => ({
    tag,
    match: [match.inPort(uplink), field('vlan_vid', OFPVID_PRESENT | tag)],
    instructions: [apply(act.popVlan(), ...loads, act.loadReg('flags', FLAG.fromUplink)), goto('arp')],
    object,
  });
  return [
    vlan(nv.net.pktTag, regs, nv.net.key),
    ...nv.vlanGroups.map((g) =>
      vlan(g.pktTag, [...regs, act.loadReg('srcGroup', g.groupId), act.loadReg('vlanGroup', g.groupId)], `${nv.net.key}:${g.key}`),
    ),
  ];
}

export function classifierFlows(input: PipelineInput): DesiredFlow[] {
  const view = pipelineView(input);
  const { uplink, vxlan } = input.local.bridge;
  const out: DesiredFlow[] = [];
  for (const e of view.endpoints) {
    if (!e.local || e.ofport === undefined) continue;
    const loads = [act.loadReg('network', e.net.net.networkId), act.loadReg('tenant', e.net.tenant.vrfId)];
    if (e.group) loads.push(act.loadReg('srcGroup', e.group.groupId));
    if (e.vlanGroup) loads.push(act.loadReg('vlanGroup', e.vlanGroup.groupId));
    loads.push(act.loadReg('flags', FLAG.fromLocal));
    out.push(
      flow({
        table: 'classifier',
        priority: CLASSIFIER_PRIORITY,
        match: [match.inPort(e.ofport)],
        instructions: [apply(...loads), goto('spoofguard')],
        feature: 'classifier',
        object: e.ep.id,
      }),
    );
  }
  for (const nv of view.networks) {
    const n = nv.net;
    const regs = [act.loadReg('network', n.networkId), act.loadReg('tenant', nv.tenant.vrfId)];
    if (takesUplink(nv) && uplink !== undefined) {
      const vlans = uplinkVlans(nv, uplink);
      for (const v of vlans)
        out.push(
          flow({
            table: 'classifier',
            priority: CLASSIFIER_PRIORITY,
            match: v.match,
            instructions: v.instructions,
            feature: 'vlan',
            object: v.object,
          }),
        );
      out.push(...externalGuards(nv, vlans));
    }
    if (!nv.hasLocal) continue; // nothing here to deliver to
    if (n.encap === 'vxlan' && vxlan !== undefined) {
      out.push(
        flow({
          table: 'classifier',
          priority: CLASSIFIER_PRIORITY,
          match: [match.inPort(vxlan), field('tunnel_id', BigInt(n.pktTag))],
          instructions: [apply(...regs, act.loadReg('flags', FLAG.fromTunnel)), goto('arp')],
          feature: 'tunnel',
          object: n.key,
        }),
      );
    }
  }
  return out;
}
