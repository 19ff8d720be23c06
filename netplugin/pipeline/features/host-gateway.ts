/**
 * The tenants' gateway ports (`nlgw<vrfId>`, see netplugin/hostnet): a tenant's way into and out
 * of the host's kernel, for egress (the kernel masquerades and routes) and host access.
 * - classifier: a gateway port's packets get the tenant (reg3) and the from-host flag; no network.
 * - arp: the kernel's requests on the port for the tenant's local endpoints are answered with the
 *   host-side router MAC (the switch routes by IP behind it).
 * - l3Forward, from the host: IPv4 to a local endpoint of the tenant is delivered to it (its
 *   network's gateway MAC as source, its MAC as destination, its network in reg0). These packets
 *   came through conntrack in the tenant's zone and the destination's ingress policy like any
 *   other, so replies to an endpoint's egress connections are established there.
 * - l3Forward, to the host: IPv4 a local endpoint sends to its network's gateway MAC whose
 *   destination is outside every subnet of its tenant leaves by the tenant's gateway port (TTL
 *   decremented, the port's MAC as destination), at a priority below the routes between the
 *   tenant's networks; to any subnet of the tenant it is dropped (the tenant's own addresses never
 *   go to the kernel, where another tenant may use them). Egress policy ran before: rules with a
 *   CIDR govern external destinations.
 * Only tenants whose gateway port has an ofport (LocalFacts.bridge.gateways) get flows.
 */
import ipaddr from 'ipaddr.js';
import type { DesiredFlow } from '../../reconcile/flow-key';
import { gatewayNetworks, gatewayTenants } from '../../hostnet/desired-state';
import { gatewayPortMac, gatewayPortName, HOST_SIDE_ROUTER_MAC } from '../../hostnet/numbering';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, ARP_OP, ETH_TYPE, field, flow, goto, match, reg } from '../flow-builder';
import { FLAG } from '../tables';
import { arpReplyActions } from './arp';

export const HOSTGW_CLASSIFIER_PRIORITY = 100;
export const HOSTGW_ARP_PRIORITY = 100;
/** host -> local endpoint: above the routes (which match other destination MACs anyway) */
export const FROM_HOST_PRIORITY = 105;
/** endpoint -> one of its tenant's subnets through the gateway MAC, not routed: dropped */
export const OWN_SUBNET_DROP_PRIORITY = 20;
/** endpoint -> outside its tenant: to the gateway port */
export const TO_HOST_PRIORITY = 10;

/** A subnet as the (network address, netmask) pair a masked match wants (host bits cleared, as OVS keeps it). */
function maskOf(subnet: string): [string, string] {
  return [
    ipaddr.IPv4.networkAddressFromCIDR(subnet).toString(),
    ipaddr.IPv4.subnetMaskFromPrefixLength(ipaddr.IPv4.parseCIDR(subnet)[1]).toString(),
  ];
}

export function hostGatewayFlows(input: PipelineInput): DesiredFlow[] {
  const view = pipelineView(input);
  const ofports = input.local.bridge.gateways ?? {};
  const out: DesiredFlow[] = [];
  for (const t of gatewayTenants(view)) {
    const port = gatewayPortName(t.vrfId);
    const ofport = ofports[port];
    if (ofport === undefined) continue;
    const portMac = gatewayPortMac(t.vrfId);
    const nets = gatewayNetworks(view, t);
    out.push(
      flow({
        table: 'classifier',
        priority: HOSTGW_CLASSIFIER_PRIORITY,
        match: [match.inPort(ofport)],
        instructions: [apply(act.loadReg('tenant', t.vrfId), act.loadReg('flags', FLAG.fromHost)), goto('arp')],
        feature: 'hostgw',
        object: port,
      }),
    );
    const fromHost = [reg('tenant', t.vrfId), match.flagSet(FLAG.fromHost)];
    for (const nv of nets) {
      for (const e of nv.endpoints) {
        if (!e.local || e.ofport === undefined) continue;
        out.push(
          flow({
            table: 'arp',
            priority: HOSTGW_ARP_PRIORITY,
            match: [...fromHost, match.ethType(ETH_TYPE.ARP), field('arp_op', ARP_OP.REQUEST), field('arp_tpa', e.ep.ip)],
            instructions: [apply(...arpReplyActions(e.ep.ip, HOST_SIDE_ROUTER_MAC), act.inPort())],
            feature: 'hostgw',
            object: e.ep.id,
          }),
          flow({
            table: 'l3Forward',
            priority: FROM_HOST_PRIORITY,
            match: [...fromHost, match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', e.ep.ip)],
            instructions: [
              apply(act.load('eth_src', nv.gatewayMac!), act.load('eth_dst', e.mac), act.loadReg('network', nv.net.networkId)),
              goto('l2Forward'),
            ],
            feature: 'hostgw',
            object: e.ep.id,
          }),
        );
      }
    }
    // every subnet of the tenant this host knows (in routing mode all of the tenant's networks)
    const subnets = [...new Set(view.networks.filter((nv) => nv.tenant === t && nv.net.subnet !== '').map((nv) => nv.net.subnet))].sort();
    for (const nv of nets) {
      const toGateway = [
        reg('network', nv.net.networkId),
        match.flagSet(FLAG.fromLocal),
        match.ethDst(nv.gatewayMac!),
        match.ethType(ETH_TYPE.IPV4),
      ];
      for (const s of subnets) {
        const [addr, mask] = maskOf(s);
        out.push(
          flow({
            table: 'l3Forward',
            priority: OWN_SUBNET_DROP_PRIORITY,
            match: [...toGateway, field('ipv4_dst', addr, mask)],
            instructions: [],
            feature: 'hostgw',
            object: `${nv.net.key}:own:${s}`,
          }),
        );
      }
      out.push(
        flow({
          table: 'l3Forward',
          priority: TO_HOST_PRIORITY,
          match: toGateway,
          instructions: [apply(act.load('eth_src', nv.gatewayMac!), act.load('eth_dst', portMac), act.decTtl(), act.output(ofport))],
          feature: 'hostgw',
          object: `${nv.net.key}:egress`,
        }),
      );
    }
  }
  return out;
}
