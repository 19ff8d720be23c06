/**
 * An endpoint group's oper: its id, its network's tags, the pool's free addresses and its
 * endpoints (Contiv's), and when the agent side runs, its realization on the hosts.
 */
import { freeRuns, parseV4Range, rangesText } from '../../model/net';
import type { Network } from '../../model/schemas';
import { layout, numberOfKey } from '../../store/layout';
import { endpointOper } from './endpoint';
import type { KindOper } from './kind-oper';

export const endpointGroupOper: KindOper<'endpointGroup'> = async (svc, key, g, oper) => {
  const eps = await svc.endpointsIn('grp', key);
  let nw: Network | undefined;
  try {
    nw = (await svc.get('network', `${g.tenantName}:${g.networkName}`)).config;
  } catch {
    nw = undefined;
  }
  const pool = g.ipPool ? parseV4Range(g.ipPool) : undefined;
  let available = '';
  if (pool) {
    const { kvs } = await svc.kv.list(layout.ipPrefix(`${g.tenantName}:${g.networkName}`), { keysOnly: true });
    const used = kvs.map((k) => numberOfKey(k.key, true)).sort((a, b) => a - b);
    available = rangesText(freeRuns(pool.first, pool.last, used));
  }
  const groupId = Number(oper.groupId ?? 0);
  return {
    groupTag: groupId,
    endpointGroupId: groupId,
    ...(nw ? { pktTag: nw.pktTag, ...(nw.encap === 'vxlan' ? { externalPktTag: nw.pktTag } : {}) } : {}),
    ...(pool ? { availableIPAddresses: available } : {}),
    numEndpoints: eps.length,
    endpoints: eps.map((e) => endpointOper(e, groupId)),
    ...(await svc.realization?.group(key)),
  };
};
