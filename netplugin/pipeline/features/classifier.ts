/**
 * Table 0: where a packet came from. A local endpoint's port loads the endpoint's network, tenant
 * and group into registers and flags it local, then spoofguard checks it. The VLAN uplink maps a
 * tag to its network and pops it; the flow-based VXLAN port maps the VNI (tun_id) to its network.
 * Both then skip spoofguard (they carry other hosts' endpoints). Anything else is dropped by the
 * table-miss flow.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, field, flow, goto, match, OFPVID_PRESENT } from '../flow-builder';
import { FLAG } from '../tables';

export const CLASSIFIER_PRIORITY = 100;

export function classifierFlows(input: PipelineInput): DesiredFlow[] {
  const view = pipelineView(input);
  const { uplink, vxlan } = input.local.bridge;
  const out: DesiredFlow[] = [];
  for (const e of view.endpoints) {
    if (!e.local || e.ofport === undefined) continue;
    const loads = [act.loadReg('network', e.net.net.networkId), act.loadReg('tenant', e.net.tenant.vrfId)];
    if (e.group) loads.push(act.loadReg('srcGroup', e.group.groupId));
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
    if (!nv.hasLocal) continue; // nothing here to deliver to
    const n = nv.net;
    const regs = [act.loadReg('network', n.networkId), act.loadReg('tenant', nv.tenant.vrfId)];
    if (n.encap === 'vlan' && uplink !== undefined) {
      out.push(
        flow({
          table: 'classifier',
          priority: CLASSIFIER_PRIORITY,
          match: [match.inPort(uplink), field('vlan_vid', OFPVID_PRESENT | n.pktTag)],
          instructions: [apply(act.popVlan(), ...regs, act.loadReg('flags', FLAG.fromUplink)), goto('arp')],
          feature: 'vlan',
          object: n.key,
        }),
      );
    }
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
