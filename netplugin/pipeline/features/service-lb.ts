/**
 * Service load balancing (Contiv's serviceLB), Antrea style: OVS select groups and conntrack NAT
 * in the tenant's zone, done on the client's host (services.ts holds the checked data).
 *
 * - arp (20): the switch answers ARP for a service IP in its network with SERVICE_MAC, for local
 *   endpoints (in flood mode too: nobody else would answer).
 * - serviceLB (35): a local endpoint's TCP/UDP packet to a service IP:port loads the service port's
 *   index into reg7 and enters conntrack in the tenant zone with `nat`: a packet of an established
 *   connection comes out already translated to its provider. A Kubernetes cluster IP is outside
 *   every subnet, so its packets come to the gateway MAC: they are readdressed to SERVICE_MAC here,
 *   and l3Forward delivers them as those of a service in the network.
 * - serviceEndpoint (36): a new connection goes to the service port's select group (equal
 *   weights; OVS hashes the packet, so only new connections are spread: the others never reach
 *   the group, and keep their provider whatever the group becomes). A bucket loads its provider's
 *   IP and port into reg6/reg7 and resubmits to serviceDnat. A service port without provider
 *   sends new connections to the agent through a packets-per-second meter: the agent answers TCP
 *   RST / ICMP port unreachable (agent/service-reject.ts), so the client is refused at once
 *   instead of waiting for a timeout. Established (translated) packets are counted per provider.
 *   Hairpin: a local provider's own new connections (by source IP) go to a group of the other
 *   providers (services.ts, HairpinView), refused when there is none.
 * - serviceDnat (37): ct(commit, zone, nat(dst=provider:port)), the port the provider's own (a
 *   Kubernetes named targetPort may differ per pod); the packet continues in
 *   dstClassify with the provider as destination, so the destination group and policy see it.
 * - conntrack (50) has `nat` (features/conntrack.ts): replies get the service address back.
 * - l3Forward (90): a packet still addressed to SERVICE_MAC whose destination is now an endpoint
 *   of the tenant gets that endpoint's MAC and network (for every endpoint of a tenant with
 *   services, not only current providers: a connection outlives its provider's removal from the
 *   service), then l2Forward delivers it as any packet of that network.
 */
import type { KnownOxm } from '../../../ovs/openflow/messages';
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, CT, ETH_TYPE, field, flow, goto, IP_PROTO, match, meter, reg } from '../flow-builder';
import { FLAG } from '../tables';
import {
  providerObject,
  SERVICE_MAC,
  SERVICE_REJECT_MAX_LEN,
  SERVICE_REJECT_METER_ID,
  servicePorts,
  ipv4ToNumber,
  SVC_INDEX_MASK,
  svcPortReg,
} from '../services';
import { responder } from './arp';

export const SERVICE_PRIORITY = 100;
/** a local provider's own new connections to its service (see HairpinView) */
export const SERVICE_HAIRPIN_PRIORITY = 110;
export const SERVICE_ESTABLISHED_PRIORITY = 90;
export const SERVICE_MAC_PRIORITY = 100;

export function serviceLbFlows(input: PipelineInput): DesiredFlow[] {
  const ports = servicePorts(input);
  if (ports.length === 0) return [];
  const out: DesiredFlow[] = [];
  const answered = new Set<string>();
  for (const sp of ports) {
    const { service: s, tenant, port } = sp;
    if (sp.net && !answered.has(s.key)) {
      answered.add(s.key);
      out.push(responder(sp.net, s.ip, SERVICE_MAC, [match.flagSet(FLAG.fromLocal)], `${s.key}:arp`, undefined, 'service'));
    }
    const tcp = port.protocol === 'tcp';
    out.push(
      flow({
        table: 'serviceLB',
        priority: SERVICE_PRIORITY,
        match: [
          reg('tenant', tenant.vrfId),
          match.flagSet(FLAG.fromLocal),
          match.ethType(ETH_TYPE.IPV4),
          field('ip_proto', tcp ? IP_PROTO.TCP : IP_PROTO.UDP),
          field('ipv4_dst', s.ip),
          field(tcp ? 'tcp_dst' : 'udp_dst', port.port),
        ],
        instructions: [
          apply(
            act.loadReg('svcPort', svcPortReg(sp.index)),
            // a cluster IP outside every subnet came to the gateway MAC: addressed to the service
            // MAC instead, l3Forward delivers it to its provider once translated (in bridge mode too)
            ...(s.kube ? [act.load('eth_dst', SERVICE_MAC)] : []),
            act.ct(tenant.ctZone, { nat: true, then: 'serviceEndpoint' }),
          ),
        ],
        feature: 'service',
        object: sp.name,
      }),
    );
    const ofPort = reg('svcPort', svcPortReg(sp.index), SVC_INDEX_MASK);
    const isNew = field('ct_state', CT.TRK | CT.NEW, CT.TRK | CT.NEW);
    /** new connections of `extra` to the group `groupId`, or to the agent for a reject when it has no provider */
    const select = (priority: number, extra: KnownOxm[], groupId: number | undefined, object: string): DesiredFlow =>
      flow({
        table: 'serviceEndpoint',
        priority,
        match: [ofPort, isNew, ...extra],
        instructions:
          groupId !== undefined
            ? [apply(act.group(groupId))]
            : [meter(SERVICE_REJECT_METER_ID), apply(act.controller(SERVICE_REJECT_MAX_LEN))],
        feature: 'service',
        object: groupId !== undefined ? object : `${object}:reject`,
      });
    out.push(select(SERVICE_PRIORITY, [], sp.providers.length > 0 ? sp.index : undefined, sp.name));
    for (const h of sp.hairpins)
      out.push(
        select(
          SERVICE_HAIRPIN_PRIORITY,
          [match.ethType(ETH_TYPE.IPV4), field('ipv4_src', h.provider.ip)],
          h.others.length > 0 ? h.groupId : undefined,
          `${sp.name}:hairpin:${h.provider.endpointId}`,
        ),
      );
    for (const p of sp.providers) {
      const object = providerObject(sp, p.endpointId);
      out.push(
        flow({
          table: 'serviceEndpoint',
          priority: SERVICE_ESTABLISHED_PRIORITY,
          match: [ofPort, field('ct_state', CT.TRK | CT.EST, CT.TRK | CT.EST), match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', p.ip)],
          instructions: [goto('dstClassify')],
          feature: 'service',
          object,
        }),
        flow({
          table: 'serviceDnat',
          priority: SERVICE_PRIORITY,
          // nat with a port needs the L4 protocol in the match (OVS: MATCH_INCONSISTENT otherwise)
          match: [
            reg('svcIp', ipv4ToNumber(p.ip)),
            reg('svcPort', svcPortReg(sp.index, p.targetPort)),
            match.ethType(ETH_TYPE.IPV4),
            field('ip_proto', tcp ? IP_PROTO.TCP : IP_PROTO.UDP),
          ],
          instructions: [apply(act.ct(tenant.ctZone, { commit: true, nat: { ip: p.ip, port: p.targetPort }, then: 'dstClassify' }))],
          feature: 'service',
          object,
        }),
      );
    }
  }
  // the service MAC resolved to the endpoint a connection was translated to
  const view = pipelineView(input);
  const tenants = new Set(ports.map((sp) => sp.tenant.name));
  for (const e of view.endpoints) {
    if (!tenants.has(e.net.tenant.name) || (!e.local && !e.net.reachable)) continue;
    out.push(
      flow({
        table: 'l3Forward',
        priority: SERVICE_MAC_PRIORITY,
        match: [reg('tenant', e.net.tenant.vrfId), match.ethDst(SERVICE_MAC), match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', e.ep.ip)],
        instructions: [apply(act.load('eth_dst', e.mac), act.loadReg('network', e.net.net.networkId)), goto('l2Forward')],
        feature: 'service',
        object: `${e.ep.id}:service-mac`,
      }),
    );
  }
  return out;
}
