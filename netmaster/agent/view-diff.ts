/**
 * The difference between two host views as `Change` messages (pure). Every object of a view has a
 * key (`objectKeys`): `global`, `bgp`, `tenant/<name>`, `network/<tenant:net>`,
 * `group/<tenant:group>`, `policy/<tenant:policy>`, `profile/<tenant:profile>`, `endpoint/<id>`,
 * `vtep/<host>`, `block/<tenant:network>/<cidr>`, `service/<tenant:service>`,
 * `kubeNamespace/<name>`, `kubePolicy/<namespace>/<name>`. An object that is new or differs in any field is sent whole (put); one that is
 * gone is sent as a delete carrying only its key. Puts come in dependency order (global, tenants,
 * networks, groups, policies, profiles, vteps, endpoints, services, bgp, Kubernetes namespaces and
 * NetworkPolicies) and deletes in the reverse order,
 * after the puts, so a consumer applying them one by one never holds a dangling reference.
 */
import type { Change } from '../../proto/gen/netloom/v1/Change';
import type { HostState } from './host-view';

export type ChangeObject = NonNullable<Change['object']>;

interface Item {
  key: string;
  kind: ChangeObject;
  value: object;
}

/** Every object of a view with its key and kind, in dependency order. */
export function objectKeys(state: HostState): Item[] {
  const out: Item[] = [];
  if (state.global) out.push({ key: 'global', kind: 'global', value: state.global });
  for (const t of state.tenants) out.push({ key: `tenant/${t.name}`, kind: 'tenant', value: t });
  for (const n of state.networks) out.push({ key: `network/${n.key}`, kind: 'network', value: n });
  for (const g of state.groups) out.push({ key: `group/${g.key}`, kind: 'group', value: g });
  for (const p of state.policies) out.push({ key: `policy/${p.key}`, kind: 'policy', value: p });
  for (const p of state.profiles) out.push({ key: `profile/${p.key}`, kind: 'profile', value: p });
  for (const v of state.vteps) out.push({ key: `vtep/${v.host}`, kind: 'vtep', value: v });
  for (const b of state.blocks) out.push({ key: `block/${b.network}/${b.cidr}`, kind: 'block', value: b });
  for (const e of state.endpoints) out.push({ key: `endpoint/${e.id}`, kind: 'endpoint', value: e });
  for (const s of state.services) out.push({ key: `service/${s.key}`, kind: 'service', value: s });
  if (state.bgp) out.push({ key: 'bgp', kind: 'bgp', value: state.bgp });
  for (const n of state.kubeNamespaces) out.push({ key: `kubeNamespace/${n.key}`, kind: 'kubeNamespace', value: n });
  for (const p of state.kubePolicies) out.push({ key: `kubePolicy/${p.key}`, kind: 'kubePolicy', value: p });
  return out;
}

/** JSON with object keys sorted, so equal objects give equal text whatever their key order. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const o = val as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return val;
  });
}

/** JSON of view objects, computed once per object (views are never mutated after they are built). */
const jsonOf = new WeakMap<object, string>();
export function memoJson(o: object): string {
  let j = jsonOf.get(o);
  if (j === undefined) {
    j = stableJson(o);
    jsonOf.set(o, j);
  }
  return j;
}

/** The changes that turn `prev` into `next` (empty when they are equal). */
export function diffViews(prev: HostState, next: HostState): Change[] {
  const before = new Map(objectKeys(prev).map((i) => [i.key, i]));
  const afterItems = objectKeys(next);
  const after = new Set(afterItems.map((i) => i.key));
  const puts: Change[] = [];
  for (const item of afterItems) {
    const old = before.get(item.key);
    if (old && memoJson(old.value) === memoJson(item.value)) continue;
    puts.push({ deleted: false, key: item.key, [item.kind]: item.value } as Change);
  }
  const deletes: Change[] = [];
  for (const item of [...before.values()].reverse()) if (!after.has(item.key)) deletes.push({ deleted: true, key: item.key });
  return [...puts, ...deletes];
}
