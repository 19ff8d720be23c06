/**
 * Table 15 (egressQos): what a local endpoint sends, by its group's netprofile. Its packets pass
 * its egress meter (bandwidth and burst; drop band) and its IPv4 packets get the profile's DSCP
 * (the VXLAN port's `tos=inherit` copies it to the outer header). Spoofguard's flows continue
 * here; endpoints without a profile take the miss to arp. The ingress half (the endpoint's
 * ingress meter) is on its unicast flow in l2Forward.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { egressMeterId, meteredProfile } from '../meters';
import { act, apply, ETH_TYPE, flow, goto, match, meter } from '../flow-builder';

/** IPv4 from the endpoint: meter and DSCP */
export const QOS_IPV4_PRIORITY = 110;
/** everything else from the endpoint: meter only */
export const QOS_ANY_PRIORITY = 100;

export function qosFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const e of pipelineView(input).endpoints) {
    if (!e.local || e.ofport === undefined || !e.profile) continue;
    const metered = meteredProfile(e) !== undefined;
    const meterIns = metered ? [meter(egressMeterId(e.ofport))] : [];
    const base = { table: 'egressQos' as const, feature: 'qos' as const, object: e.ep.id };
    if (e.profile.dscp > 0)
      out.push(
        flow({
          ...base,
          priority: QOS_IPV4_PRIORITY,
          match: [match.inPort(e.ofport), match.ethType(ETH_TYPE.IPV4)],
          instructions: [...meterIns, apply(act.setField('ip_dscp', e.profile.dscp)), goto('arp')],
        }),
      );
    if (metered)
      out.push(flow({ ...base, priority: QOS_ANY_PRIORITY, match: [match.inPort(e.ofport)], instructions: [...meterIns, goto('arp')] }));
  }
  return out;
}
