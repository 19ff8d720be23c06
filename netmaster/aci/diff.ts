/**
 * What to send the APIC to turn one tenant's owned objects (as read) into the desired tree
 * (pure): POSTs of the smallest subtrees that are new or changed, parents before children (a new
 * object travels nested in its new parent's POST), then deletes of the owned objects no longer
 * wanted, only the top of each removed subtree, deepest first. An unchanged object is never sent:
 * a rule change touches only its filter, entry and contract objects.
 */
import { depthOf, parentOf, type FlatTree, type Mo } from './mo';

export type WireMo = Record<string, { attributes: Record<string, string>; children?: WireMo[] }>;

export interface TreeDiff {
  /** in order: each a POST of `body` to /api/mo/<dn>.json */
  posts: Array<{ dn: string; body: WireMo }>;
  /** in order: each a DELETE of /api/mo/<dn>.json */
  deletes: string[];
}

/** Whether `have` already holds every property `want` sets (a real APIC adds properties of its own). */
function same(want: Mo, have: Mo): boolean {
  return want.cls === have.cls && Object.entries(want.attrs).every(([k, v]) => have.attrs[k] === v);
}

export function diffTree(desired: FlatTree, actual: FlatTree): TreeDiff {
  const changed = new Set<string>();
  const created = new Set<string>();
  for (const [dn, mo] of desired) {
    const have = actual.get(dn);
    if (!have) {
      changed.add(dn);
      created.add(dn);
    } else if (!same(mo, have)) changed.add(dn);
  }
  // a new object whose parent is new goes in its parent's POST
  const roots = [...changed].filter((dn) => !(created.has(dn) && created.has(parentOf(dn))));
  const childrenOf = new Map<string, string[]>();
  for (const dn of created) {
    const p = parentOf(dn);
    if (created.has(p)) childrenOf.set(p, [...(childrenOf.get(p) ?? []), dn]);
  }
  const wire = (dn: string, nest: boolean): WireMo => {
    const mo = desired.get(dn) as Mo;
    const kids = nest ? (childrenOf.get(dn) ?? []).sort().map((c) => wire(c, true)) : [];
    return { [mo.cls]: { attributes: { ...mo.attrs, dn }, ...(kids.length > 0 ? { children: kids } : {}) } };
  };
  const posts = roots.sort((a, b) => depthOf(a) - depthOf(b) || a.localeCompare(b)).map((dn) => ({ dn, body: wire(dn, created.has(dn)) }));
  const gone = [...actual.keys()].filter((dn) => !desired.has(dn));
  const goneSet = new Set(gone);
  const deletes = gone.filter((dn) => !goneSet.has(parentOf(dn))).sort((a, b) => depthOf(b) - depthOf(a) || a.localeCompare(b));
  return { posts, deletes };
}
