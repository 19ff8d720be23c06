/**
 * Table 90, only when the global fwdMode is `routing`: distributed routing between the networks
 * of one tenant, done on the sending host. An IPv4 packet addressed to a gateway MAC of its tenant
 * (reg3) whose destination IP is a known endpoint of the tenant gets the destination network's
 * gateway MAC as source and the endpoint's MAC as destination, its TTL decremented (OVS drops it
 * when the TTL runs out), the destination network in reg0 and the routed flag; l2Forward then
 * delivers it like any packet of that network. Networks without a gateway take no part. Tenants
 * never route to each other: the tenant register is in every match.
 */
import type { DesiredFlow } from '../../reconcile/flow-key';
import { pipelineView, PipelineInput } from '../input';
import { act, apply, ETH_TYPE, field, flow, goto, match, reg } from '../flow-builder';
import { FLAG } from '../tables';

export const ROUTE_PRIORITY = 100;

export function l3RoutingFlows(input: PipelineInput): DesiredFlow[] {
  if (input.state.global.fwdMode !== 'routing') return [];
  const view = pipelineView(input);
  const out: DesiredFlow[] = [];
  for (const t of view.tenants) {
    const nets = view.networks.filter((nv) => nv.tenant === t && nv.gatewayMac !== undefined);
    const gatewayMacs = [...new Set(nets.map((nv) => nv.gatewayMac!))].sort();
    for (const nv of nets) {
      if (!nv.reachable) continue;
      for (const e of nv.endpoints) {
        for (const gwMac of gatewayMacs) {
          out.push(
            flow({
              table: 'l3Forward',
              priority: ROUTE_PRIORITY,
              match: [reg('tenant', t.vrfId), match.ethDst(gwMac), match.ethType(ETH_TYPE.IPV4), field('ipv4_dst', e.ep.ip)],
              instructions: [
                apply(
                  act.load('eth_src', nv.gatewayMac!),
                  act.load('eth_dst', e.mac),
                  act.decTtl(),
                  act.loadReg('network', nv.net.networkId),
                  act.setFlag(FLAG.routed),
                ),
                goto('l2Forward'),
              ],
              feature: 'routing',
              object: e.ep.id,
            }),
          );
        }
      }
    }
  }
  return out;
}
