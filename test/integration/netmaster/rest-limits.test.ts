/**
 * The REST findings of issue 13, each as a request against a real netmaster on a real etcd: every
 * one is now a 4xx naming what was wrong, and writes nothing (etcd revision unchanged). Malformed
 * percent-encoding, a bogus charset, a body that is not the gzip it claims, DELETE of a missing
 * object of every kind, collection names that are Object.prototype's, the values that were stored
 * although invalid (AS numbers, ports, bandwidth, default network, endpoint fields, MACs, labels,
 * huge strings in every field), the 1 MB cfgdTag, and a consistency check that reports an invalid
 * value sitting in etcd. Own etcd on ports 29502/29503.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createLogger } from '../../../lib/logger';
import { LIMITS } from '../../../lib/kinds/limits';
import { ALL_KINDS } from '../../../lib/kinds';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { schemas, type ObjectType } from '../../../netmaster/model/schemas';
import { call, startTestEtcd, type HttpResult, type TestEtcd } from './support';
import { pathOf, validRequests } from './valid-requests';

const PLAN = {
  name: 'rest-limits',
  clientUrl: 'http://127.0.0.1:29502',
  peerUrl: 'http://127.0.0.1:29503',
  dataDir: '/tmp/nl-rest-limits/etcd',
};

describe('netmaster REST refuses what issue 13 found, naming the field', function () {
  this.timeout(120_000);
  let etcd: TestEtcd | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';
  const valid = validRequests('lim');
  const bodyOf = (collection: string): Record<string, unknown> => {
    const r = valid.find((v) => v.collection === collection && !(collection === 'tenants' && v.body.defaultNetwork !== ''));
    assert.ok(r, collection);
    return r.body;
  };

  before(async () => {
    etcd = await startTestEtcd(PLAN, '/tmp/nl-rest-limits/logs');
    nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('rest-limits', { level: 'silent' }) });
    api = `${nm.url}/api/v1`;
    for (const r of valid) {
      const res = await call('POST', `${api}${pathOf(r)}`, r.body);
      assert.equal(res.status, 200, `${pathOf(r)}: ${res.text}`);
    }
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
  });

  async function revision(): Promise<string> {
    assert.ok(nm);
    return (await nm.service.kv.read([])).revision;
  }

  /** `method path` is answered `status` with `code` and `field` in its JSON, and etcd is unchanged. */
  async function refused(
    method: string,
    path: string,
    body: unknown,
    want: { status: number; code?: string; field?: string | RegExp; error?: RegExp },
    headers: Record<string, string> = {},
  ): Promise<HttpResult> {
    const before = await revision();
    const r = await call(method, `${api}${path}`, body, headers);
    const what = `${method} ${path.slice(0, 100)}: ${r.text.slice(0, 300)}`;
    assert.equal(r.status, want.status, what);
    assert.match(String(r.headers['content-type']), /application\/json/, what);
    assert.equal(typeof r.json?.code, 'string', what);
    if (want.code) assert.equal(r.json.code, want.code, what);
    if (typeof want.field === 'string') assert.equal(r.json.field, want.field, what);
    else if (want.field) assert.match(String(r.json.field), want.field, what);
    if (want.error) assert.match(r.json.error, want.error, what);
    assert.equal(await revision(), before, `${what}: wrote to etcd`);
    return r;
  }

  it('malformed percent-encoding in a path: 400 naming the path', async () => {
    for (const method of ['GET', 'DELETE', 'POST'])
      await refused(method, '/tenants/%E0%A4%A/', method === 'POST' ? '{}' : undefined, {
        status: 400,
        code: 'INVALID_ARGUMENT',
        field: 'path',
      });
    await refused('GET', '/inspect/networks/%zz/', undefined, { status: 400, field: 'path' });
    await refused('GET', '/endpoints/%/', undefined, { status: 400, field: 'path' });
  });

  it('Content-Type with a bogus charset: 415 naming Content-Type', async () => {
    await refused(
      'POST',
      '/tenants/lim2/',
      { tenantName: 'lim2' },
      { status: 415, field: 'Content-Type', error: /BOGUS/ },
      {
        'Content-Type': 'application/json; charset=bogus',
      },
    );
  });

  it('a body that is not the gzip it claims: 400 naming Content-Encoding; real gzip is served', async () => {
    await refused(
      'POST',
      '/tenants/lim2/',
      JSON.stringify({ tenantName: 'lim2' }),
      { status: 400, field: 'Content-Encoding' },
      {
        'Content-Encoding': 'gzip',
      },
    );
    await refused('POST', '/tenants/lim2/', '{}', { status: 415, field: 'Content-Encoding' }, { 'Content-Encoding': 'bogus' });
    const ok = await call('POST', `${api}/policys/lim:gz/`, gzipSync(JSON.stringify({ tenantName: 'lim', policyName: 'gz' })), {
      'Content-Encoding': 'gzip',
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await call('DELETE', `${api}/policys/lim:gz/`)).status, 200);
  });

  it('DELETE (and GET, inspect) of a missing object: 404 for every kind (DELETE of a read-only kind: 405)', async () => {
    for (const k of ALL_KINDS) {
      const keys = ['nosuch', 'lim:nosuch', 'lim:pol:nosuch', 'nosuch:nosuch'];
      for (const key of keys) {
        for (const [method, path] of [
          ['DELETE', `/${k.collection}/${key}/`],
          ['GET', `/${k.collection}/${key}/`],
          ['GET', `/inspect/${k.collection}/${key}/`],
        ] as const) {
          const readOnlyWrite = method === 'DELETE' && k.readOnlySource !== undefined;
          await refused(method, path, undefined, readOnlyWrite ? { status: 405, field: 'method' } : { status: 404, code: 'NOT_FOUND' });
        }
      }
    }
  });

  it('collection names are own names only: constructor, __proto__, toString, hasOwnProperty are 404 for GET and POST', async () => {
    for (const coll of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await refused('GET', `/${coll}/`, undefined, { status: 404, code: 'NOT_FOUND' });
      await refused('POST', `/${coll}/x/`, '{}', { status: 404, code: 'NOT_FOUND' });
      await refused('GET', `/${coll}/x/`, undefined, { status: 404, code: 'NOT_FOUND' });
      await refused('DELETE', `/${coll}/x/`, undefined, { status: 404, code: 'NOT_FOUND' });
    }
  });

  it('values stored before although invalid: each refused with the field named', async () => {
    const bgp = bodyOf('Bgps');
    for (const as of ['0', '4294967296', '-1', '65001.5'])
      await refused('POST', `/Bgps/${String(bgp.hostname)}/`, { ...bgp, as }, { status: 400, field: 'as', error: /AS number/ });
    const svc = bodyOf('serviceLBs');
    await refused('POST', '/serviceLBs/lim:svc/', { ...svc, ports: ['80:99999:TCP'] }, { status: 400, field: 'ports.0', error: /65535/ });
    const prof = bodyOf('netprofiles');
    await refused('POST', '/netprofiles/lim:prof/', { ...prof, bandwidth: '9999999999999kbps' }, { status: 400, field: 'bandwidth' });
    await refused('POST', '/netprofiles/lim:prof/', { ...prof, bandwidth: '1.5kbps' }, { status: 400, field: 'bandwidth' });
    await refused('POST', '/tenants/lim/', { tenantName: 'lim', defaultNetwork: 'nosuch' }, { status: 404, field: 'defaultNetwork' });
    const ep = bodyOf('endpoints');
    for (const field of ['containerID', 'containerName', 'intfName', 'homingHost']) {
      for (const v of ['a\u0000b', 'a\nb', '../../x', 'x'.repeat(300_000)]) {
        const status = v.length > LIMITS.bodyBytes ? 413 : 400;
        await refused('POST', '/endpoints/', { ...ep, [field]: v }, { status, field: status === 413 ? 'body' : field });
      }
    }
    await refused('POST', '/endpoints/', { ...ep, macAddress: '00:00:00:00:00:00' }, { status: 400, field: 'macAddress' });
    await refused('POST', '/endpoints/', { ...ep, macAddress: '01:00:5e:00:00:01' }, { status: 400, field: 'macAddress' });
    const labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']));
    await refused('POST', '/endpoints/', { ...ep, labels }, { status: 400, field: 'labels', error: /at most 64/ });
  });

  it('a 100 KB string in any field of any kind: 400 naming that field; 1 MB: 413 naming the limit', async () => {
    const big = 'x'.repeat(100_000);
    for (const r of valid) {
      if (r.collection === 'endpoints') continue;
      const type = ALL_KINDS.find((k) => k.collection === r.collection)?.type as ObjectType;
      const fields = Object.keys(schemas[type].shape).filter((f) => !['key', 'links', 'link-sets'].includes(f));
      for (const f of fields) await refused('POST', pathOf(r), { ...r.body, [f]: big }, { status: 400, field: f });
    }
    await refused(
      'POST',
      '/tenants/lim/',
      { tenantName: 'lim', extra: 'x'.repeat(1_000_000) },
      {
        status: 413,
        field: 'body',
        error: new RegExp(`limit of ${LIMITS.bodyBytes} bytes`),
      },
    );
  });

  it('five networks with a 1 MB cfgdTag: each refused, nothing stored, every list still served', async () => {
    const tag = 'x'.repeat(1_000_000);
    for (let i = 0; i < 5; i++) {
      const body = { tenantName: 'lim', networkName: `big${i}`, subnet: `10.78.${i}.0/24`, cfgdTag: tag };
      await refused('POST', `/networks/lim:big${i}/`, body, { status: 413, field: 'body' });
    }
    // under the body limit, the field's own limit answers
    await refused(
      'POST',
      '/networks/lim:big0/',
      { tenantName: 'lim', networkName: 'big0', subnet: '10.78.0.0/24', cfgdTag: tag.slice(0, 200_000) },
      {
        status: 400,
        field: 'cfgdTag',
        error: /at most 256 characters/,
      },
    );
    for (const k of ALL_KINDS) assert.equal((await call('GET', `${api}/${k.collection}/`)).status, 200, k.collection);
  });

  it('the consistency check reports an invalid value written straight into etcd, and is clean without it', async () => {
    assert.ok(nm);
    const clean = await call('GET', `${api}/consistency`);
    assert.equal(clean.json.clean, true, clean.text);
    assert.deepEqual(clean.json.invalid, []);
    const key = layout.cfg('network', 'lim:raw');
    const config = {
      tenantName: 'lim',
      networkName: 'raw',
      subnet: '10.79.0.0/24',
      cfgdTag: 'a\u0000b',
      encap: 'vxlan',
      pktTag: 0,
      gateway: '',
    };
    await nm.service.kv.commit([], [{ kind: 'put', key, value: JSON.stringify({ config, oper: {} }) }]);
    const epKey = layout.ep('0123abcd');
    await nm.service.kv.commit([], [{ kind: 'put', key: epKey, value: '{"endpointID": 7' }]);
    try {
      const r = await call('GET', `${api}/consistency`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.clean, false);
      // each finding names the key, what it was meant to be, and why (the field at fault first)
      const found = r.json.invalid as Array<{ key: string; value: string; reason: string }>;
      assert.deepEqual(
        found.map((f) => [f.key, f.value]),
        [
          [key, 'network'],
          [epKey, 'endpoint'],
        ],
      );
      assert.match(found[0]?.reason ?? '', /cfgdTag: .*control characters/);
      assert.match(found[1]?.reason ?? '', /not JSON/);
    } finally {
      await nm.service.kv.commit(
        [],
        [
          { kind: 'delete', key },
          { kind: 'delete', key: epKey },
        ],
      );
    }
  });
});
