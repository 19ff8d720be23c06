/**
 * Tables 30 and 40: endpoint groups into registers, for the policy stages. Packets from other
 * hosts get their source group (reg1) from their source IP within the tenant (reg3); local
 * packets got theirs in the classifier. Every IPv4 packet gets its destination group (reg2) from
 * its destination IP within the tenant. Subnets never overlap inside a tenant, so an address
 * names one endpoint there, whichever network the packet is in: this holds for packets routed
 * on another host (they arrive in the destination's network) and before l3Forward switches the
 * network here.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, ETH_TYPE, field, flow, goto, match, reg } from '../flow-builder';

export const GROUP_PRIORITY = 100;

export function groupFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  const view = pipelineView(input);
  for (const e of view.endpoints) {
    if (!e.group || e.local) continue;
    out.push(
      flow({
        table: 'srcGroup',
        priority: GROUP_PRIORITY,
        match: [reg('tenant', e.net.tenant.vrfId), match.ethType(ETH_TYPE.IPV4), field('ipv4_src', e.ep.ip)],
        instructions: [apply(act.loadReg('srcGroup', e.group.groupId)), goto('dstClassify')],
        feature: 'policy',
        object: e.ep.id,
      }),
    );
  }
  for (const e of view.endpoints) {
    if (!e.group) continue;
    out.push(
      flow({
        table: 'dstClassify',
        priority: GROUP_PRIORITY,
        match: [reg('tenant', e.net.tenant.vrfId), match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', e.ep.ip)],
        instructions: [apply(act.loadReg('dstGroup', e.group.groupId)), goto('conntrack')],
        feature: 'policy',
        object: e.ep.id,
      }),
    );
  }
  return out;
}
