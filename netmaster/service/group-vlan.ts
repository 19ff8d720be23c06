/**
 * The writes that give a group its VLAN of its own or take it back (model/group-tag.ts says when),
 * for the group's own guarded commit: the allocation key `alloc/vlan/N` (value: the group's key)
 * created only if absent, so a VLAN a network holds (given by hand or allocated) is never handed
 * to a group, nor one a group holds to a network; the group's oper.pktTag set or dropped with it.
 */
import type { Global } from '../model/schemas';
import { groupTagOf, type GroupTagChange } from '../model/group-tag';
import { tagSpace } from '../model/validate';
import type { EtcdKV, Guard, WriteOp } from '../store/kv';
import { layout } from '../store/layout';
import type { PickIp } from './service-ip';

export interface GroupTagPlan {
  /** the group's oper with the change made */
  oper: Record<string, unknown>;
  guards: Guard[];
  writes: WriteOp[];
  /** a number claimed through `pick` (the caller unclaims it) */
  claimed?: { prefix: string; n: number };
}

/** The writes that release group `key`'s VLAN `tag` (nothing when the key no longer holds it). */
export async function releaseGroupTag(kv: Pick<EtcdKV, 'get'>, key: string, tag: number): Promise<{ guards: Guard[]; writes: WriteOp[] }> {
  const tagKey = layout.tag('vlan', tag);
  const held = await kv.get(tagKey);
  if (!held || held.value !== key) return { guards: [], writes: [] };
  return { guards: [{ kind: 'modEquals', key: tagKey, modRevision: held.modRevision }], writes: [{ kind: 'delete', key: tagKey }] };
}

/**
 * Group `key`'s VLAN after `change`, starting from its stored `oper`; undefined when `pick` gave
 * up (the caller retries). `global` is the one the caller's check loaded (its revision guarded).
 */
export async function planGroupTag(
  kv: Pick<EtcdKV, 'get'>,
  key: string,
  oper: Readonly<Record<string, unknown>>,
  change: GroupTagChange,
  global: Global,
  pick: PickIp,
): Promise<GroupTagPlan | undefined> {
  const held = groupTagOf(oper);
  if (change === 'release' && held !== undefined) {
    const { pktTag: _dropped, ...rest } = oper;
    return { oper: rest, ...(await releaseGroupTag(kv, key, held)) };
  }
  if (change !== 'allocate') return { oper: { ...oper }, guards: [], writes: [] };
  const space = tagSpace('vlan', global);
  const prefix = layout.tagPrefix('vlan');
  const tag = await pick(prefix, (n) => layout.tag('vlan', n), space.ranges, 'vlans', `VLAN in ${space.text} for endpoint group ${key}`);
  if (tag === undefined) return undefined;
  return {
    oper: { ...oper, pktTag: tag },
    guards: [{ kind: 'modEquals', key: layout.tag('vlan', tag), modRevision: '0' }],
    writes: [{ kind: 'put', key: layout.tag('vlan', tag), value: key }],
    claimed: { prefix, n: tag },
  };
}
