/**
 * The shared VLAN pool (the global `vlans` range) as networks and ACI groups use it (pure): the
 * VLANs held and how many are free. Global inspect counts them; a group left without a VLAN of
 * its own says, from this, whether the leader is about to give it one or the pool is exhausted.
 */
import { groupTagOf } from './group-tag';
import { parseTagRanges } from './net';
import { MAX_VLAN, tagInUse } from './network-tag';
import type { Global, Network } from './schemas';

export interface VlanPoolUse {
  /** the VLANs networks and groups hold, sorted */
  held: number[];
  /** how many VLANs of the range nobody holds */
  free: number;
}

export function vlanPoolUse(
  global: Pick<Global, 'vlans'>,
  networks: ReadonlyArray<{ config: Network; oper?: Readonly<Record<string, unknown>> }>,
  groups: ReadonlyArray<{ oper?: Readonly<Record<string, unknown>> }>,
): VlanPoolUse {
  const held = networks
    .filter((n) => n.config.encap === 'vlan')
    .map((n) => tagInUse(n.config, n.oper))
    .concat(groups.flatMap((g) => groupTagOf(g.oper) ?? []))
    .sort((a, b) => a - b);
  const taken = new Set(held);
  let free = 0;
  for (const [a, b] of parseTagRanges(global.vlans, MAX_VLAN) ?? []) for (let v = a; v <= b; v++) if (!taken.has(v)) free++;
  return { held, free };
}

/**
 * Why a group that should have a VLAN of its own has none yet: the leader allocates it, or the
 * pool has none free (it stays without until a VLAN is freed or the range grows).
 */
export function missingGroupTagReason(global: Pick<Global, 'vlans'>, pool: VlanPoolUse): string {
  return pool.free === 0
    ? `no VLAN of its own: the VLAN pool ${global.vlans} has none free (networks and groups hold them all); free one or widen the global vlans range`
    : 'its VLAN of its own is not allocated yet (the leader does it)';
}
