/**
 * The verbs on stored objects, as kube-apiserver's generic registry does them: create (name or
 * generateName, uid, creationTimestamp, generation, defaults, validation, the namespace must
 * exist), get, list (selectors, limit/continue at one revision, exact reads of old revisions),
 * update and patch (optimistic concurrency on resourceVersion, no-op writes skipped, the status
 * subresource), delete (preconditions; a namespace turns Terminating, then goes with its objects:
 * purgeNamespace), deletecollection,
 * and dryRun=All for every write. Services get their ClusterIP and NodePorts here.
 */
import { randomUUID } from 'node:crypto';
import type { Guard, WriteOp } from '../../netmaster/store/kv';
import { isCompactedError, isFutureRevisionError } from '../../netmaster/store/errors';
import { systemClock, type Clock } from '../../lib/clock';
import { matchesFields } from './field-selector';
import { clone, isObject, jsonEqual, type Json, type JsonObject } from './json';
import { matchesLabels } from './label-selector';
import { decodeContinue, encodeContinue, type ListQuery } from './list-query';
import { jsonPatch } from './patch/json-patch';
import { mergePatch } from './patch/merge-patch';
import { PatchError, strategicMergePatch } from './patch/strategic-merge';
import { apiVersionOf, findResource, RESOURCES, selectableFields, type ResourceDef } from './resources';
import { DecodeError, decodeModel } from './schema/decode';
import { allocateServiceAddresses, type ServiceRanges } from './service-ips';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  OBJECT_MODIFIED,
  qualifiedResource,
  success,
  timeout,
  tooOldResourceVersion,
  unsupportedMediaType,
} from './status';
import type { ObjectStore } from './store';
import { applyDefaults, strategyOf } from './strategies';
import { validateObjectMeta } from './validation/object-meta';

export interface WriteOptions {
  dryRun: boolean;
}

export type Subresource = 'status' | undefined;

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

/** Resources whose delete answers with the deleted object (the others answer a Status). */
const RETURNS_DELETED_OBJECT = new Set(['pods', 'services', 'namespaces']);
/** Namespaces the server keeps (kube-apiserver refuses to delete them). */
const UNDELETABLE_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
/** How often a write retries when its read went stale and no resourceVersion was asked for. */
const RETRIES = 5;
const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : (o.metadata = {}));
const nameOf = (o: JsonObject): string => String(meta(o).name ?? '');

export interface RegistryOptions {
  store: ObjectStore;
  serviceRanges: ServiceRanges;
  clock?: Clock;
  /**
   * a pod bound to a node is deleted gracefully, as the real server does: it gets deletionTimestamp
   * (now + its grace period) and goes when its kubelet deletes it with grace 0; off by default, as
   * tests without kubelets bind pods to nodes (the lab's `up --kube` turns it on)
   */
  gracefulPodDeletion?: boolean;
}

export class Registry {
  private readonly store: ObjectStore;
  private readonly ranges: ServiceRanges;
  private readonly clock: Clock;
  private readonly namespaces: ResourceDef;
  private readonly services: ResourceDef;
  private readonly gracefulPods: boolean;

  constructor(o: RegistryOptions) {
    this.gracefulPods = o.gracefulPodDeletion === true;
    this.store = o.store;
    this.ranges = o.serviceRanges;
    this.clock = o.clock ?? systemClock;
    this.namespaces = findResource('', 'v1', 'namespaces') as ResourceDef;
    this.services = findResource('', 'v1', 'services') as ResourceDef;
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  async get(r: ResourceDef, ns: string | undefined, name: string): Promise<JsonObject> {
    const cur = await this.store.get(r, ns, name);
    if (!cur) throw notFound(r, name);
    return cur.object;
  }

  /** The object a body names, checked against the URL: apiVersion/kind filled or matching, namespace, and decoded as its type. */
  private fromBody(r: ResourceDef, ns: string | undefined, body: Json): JsonObject {
    if (!isObject(body)) throw badRequest(`the body of the request must be a ${r.kind} object`);
    const o = clone(body);
    const apiVersion = apiVersionOf(r);
    if (o.apiVersion !== undefined && o.apiVersion !== '' && o.apiVersion !== apiVersion)
      throw badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersion})`);
    if (o.kind !== undefined && o.kind !== '' && o.kind !== r.kind)
      throw badRequest(`the kind in the data (${String(o.kind)}) does not match the expected kind (${r.kind})`);
    o.apiVersion = apiVersion;
    o.kind = r.kind;
    let decoded: JsonObject;
    try {
      decoded = decodeModel(o, r.model);
    } catch (e) {
      if (e instanceof DecodeError) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${e.message}`);
      throw e;
    }
    const m = meta(decoded);
    if (r.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      if (ns !== undefined) m.namespace = ns;
    } else delete m.namespace;
    return decoded;
  }

  /** A namespaced object can only be made in a namespace that exists and is not terminating (NamespaceLifecycle). */
  private async requireNamespace(r: ResourceDef, ns: string | undefined, name: string): Promise<void> {
    if (!r.namespaced || ns === undefined) return;
    const cur = await this.store.get(this.namespaces, undefined, ns);
    if (!cur) throw notFound(this.namespaces, ns);
    if (meta(cur.object).deletionTimestamp !== undefined)
      throw new ApiError(
        403,
        'Forbidden',
        `${qualifiedResource(r)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        {
          name,
          ...(r.group ? { group: r.group } : {}),
          kind: r.plural,
        },
      );
  }

  private validate(r: ResourceDef, o: JsonObject, old?: JsonObject): void {
    const s = strategyOf(r.kind);
    const errors = [
      ...validateObjectMeta(o, r.namespaced, s.nameCheck),
      ...(s.validate?.(o) ?? []),
      ...(old ? (s.validateUpdate?.(o, old) ?? []) : []),
    ];
    if (errors.length > 0) throw invalid(r, nameOf(o), errors);
  }

  /** Services: allocate (in place) and return the guard that keeps the allocation unique. */
  private async allocate(r: ResourceDef, o: JsonObject, old?: JsonObject): Promise<Guard[]> {
    if (r !== this.services) return [];
    const { objects, revision } = await this.store.listAll(this.services, undefined);
    const errors = allocateServiceAddresses(o, objects, this.ranges, `${String(meta(o).namespace)}/${nameOf(o)}`, old);
    if (errors.length > 0) throw invalid(r, nameOf(o), errors);
    return [{ kind: 'rangeUnchangedSince', prefix: this.store.prefixOf(this.services), revision }];
  }

  async create(r: ResourceDef, ns: string | undefined, body: Json, opts: WriteOptions): Promise<JsonObject> {
    const o = this.fromBody(r, ns, body);
    const m = meta(o);
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName !== '') {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)];
      m.name = `${m.generateName}${suffix}`;
    }
    for (const k of [
      'uid',
      'resourceVersion',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'selfLink',
      'managedFields',
    ])
      delete m[k];
    await this.requireNamespace(r, ns, nameOf(o));
    applyDefaults(r.kind, o);
    strategyOf(r.kind).prepareCreate?.(o);
    m.uid = randomUUID();
    m.creationTimestamp = this.now();
    if (r.generation) m.generation = 1;
    this.validate(r, o);
    const key = this.store.keyOf(r, ns, nameOf(o));
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const guards: Guard[] = [{ kind: 'modEquals', key, modRevision: '0' }, ...(await this.allocate(r, o))];
      if (opts.dryRun) {
        if (await this.store.get(r, ns, nameOf(o))) throw alreadyExists(r, nameOf(o));
        return o;
      }
      const rev = await this.store.commit(guards, [{ key, object: o }]);
      if (rev) {
        m.resourceVersion = rev;
        return o;
      }
      if (await this.store.get(r, ns, nameOf(o))) throw alreadyExists(r, nameOf(o));
    }
    throw conflict(r, nameOf(o), OBJECT_MODIFIED);
  }

  /** The object an update of `cur` to `wanted` stores (metadata the server owns kept, status per subresource). */
  private nextVersion(r: ResourceDef, wanted: JsonObject, cur: JsonObject, sub: Subresource): JsonObject {
    const old = clone(cur);
    let next: JsonObject;
    if (sub === 'status') {
      next = clone(old);
      if (wanted.status === undefined) delete next.status;
      else next.status = wanted.status;
    } else {
      next = wanted;
      const m = meta(next);
      const om = meta(old);
      for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'generation']) {
        if (om[k] === undefined) delete m[k];
        else m[k] = om[k] as Json;
      }
      delete m.managedFields;
      if (r.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      applyDefaults(r.kind, next);
      strategyOf(r.kind).prepareUpdate?.(next, old);
      if (r.generation && !jsonEqual(next.spec, old.spec)) m.generation = (typeof om.generation === 'number' ? om.generation : 1) + 1;
    }
    meta(next).resourceVersion = meta(old).resourceVersion ?? '';
    return next;
  }

  /**
   * Write `wanted` over the stored object: a resourceVersion in `wanted` must be the stored one
   * (409 otherwise); without one, a write that lost a race reads again and retries (`produce`
   * makes the wanted object from the object read).
   */
  private async writeOver(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    produce: (cur: JsonObject) => JsonObject,
    opts: WriteOptions,
    sub: Subresource,
  ): Promise<JsonObject> {
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const cur = await this.store.get(r, ns, name);
      if (!cur) throw notFound(r, name);
      const wanted = produce(cur.object);
      const asked = meta(wanted).resourceVersion;
      const pinned = typeof asked === 'string' && asked !== '';
      if (pinned && asked !== cur.modRevision) throw conflict(r, name, OBJECT_MODIFIED);
      const next = this.nextVersion(r, wanted, cur.object, sub);
      const guards: Guard[] = [{ kind: 'modEquals', key: this.store.keyOf(r, ns, name), modRevision: cur.modRevision }];
      // allocation first: an update that leaves the ClusterIP or a NodePort out keeps the one it has
      if (sub !== 'status') guards.push(...(await this.allocate(r, next, cur.object)));
      this.validate(r, next, cur.object);
      if (jsonEqual(next, cur.object) || opts.dryRun) return next;
      const rev = await this.store.commit(guards, [{ key: this.store.keyOf(r, ns, name), object: next }]);
      if (rev) {
        meta(next).resourceVersion = rev;
        return next;
      }
      if (pinned) throw conflict(r, name, OBJECT_MODIFIED);
    }
    throw conflict(r, name, OBJECT_MODIFIED);
  }

  async update(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    body: Json,
    opts: WriteOptions,
    sub: Subresource,
  ): Promise<JsonObject> {
    const o = this.fromBody(r, ns, body);
    const bodyName = meta(o).name;
    if (bodyName !== name)
      throw badRequest(`the name of the object (${String(bodyName ?? '')}) does not match the name on the URL (${name})`);
    return this.writeOver(r, ns, name, () => clone(o), opts, sub);
  }

  async patch(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    contentType: string,
    patchBody: Json,
    opts: WriteOptions,
    sub: Subresource,
  ): Promise<JsonObject> {
    if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(PATCH_TYPES.join(', '));
    return this.writeOver(
      r,
      ns,
      name,
      (cur) => {
        const base = clone(cur);
        const read = meta(base).resourceVersion;
        let patched: Json;
        try {
          if (contentType === 'application/json-patch+json') patched = jsonPatch(base, patchBody);
          else if (!isObject(patchBody)) throw badRequest('the body of a merge patch must be a JSON object');
          else if (contentType === 'application/merge-patch+json') patched = mergePatch(base, patchBody);
          else patched = strategicMergePatch(base, patchBody, r.model);
        } catch (e) {
          if (e instanceof PatchError)
            throw contentType === 'application/json-patch+json' ? new ApiError(422, 'Invalid', e.message) : badRequest(e.message);
          throw e;
        }
        const o = this.fromBody(r, ns, patched);
        // the version read is a precondition only when the patch sets another (a JSON patch can `test` it)
        if (meta(o).resourceVersion === read) delete meta(o).resourceVersion;
        if (meta(o).name !== name)
          throw badRequest(`the name of the object (${String(meta(o).name ?? '')}) does not match the name on the URL (${name})`);
        return o;
      },
      opts,
      sub,
    );
  }

  async delete(
    r: ResourceDef,
    ns: string | undefined,
    name: string,
    opts: WriteOptions & { preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number },
  ): Promise<JsonObject> {
    if (r === this.namespaces && UNDELETABLE_NAMESPACES.has(name))
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
        name,
        kind: 'namespaces',
      });
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const cur = await this.store.get(r, ns, name);
      if (!cur) throw notFound(r, name);
      const m = meta(cur.object);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== m.uid)
        throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(m.uid ?? '')}`);
      if (pre?.resourceVersion && pre.resourceVersion !== cur.modRevision)
        throw conflict(
          r,
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.modRevision}`,
        );
      const guard: Guard = { kind: 'modEquals', key: this.store.keyOf(r, ns, name), modRevision: cur.modRevision };
      const grace = this.podGrace(r, cur.object, opts.gracePeriodSeconds);
      if (grace > 0) {
        // a bound pod is Terminating until its kubelet has stopped it and deletes it with grace 0
        if (m.deletionTimestamp !== undefined || opts.dryRun) return cur.object;
        const terminating = clone(cur.object);
        meta(terminating).deletionTimestamp = new Date(this.clock.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        meta(terminating).deletionGracePeriodSeconds = grace;
        const rev = await this.store.commit([guard], [{ key: guard.key, object: terminating }]);
        if (rev) {
          meta(terminating).resourceVersion = rev;
          return terminating;
        }
        continue;
      }
      if (r === this.namespaces) {
        // a namespace is Terminating until the namespace controller has emptied it and removes it
        if (m.deletionTimestamp !== undefined || opts.dryRun) return cur.object;
        const terminating = clone(cur.object);
        meta(terminating).deletionTimestamp = this.now();
        terminating.status = { ...(isObject(terminating.status) ? terminating.status : {}), phase: 'Terminating' };
        const rev = await this.store.commit([guard], [{ key: guard.key, object: terminating }]);
        if (rev) {
          meta(terminating).resourceVersion = rev;
          return terminating;
        }
        continue;
      }
      const rev = opts.dryRun ? cur.modRevision : await this.store.commit([guard], [], [{ kind: 'delete', key: guard.key }]);
      if (rev) {
        if (RETURNS_DELETED_OBJECT.has(r.plural)) return cur.object;
        return success({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural, uid: String(m.uid ?? '') });
      }
      if (pre?.resourceVersion) throw conflict(r, name, OBJECT_MODIFIED);
    }
    throw conflict(r, name, OBJECT_MODIFIED);
  }

  /** The grace period a delete of `o` starts (0: it goes at once): bound pods only, with graceful pod deletion on. */
  private podGrace(r: ResourceDef, o: JsonObject, asked: number | undefined): number {
    if (!this.gracefulPods || r.plural !== 'pods') return 0;
    const spec = isObject(o.spec) ? o.spec : {};
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') return 0;
    const own = typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
    return Math.max(0, asked !== undefined && asked >= 0 ? asked : own);
  }

  /**
   * Remove a Terminating namespace and every object in it, in one transaction (the namespace
   * controller calls this). False when the namespace changed meanwhile or is not terminating.
   */
  async purgeNamespace(name: string): Promise<boolean> {
    const cur = await this.store.get(this.namespaces, undefined, name);
    if (!cur || meta(cur.object).deletionTimestamp === undefined) return false;
    const deletes: WriteOp[] = [{ kind: 'delete', key: this.store.keyOf(this.namespaces, undefined, name) }];
    for (const nr of RESOURCES) if (nr.namespaced) deletes.push({ kind: 'deletePrefix', prefix: this.store.prefixOf(nr, name) });
    const rev = await this.store.commit(
      [{ kind: 'modEquals', key: this.store.keyOf(this.namespaces, undefined, name), modRevision: cur.modRevision }],
      [],
      deletes,
    );
    return rev !== undefined;
  }

  async list(r: ResourceDef, ns: string | undefined, q: ListQuery): Promise<JsonObject> {
    const matches = (o: JsonObject): boolean =>
      matchesLabels(q.labels, (meta(o).labels ?? {}) as Record<string, string>) && matchesFields(q.fields, selectableFields(r, o));
    const prefix = this.store.prefixOf(r, ns);
    let revision: string | undefined;
    let from: string | undefined;
    let continuing = false;
    if (q.continueToken) {
      const t = decodeContinue(q.continueToken);
      revision = t.revision;
      from = prefix + t.start;
      continuing = true;
    } else if (q.resourceVersion && q.resourceVersion !== '0') {
      const exact = q.resourceVersionMatch === 'Exact' || (q.limit > 0 && q.resourceVersionMatch === undefined);
      if (exact) revision = q.resourceVersion;
      else await this.waitForRevision(q.resourceVersion);
    }
    const items: JsonObject[] = [];
    let next: string | undefined;
    try {
      if (q.limit === 0) {
        const all = await this.store.listAll(r, ns, revision);
        revision = all.revision;
        items.push(...all.objects.filter(matches));
      } else {
        for (;;) {
          const page = await this.store.listPage(r, ns, {
            limit: q.limit - items.length,
            ...(from ? { from } : {}),
            ...(revision ? { revision } : {}),
          });
          revision = page.revision;
          items.push(...page.objects.filter(matches));
          if (!page.more || !page.lastKey) break;
          from = `${page.lastKey}\0`;
          if (items.length >= q.limit) {
            next = encodeContinue(revision, from.slice(prefix.length));
            break;
          }
        }
      }
    } catch (e) {
      if (isCompactedError(e)) throw continuing ? expired(CONTINUE_EXPIRED) : tooOldResourceVersion(String(revision));
      if (isFutureRevisionError(e))
        throw timeout(`Too large resource version: ${String(revision)}, current: ${await this.store.revision()}`);
      throw e;
    }
    for (const it of items) {
      delete it.kind;
      delete it.apiVersion;
    }
    return {
      kind: `${r.kind}List`,
      apiVersion: apiVersionOf(r),
      metadata: { resourceVersion: String(revision), ...(next ? { continue: next } : {}) },
      items,
    };
  }

  /** A list "not older than" a revision the store has not reached waits up to 3 s for it, as the real server's cache does. */
  private async waitForRevision(rv: string): Promise<void> {
    const deadline = this.clock.monotonic() + 3000;
    for (;;) {
      const cur = await this.store.revision();
      if (BigInt(cur) >= BigInt(rv)) return;
      if (this.clock.monotonic() > deadline) throw timeout(`Too large resource version: ${rv}, current: ${cur}`);
      await this.clock.sleep(100);
    }
  }

  async deleteCollection(r: ResourceDef, ns: string | undefined, q: ListQuery, opts: WriteOptions): Promise<JsonObject> {
    const list = await this.list(r, ns, { ...q, limit: 0, continueToken: undefined, resourceVersion: undefined });
    const deleted: JsonObject[] = [];
    for (const it of list.items as JsonObject[]) {
      try {
        const name = nameOf(it);
        const gone = await this.delete(r, r.namespaced ? String(meta(it).namespace) : undefined, name, opts);
        deleted.push(gone.kind === 'Status' ? it : gone);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return { ...list, items: deleted };
  }
}
