/**
 * What the kernel must hold for this host's routed endpoints, from the desired state and the
 * agent's endpoint records (pure): their host routes (from the records alone: known before
 * netmaster answers), their policy (the same compiled policy as the OVS backend's, lib/policy, with
 * every tenant's routed subnets for the tenant guard) and their QoS (their group's netprofile).
 */
import { compilePolicy } from '../../lib/policy/compile';
import type { HostState } from '../state/host-state';
import type { EndpointRoute } from './endpoint-routes';
import type { RoutedPolicyInput } from './policy-model';
import type { RoutedQosEndpoint } from './qos-plan';
import { isRouted } from './routed-networks';
import { byKey } from '../../lib/compare';

/** What the routed side reads of an endpoint record. */
export interface RoutedRecord {
  endpointId: string;
  hostIf: string;
  ip: string;
  routed?: boolean;
}

/** The host routes of the recorded routed endpoints, sorted by ip. */
export function desiredEndpointRoutes(records: readonly RoutedRecord[]): EndpointRoute[] {
  return records
    .filter((r) => r.routed === true && r.ip !== '')
    .map((r) => ({ ip: r.ip, hostIf: r.hostIf }))
    .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

export interface RoutedDesired {
  policy: RoutedPolicyInput;
  qos: RoutedQosEndpoint[];
}

/**
 * Policy and QoS of the local routed endpoints that the state lists and the agent recorded (an
 * endpoint without a record has no host end yet; one not in the state gets nothing yet).
 */
export function routedDesired(state: HostState, hostName: string, records: readonly RoutedRecord[]): RoutedDesired {
  const routed = new Map(state.networks.filter((n) => isRouted(state, n)).map((n) => [n.key, n]));
  const recordOf = new Map(records.filter((r) => r.routed === true).map((r) => [r.endpointId, r]));
  const mine = new Map(
    state.endpoints.filter((e) => e.host === hostName && routed.has(e.network) && recordOf.has(e.id)).map((e) => [e.id, e]),
  );
  const endpoints = compilePolicy(state, hostName)
    .filter((p) => mine.has(p.endpoint))
    .map((policy) => ({ hostIf: recordOf.get(policy.endpoint)!.hostIf, policy }));
  const tenantSubnets = [...routed.values()].filter((n) => n.subnet !== '').map((n) => ({ tenant: n.tenant, subnet: n.subnet }));
  const groups = new Map(state.groups.map((g) => [g.key, g]));
  const profiles = new Map(state.profiles.map((p) => [p.key, p]));
  const qos: RoutedQosEndpoint[] = [];
  for (const e of [...mine.values()].sort(byKey((e) => e.id))) {
    const g = e.group ? groups.get(e.group) : undefined;
    const p = g?.netProfile ? profiles.get(`${g.tenant}:${g.netProfile}`) : undefined;
    if (!p || (p.bandwidthKbps <= 0 && p.dscp <= 0)) continue;
    qos.push({ endpoint: e.id, hostIf: recordOf.get(e.id)!.hostIf, rateKbps: p.bandwidthKbps, burstKb: p.burstKb, dscp: p.dscp });
  }
  return { policy: { endpoints, tenantSubnets }, qos };
}
