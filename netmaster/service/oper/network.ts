/** A network's oper: allocated and free addresses as range text, its tags and endpoints. */
import { freeRuns, parseV4, parseV4Subnet, rangesText, toRuns } from '../../model/net';
import { layout, numberOfKey } from '../../store/layout';
import { endpointOper } from './endpoint';
import type { KindOper } from './kind-oper';

export const networkOper: KindOper<'network'> = async (svc, key, nw) => {
  const prefix = layout.ipPrefix(key);
  const { kvs } = await svc.kv.list(prefix, { keysOnly: true });
  const used = kvs.map((k) => numberOfKey(k.key, true)).sort((a, b) => a - b);
  const sub = parseV4Subnet(nw.subnet);
  const gw = nw.gateway ? parseV4(nw.gateway) : undefined;
  const eps = await svc.endpointsIn('net', key);
  const endpointAddrs = used.filter((n) => n !== gw);
  return {
    allocatedAddressesCount: endpointAddrs.length,
    allocatedIPAddresses: rangesText(toRuns(endpointAddrs)),
    availableIPAddresses: sub ? rangesText(freeRuns(sub.first, sub.last, used)) : '',
    ...(nw.gateway ? { gateway: nw.gateway } : {}),
    networkTag: nw.cfgdTag,
    pktTag: nw.pktTag,
    ...(nw.encap === 'vxlan' ? { externalPktTag: nw.pktTag } : {}),
    numEndpoints: eps.length,
    endpoints: eps.map((e) => endpointOper(e)),
  };
};
