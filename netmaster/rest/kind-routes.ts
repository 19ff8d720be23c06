/**
 * The REST routes of every intent object kind, one generic set driven by the kind descriptors
 * (lib/kinds): `/api/v1/<collection>/` (list), `/api/v1/<collection>/<key>/` (get, POST/PUT
 * create or update, delete) and `/api/v1/inspect/<collection>/<key>/`. The routes stay
 * parametric (`:coll`) so that metrics label them as one route whatever the kind; a collection
 * no kind declares is NOT_FOUND naming the known ones. Objects carry Contiv's `links` and
 * `link-sets` (model/link-sets.ts). Kinds another system is the source of are read-only (405).
 */
import type { Express, Response } from 'express';
import { NetloomError } from '../../lib/errors';
import { ALL_KINDS, kindOfCollection } from '../../lib/kinds';
import { checkKeyShape, kindOf as kindOfType, linksOf, shown } from '../model/keys';
import { linkSetKinds, linkSetsOf, type Related } from '../model/link-sets';
import type { ObjectType } from '../model/schemas';
import { HttpInputError } from './errors';
import { jsonBody, param, type Wrap } from './request';

/** What the kind routes need of the service. */
export interface KindStore {
  list(type: ObjectType): Promise<Array<{ key: string; config: unknown }>>;
  get(type: ObjectType, key: string): Promise<{ key: string; config: unknown }>;
  upsert(type: ObjectType, body: unknown, pathKey?: string): Promise<{ key: string; config: unknown }>;
  delete(type: ObjectType, key: string): Promise<string>;
  inspect(type: ObjectType, key: string): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }>;
}

/** The object as Contiv returned it: its fields plus `key`, filled `links` and its `link-sets`. */
export function contivShape(type: ObjectType, key: string, config: unknown, related?: Related): Record<string, unknown> {
  const c = config as Record<string, unknown>;
  const links = linksOf(type, c);
  const sets = related ? linkSetsOf(type, key, c, related) : undefined;
  return { key, ...c, ...(Object.keys(links).length > 0 ? { links } : {}), ...(sets ? { 'link-sets': sets } : {}) };
}

/** The objects the link-sets of `type` read, listed once for a whole response. */
async function relatedFor(store: KindStore, type: ObjectType): Promise<Related> {
  const lists = new Map<ObjectType, ReadonlyArray<{ key: string; config: unknown }>>();
  for (const k of linkSetKinds(type)) lists.set(k, await store.list(k));
  return (k) => lists.get(k) ?? [];
}

function typeOfCollection(coll: string): ObjectType {
  const k = kindOfCollection(coll);
  if (!k) {
    const known = ALL_KINDS.map((d) => d.collection).join(', ');
    throw new NetloomError('NOT_FOUND', `unknown collection '${shown(coll)}' (known: ${known}, endpoints)`, { field: 'collection' });
  }
  return k.type as ObjectType;
}

/**
 * A write to a kind another system is the source of (Kubernetes objects): 405 naming that source,
 * before the body is looked at. The answer's `Allow` header lists what the route serves.
 */
function refuseReadOnly(type: ObjectType, res: Response): void {
  const source = kindOfType(type).readOnlySource;
  if (source === undefined) return;
  res.set('Allow', 'GET');
  throw new HttpInputError(405, `${kindOfType(type).label} objects are read-only here: their source is ${source}`, 'method');
}

/** The path's key of an existing object's route: one no object of the kind can have is NOT_FOUND. */
function keyOfPath(type: ObjectType, key: string): string {
  checkKeyShape(type, key);
  return key;
}

/** Register the kind routes; `wrap` passes a handler's errors on to the error handler. */
export function registerKindRoutes(app: Express, store: KindStore, wrap: Wrap): void {
  app.get(
    '/api/v1/inspect/:coll/:key/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      const r = await store.inspect(type, keyOfPath(type, param(req, 'key')));
      res.json({ Config: contivShape(type, param(req, 'key'), r.Config, await relatedFor(store, type)), Oper: r.Oper });
    }),
  );
  app.get(
    '/api/v1/:coll/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      const list = await store.list(type);
      const related = await relatedFor(store, type);
      res.json(list.map((o) => contivShape(type, o.key, o.config, related)));
    }),
  );
  app.get(
    '/api/v1/:coll/:key/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      const o = await store.get(type, keyOfPath(type, param(req, 'key')));
      res.json(contivShape(type, o.key, o.config, await relatedFor(store, type)));
    }),
  );
  const upsert = wrap(async (req, res) => {
    const type = typeOfCollection(param(req, 'coll'));
    refuseReadOnly(type, res);
    const r = await store.upsert(type, jsonBody(req), param(req, 'key'));
    res.json(contivShape(type, r.key, r.config, await relatedFor(store, type)));
  });
  app.post('/api/v1/:coll/:key/', upsert);
  app.put('/api/v1/:coll/:key/', upsert);
  app.delete(
    '/api/v1/:coll/:key/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      refuseReadOnly(type, res);
      res.json(await store.delete(type, keyOfPath(type, param(req, 'key'))));
    }),
  );
}
