/**
 * Tables 50, 51 and 80: the stateful skeleton around the (reserved) policy tables. IPv4 traffic
 * enters conntrack in its tenant's zone and continues in ctState: established packets skip policy
 * and commit, related ones skip policy, invalid ones are dropped, new ones go through the policy
 * tables and are committed in ctCommit. Non-IP packets (ARP) are never tracked and pass by the
 * table-miss flows.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, CT, ETH_TYPE, field, flow, goto, match, reg } from '../flow-builder';

export const CT_PRIORITY = 100;
export const CT_INVALID_PRIORITY = 200;
export const CT_ESTABLISHED_PRIORITY = 100;
export const CT_RELATED_PRIORITY = 90;

export function conntrackFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const t of pipelineView(input).tenants) {
    out.push(
      flow({
        table: 'conntrack',
        priority: CT_PRIORITY,
        match: [reg('tenant', t.vrfId), match.ethType(ETH_TYPE.IPV4)],
        instructions: [apply(act.ct(t.ctZone, { then: 'ctState' }))],
        feature: 'conntrack',
        object: t.name,
      }),
      flow({
        table: 'ctCommit',
        priority: CT_PRIORITY,
        match: [reg('tenant', t.vrfId), match.ethType(ETH_TYPE.IPV4), field('ct_state', CT.TRK | CT.NEW, CT.TRK | CT.NEW)],
        instructions: [apply(act.ct(t.ctZone, { commit: true })), goto('l3Forward')],
        feature: 'conntrack',
        object: t.name,
      }),
    );
  }
  out.push(
    flow({
      table: 'ctState',
      priority: CT_INVALID_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.INV, CT.TRK | CT.INV)],
      instructions: [],
      feature: 'conntrack',
      object: 'invalid',
    }),
    flow({
      table: 'ctState',
      priority: CT_ESTABLISHED_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.EST, CT.TRK | CT.EST)],
      instructions: [goto('l3Forward')],
      feature: 'conntrack',
      object: 'established',
    }),
    flow({
      table: 'ctState',
      priority: CT_RELATED_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.REL, CT.TRK | CT.REL)],
      instructions: [goto('ctCommit')],
      feature: 'conntrack',
      object: 'related',
    }),
  );
  return out;
}
