/**
 * A policy's oper: the groups applying it and their endpoints (Contiv's), and when the agent side
 * runs, its realization on the hosts and its rules' counters (service/realization.ts).
 */
import type { Endpoint } from '../../model/schemas';
import { endpointOper } from './endpoint';
import type { KindOper } from './kind-oper';

export const policyOper: KindOper<'policy'> = async (svc, key) => {
  const [t, name] = key.split(':');
  const groups = (await svc.list('endpointGroup')).filter((g) => g.key.startsWith(`${t}:`) && g.config.policies.includes(name ?? ''));
  const eps: Endpoint[] = [];
  for (const g of groups) eps.push(...(await svc.endpointsIn('grp', g.key)));
  return {
    endpointGroups: groups.map((g) => g.config.groupName),
    numEndpoints: eps.length,
    endpoints: eps.map((e) => endpointOper(e)),
    // Contiv counted packets its flows dropped here; netloom's are in ruleCounters
    policyViolations: 0,
    ...(await svc.realization?.policy(key)),
  };
};
