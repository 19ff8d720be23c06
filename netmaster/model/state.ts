/**
 * The slice of current intent a validation needs, as plain data read at one etcd revision.
 * A validation declares what it needs (`Needs`); the store loads exactly that; the check runs
 * as a pure function over this view; the commit then guards every loaded range and every object
 * the check looked at, so nothing it relied on can change between the read and the write.
 * Reading something that was not loaded is a programming error (INTERNAL), never a silent "absent".
 */
import { NetloomError } from '../../lib/errors';
import type { Global, ObjectOf, ObjectType } from './schemas';

/** What a check reads: whole ranges of one type (by key prefix), single keys, endpoint counts, tag owners. */
export interface Needs {
  ranges: Array<{ type: ObjectType; prefix: string }>;
  keys: Array<{ type: ObjectType; key: string }>;
  /** endpoint counts of networks (`net`) or groups (`grp`) by object key */
  endpointCounts: Array<{ kind: 'net' | 'grp'; key: string }>;
  /** owner of a VLAN/VNI tag */
  tags: Array<{ encap: 'vlan' | 'vxlan' | 'bgp'; tag: number }>;
}

export function emptyNeeds(): Needs {
  return { ranges: [], keys: [], endpointCounts: [], tags: [] };
}

export interface Stored<T> {
  obj: T;
  modRevision: string;
  /** its stored oper (a network's tag in use: network-tag.ts); absent: {} */
  oper?: Record<string, unknown>;
}

export interface StateData {
  ranges: Array<{ type: ObjectType; prefix: string; items: Map<string, Stored<unknown>> }>;
  keys: Array<{ type: ObjectType; key: string; item: Stored<unknown> | undefined }>;
  endpointCounts: Map<string, number>;
  tagOwners: Map<string, string | undefined>;
  /** true when the data is the whole world (tests): unlisted counts are 0 and unlisted tags are free */
  complete?: boolean;
}

export class IntentState {
  /** objects a check looked at and found, with their revision: the commit guards these */
  readonly touched = new Map<string, { type: ObjectType; key: string; modRevision: string }>();

  constructor(private readonly data: StateData) {}

  /** An object by key, or undefined. Throws INTERNAL when neither its key nor a covering range was loaded. */
  get<T extends ObjectType>(type: T, key: string): ObjectOf[T] | undefined {
    return this.item(type, key)?.obj as ObjectOf[T] | undefined;
  }

  /** The stored oper of an object by key ({} when absent or it has none); loaded as for get. */
  operOf(type: ObjectType, key: string): Record<string, unknown> {
    return this.item(type, key)?.oper ?? {};
  }

  private item(type: ObjectType, key: string): Stored<unknown> | undefined {
    const single = this.data.keys.find((k) => k.type === type && k.key === key);
    let item: Stored<unknown> | undefined;
    if (single) item = single.item;
    else {
      const range = this.data.ranges.find((r) => r.type === type && key.startsWith(r.prefix));
      if (!range) throw new NetloomError('INTERNAL', `validation read ${type} ${key}, which was not loaded`);
      item = range.items.get(key);
    }
    if (item) this.touched.set(`${type}/${key}`, { type, key, modRevision: item.modRevision });
    return item;
  }

  /** Every loaded object of `type` whose key starts with `prefix` (must lie inside a loaded range). */
  list<T extends ObjectType>(type: T, prefix: string): Array<ObjectOf[T]> {
    const range = this.data.ranges.find((r) => r.type === type && prefix.startsWith(r.prefix));
    if (!range) throw new NetloomError('INTERNAL', `validation listed ${type} ${prefix}*, which was not loaded`);
    return [...range.items.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v.obj as ObjectOf[T]);
  }

  global(): Global {
    const g = this.get('global', 'global');
    if (!g) throw new NetloomError('INTERNAL', 'the global object is missing');
    return g;
  }

  endpointCount(kind: 'net' | 'grp', key: string): number {
    const n = this.data.endpointCounts.get(`${kind}:${key}`);
    if (n === undefined && this.data.complete) return 0;
    if (n === undefined) throw new NetloomError('INTERNAL', `validation read endpoint count of ${kind} ${key}, which was not loaded`);
    return n;
  }

  tagOwner(encap: 'vlan' | 'vxlan' | 'bgp', tag: number): string | undefined {
    const k = `${encap}:${tag}`;
    if (!this.data.tagOwners.has(k) && this.data.complete) return undefined;
    if (!this.data.tagOwners.has(k)) throw new NetloomError('INTERNAL', `validation read tag ${k}, which was not loaded`);
    return this.data.tagOwners.get(k);
  }
}

/** Build a state from plain objects (tests and tools): every given type is loaded as a full range. */
export function stateFromObjects(
  objects: Partial<{ [T in ObjectType]: Array<ObjectOf[T]> }>,
  keyOf: (type: ObjectType, obj: object) => string,
  extra: {
    endpointCounts?: Record<string, number>;
    tagOwners?: Record<string, string | undefined>;
    /** stored opers by `type/key` (a network's tag in use) */
    opers?: Record<string, Record<string, unknown>>;
  } = {},
): IntentState {
  const ranges: StateData['ranges'] = [];
  for (const [type, list] of Object.entries(objects) as Array<[ObjectType, object[]]>) {
    const items = new Map<string, Stored<unknown>>();
    for (const o of list) {
      const key = keyOf(type, o);
      const oper = extra.opers?.[`${type}/${key}`];
      items.set(key, { obj: o, modRevision: '1', ...(oper ? { oper } : {}) });
    }
    ranges.push({ type, prefix: '', items });
  }
  return new IntentState({
    ranges,
    keys: [],
    endpointCounts: new Map(Object.entries(extra.endpointCounts ?? {})),
    tagOwners: new Map(Object.entries(extra.tagOwners ?? {})),
    complete: true,
  });
}
