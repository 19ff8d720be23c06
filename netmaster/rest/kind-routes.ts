/**
 * The REST routes of every intent object kind, one generic set driven by the kind descriptors
 * (lib/kinds): `/api/v1/<collection>/` (list), `/api/v1/<collection>/<key>/` (get, POST/PUT
 * create or update, delete) and `/api/v1/inspect/<collection>/<key>/`. The routes stay
 * parametric (`:coll`) so that metrics label them as one route whatever the kind; a collection
 * no kind declares is NOT_FOUND naming the known ones.
 */
import type { Express } from 'express';
import { NetloomError } from '../../lib/errors';
import { ALL_KINDS, kindOfCollection } from '../../lib/kinds';
import { checkKeyShape, linksOf, shown } from '../model/keys';
import type { ObjectType } from '../model/schemas';
import { jsonBody, param, type Wrap } from './request';

/** What the kind routes need of the service. */
export interface KindStore {
  list(type: ObjectType): Promise<Array<{ key: string; config: unknown }>>;
  get(type: ObjectType, key: string): Promise<{ key: string; config: unknown }>;
  upsert(type: ObjectType, body: unknown, pathKey?: string): Promise<{ key: string; config: unknown }>;
  delete(type: ObjectType, key: string): Promise<string>;
  inspect(type: ObjectType, key: string): Promise<{ Config: Record<string, unknown>; Oper: Record<string, unknown> }>;
}

/** The object as Contiv returned it: its fields plus `key` and filled `links`. */
export function contivShape(type: ObjectType, key: string, config: unknown): Record<string, unknown> {
  const c = config as Record<string, unknown>;
  const links = linksOf(type, c);
  return { key, ...c, ...(Object.keys(links).length > 0 ? { links } : {}) };
}

function typeOfCollection(coll: string): ObjectType {
  const k = kindOfCollection(coll);
  if (!k) {
    const known = ALL_KINDS.map((d) => d.collection).join(', ');
    throw new NetloomError('NOT_FOUND', `unknown collection '${shown(coll)}' (known: ${known}, endpoints)`, { field: 'collection' });
  }
  return k.type as ObjectType;
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
      res.json({ Config: contivShape(type, param(req, 'key'), r.Config), Oper: r.Oper });
    }),
  );
  app.get(
    '/api/v1/:coll/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      res.json((await store.list(type)).map((o) => contivShape(type, o.key, o.config)));
    }),
  );
  app.get(
    '/api/v1/:coll/:key/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      const o = await store.get(type, keyOfPath(type, param(req, 'key')));
      res.json(contivShape(type, o.key, o.config));
    }),
  );
  const upsert = wrap(async (req, res) => {
    const type = typeOfCollection(param(req, 'coll'));
    const r = await store.upsert(type, jsonBody(req), param(req, 'key'));
    res.json(contivShape(type, r.key, r.config));
  });
  app.post('/api/v1/:coll/:key/', upsert);
  app.put('/api/v1/:coll/:key/', upsert);
  app.delete(
    '/api/v1/:coll/:key/',
    wrap(async (req, res) => {
      const type = typeOfCollection(param(req, 'coll'));
      res.json(await store.delete(type, keyOfPath(type, param(req, 'key'))));
    }),
  );
}
