/**
 * Tables 50, 51 and 80: the stateful frame around the policy tables. IPv4 traffic enters
 * conntrack in its tenant's zone. Replies from a service provider's target port are looked up with `nat`: packets of a connection that serviceDnat translated
 * (features/service-lb.ts) keep their provider, and its replies get the service address back
 * (on the client's host, also when the reply came over a tunnel). A packet the service tables
 * already tracked in the tenant's zone (its state, zone and mark are those of its connection)
 * goes straight on to ctState: a second ct() would find the same connection, at the cost of a
 * recirculation. Other packets are looked up without `nat`: no translation applies to them. (An
 * established UDP flow once passed after a policy change denied it; the cause was Open vSwitch's
 * overlapping-megaflow bug, see reconcile/datapath-purge.ts, not these lookups.) A connection is committed with the policy generation it was
 * admitted under in ct_mark (features/policy.ts: a digest of this host's policy flows), so:
 * - established packets of connections admitted under the current generation skip policy;
 * - after a policy change, the next original-direction packet of every older connection goes
 *   through policy again: allowed, it is committed with the new generation (not one packet of a
 *   connection that stays allowed is lost); denied, the connection is marked DENIED and dropped;
 * - replies pass while their connection is not marked DENIED (their own direction cannot be
 *   judged by rules written for the other one), and are dropped once it is, so a newly denied
 *   connection stops in both directions;
 * - related packets skip policy, invalid ones are dropped; new ones go through policy and are
 *   committed in ctCommit. Non-IP packets (ARP) are never tracked and pass by the miss flows.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, CT, ETH_TYPE, field, flow, goto, IP_PROTO, match, reg } from '../flow-builder';
import { FLAG } from '../tables';
import { servicePorts } from '../services';
import { policyGeneration } from './policy';

export const CT_PRIORITY = 100;
/** replies from a service provider's target port: looked up with nat */
export const CT_SERVICE_REPLY_PRIORITY = 105;
/** a packet the service tables already tracked in the tenant zone skips the second ct() (one recirculation less) */
export const CT_TRACKED_PRIORITY = 110;
export const CT_INVALID_PRIORITY = 200;
export const CT_CURRENT_PRIORITY = 150;
export const CT_DENIED_REPLY_PRIORITY = 140;
export const CT_REPLY_PRIORITY = 130;
export const CT_RELATED_PRIORITY = 90;
export const CT_DENIED_ESTABLISHED_PRIORITY = 200;
export const CT_DENIED_PRIORITY = 150;
/** ct_mark bit of a connection policy denied after it was established (generations never have it) */
export const CT_MARK_DENIED = 0x8000_0000;

export function conntrackFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  const generation = policyGeneration(input);
  const withServices = new Set(servicePorts(input).map((sp) => sp.tenant.name));
  // replies from a provider's target port are looked up with `nat` (the service address back on
  // the client's host, also after a tunnel); everything else without
  const replySources = new Map<string, DesiredFlow>();
  for (const sp of servicePorts(input)) {
    const tcp = sp.port.protocol === 'tcp';
    for (const p of sp.providers) {
      const object = `${sp.tenant.name}:reply:${p.ip}:${sp.port.protocol}/${p.targetPort}`;
      if (replySources.has(object)) continue;
      replySources.set(
        object,
        flow({
          table: 'conntrack',
          priority: CT_SERVICE_REPLY_PRIORITY,
          match: [
            reg('tenant', sp.tenant.vrfId),
            match.ethType(ETH_TYPE.IPV4),
            field('ip_proto', tcp ? IP_PROTO.TCP : IP_PROTO.UDP),
            field('ipv4_src', p.ip),
            field(tcp ? 'tcp_src' : 'udp_src', p.targetPort),
          ],
          instructions: [apply(act.ct(sp.tenant.ctZone, { then: 'ctState', nat: true }))],
          feature: 'conntrack',
          object,
        }),
      );
    }
  }
  out.push(...[...replySources.keys()].sort().map((k) => replySources.get(k)!));
  for (const t of pipelineView(input).tenants) {
    if (withServices.has(t.name))
      out.push(
        flow({
          table: 'conntrack',
          priority: CT_TRACKED_PRIORITY,
          match: [reg('tenant', t.vrfId), match.ethType(ETH_TYPE.IPV4), field('ct_state', CT.TRK, CT.TRK), field('ct_zone', t.ctZone)],
          instructions: [goto('ctState')],
          feature: 'conntrack',
          object: `${t.name}:tracked`,
        }),
      );
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
        priority: CT_DENIED_ESTABLISHED_PRIORITY,
        match: [
          reg('tenant', t.vrfId),
          match.flagSet(FLAG.denied),
          match.ethType(ETH_TYPE.IPV4),
          field('ct_state', CT.TRK | CT.EST, CT.TRK | CT.EST),
        ],
        instructions: [apply(act.ct(t.ctZone, { commit: true, mark: CT_MARK_DENIED }))],
        feature: 'conntrack',
        object: `${t.name}:denied`,
      }),
      flow({
        table: 'ctCommit',
        priority: CT_PRIORITY,
        match: [reg('tenant', t.vrfId), match.ethType(ETH_TYPE.IPV4), field('ct_state', CT.TRK, CT.TRK)],
        instructions: [apply(act.ct(t.ctZone, { commit: true, mark: generation })), goto('l3Forward')],
        feature: 'conntrack',
        object: t.name,
      }),
    );
  }
  out.push(
    flow({
      table: 'ctCommit',
      priority: CT_DENIED_PRIORITY,
      match: [match.flagSet(FLAG.denied)],
      instructions: [],
      feature: 'conntrack',
      object: 'denied',
    }),
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
      priority: CT_CURRENT_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.EST, CT.TRK | CT.EST), field('ct_mark', generation)],
      instructions: [goto('l3Forward')],
      feature: 'conntrack',
      object: 'established',
    }),
    flow({
      table: 'ctState',
      priority: CT_DENIED_REPLY_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.EST | CT.RPL, CT.TRK | CT.EST | CT.RPL), field('ct_mark', CT_MARK_DENIED, CT_MARK_DENIED)],
      instructions: [],
      feature: 'conntrack',
      object: 'denied-reply',
    }),
    flow({
      table: 'ctState',
      priority: CT_REPLY_PRIORITY,
      match: [field('ct_state', CT.TRK | CT.EST | CT.RPL, CT.TRK | CT.EST | CT.RPL)],
      instructions: [goto('l3Forward')],
      feature: 'conntrack',
      object: 'reply',
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
