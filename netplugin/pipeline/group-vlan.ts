/**
 * ACI mode: a group may have a VLAN of its own on the uplink (EndpointGroup.pktTag, its EPG's
 * encap on the fabric), in place of its network's. A packet on a group's VLAN has that group in
 * reg8 (the classifier loads it, for the uplink's VLAN as for a local sender of the group); one on
 * the network's VLAN has reg8 0. So a flow answering what came from the uplink on one VLAN, in a
 * network with group VLANs, matches reg8 and puts that VLAN back on the reply.
 */
import type { KnownOxm } from '../../ovs/openflow/messages';
import type { EndpointGroup } from '../state/host-state';
import type { EndpointView, NetworkView } from './input';
import { match, reg } from './flow-builder';
import { FLAG } from './tables';

/** The VLAN an endpoint's packets carry on the uplink: its group's own, else its network's. */
export function uplinkVlan(e: EndpointView): number {
  return e.vlanGroup?.pktTag ?? e.net.net.pktTag;
}

/**
 * The match of packets from the uplink on `group`'s VLAN (undefined: the network's VLAN), and that
 * VLAN. A network without group VLANs: only the from-uplink flag, as before ACI mode.
 */
export function fromUplinkVlan(nv: NetworkView, group: EndpointGroup | undefined): { match: KnownOxm[]; vlan: number } {
  const fromUplink = match.flagSet(FLAG.fromUplink);
  if (nv.vlanGroups.length === 0) return { match: [fromUplink], vlan: nv.net.pktTag };
  return { match: [fromUplink, reg('vlanGroup', group?.groupId ?? 0)], vlan: group?.pktTag ?? nv.net.pktTag };
}

/** The groups whose VLANs the network's external endpoints use (undefined: the network's VLAN), each once. */
export function externalVlanGroups(nv: NetworkView): Array<EndpointGroup | undefined> {
  const groups = new Map(nv.externals.map((x) => [x.vlanGroup?.key ?? '', x.vlanGroup]));
  return [...groups.keys()].sort().map((k) => groups.get(k));
}
