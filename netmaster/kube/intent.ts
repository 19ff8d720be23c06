/**
 * Kubernetes intent (issue 19): the API netmaster's Kubernetes controller stores NetworkPolicies
 * and namespaces with. Objects are checked with their kind's schema (lib/kinds/kube-*.ts: a bad
 * one is refused naming the object and the field, nothing is written), then stored under the
 * intent prefix like every kind (`cfg/kubeNetworkPolicy/<namespace>:<name>`,
 * `cfg/kubeNamespace/<name>`), where the agent views pick them up (agent/kube-view.ts).
 *
 * Every write is a guarded etcd transaction (the key's revision as read: a concurrent writer makes
 * it retry), idempotent (an object stored exactly so is not written again), and writes whole
 * objects only. `replaceAll` (a relist) puts what differs and deletes what is no longer there, in
 * transactions of at most RELIST_CHUNK objects: a relist cut short leaves every object whole,
 * old or new, and running it again finishes it.
 */
import { NetloomError, isNetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { NAMESPACE_NAME_LABEL } from '../../lib/kube-syntax';
import { kindOf, keyOf, parseObject } from '../model/keys';
import type { ObjectOf } from '../model/schemas';
import type { EtcdKV, Guard, KeyValue, WriteOp } from '../store/kv';
import type { IntentCache } from '../store/intent-cache';
import { layout } from '../store/layout';
import { checkIntentKv } from '../store/stored-values';
import { stableJson } from '../agent/view-diff';
import { RETRY, type Retrier } from '../service/retry';

export type KubeKind = 'kubeNetworkPolicy' | 'kubeNamespace';
export const KUBE_KINDS: readonly KubeKind[] = ['kubeNetworkPolicy', 'kubeNamespace'];

/** At most this many objects per relist transaction (a put or delete and a guard each: under etcd's 128 operations). */
export const RELIST_CHUNK = 64;
/** ... and at most this many bytes of values (etcd refuses requests over 1.5 MiB by default). */
const RELIST_CHUNK_BYTES = 1024 * 1024;

export interface KubeIntentDeps {
  kv: EtcdKV;
  log: Logger;
  retrier: Retrier;
  cache?: IntentCache | undefined;
}

/** The outcome of one put or delete. */
export interface KubeWrite {
  /** the store key (`namespace:name`, or the namespace's name) */
  key: string;
  /** false: it was stored exactly so already (put), or absent (delete): nothing written */
  changed: boolean;
  /** the etcd revision of the write, or of the key as found */
  revision: string;
}

export interface RelistResult {
  /** objects written (new or different) */
  put: number;
  /** objects deleted: stored, and no longer in the list */
  deleted: number;
  /** objects stored exactly so already */
  unchanged: number;
  revision: string;
}

/** A checked object: its store key and config as stored. */
export interface CheckedKubeObject<K extends KubeKind = KubeKind> {
  key: string;
  config: ObjectOf[K];
}

function identity(body: unknown): string {
  const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const part = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64) : '?');
  return o.namespace !== undefined ? `${part(o.namespace)}/${part(o.name)}` : part(o.name);
}

/**
 * Check one object of `kind` as the controller hands it over; throws INVALID_ARGUMENT naming the
 * object and the field (`ingress.0.ports.0.endPort`). A namespace gets the API server's automatic
 * `kubernetes.io/metadata.name` label.
 */
export function checkKubeObject<K extends KubeKind>(kind: K, body: unknown): CheckedKubeObject<K> {
  let input = body;
  if (kind === 'kubeNamespace' && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const ns = body as Record<string, unknown>;
    const labels = ns.labels ?? {};
    // labels that are no object are left for the schema to refuse
    if (typeof ns.name === 'string' && typeof labels === 'object' && labels !== null && !Array.isArray(labels))
      input = { ...ns, labels: { ...labels, [NAMESPACE_NAME_LABEL]: ns.name } };
  }
  try {
    const config = parseObject(kind, input);
    return { key: keyOf(kind, config), config };
  } catch (e) {
    if (!isNetloomError(e)) throw e;
    const field = e.field && e.field !== 'body' ? `${e.field}: ` : '';
    throw new NetloomError(e.code, `${kindOf(kind).label} ${identity(body)}: ${field}${e.message}`, {
      ...(e.field ? { field: e.field } : {}),
      ...(e.details ? { details: { ...e.details } } : {}),
    });
  }
}

export class KubeIntent {
  constructor(private readonly deps: KubeIntentDeps) {}

  /** Store a NetworkPolicy (created or replaced). */
  async putPolicy(policy: unknown): Promise<KubeWrite> {
    return this.put('kubeNetworkPolicy', checkKubeObject('kubeNetworkPolicy', policy));
  }

  deletePolicy(namespace: string, name: string): Promise<KubeWrite> {
    return this.remove('kubeNetworkPolicy', `${namespace}:${name}`);
  }

  /** Store a namespace's labels (created or replaced). */
  async putNamespace(namespace: unknown): Promise<KubeWrite> {
    return this.put('kubeNamespace', checkKubeObject('kubeNamespace', namespace));
  }

  deleteNamespace(name: string): Promise<KubeWrite> {
    return this.remove('kubeNamespace', name);
  }

  private put(kind: KubeKind, o: CheckedKubeObject): Promise<KubeWrite> {
    const cfgKey = layout.cfg(kind, o.key);
    const want = stableJson(o.config);
    return this.deps.retrier.run(`${kind} ${o.key}`, async () => {
      const cur = await this.deps.kv.get(cfgKey);
      if (cur && this.storedJson(cur) === want) return { key: o.key, changed: false, revision: cur.modRevision };
      const r = await this.deps.kv.commit(
        [{ kind: 'modEquals', key: cfgKey, modRevision: cur?.modRevision ?? '0' }],
        [{ kind: 'put', key: cfgKey, value: JSON.stringify({ config: o.config, oper: {} }) }],
      );
      if (!r.ok) return RETRY;
      this.deps.log.info({ type: kind, key: o.key, created: !cur, revision: r.revision }, cur ? 'updated' : 'created');
      await this.deps.cache?.waitFor(r.revision);
      return { key: o.key, changed: true, revision: r.revision };
    });
  }

  private remove(kind: KubeKind, key: string): Promise<KubeWrite> {
    const cfgKey = layout.cfg(kind, key);
    return this.deps.retrier.run(`delete ${kind} ${key}`, async () => {
      const cur = await this.deps.kv.get(cfgKey);
      if (!cur) return { key, changed: false, revision: (await this.deps.kv.read([])).revision };
      const r = await this.deps.kv.commit(
        [{ kind: 'modEquals', key: cfgKey, modRevision: cur.modRevision }],
        [{ kind: 'delete', key: cfgKey }],
      );
      if (!r.ok) return RETRY;
      this.deps.kv.badValues.clear(cfgKey);
      this.deps.log.info({ type: kind, key, revision: r.revision }, 'deleted');
      await this.deps.cache?.waitFor(r.revision);
      return { key, changed: true, revision: r.revision };
    });
  }

  /**
   * Make the stored objects of `kind` exactly `objects` (a relist): put the new and changed ones,
   * delete the ones not listed. Every object is checked first: one bad object refuses the whole
   * call (INVALID_ARGUMENT naming `objects.<i>.<field>`), with nothing written.
   */
  async replaceAll(kind: KubeKind, objects: readonly unknown[]): Promise<RelistResult> {
    const desired = new Map<string, { json: string; value: string }>();
    const at = new Map<string, number>();
    objects.forEach((body, i) => {
      let o: CheckedKubeObject;
      try {
        o = checkKubeObject(kind, body);
      } catch (e) {
        if (!isNetloomError(e)) throw e;
        const field = `objects.${i}${e.field ? `.${e.field}` : ''}`;
        throw new NetloomError(e.code, `objects[${i}]: ${e.message}`, { field, ...(e.details ? { details: { ...e.details } } : {}) });
      }
      const first = at.get(o.key);
      if (first !== undefined)
        throw new NetloomError(
          'INVALID_ARGUMENT',
          `objects[${i}]: ${kindOf(kind).label} ${o.key} is listed twice (also objects[${first}])`,
          {
            field: `objects.${i}.name`,
          },
        );
      at.set(o.key, i);
      desired.set(o.key, { json: stableJson(o.config), value: JSON.stringify({ config: o.config, oper: {} }) });
    });
    // what earlier attempts committed (a retry finds it stored already: counted once, as written)
    const written = new Set<string>();
    let deleted = 0;
    const prefix = layout.cfgPrefix(kind);
    return this.deps.retrier.run(`relist of ${kind}`, async () => {
      const { kvs, revision } = await this.deps.kv.list(prefix);
      const stored = new Map(kvs.map((kv) => [kv.key.slice(prefix.length), kv]));
      const work: Array<{ key: string; guard: Guard; write: WriteOp; bytes: number; put: boolean }> = [];
      let unchanged = 0;
      for (const [key, d] of desired) {
        const cur = stored.get(key);
        if (cur && this.storedJson(cur) === d.json) {
          if (!written.has(key)) unchanged++;
          continue;
        }
        const cfgKey = layout.cfg(kind, key);
        work.push({
          key,
          guard: { kind: 'modEquals', key: cfgKey, modRevision: cur?.modRevision ?? '0' },
          write: { kind: 'put', key: cfgKey, value: d.value },
          bytes: d.value.length + cfgKey.length,
          put: true,
        });
      }
      for (const [key, cur] of stored) {
        if (desired.has(key)) continue;
        work.push({
          key,
          guard: { kind: 'modEquals', key: cur.key, modRevision: cur.modRevision },
          write: { kind: 'delete', key: cur.key },
          bytes: cur.key.length,
          put: false,
        });
      }
      let last = revision;
      for (const chunk of chunks(work)) {
        const r = await this.deps.kv.commit(
          chunk.map((w) => w.guard),
          chunk.map((w) => w.write),
        );
        if (!r.ok) return RETRY; // a concurrent writer: list again (what was committed now counts as unchanged)
        last = r.revision;
        for (const w of chunk) {
          if (w.put) written.add(w.key);
          else {
            deleted++;
            this.deps.kv.badValues.clear(layout.cfg(kind, w.key));
          }
        }
      }
      const result = { put: written.size, deleted, unchanged, revision: last };
      if (work.length > 0) {
        this.deps.log.info({ type: kind, ...result }, 'relisted');
        await this.deps.cache?.waitFor(last);
      }
      return result;
    });
  }

  /** The canonical JSON of a stored object's config ('' when its value cannot be served: it is rewritten). */
  private storedJson(kv: KeyValue): string {
    const s = this.deps.kv.badValues.take(kv.key, () => checkIntentKv(kv));
    return s ? stableJson(s.config) : '';
  }
}

function chunks<T extends { bytes: number }>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= RELIST_CHUNK || bytes + it.bytes > RELIST_CHUNK_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
