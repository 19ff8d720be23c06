/**
 * A case of the lab's policy table (test/support/policy-cases.ts) as a cluster netmaster would
 * hold, so unit tests can compile it per host and trace it through the flows.
 */
import { TOPOLOGY, type PolicyCase } from '../../support/policy-cases';
import { ClusterBuilder } from '../agent-api/fixtures';

export function cluster(c: PolicyCase): ClusterBuilder {
  const t = TOPOLOGY.tenant;
  const b = new ClusterBuilder().global('routing').tenant(t);
  for (const n of TOPOLOGY.networks) b.network(t, n.name, n.encap, n.tag, n.subnet, n.gateway);
  TOPOLOGY.hosts.forEach((h, i) => b.agent(h, `192.168.0.${i + 1}`));
  for (const p of TOPOLOGY.policies) b.policy(t, p);
  for (const g of TOPOLOGY.groups) b.group(t, g.name, g.network, g.policies);
  for (const e of TOPOLOGY.endpoints) b.endpoint(e.name, t, e.network, e.host, e.ip, e.group ?? '');
  for (const r of c.rules) {
    const { policy, ruleId, ...fields } = r;
    b.rule(t, policy, ruleId, {
      priority: 1,
      protocol: '',
      port: 0,
      fromEndpointGroup: '',
      toEndpointGroup: '',
      fromNetwork: '',
      toNetwork: '',
      fromIpAddress: '',
      toIpAddress: '',
      ...fields,
    });
  }
  return b;
}
