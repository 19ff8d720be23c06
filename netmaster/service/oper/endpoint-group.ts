/**
 * An endpoint group's oper: its tag (Contiv's string) and id, its VLAN (its own in ACI mode, else its network's tags), the pool's free addresses and its
 * endpoints (Contiv's), when the agent side runs, its realization on the hosts, and when the group is an EPG
 * of an app profile, its tenant's sync on the APIC.
 */
import { freeRuns, parseV4Range, rangesText, toRuns } from '../../model/net';
import type { Network } from '../../model/schemas';
import { tagInUse } from '../../model/network-tag';
import { groupTagOf, wantsOwnTag } from '../../model/group-tag';
import { missingGroupTagReason, vlanPoolUse } from '../../model/vlan-pool';
import { layout, numberOfKey } from '../../store/layout';
import { readTenantSync } from '../../aci/sync-store';
import { endpointOper } from './endpoint';
import type { KindOper } from './kind-oper';

export const endpointGroupOper: KindOper<'endpointGroup'> = async (svc, key, g, oper) => {
  const eps = await svc.endpointsIn('grp', key);
  let nw: { encap: Network['encap']; tag: number } | undefined;
  try {
    const stored = await svc.get('network', `${g.tenantName}:${g.networkName}`);
    nw = { encap: stored.config.encap, tag: tagInUse(stored.config, stored.oper) };
  } catch {
    nw = undefined;
  }
  const pool = g.ipPool ? parseV4Range(g.ipPool) : undefined;
  let available = '';
  let allocated = '';
  if (pool) {
    const { kvs } = await svc.kv.list(layout.ipPrefix(`${g.tenantName}:${g.networkName}`), { keysOnly: true });
    const used = kvs.map((k) => numberOfKey(k.key, true)).sort((a, b) => a - b);
    available = rangesText(freeRuns(pool.first, pool.last, used));
    allocated = rangesText(toRuns(used.filter((n) => n >= pool.first && n <= pool.last)));
  }
  const groupId = Number(oper.groupId ?? 0);
  // in ACI mode a group of a VLAN network has a VLAN of its own (Contiv showed it as pktTag)
  const ownTag = groupTagOf(oper);
  const missing = ownTag === undefined ? await missingOwnTag(svc, nw) : undefined;
  const aciSync = await groupAciSync(svc, g.tenantName, g.groupName);
  return {
    // Contiv's derived tag: the configured tag, else `group.tenant` (a string; the number is endpointGroupId)
    groupTag: g.cfgdTag !== '' ? g.cfgdTag : `${g.groupName}.${g.tenantName}`,
    endpointGroupId: groupId,
    ...(ownTag !== undefined
      ? { pktTag: ownTag }
      : nw
        ? { pktTag: nw.tag, ...(nw.encap === 'vxlan' ? { externalPktTag: nw.tag } : {}) }
        : {}),
    // in ACI mode and still without one: why (about to be allocated, or the pool exhausted)
    ...(missing ? { pktTagPending: missing } : {}),
    ...(pool ? { availableIPAddresses: available, allocatedIPAddresses: allocated } : {}),
    numEndpoints: eps.length,
    endpoints: eps.map((e) => endpointOper(e, groupId)),
    ...(await svc.realization?.group(key)),
    ...(aciSync ? { aciSync } : {}),
  };
};

/** Why a group of network `nw` that should have a VLAN of its own (ACI mode, a VLAN network) has none; else undefined. */
async function missingOwnTag(svc: Parameters<KindOper<'endpointGroup'>>[0], nw: { encap: Network['encap'] } | undefined) {
  const global = (await svc.list('global'))[0]?.config;
  if (!global || !wantsOwnTag(global, nw)) return undefined;
  const [nets, groups] = await Promise.all([svc.list('network'), svc.list('endpointGroup')]);
  return missingGroupTagReason(global, vlanPoolUse(global, nets, groups));
}

/** The APIC sync of the group's tenant, when an app profile makes the group an EPG. */
async function groupAciSync(svc: Parameters<KindOper<'endpointGroup'>>[0], tenant: string, group: string) {
  const sync = await readTenantSync(svc.kv, tenant);
  if (!sync) return undefined;
  const profiles = await svc.list('appProfile');
  return profiles.some((a) => a.config.tenantName === tenant && a.config.endpointGroups.includes(group)) ? sync : undefined;
}
