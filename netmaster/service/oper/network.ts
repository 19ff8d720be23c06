/**
 * A network's oper: allocated and free addresses as range text, its tags and endpoints, and its
 * address blocks (issue 15) with their owner and use (addresses held inside / usable addresses).
 */
import { freeRuns, parseV4, parseV4Subnet, rangesText, toRuns } from '../../model/net';
import { layout, numberOfKey } from '../../store/layout';
import { tagInUse } from '../../model/network-tag';
import { endpointOper } from './endpoint';
import type { KindOper } from './kind-oper';
import type { ServiceReads } from '../reads';
import { blockKeys } from '../block-keys';
import { blockSpan } from '../block-plan';
import { describeBlock, readBlockValue } from '../blocks';
import { parseBlockKey } from '../block-keys';
import type { V4Subnet } from '../../model/net';

/** Each block of the network: cidr, owning host, addresses held inside (the gateway aside) and usable. */
async function blocksOper(svc: ServiceReads, key: string, sub: V4Subnet, gateway: string, used: readonly number[]) {
  const gw = gateway ? parseV4(gateway) : undefined;
  const { kvs } = await svc.kv.list(blockKeys.prefix(key));
  return kvs.flatMap((kv) => {
    const b = parseBlockKey(kv.key)?.block;
    if (!b) return [];
    const [lo, hi] = blockSpan(b);
    const held = used.filter((n) => n >= lo && n <= hi && n !== gw).length;
    const d = describeBlock(b, sub, gateway);
    return [{ cidr: d.cidr, host: readBlockValue(kv.key, kv.value)?.host ?? '', used: held, size: d.size }];
  });
}

export const networkOper: KindOper<'network'> = async (svc, key, nw, stored) => {
  // Contiv's oper pktTag is the tag in use: the config's, or the allocated one (model/network-tag.ts)
  const tag = tagInUse(nw, stored);
  const prefix = layout.ipPrefix(key);
  const { kvs } = await svc.kv.list(prefix, { keysOnly: true });
  const used = kvs.map((k) => numberOfKey(k.key, true)).sort((a, b) => a - b);
  const sub = parseV4Subnet(nw.subnet);
  const gw = nw.gateway ? parseV4(nw.gateway) : undefined;
  const eps = await svc.endpointsIn('net', key);
  const blocks = sub ? await blocksOper(svc, key, sub, nw.gateway, used) : [];
  const endpointAddrs = used.filter((n) => n !== gw);
  return {
    allocatedAddressesCount: endpointAddrs.length,
    allocatedIPAddresses: rangesText(toRuns(endpointAddrs)),
    availableIPAddresses: sub ? rangesText(freeRuns(sub.first, sub.last, used)) : '',
    ...(nw.gateway ? { gateway: nw.gateway } : {}),
    networkTag: nw.cfgdTag,
    pktTag: tag,
    ...(nw.encap === 'vxlan' ? { externalPktTag: tag } : {}),
    numEndpoints: eps.length,
    ...(blocks.length > 0 ? { blocks } : {}),
    endpoints: eps.map((e) => endpointOper(e)),
  };
};
