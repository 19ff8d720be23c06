/**
 * Contiv's inspect output, `{Config, Oper}`, with Oper computed from the store: a network's
 * allocated and available addresses as range text, its tags and endpoints; a group's id and
 * endpoints; a tenant's object counts; a policy's endpoints; the global tag usage.
 */
import { NetloomError } from '../../lib/errors';
import { parseTagRanges, parseV4, parseV4Range, parseV4Subnet, freeRuns, rangesText, toRuns } from '../model/net';
import type { Endpoint, EndpointGroup, Global, Network, ObjectType } from '../model/schemas';
import { MAX_VLAN, MAX_VXLAN } from '../model/validate';
import { layout, numberOfKey } from '../store/layout';
import type { ServiceReads } from './reads';

/** An endpoint in Contiv's oper shape. */
export function endpointOper(e: Endpoint, groupId?: number): Record<string, unknown> {
  return {
    endpointID: e.endpointID,
    network: e.network,
    endpointGroupKey: e.groupName ? `${e.tenantName}:${e.groupName}` : '',
    ...(groupId !== undefined ? { endpointGroupId: groupId } : {}),
    ipAddress: [e.ipAddress, ...(e.ipv6Address ? [e.ipv6Address] : [])],
    macAddress: e.macAddress,
    homingHost: e.homingHost,
    intfName: e.intfName,
    vtepIP: e.vtepIP,
    labels: e.labels,
    containerID: e.containerID,
    containerName: e.containerName,
  };
}

async function networkOper(svc: ServiceReads, key: string, nw: Network): Promise<Record<string, unknown>> {
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
}

async function groupOper(
  svc: ServiceReads,
  key: string,
  g: EndpointGroup,
  oper: Record<string, unknown>,
): Promise<Record<string, unknown>> {
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
  };
}

/** `{Config, Oper}` for one object (NOT_FOUND when absent). */
export async function inspect(
  svc: ServiceReads,
  type: ObjectType,
  key: string,
): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }> {
  const stored = await svc.get(type, key);
  const config = { key, ...(stored.config as Record<string, unknown>) };
  let oper: Record<string, unknown> = {};
  switch (type) {
    case 'network':
      oper = await networkOper(svc, key, stored.config as Network);
      break;
    case 'endpointGroup':
      oper = await groupOper(svc, key, stored.config as EndpointGroup, stored.oper);
      break;
    case 'tenant': {
      const counts: Record<string, number> = {};
      let numEndpoints = 0;
      for (const t of ['network', 'endpointGroup', 'policy', 'netprofile', 'appProfile', 'serviceLB'] as const) {
        const list = (await svc.list(t)).filter((o) => o.key.startsWith(`${key}:`));
        counts[`${t === 'endpointGroup' ? 'endpointGroups' : `${t}s`}`] = list.length;
        if (t === 'network') for (const n of list) numEndpoints += (await svc.endpointsIn('net', n.key)).length;
      }
      oper = { ...counts, numEndpoints };
      break;
    }
    case 'policy': {
      const [t, name] = key.split(':');
      const groups = (await svc.list('endpointGroup')).filter((g) => g.key.startsWith(`${t}:`) && g.config.policies.includes(name ?? ''));
      const eps: Endpoint[] = [];
      for (const g of groups) eps.push(...(await svc.endpointsIn('grp', g.key)));
      oper = {
        endpointGroups: groups.map((g) => g.config.groupName),
        numEndpoints: eps.length,
        endpoints: eps.map((e) => endpointOper(e)),
      };
      break;
    }
    case 'global': {
      const g = stored.config as Global;
      const nets = await svc.list('network');
      const vlanTags = nets
        .filter((n) => n.config.encap === 'vlan')
        .map((n) => n.config.pktTag)
        .sort((a, b) => a - b);
      const vxlanTags = nets
        .filter((n) => n.config.encap === 'vxlan')
        .map((n) => n.config.pktTag)
        .sort((a, b) => a - b);
      const free = (ranges: Array<[number, number]> | undefined, used: number[]) =>
        (ranges ?? []).reduce((acc, [a, b]) => acc + (b - a + 1) - used.filter((u) => u >= a && u <= b).length, 0);
      oper = {
        numNetworks: nets.length,
        vlansInUse: toRuns(vlanTags)
          .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
          .join(','),
        vxlansInUse: toRuns(vxlanTags)
          .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
          .join(','),
        freeVLANs: free(parseTagRanges(g.vlans, MAX_VLAN), vlanTags),
        freeVXLANs: free(parseTagRanges(g.vxlans, MAX_VXLAN), vxlanTags),
      };
      break;
    }
    default:
      oper = { ...stored.oper };
  }
  return { Config: config, Oper: oper };
}

/**
 * One endpoint by id; as a convenience (scripts often only know the container), also by
 * container id or by a unique prefix of the endpoint id.
 */
export async function inspectEndpoint(
  svc: ServiceReads,
  id: string,
): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }> {
  let ep: Endpoint | undefined = await svc.getEndpoint(id).catch((e: unknown) => {
    if (e instanceof NetloomError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  });
  if (!ep && id !== '') {
    const all = await svc.listEndpoints();
    const byContainer = all.filter((e) => e.containerID === id);
    const matches = byContainer.length > 0 ? byContainer : all.filter((e) => e.endpointID.startsWith(id));
    if (matches.length > 1) {
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `'${id}' matches ${matches.length} endpoints (${matches
          .slice(0, 5)
          .map((e) => e.endpointID)
          .join(', ')}): give the endpoint id`,
        { field: 'id' },
      );
    }
    ep = matches[0];
  }
  if (!ep) throw new NetloomError('NOT_FOUND', `endpoint ${id} does not exist`);
  return { Config: { key: ep.endpointID, endpointID: ep.endpointID }, Oper: endpointOper(ep) };
}
