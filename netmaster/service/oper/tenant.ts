/**
 * A tenant's oper in Contiv's shape: the oper of each of its networks, groups, policies and
 * services (arrays, as Contiv's TenantOper has them), its endpoints, and the totals of each kind.
 */
import type { KindOper } from './kind-oper';
import { endpointOper } from './endpoint';
import { endpointGroupOper } from './endpoint-group';
import { networkOper } from './network';
import { policyOper } from './policy';
import { serviceLBOper } from './service-lb';

export const tenantOper: KindOper<'tenant'> = async (svc, key) => {
  const mine = <T extends { key: string }>(list: T[]) => list.filter((o) => o.key.startsWith(`${key}:`));
  const networks = mine(await svc.list('network'));
  const groups = mine(await svc.list('endpointGroup'));
  const policies = mine(await svc.list('policy'));
  const services = mine(await svc.list('serviceLB'));
  const endpoints = [];
  for (const n of networks) endpoints.push(...(await svc.endpointsIn('net', n.key)));
  return {
    networks: await Promise.all(networks.map((n) => networkOper(svc, n.key, n.config, n.oper))),
    endpointGroups: await Promise.all(groups.map((g) => endpointGroupOper(svc, g.key, g.config, g.oper))),
    policies: await Promise.all(policies.map((p) => policyOper(svc, p.key, p.config, p.oper))),
    servicelbs: await Promise.all(services.map((s) => serviceLBOper(svc, s.key, s.config, s.oper))),
    endpoints: endpoints.map((e) => endpointOper(e)),
    totalNetworks: networks.length,
    totalEPGs: groups.length,
    totalPolicies: policies.length,
    totalNetprofiles: mine(await svc.list('netprofile')).length,
    totalAppProfiles: mine(await svc.list('appProfile')).length,
    totalServicelbs: services.length,
    totalEndpoints: endpoints.length,
    // netloom's name before Contiv's total (kept for scripts that read it)
    numEndpoints: endpoints.length,
  };
};
