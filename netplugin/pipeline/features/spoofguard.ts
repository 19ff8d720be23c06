/**
 * Table 10: a local endpoint may send IPv4 only with its own MAC and IPv4 address, and ARP only
 * with its own MAC as sender hardware address and its own IPv4 as sender protocol address.
 * Everything else from a local port (other addresses, IPv6, other ethertypes) hits the drop miss.
 * What passes continues in egressQos.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { ETH_TYPE, field, flow, goto, match } from '../flow-builder';

export const SPOOFGUARD_PRIORITY = 100;

export function spoofguardFlows(input: PipelineInput): DesiredFlow[] {
  const out: DesiredFlow[] = [];
  for (const e of pipelineView(input).endpoints) {
    if (!e.local || e.ofport === undefined) continue;
    const base = [match.inPort(e.ofport), match.ethSrc(e.mac)];
    out.push(
      flow({
        table: 'spoofguard',
        priority: SPOOFGUARD_PRIORITY,
        match: [...base, match.ethType(ETH_TYPE.IPV4), field('ipv4_src', e.ep.ip)],
        instructions: [goto('egressQos')],
        feature: 'spoofguard',
        object: e.ep.id,
      }),
      flow({
        table: 'spoofguard',
        priority: SPOOFGUARD_PRIORITY,
        match: [...base, match.ethType(ETH_TYPE.ARP), field('arp_spa', e.ep.ip), field('arp_sha', e.mac)],
        instructions: [goto('egressQos')],
        feature: 'spoofguard',
        object: e.ep.id,
      }),
    );
  }
  return out;
}
