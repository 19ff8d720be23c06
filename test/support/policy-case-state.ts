/**
 * A case of the policy table (policy-cases.ts) as the compiler's input (lib/policy/contiv.ts
 * PolicyState), built directly from the topology, for tests that have no netmaster (the routed
 * nftables test on namespaces). A unit test holds it to what netmaster's host views compile to.
 */
import type { ContivRule, PolicyState } from '../../lib/policy/contiv';
import type { PolicyCase, Topology } from './policy-cases';

export function caseState(topo: Topology, c: PolicyCase): PolicyState {
  const t = topo.tenant;
  const key = (name: string | undefined) => (name ? `${t}:${name}` : '');
  const rules = (policy: string): ContivRule[] =>
    c.rules
      .filter((r) => r.policy === policy)
      .sort((a, b) => (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0))
      .map((r) => ({
        ruleId: r.ruleId,
        direction: r.direction,
        priority: r.priority ?? 1,
        action: r.action,
        protocol: r.protocol ?? '',
        port: r.port ?? 0,
        fromGroup: key(r.fromEndpointGroup),
        toGroup: key(r.toEndpointGroup),
        fromNetwork: key(r.fromNetwork),
        toNetwork: key(r.toNetwork),
        fromIp: r.fromIpAddress ?? '',
        toIp: r.toIpAddress ?? '',
      }));
  return {
    networks: topo.networks.map((n) => ({ key: key(n.name), subnet: n.subnet })),
    groups: topo.groups.map((g) => ({ key: key(g.name), tenant: t, policies: g.policies })),
    policies: topo.policies.map((p) => ({ key: key(p), rules: rules(p) })),
    endpoints: topo.endpoints.map((e) => ({ id: e.name, network: key(e.network), group: key(e.group), host: e.host, ip: e.ip })),
  };
}
