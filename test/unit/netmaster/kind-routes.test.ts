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
      const list = (await (await fetch(`${base}/${kind.collection}/`)).json()) as Array<Record<string, unknown>>;
      assert.equal(list[0]?.key, 'k1');
      // links are filled as the kind declares them (a tenant link for tenant-scoped kinds that have one)
      assert.equal('links' in list[0]!, kind.links !== undefined);
      for (const method of ['POST', 'PUT']) {
        const r = await fetch(`${base}/${kind.collection}/k1/`, { method, body: '{}' });
        assert.equal(r.status, 200, `${method} ${kind.collection}`);
      }
      assert.equal((await fetch(`${base}/${kind.collection}/k1/`)).status, 200);
      assert.equal(await (await fetch(`${base}/${kind.collection}/k1/`, { method: 'DELETE' })).json(), 'k1');
      const i = (await (await fetch(`${base}/inspect/${kind.collection}/k1/`)).json()) as { Oper: unknown };
      assert.deepEqual(i.Oper, { n: 1 });
      assert.deepEqual(calls, [
        `list ${type}`,
        `upsert ${type} k1`,
        `upsert ${type} k1`,
        `get ${type} k1`,
        `delete ${type} k1`,
        `inspect ${type} k1`,
      ]);
    });
  }

  it('refuses a collection no kind declares, naming the known ones', async () => {
    const r = await fetch(`${base}/nosuchthings/`);
    assert.equal(r.status, 404);
    const body = (await r.json()) as { error: string; code: string };
    assert.equal(body.code, 'NOT_FOUND');
    for (const k of ALL_KINDS) assert.match(body.error, new RegExp(`\\b${k.collection}\\b`));
  });
});
