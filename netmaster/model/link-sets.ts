/**
 * Contiv's `link-sets` on output (declared per kind in lib/kinds): for each set, the objects of
 * the same tenant this object names in a field, or that name it in theirs, as
 * `{"t1:n1": {"type": "network", "key": "t1:n1"}}`. Computed from the objects as they are, never
 * stored, so they cannot drift from them as Contiv's stored link-sets could.
 */
import type { LinkSet } from '../../lib/kinds';
import { kindOf } from './keys';
import type { ObjectType } from './schemas';

export interface LinkRef {
  type: string;
  key: string;
}

/** Objects of a kind as the link-sets read them. */
export type Related = (kind: ObjectType) => ReadonlyArray<{ key: string; config: unknown }>;

/** The kinds whose objects the link-sets of `type` read. */
export function linkSetKinds(type: ObjectType): ObjectType[] {
  const sets = Object.values(kindOf(type).linkSets ?? {}).filter((s): s is LinkSet => s !== null);
  return [...new Set(sets.map((s) => s.kind as ObjectType))];
}

const namesIn = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' && v !== '' ? [v] : [];

/** The link-sets of one object (undefined for kinds without any); `related` lists the kinds linkSetKinds named. */
export function linkSetsOf(
  type: ObjectType,
  key: string,
  config: unknown,
  related: Related,
): Record<string, Record<string, LinkRef>> | undefined {
  const sets = kindOf(type).linkSets;
  if (!sets) return undefined;
  const o = config as Record<string, unknown>;
  const parts = key.split(':');
  const tenant = parts[0] ?? '';
  const name = parts[parts.length - 1] ?? '';
  const out: Record<string, Record<string, LinkRef>> = {};
  for (const [setName, set] of Object.entries(sets)) {
    if (set === null) continue;
    const members: Record<string, LinkRef> = {};
    if ('names' in set) {
      for (const n of namesIn(o[set.names])) members[`${tenant}:${n}`] = { type: set.kind, key: `${tenant}:${n}` };
    } else {
      const fields = set.namedBy.split('|');
      for (const t of related(set.kind as ObjectType)) {
        if (!t.key.startsWith(`${tenant}:`)) continue;
        const c = t.config as Record<string, unknown>;
        if (fields.some((f) => namesIn(c[f]).includes(name))) members[t.key] = { type: set.kind, key: t.key };
      }
    }
    if (Object.keys(members).length > 0) out[setName] = members;
  }
  return out;
}
