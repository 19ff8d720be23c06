/**
 * The agent's copy of its desired state, kept from netmaster's stream: a snapshot replaces it,
 * changes put or delete one object by key (the keys of netmaster/agent/view-diff.ts:
 * `global`, `bgp`, `tenant/<name>`, `network/<key>`, `group/<key>`, `policy/<key>`,
 * `profile/<key>`, `endpoint/<id>`, `vtep/<host>`, `service/<key>`, `block/<network>/<cidr>`,
 * `kubePolicy/<namespace/name>`, `kubeNamespace/<name>`: a kind's prefix is its Change field's
 * name). Plain data, pure functions.
 */
import { NetloomError } from '../../lib/errors';
import type { HostState__Output as HostState } from '../../proto/gen/netloom/v1/HostState';
import type { Change__Output as Change } from '../../proto/gen/netloom/v1/Change';

export type { HostState, Change };

type ListKind =
  | 'tenants'
  | 'networks'
  | 'groups'
  | 'policies'
  | 'profiles'
  | 'endpoints'
  | 'vteps'
  | 'services'
  | 'blocks'
  | 'kubePolicies'
  | 'kubeNamespaces';

/** The state as maps by key, cheap to update one object at a time. */
export interface StateStore {
  global: HostState['global'];
  bgp: HostState['bgp'];
  lists: { [K in ListKind]: Map<string, HostState[K][number]> };
}

const PREFIX_TO_LIST: Record<string, ListKind> = {
  tenant: 'tenants',
  network: 'networks',
  group: 'groups',
  policy: 'policies',
  profile: 'profiles',
  endpoint: 'endpoints',
  vtep: 'vteps',
  service: 'services',
  block: 'blocks',
  kubePolicy: 'kubePolicies',
  kubeNamespace: 'kubeNamespaces',
};

const KEY_OF: { [K in ListKind]: (o: HostState[K][number]) => string } = {
  tenants: (t) => `tenant/${t.name}`,
  networks: (n) => `network/${n.key}`,
  groups: (g) => `group/${g.key}`,
  policies: (p) => `policy/${p.key}`,
  profiles: (p) => `profile/${p.key}`,
  endpoints: (e) => `endpoint/${e.id}`,
  vteps: (v) => `vtep/${v.host}`,
  services: (s) => `service/${s.key}`,
  // a block is named by its network and cidr (issue 15); a change of key `block/<network>/<cidr>`
  // carries it in a `block` field when netmaster sends blocks as changes
  blocks: (b) => `block/${b.network}/${b.cidr}`,
  // issue 19: a NetworkPolicy by its key (namespace/name), a namespace by its name
  kubePolicies: (p) => `kubePolicy/${p.key}`,
  kubeNamespaces: (n) => `kubeNamespace/${n.key}`,
};

const LISTS = Object.keys(KEY_OF) as ListKind[];

export function emptyStore(): StateStore {
  return {
    global: null,
    bgp: null,
    lists: {
      tenants: new Map(),
      networks: new Map(),
      groups: new Map(),
      policies: new Map(),
      profiles: new Map(),
      endpoints: new Map(),
      vteps: new Map(),
      services: new Map(),
      blocks: new Map(),
      kubePolicies: new Map(),
      kubeNamespaces: new Map(),
    },
  };
}

export function storeFromState(s: HostState): StateStore {
  return addToStore(emptyStore(), s);
}

/**
 * Add one part of a snapshot sent in parts to `store` (in place, returned): its list items join
 * those of the earlier parts; global and bgp come from whichever part carries them.
 */
export function addToStore(store: StateStore, s: Partial<HostState>): StateStore {
  if (s.global) store.global = s.global;
  if (s.bgp) store.bgp = s.bgp;
  for (const kind of LISTS) {
    const keyOf = KEY_OF[kind] as (o: unknown) => string;
    const m = store.lists[kind] as Map<string, unknown>;
    sortedLists.delete(m);
    for (const o of (s[kind] ?? []) as unknown[]) m.set(keyOf(o), o);
  }
  return store;
}

/** Throws what applyChange would throw for `c` (a put without its object), changing nothing. */
export function checkChange(c: Change): void {
  if (c.deleted || c.key === 'global' || c.key === 'bgp') return;
  const slash = c.key.indexOf('/');
  if (slash <= 0 || !PREFIX_TO_LIST[c.key.slice(0, slash)]) return; // a kind this agent does not know: ignored
  const obj = c.object ? (c as unknown as Record<string, unknown>)[c.object] : undefined;
  if (obj === undefined || obj === null) throw new NetloomError('DECODE_ERROR', `put of '${c.key}' without an object`, { field: 'object' });
}

/**
 * Apply one change in place. Returns false (and changes nothing) for a key of a kind this agent
 * does not know (a newer netmaster), so that such changes do not stop the stream; throws for a
 * put without its object.
 */
export function applyChange(store: StateStore, c: Change): boolean {
  const key = c.key;
  if (key === 'global') {
    store.global = c.deleted ? null : (c.global ?? null);
    return true;
  }
  if (key === 'bgp') {
    store.bgp = c.deleted ? null : (c.bgp ?? null);
    return true;
  }
  const slash = key.indexOf('/');
  const kind = slash > 0 ? PREFIX_TO_LIST[key.slice(0, slash)] : undefined;
  if (!kind) return false;
  const m = store.lists[kind] as Map<string, unknown>;
  sortedLists.delete(m);
  if (c.deleted) {
    m.delete(key);
    return true;
  }
  const obj = c.object ? (c as unknown as Record<string, unknown>)[c.object] : undefined;
  if (obj === undefined || obj === null) throw new NetloomError('DECODE_ERROR', `put of '${key}' without an object`, { field: 'object' });
  m.set(key, obj);
  return true;
}

/**
 * Each list's sorted array, kept until the list changes: a group that changes one policy does not
 * sort fifty thousand endpoints again. The arrays are shared by successive states (frozen: plain
 * data that nobody changes in place).
 */
const sortedLists = new WeakMap<Map<string, unknown>, readonly unknown[]>();

function sorted<T>(m: Map<string, T>): T[] {
  let a = sortedLists.get(m as Map<string, unknown>) as T[] | undefined;
  if (!a) {
    a = Object.freeze([...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, v]) => v)) as T[];
    sortedLists.set(m as Map<string, unknown>, a);
  }
  return a;
}

/** The store as a HostState (lists sorted by key). */
export function stateOf(store: StateStore): HostState {
  return {
    global: store.global,
    tenants: sorted(store.lists.tenants),
    networks: sorted(store.lists.networks),
    groups: sorted(store.lists.groups),
    policies: sorted(store.lists.policies),
    profiles: sorted(store.lists.profiles),
    endpoints: sorted(store.lists.endpoints),
    vteps: sorted(store.lists.vteps),
    bgp: store.bgp,
    services: sorted(store.lists.services),
    blocks: sortedBlocks(store.lists.blocks),
    kubePolicies: sorted(store.lists.kubePolicies),
    kubeNamespaces: sorted(store.lists.kubeNamespaces),
  };
}

/** Blocks sorted by network then by address (not by the key's text: 10.1.0.128 sorts after 10.1.0.64). */
function sortedBlocks(m: Map<string, HostState['blocks'][number]>): HostState['blocks'] {
  let a = sortedLists.get(m as Map<string, unknown>) as HostState['blocks'] | undefined;
  if (!a) {
    const num = (cidr: string): number => (cidr.split('/')[0] ?? '').split('.').reduce((n, p) => n * 256 + Number(p), 0);
    a = Object.freeze(
      [...m.values()].sort((x, y) => (x.network < y.network ? -1 : x.network > y.network ? 1 : num(x.cidr) - num(y.cidr))),
    ) as HostState['blocks'];
    sortedLists.set(m as Map<string, unknown>, a);
  }
  return a;
}
