/** A tenant's oper: how many objects of each kind it holds, and its endpoints. */
import type { KindOper } from './kind-oper';

export const tenantOper: KindOper<'tenant'> = async (svc, key) => {
  const counts: Record<string, number> = {};
  let numEndpoints = 0;
  for (const t of ['network', 'endpointGroup', 'policy', 'netprofile', 'appProfile', 'serviceLB'] as const) {
    const list = (await svc.list(t)).filter((o) => o.key.startsWith(`${key}:`));
    counts[`${t === 'endpointGroup' ? 'endpointGroups' : `${t}s`}`] = list.length;
    if (t === 'network') for (const n of list) numEndpoints += (await svc.endpointsIn('net', n.key)).length;
  }
  return { ...counts, numEndpoints };
};
