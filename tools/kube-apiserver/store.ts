/**
 * Objects in etcd, laid out as kube-apiserver lays them out (`/registry/pods/NAMESPACE/NAME`,
 * `/registry/namespaces/NAME`; JSON values, as with --storage-media-type=application/json), over
 * netmaster's EtcdKV. resourceVersion is the etcd revision that last wrote the object (it is not
 * stored: read back from mod_revision), so versions survive a restart of the stand-in and a
 * revision etcd compacted away is gone for good (410 upstream).
 */
import type { EtcdKV, Guard, KeyValue, WatchEvent, WriteOp } from '../../netmaster/store/kv';
import type { Logger } from '../../lib/logger';
import { isObject, type JsonObject } from './json';
import type { ResourceDef } from './resources';

export interface StoredEvent {
  type: 'put' | 'delete';
  /** the object after the change (for a delete: its last state), resourceVersion set to the change's revision */
  object: JsonObject;
  /** the object before the change, if any */
  previous: JsonObject | undefined;
  revision: string;
}

export class ObjectStore {
  constructor(
    readonly kv: EtcdKV,
    readonly prefix: string,
    private readonly logger?: Logger,
  ) {}

  /** The key prefix of a resource, or of one namespace of it. */
  prefixOf(r: ResourceDef, namespace?: string): string {
    const base = `${this.prefix}/${r.etcdResource ?? r.plural}/`;
    return r.namespaced && namespace ? `${base}${namespace}/` : base;
  }

  keyOf(r: ResourceDef, namespace: string | undefined, name: string): string {
    return `${this.prefixOf(r, r.namespaced ? namespace : undefined)}${name}`;
  }

  /** The stored object, resourceVersion set; undefined when absent (or unreadable, which is logged). */
  decode(kv: Pick<KeyValue, 'key' | 'value' | 'modRevision'>, revision = kv.modRevision): JsonObject | undefined {
    try {
      const obj: unknown = JSON.parse(kv.value);
      if (!isObject(obj)) throw new Error('not an object');
      const meta = isObject(obj.metadata) ? obj.metadata : {};
      obj.metadata = { ...meta, resourceVersion: revision };
      return obj;
    } catch (e) {
      this.logger?.warn({ key: kv.key, err: e instanceof Error ? e.message : String(e) }, 'unreadable object in etcd skipped');
      return undefined;
    }
  }

  /** What is stored: the object without its resourceVersion. */
  encode(obj: JsonObject): string {
    const meta = isObject(obj.metadata) ? { ...obj.metadata } : {};
    delete meta.resourceVersion;
    return JSON.stringify({ ...obj, metadata: meta });
  }

  async get(r: ResourceDef, namespace: string | undefined, name: string): Promise<{ object: JsonObject; modRevision: string } | undefined> {
    const kv = await this.kv.get(this.keyOf(r, namespace, name));
    if (!kv) return undefined;
    const object = this.decode(kv);
    return object ? { object, modRevision: kv.modRevision } : undefined;
  }

  /** Every object of a resource (or one namespace), at `revision` (default: now). */
  async listAll(r: ResourceDef, namespace: string | undefined, revision?: string): Promise<{ objects: JsonObject[]; revision: string }> {
    const res = await this.kv.list(this.prefixOf(r, namespace), revision ? { revision } : {});
    return { objects: this.decodeAll(res.kvs), revision: res.revision };
  }

  /** At most `limit` objects from key `from`; `lastKey` is the last key read (to continue after it). */
  async listPage(
    r: ResourceDef,
    namespace: string | undefined,
    o: { limit: number; from?: string; revision?: string },
  ): Promise<{ objects: JsonObject[]; revision: string; more: boolean; lastKey: string | undefined }> {
    const res = await this.kv.listPage(this.prefixOf(r, namespace), o);
    return { objects: this.decodeAll(res.kvs), revision: res.revision, more: res.more, lastKey: res.kvs[res.kvs.length - 1]?.key };
  }

  private decodeAll(kvs: readonly KeyValue[]): JsonObject[] {
    const out: JsonObject[] = [];
    for (const kv of kvs) {
      const o = this.decode(kv);
      if (o) out.push(o);
    }
    return out;
  }

  /**
   * Write the objects (puts) and deletes if every guard holds; returns the revision, or undefined
   * when a guard failed (nothing written).
   */
  async commit(
    guards: readonly Guard[],
    puts: ReadonlyArray<{ key: string; object: JsonObject }>,
    deletes: readonly WriteOp[] = [],
  ): Promise<string | undefined> {
    const writes: WriteOp[] = [...puts.map((p) => ({ kind: 'put' as const, key: p.key, value: this.encode(p.object) })), ...deletes];
    const res = await this.kv.commit(guards, writes);
    return res.ok ? res.revision : undefined;
  }

  /** The current etcd revision. */
  async revision(): Promise<string> {
    return (await this.kv.read([])).revision;
  }

  /**
   * Watch a resource (or one namespace) after `sinceRevision`; events in revision order. A watch
   * that fails (etcd canceled it: a compacted revision, a lost stream) calls `onError` once.
   */
  watch(
    r: ResourceDef,
    namespace: string | undefined,
    sinceRevision: string,
    onEvents: (events: StoredEvent[]) => void,
    onError: (e: Error) => void,
  ): Promise<() => Promise<void>> {
    return this.kv.watchBatches(
      this.prefixOf(r, namespace),
      sinceRevision,
      (batch: WatchEvent[]) => {
        const events: StoredEvent[] = [];
        for (const e of batch) {
          const previous =
            e.prevValue !== undefined ? this.decode({ key: e.key, value: e.prevValue, modRevision: e.modRevision }) : undefined;
          const object = e.type === 'put' ? this.decode({ key: e.key, value: e.value, modRevision: e.modRevision }) : previous;
          if (!object) continue;
          events.push({ type: e.type, object, previous, revision: e.modRevision });
        }
        if (events.length > 0) onEvents(events);
      },
      onError,
      { prevValues: true },
    );
  }
}
