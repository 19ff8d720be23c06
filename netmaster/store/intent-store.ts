/**
 * Loading the intent a check needs (model/state.ts `Needs`) at one etcd revision, and turning
 * what was loaded and looked at into commit guards: each loaded range must be unchanged since the
 * read revision, each loaded or examined key must still have the revision that was read. With
 * those guards a commit either sees exactly the world its check saw, or writes nothing.
 */
import { IntentState, type Needs, type StateData, type Stored } from '../model/state';
import type { ObjectType } from '../model/schemas';
import type { EtcdKV, Guard, KeyValue, ReadOp } from './kv';
import { layout } from './layout';
import { checkIntent } from './stored-values';

/** The stored form of an intent object. */
export interface StoredObject<C = unknown> {
  config: C;
  oper: Record<string, unknown>;
}

export function decodeStored<C = unknown>(value: string): StoredObject<C> {
  const v = JSON.parse(value) as Partial<StoredObject<C>>;
  return { config: v.config as C, oper: v.oper ?? {} };
}

export interface Loaded {
  state: IntentState;
  revision: string;
  /** oper part of every loaded object, by its etcd key */
  opers: Map<string, Record<string, unknown>>;
  /** mod revision of every loaded single key ('0' when absent), by etcd key */
  keyRevisions: Map<string, string>;
  /** guards for a commit that relies on this load (call after the check ran) */
  guards(): Guard[];
}

export async function loadNeeds(
  kv: EtcdKV,
  needs: Needs,
  extraReads: readonly ReadOp[] = [],
): Promise<Loaded & { extra: Awaited<ReturnType<EtcdKV['read']>>['results'] }> {
  const ops: ReadOp[] = [];
  for (const r of needs.ranges) ops.push({ kind: 'prefix', prefix: layout.cfgPrefix(r.type) + r.prefix });
  for (const k of needs.keys) ops.push({ kind: 'get', key: layout.cfg(k.type, k.key) });
  for (const c of needs.endpointCounts)
    ops.push({ kind: 'count', prefix: c.kind === 'net' ? layout.epByNetPrefix(c.key) : layout.epByGrpPrefix(c.key) });
  for (const t of needs.tags) ops.push({ kind: 'get', key: layout.tag(t.encap, t.tag) });
  ops.push(...extraReads);
  const { revision, results } = await kv.read(ops);
  const opers = new Map<string, Record<string, unknown>>();
  const keyRevisions = new Map<string, string>();
  let i = 0;
  const data: StateData = { ranges: [], keys: [], endpointCounts: new Map(), tagOwners: new Map() };
  // a value that cannot be served is left out (reported): the check sees no such object, and
  // the guards still carry its key's revision, so a write over it replaces it
  const decode = (type: ObjectType, objKey: string, found: KeyValue): Stored<unknown> | undefined => {
    if (found.tooLarge) return undefined; // reported by the read
    const s = kv.badValues.take(found.key, () => checkIntent(type, objKey, found.value));
    if (!s) return undefined;
    opers.set(found.key, s.oper);
    return { obj: s.config, modRevision: found.modRevision, oper: s.oper };
  };
  for (const r of needs.ranges) {
    const items = new Map<string, Stored<unknown>>();
    const base = layout.cfgPrefix(r.type);
    for (const found of results[i++]?.kvs ?? []) {
      const objKey = found.key.slice(base.length);
      const item = decode(r.type, objKey, found);
      if (item) items.set(objKey, item);
    }
    data.ranges.push({ type: r.type, prefix: r.prefix, items });
  }
  for (const k of needs.keys) {
    const kvs = results[i++]?.kvs ?? [];
    const kvKey = layout.cfg(k.type, k.key);
    const found = kvs[0];
    keyRevisions.set(kvKey, found?.modRevision ?? '0');
    data.keys.push({ type: k.type, key: k.key, item: found ? decode(k.type, k.key, found) : undefined });
  }
  for (const c of needs.endpointCounts) data.endpointCounts.set(`${c.kind}:${c.key}`, results[i++]?.count ?? 0);
  for (const t of needs.tags) {
    const found = results[i++]?.kvs[0];
    keyRevisions.set(layout.tag(t.encap, t.tag), found?.modRevision ?? '0');
    data.tagOwners.set(`${t.encap}:${t.tag}`, found?.value);
  }
  const extra = results.slice(i);
  const state = new IntentState(data);
  return {
    state,
    revision,
    opers,
    keyRevisions,
    extra,
    guards(): Guard[] {
      const g: Guard[] = [];
      for (const r of needs.ranges) g.push({ kind: 'rangeUnchangedSince', prefix: layout.cfgPrefix(r.type) + r.prefix, revision });
      for (const c of needs.endpointCounts) {
        g.push({
          kind: 'rangeUnchangedSince',
          prefix: c.kind === 'net' ? layout.epByNetPrefix(c.key) : layout.epByGrpPrefix(c.key),
          revision,
        });
      }
      for (const [key, modRevision] of keyRevisions) g.push({ kind: 'modEquals', key, modRevision });
      for (const t of state.touched.values()) g.push({ kind: 'modEquals', key: layout.cfg(t.type, t.key), modRevision: t.modRevision });
      return g;
    },
  };
}
