/** The global object's oper: Contiv's fields, networks and the VLANs/VXLANs they use and leave free. */
import { parseTagRanges, toRuns } from '../../model/net';
import { MAX_VXLAN } from '../../model/validate';
import type { KindOper } from './kind-oper';
import { tagInUse } from '../../model/network-tag';
import { vlanPoolUse } from '../../model/vlan-pool';

export const globalOper: KindOper<'global'> = async (svc, _key, g) => {
  const [nets, groups] = await Promise.all([svc.list('network'), svc.list('endpointGroup')]);
  // the tags in use: the configs' or, for allocated ones, their opers' (model/network-tag.ts), and
  // in ACI mode the groups' own VLANs from the same pool (model/vlan-pool.ts)
  const vlanPool = vlanPoolUse(g, nets, groups);
  const vlanTags = vlanPool.held;
  const vxlanTags = nets
    .filter((n) => n.config.encap === 'vxlan')
    .map((n) => tagInUse(n.config, n.oper))
    .sort((a, b) => a - b);
  const free = (ranges: Array<[number, number]> | undefined, used: number[]) =>
    (ranges ?? []).reduce((acc, [a, b]) => acc + (b - a + 1) - used.filter((u) => u >= a && u <= b).length, 0);
  const vxlanRanges = parseTagRanges(g.vxlans, MAX_VXLAN) ?? [];
  return {
    // Contiv's fields: the cluster mode (as /info names it), the default network (none), the first free VXLAN
    clusterMode: 'netloom',
    defaultNetwork: '',
    freeVXLANsStart: firstFree(vxlanRanges, vxlanTags),
    numNetworks: nets.length,
    vlansInUse: toRuns(vlanTags)
      .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
      .join(','),
    vxlansInUse: toRuns(vxlanTags)
      .map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`))
      .join(','),
    freeVLANs: vlanPool.free,
    freeVXLANs: free(parseTagRanges(g.vxlans, MAX_VXLAN), vxlanTags),
  };
};

/** The lowest tag inside the ranges that no network uses (0: none left). */
function firstFree(ranges: ReadonlyArray<[number, number]>, used: readonly number[]): number {
  const taken = new Set(used);
  for (const [a, b] of ranges) for (let t = a; t <= b; t++) if (!taken.has(t)) return t;
  return 0;
}
