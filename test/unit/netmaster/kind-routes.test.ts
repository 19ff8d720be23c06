/**
 * The generic kind routes: every kind declared in lib/kinds is served on its Contiv collection
 * (list, get, create/update, delete, inspect) by the one route set, with Contiv's links filled,
 * and a collection no kind declares is NOT_FOUND.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ALL_KINDS } from '../../../lib/kinds';
import { errorBody, httpStatusOf } from '../../../netmaster/rest/errors';
import { registerKindRoutes, type KindStore } from '../../../netmaster/rest/kind-routes';
import type { Wrap } from '../../../netmaster/rest/request';
import type { ObjectType } from '../../../netmaster/model/schemas';

describe('netmaster REST: one route set for every kind', () => {
  const calls: string[] = [];
  const config = { tenantName: 't1', networkName: 'n1' };
  const store: KindStore = {
    list: async (type) => (calls.push(`list ${type}`), [{ key: 'k1', config }]),
    get: async (type, key) => (calls.push(`get ${type} ${key}`), { key, config }),
    upsert: async (type, _body, key) => (calls.push(`upsert ${type} ${key}`), { key: key ?? '', config }),
    delete: async (type, key) => (calls.push(`delete ${type} ${key}`), key),
    inspect: async (type, key) => (calls.push(`inspect ${type} ${key}`), { Config: config, Oper: { n: 1 } }),
  };
  let server: Server;
  let base = '';

  before(async () => {
    const app = express();
    app.use(express.text({ type: () => true }));
    const wrap: Wrap = (h) => (req, res, next) => {
      h(req, res).catch(next);
    };
    registerKindRoutes(app, store, wrap);
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      res.status(httpStatusOf(err)).json(errorBody(err));
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  after(() => server.close());

  for (const kind of ALL_KINDS) {
    it(`serves ${kind.type} on /api/v1/${kind.collection}/`, async () => {
      calls.length = 0;
      const type = kind.type as ObjectType;
      // a key of the kind's shape (`k1`, `k1:k2`, `k1:k2:k3`): others are NOT_FOUND before the store is asked
      const key = kind.key.map((_, i) => `k${i + 1}`).join(':');
      const list = (await (await fetch(`${base}/${kind.collection}/`)).json()) as Array<Record<string, unknown>>;
      assert.equal(list[0]?.key, 'k1');
      // links are filled as the kind declares them (a tenant link for tenant-scoped kinds that have one)
      assert.equal('links' in list[0]!, kind.links !== undefined);
      // Contiv's link-sets where its model has them
      assert.equal('link-sets' in list[0]!, kind.linkSets !== undefined);
      const readOnly = kind.readOnlySource !== undefined;
      for (const method of ['POST', 'PUT']) {
        const r = await fetch(`${base}/${kind.collection}/${key}/`, { method, body: '{}' });
        assert.equal(r.status, readOnly ? 405 : 200, `${method} ${kind.collection}`);
      }
      assert.equal((await fetch(`${base}/${kind.collection}/${key}/`)).status, 200);
      const del = await fetch(`${base}/${kind.collection}/${key}/`, { method: 'DELETE' });
      if (readOnly) {
        // another system is its source: a write is refused naming it, before the store is asked
        assert.equal(del.status, 405);
        assert.equal(del.headers.get('allow'), 'GET');
        const body = (await del.json()) as { error: string; field?: string };
        assert.match(body.error, /read-only here: their source is the Kubernetes API/);
        assert.equal(body.field, 'method');
      } else assert.equal(await del.json(), key);
      const i = (await (await fetch(`${base}/inspect/${kind.collection}/${key}/`)).json()) as { Oper: unknown };
      assert.deepEqual(i.Oper, { n: 1 });
      // the link-sets list the kinds they read (model/link-sets.ts); the routes' own calls are these
      assert.deepEqual(
        calls.filter((c) => c.split(' ')[1] === type),
        readOnly
          ? [`list ${type}`, `get ${type} ${key}`, `inspect ${type} ${key}`]
          : [
              `list ${type}`,
              `upsert ${type} ${key}`,
              `upsert ${type} ${key}`,
              `get ${type} ${key}`,
              `delete ${type} ${key}`,
              `inspect ${type} ${key}`,
            ],
      );
    });
  }

  it('answers 404 naming the key for a key no object of the kind can have, without asking the store', async () => {
    calls.length = 0;
    for (const [coll, key] of [
      ['networks', 'nosuch'],
      ['rules', 't1:p1'],
      ['tenants', 't1:x'],
      ['endpointGroups', 't1:'],
      ['policys', `t1:${'x'.repeat(65)}`],
    ] as const) {
      for (const [method, path] of [
        ['GET', `${coll}/${key}/`],
        ['DELETE', `${coll}/${key}/`],
        ['GET', `inspect/${coll}/${key}/`],
      ] as const) {
        const r = await fetch(`${base}/${path}`, { method });
        assert.equal(r.status, 404, `${method} ${path}`);
        const body = (await r.json()) as { code: string; field?: string };
        assert.equal(body.code, 'NOT_FOUND');
        assert.equal(body.field, 'key');
      }
    }
    assert.deepEqual(calls, []);
  });

  it('collection names are matched as own names only: constructor, __proto__, toString are no collections', async () => {
    for (const coll of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      for (const [method, path] of [
        ['GET', `${coll}/`],
        ['GET', `${coll}/x/`],
        ['POST', `${coll}/x/`],
        ['PUT', `${coll}/x/`],
        ['DELETE', `${coll}/x/`],
        ['GET', `inspect/${coll}/x/`],
      ] as const) {
        const r = await fetch(`${base}/${path}`, { method, ...(method === 'POST' || method === 'PUT' ? { body: '{}' } : {}) });
        assert.equal(r.status, 404, `${method} ${path}`);
        const body = (await r.json()) as { code: string; field?: string };
        assert.equal(body.code, 'NOT_FOUND');
        assert.equal(body.field, 'collection');
      }
    }
  });

  it('refuses a collection no kind declares, naming the known ones', async () => {
    const r = await fetch(`${base}/nosuchthings/`);
    assert.equal(r.status, 404);
    const body = (await r.json()) as { error: string; code: string };
    assert.equal(body.code, 'NOT_FOUND');
    for (const k of ALL_KINDS) assert.match(body.error, new RegExp(`\\b${k.collection}\\b`));
  });
});
