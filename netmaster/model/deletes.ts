/**
 * Delete checks as pure functions over current state, derived from the kind descriptors
 * (lib/kinds): a delete is refused (IN_USE) while something still uses the object. A tenant is
 * used by every object that lives in it; any other object by the objects whose declared
 * references hold it (a network by groups and services, a group by rules and app profiles, a
 * policy, profile or contracts group by groups), and networks and groups by their endpoints.
 * Kinds that live under a parent (rules under a policy) go with it. `needsForDelete` lists what
 * the check reads so the store can guard it.
 */
import { NetloomError } from '../../lib/errors';
import { ALL_KINDS, keyFromFields, type KindDescriptor } from '../../lib/kinds';
import { checkKeyShape, kindOf } from './keys';
import type { ObjectOf, ObjectType } from './schemas';
import { emptyNeeds, type IntentState, type Needs } from './state';

const inUse = (msg: string) => new NetloomError('IN_USE', msg);

/**
 * Which endpoint index keeps an object in use, and whether its endpoints are reported before the
 * objects that reference it (endpoints are netmaster's own, not a declared kind).
 */
const ENDPOINT_HOLDERS: Partial<Record<ObjectType, { kind: 'net' | 'grp'; first: boolean }>> = {
  network: { kind: 'net', first: false },
  endpointGroup: { kind: 'grp', first: true },
};

/** A kind whose objects can keep objects of another kind in use, through these fields. */
export interface Referrer {
  kind: KindDescriptor;
  fields: string[];
}

/** The kinds holding objects of `type` by a declared reference, in kind order. */
export function referrersOf(type: string, kinds: readonly KindDescriptor[] = ALL_KINDS): Referrer[] {
  return kinds
    .map((k) => ({ kind: k, fields: k.references.filter((r) => r.kind === type && r.holds).map((r) => r.field) }))
    .filter((r) => r.fields.length > 0);
}

/** The kinds that live directly in a tenant (and so keep it in use). */
export function tenantChildren(kinds: readonly KindDescriptor[] = ALL_KINDS): KindDescriptor[] {
  return kinds.filter((k) => k.scope === 'tenant' && k.type !== 'tenant' && k.parent === undefined);
}

/** The kinds deleted along with an object of `type` (rules with their policy). */
export function childrenOf(type: string, kinds: readonly KindDescriptor[] = ALL_KINDS): KindDescriptor[] {
  return kinds.filter((k) => k.parent === type);
}

/** A kind whose objects are the tenant itself (key: the tenant name), not objects inside it. */
function isTenantItself(k: KindDescriptor): boolean {
  return k.scope === 'tenant' && k.key.length === 1;
}

function names(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value !== '' ? [value] : [];
}

export function needsForDelete(type: ObjectType, key: string): Needs {
  const n = emptyNeeds();
  const [t = ''] = key.split(':');
  const range = (rt: string) => n.ranges.push({ type: rt as ObjectType, prefix: `${t}:` });
  const kind = kindOf(type);
  if (kind.scope === 'global') {
    n.keys.push({ type, key });
  } else if (type === 'tenant') {
    n.keys.push({ type, key });
    for (const c of tenantChildren()) range(c.type);
  } else {
    range(type);
    for (const r of referrersOf(type)) {
      if (isTenantItself(r.kind)) n.keys.push({ type: r.kind.type as ObjectType, key: t });
      else range(r.kind.type);
    }
    const eps = ENDPOINT_HOLDERS[type];
    if (eps) n.endpointCounts.push({ kind: eps.kind, key });
  }
  return n;
}

/** Check that `type key` may be deleted; returns the object (NOT_FOUND when absent). */
export function checkDelete<T extends ObjectType>(type: T, key: string, state: IntentState): ObjectOf[T] {
  const kind = kindOf(type);
  checkKeyShape(type, key);
  const obj = state.get(type, key);
  if (!obj) throw new NetloomError('NOT_FOUND', `${type} ${key} does not exist`, { field: 'key' });
  if (kind.permanent) throw new NetloomError('CONFLICT', `the ${type} object cannot be deleted; change it with a POST instead`);
  if (kind.scope === 'global') return obj;
  const [t = '', name = ''] = key.split(':');
  if (type === 'tenant') {
    const held: string[] = [];
    for (const c of tenantChildren()) {
      const count = state.list(c.type as ObjectType, `${t}:`).length;
      if (count > 0) held.push(`${count} ${c.type}(s)`);
    }
    if (held.length > 0) throw inUse(`tenant ${t} still holds ${held.join(', ')}: delete them first`);
    return obj;
  }
  const eps = ENDPOINT_HOLDERS[type];
  const checkEndpoints = () => {
    const count = eps ? state.endpointCount(eps.kind, key) : 0;
    if (count > 0) throw inUse(`${kind.label} ${key} has ${count} endpoint(s)`);
  };
  if (eps?.first) checkEndpoints();
  for (const r of referrersOf(type)) {
    const candidates = isTenantItself(r.kind)
      ? [state.get(r.kind.type as ObjectType, t)].filter((o) => o !== undefined)
      : state.list(r.kind.type as ObjectType, `${t}:`);
    const users = candidates.filter((o) => r.fields.some((f) => names((o as Record<string, unknown>)[f]).includes(name)));
    if (users.length > 0) {
      const userNames = users.map((u) => (isTenantItself(r.kind) ? t : keyFromFields(r.kind, u).slice(t.length + 1)));
      throw inUse(`${kind.label} ${key} is used by ${r.kind.label}(s) ${userNames.join(', ')}`);
    }
  }
  if (eps && !eps.first) checkEndpoints();
  return obj;
}
