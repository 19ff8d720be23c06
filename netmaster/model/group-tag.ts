/**
 * A group's VLAN of its own (issue 21). In ACI mode (global networkInfraType `aci`) each group of
 * a VLAN network is its own EPG, and the fabric tells EPGs apart by VLAN: as in Contiv, the group
 * takes a VLAN from the same pool networks use (`alloc/vlan/N`, valued with the group's key) and
 * keeps it in its stored oper (`oper.pktTag`), written in the same guarded transaction as the
 * allocation key. Groups of VXLAN (and routed) networks have none: Contiv's ACI mode was VLAN
 * only, and a VNI cannot be a static binding's encap. Outside ACI mode no group holds one: the
 * data plane then tags a group's traffic with its network's VLAN, and a group VLAN kept would
 * only hold a number of the shared pool (released when the mode leaves `aci`).
 */
import type { Global, Network } from './schemas';
import { MAX_VLAN } from './network-tag';

/** The VLAN a stored group holds (its oper.pktTag), or undefined. */
export function groupTagOf(oper: Readonly<Record<string, unknown>> | undefined): number | undefined {
  const t = oper?.pktTag;
  return typeof t === 'number' && Number.isInteger(t) && t > 0 ? t : undefined;
}

/** Whether a group of `network` should hold a VLAN of its own under `global`. */
export function wantsOwnTag(global: Pick<Global, 'networkInfraType'>, network: Pick<Network, 'encap'> | undefined): boolean {
  return global.networkInfraType === 'aci' && network?.encap === 'vlan';
}

/** What to do with one group's VLAN: take one, give its one back, or nothing. */
export type GroupTagChange = 'allocate' | 'release' | undefined;

export function groupTagChange(want: boolean, held: number | undefined): GroupTagChange {
  if (want && held === undefined) return 'allocate';
  if (!want && held !== undefined) return 'release';
  return undefined;
}

/** The change group with stored `oper`, of `network`, needs under `global` (one decision for every writer). */
export function groupTagChangeFor(
  global: Pick<Global, 'networkInfraType'>,
  network: Pick<Network, 'encap'> | undefined,
  oper: Readonly<Record<string, unknown>> | undefined,
): GroupTagChange {
  return groupTagChange(wantsOwnTag(global, network), groupTagOf(oper));
}

/** Why a stored group's oper.pktTag cannot be served, or undefined when it is sound (stored-values.ts). */
export function groupTagRecordProblem(oper: Readonly<Record<string, unknown>>): string | undefined {
  const t = oper.pktTag;
  if (t === undefined) return undefined;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_VLAN)
    return `oper.pktTag: must be a VLAN 1..${MAX_VLAN}, not ${JSON.stringify(t)}`;
  return undefined;
}
