/**
 * Kubernetes intent (issue 19): where netmaster's Kubernetes controller (controller.ts) stores
 * NetworkPolicies and namespaces: this is its KubeIntentSink. Objects come as the agent
 * contract's messages (from-api.ts makes them), are checked with their kind's schema
 * (lib/kinds/kube-*.ts, through intent-form.ts: a bad one is refused naming the object and the
 * field, nothing is written) and stored under the intent prefix like every kind
 * (`cfg/kubeNetworkPolicy/<namespace>:<name>`, `cfg/kubeNamespace/<name>`, Services in
 * `cfg/kubeService/<namespace>:<name>` and the ready endpoints of each of their EndpointSlices in
 * `cfg/kubeServiceSlice/<namespace>:<service>:<slice>`), where the agent views pick them up
 * (agent/kube-view.ts, agent/kube-service-view.ts).
 *
 * Every write is a guarded etcd transaction (the key's revision as read: a concurrent writer makes
 * it read again), idempotent (an object stored exactly so is not written again), and writes whole
 * objects only. `replaceAll` (a relist) puts what differs and deletes what is no longer listed,
 * in transactions of at most RELIST_CHUNK objects: a relist cut short leaves every object whole,
 * old or new, and running it again finishes it; a listed object that fails its checks is refused
 * (the controller posts an Event) and its stored version stays.
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
import type { KubeNamespace } from '../../proto/gen/netloom/v1/KubeNamespace';
import type { KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
// types only: the controller's module loads the Kubernetes client, which netmaster loads only with --kubeconfig
import type { KubeIntentSink, Refusal } from './controller';
import type { KubeServiceIntent, KubeServiceSliceIntent } from './service-from-api';
import { namespaceBody, namespaceMessageKey, policyBody, policyMessageKey } from './intent-form';

export type KubeKind = 'kubeNetworkPolicy' | 'kubeNamespace' | 'kubeService' | 'kubeServiceSlice';
export type { Refusal };

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
interface KubeWrite {
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
  /** objects that failed their checks: not written (a stored version stays) */
  refused: Refusal[];
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
  if (o.slice !== undefined) return `${part(o.namespace)}/${part(o.service)}/${part(o.slice)}`;
  return o.namespace !== undefined ? `${part(o.namespace)}/${part(o.name)}` : part(o.name);
}

/**
 * Check one object of `kind` in its stored form (as REST shows it); throws INVALID_ARGUMENT naming
 * the object and the field (`ingress.0.ports.0.endPort`). A namespace gets the API server's
 * automatic `kubernetes.io/metadata.name` label.
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

/** Check a NetworkPolicy as the controller hands it over (the agent contract's message); throws like checkKubeObject. */
export function checkPolicy(p: KubeNetworkPolicy): CheckedKubeObject<'kubeNetworkPolicy'> {
  return checkKubeObject(
    'kubeNetworkPolicy',
    withIdentity(policyMessageKey(p), () => policyBody(p)),
  );
}

/** Check a namespace as the controller hands it over (its key is its name). */
export function checkNamespace(n: KubeNamespace): CheckedKubeObject<'kubeNamespace'> {
  return checkKubeObject('kubeNamespace', namespaceBody(n));
}

/** `body()`, its error naming the object as checkKubeObject's do. */
function withIdentity(key: string, body: () => Record<string, unknown>): Record<string, unknown> {
  try {
    return body();
  } catch (e) {
    if (!isNetloomError(e)) throw e;
    throw new NetloomError(e.code, `${kindOf('kubeNetworkPolicy').label} ${key.slice(0, 128)}: ${e.message}`, {
      ...(e.field ? { field: e.field } : {}),
    });
  }
}

/** Check a Service as the controller hands it over (key `namespace:name`); throws like checkKubeObject. */
export function checkService(s: KubeServiceIntent): CheckedKubeObject<'kubeService'> {
  return checkKubeObject('kubeService', s);
}

/** Check an EndpointSlice as the controller hands it over (key `namespace:service:slice`); throws like checkKubeObject. */
export function checkSlice(s: KubeServiceSliceIntent): CheckedKubeObject<'kubeServiceSlice'> {
  return checkKubeObject('kubeServiceSlice', s);
}

/** `namespace/service/slice`: the controller's name of a slice. */
export const sliceKeyOf = (s: Pick<KubeServiceSliceIntent, 'namespace' | 'service' | 'slice'>): string =>
  `${s.namespace}/${s.service}/${s.slice}`;

export class KubeIntent implements KubeIntentSink {
  constructor(private readonly deps: KubeIntentDeps) {}

  /** Store a NetworkPolicy (created or replaced). */
  async putPolicy(policy: KubeNetworkPolicy): Promise<void> {
    await this.put('kubeNetworkPolicy', checkPolicy(policy));
  }

  /** Delete the NetworkPolicy `namespace/name` (no error when it is not stored). */
  async deletePolicy(key: string): Promise<void> {
    const slash = key.indexOf('/');
    if (slash <= 0 || slash !== key.lastIndexOf('/') || slash === key.length - 1)
      throw new NetloomError('INVALID_ARGUMENT', `a NetworkPolicy's key is namespace/name, not ${key.slice(0, 128)}`, { field: 'key' });
    await this.remove('kubeNetworkPolicy', `${key.slice(0, slash)}:${key.slice(slash + 1)}`);
  }

  /** Store a namespace's labels (created or replaced). */
  async putNamespace(namespace: KubeNamespace): Promise<void> {
    await this.put('kubeNamespace', checkNamespace(namespace));
  }

  /** Delete namespace `name` (no error when it is not stored). */
  async deleteNamespace(name: string): Promise<void> {
    if (name === '' || name.includes('/') || name.includes(':'))
      throw new NetloomError('INVALID_ARGUMENT', `a namespace's key is its name, not ${name.slice(0, 128)}`, { field: 'key' });
    await this.remove('kubeNamespace', name);
  }

  /** The controller's relist of NetworkPolicies: the objects it refused (the others are stored). */
  async replacePolicies(all: KubeNetworkPolicy[]): Promise<Refusal[]> {
    return (await this.replaceAll('kubeNetworkPolicy', all)).refused;
  }

  async replaceNamespaces(all: KubeNamespace[]): Promise<Refusal[]> {
    return (await this.replaceAll('kubeNamespace', all)).refused;
  }

  /** Store a Service with its EndpointSlices' endpoints (created or replaced). */
  async putService(service: KubeServiceIntent): Promise<void> {
    await this.put('kubeService', checkService(service));
  }

  /** Delete the Service `namespace/name` (no error when it is not stored). */
  async deleteService(key: string): Promise<void> {
    const slash = key.indexOf('/');
    if (slash <= 0 || slash !== key.lastIndexOf('/') || slash === key.length - 1)
      throw new NetloomError('INVALID_ARGUMENT', `a Service's key is namespace/name, not ${key.slice(0, 128)}`, { field: 'key' });
    await this.remove('kubeService', `${key.slice(0, slash)}:${key.slice(slash + 1)}`);
  }

  /** Store one EndpointSlice's ready endpoints (created or replaced): the Service and its other slices are not written. */
  async putSlice(slice: KubeServiceSliceIntent): Promise<void> {
    await this.put('kubeServiceSlice', checkSlice(slice));
  }

  /** Delete the EndpointSlice `namespace/service/slice` (no error when it is not stored). */
  async deleteSlice(key: string): Promise<void> {
    const parts = key.split('/');
    if (parts.length !== 3 || parts.some((p) => p === ''))
      throw new NetloomError('INVALID_ARGUMENT', `an EndpointSlice's key is namespace/service/slice, not ${key.slice(0, 128)}`, {
        field: 'key',
      });
    await this.remove('kubeServiceSlice', parts.join(':'));
  }

  /** The Services, then their slices (a slice's refusal has its key `namespace/service/slice`). */
  async replaceServices(services: KubeServiceIntent[], slices: KubeServiceSliceIntent[]): Promise<Refusal[]> {
    const a = await this.replaceAll('kubeService', services);
    const b = await this.replaceAll('kubeServiceSlice', slices);
    return [...a.refused, ...b.refused];
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
   * Make the stored objects of `kind` those of `objects` (a relist): put the new and changed ones,
   * delete the stored ones not listed. An object that fails its checks is refused (in `refused`,
   * with its key and a NetloomError naming the field) and its stored version, if any, stays.
   */
  async replaceAll(kind: 'kubeNetworkPolicy', objects: readonly KubeNetworkPolicy[]): Promise<RelistResult>;
  async replaceAll(kind: 'kubeNamespace', objects: readonly KubeNamespace[]): Promise<RelistResult>;
  async replaceAll(kind: 'kubeService', objects: readonly KubeServiceIntent[]): Promise<RelistResult>;
  async replaceAll(kind: 'kubeServiceSlice', objects: readonly KubeServiceSliceIntent[]): Promise<RelistResult>;
  async replaceAll(
    kind: KubeKind,
    objects: readonly (KubeNetworkPolicy | KubeNamespace | KubeServiceIntent | KubeServiceSliceIntent)[],
  ): Promise<RelistResult> {
    const desired = new Map<string, { json: string; value: string }>();
    /** store keys listed (refused ones too: what is listed is not deleted) */
    const listed = new Set<string>();
    const refused: Refusal[] = [];
    for (const o of objects) {
      const key =
        kind === 'kubeNetworkPolicy'
          ? policyMessageKey(o as KubeNetworkPolicy)
          : kind === 'kubeService'
            ? `${(o as KubeServiceIntent).namespace}/${(o as KubeServiceIntent).name}`
            : kind === 'kubeServiceSlice'
              ? sliceKeyOf(o as KubeServiceSliceIntent)
              : namespaceMessageKey(o as KubeNamespace);
      const storeKey = key.replaceAll('/', ':');
      if (listed.has(storeKey)) {
        refused.push({
          key,
          error: new NetloomError('INVALID_ARGUMENT', `${kindOf(kind).label} ${key} is listed twice`, { field: 'key' }),
        });
        continue;
      }
      listed.add(storeKey);
      let checked: CheckedKubeObject;
      try {
        checked =
          kind === 'kubeNetworkPolicy'
            ? checkPolicy(o as KubeNetworkPolicy)
            : kind === 'kubeService'
              ? checkService(o as KubeServiceIntent)
              : kind === 'kubeServiceSlice'
                ? checkSlice(o as KubeServiceSliceIntent)
                : checkNamespace(o as KubeNamespace);
      } catch (e) {
        if (!isNetloomError(e)) throw e;
        refused.push({ key, error: e });
        continue;
      }
      desired.set(checked.key, { json: stableJson(checked.config), value: JSON.stringify({ config: checked.config, oper: {} }) });
    }
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
        if (listed.has(key)) continue;
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
      const result = { put: written.size, deleted, unchanged, refused, revision: last };
      if (work.length > 0) {
        this.deps.log.info({ type: kind, put: result.put, deleted, unchanged, refused: refused.length, revision: last }, 'relisted');
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
