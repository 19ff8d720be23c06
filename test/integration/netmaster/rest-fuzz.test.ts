/**
 * REST fuzz (issue 13): random method, path, header and body mutations of valid requests of
 * every kind, sent one at a time to a real netmaster on a real etcd (own ports 29500/29501).
 * Whatever arrives: never a 5xx; every 4xx is JSON with a `code`, and an INVALID_ARGUMENT names
 * its `field`; a refused request wrote nothing (etcd revision unchanged); and afterwards the
 * consistency check finds no stored value that fails the schemas. Bounded by NETLOOM_FUZZ_RUNS
 * requests (default 3000) and NETLOOM_FUZZ_SECONDS (default 20), whichever ends first.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Etcd3 } from 'etcd3';
import { createLogger } from '../../../lib/logger';
import { ALL_KINDS } from '../../../lib/kinds';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { ROOT } from '../../../netmaster/store/layout';
import { AGENT_ROOT } from '../../../netmaster/store/agent-layout';
import { startTestEtcd, type TestEtcd } from './support';
import { pathOf, validRequests, type ValidRequest } from './valid-requests';

const PLAN = {
  name: 'rest-fuzz',
  clientUrl: 'http://127.0.0.1:29500',
  peerUrl: 'http://127.0.0.1:29501',
  dataDir: '/tmp/nl-rest-fuzz/etcd',
};
const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 3000);
const SECONDS = Number(process.env.NETLOOM_FUZZ_SECONDS ?? 20);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function send(base: string, r: FuzzRequest): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: r.method,
        path: r.path,
        agent,
        headers: { ...r.headers, ...(r.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(r.body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`${r.method} ${r.path.slice(0, 100)}: no answer in 15 s`)));
    req.on('error', reject);
    if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/** Every byte of `s` (as UTF-8) that is not unreserved, percent-encoded: any string becomes a path segment. */
function segment(s: string): string {
  return [...Buffer.from(s)]
    .map((b) => (/[A-Za-z0-9._~:-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
    .join('');
}

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', 'valueOf', '__defineGetter__'];
const deep = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown;
const DEEP = deep(3000);
const LONG_LIST = Array.from({ length: 10_000 }, (_, i) => `n${i}`);
const MANY_KEYS = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 'v']));

/** A field value as the fuzz found trouble with: huge, NUL, unicode, wrong types, out of range, nested, prototype names. */
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(
    '',
    ' ',
    'a\u0000b',
    'a\nb',
    '\r\n',
    '\t',
    '../../x',
    '..',
    'a/../b',
    '%00',
    '\u202e',
    '\ud800',
    '0',
    '-1',
    '65536',
    '4294967296',
  ),
  fc.constantFrom(...PROTO_NAMES),
  fc.constantFrom('x'.repeat(300), 'y'.repeat(70_000), 'é'.repeat(40_000), 'z'.repeat(300_000)),
  fc.integer(),
  fc.constantFrom(
    -1,
    0,
    1,
    63,
    64,
    100,
    101,
    255,
    256,
    65535,
    65536,
    4094,
    4095,
    16777216,
    4294967295,
    4294967296,
    2 ** 53,
    1e308,
    1.5,
    -0,
  ),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
  fc.constantFrom(LONG_LIST, DEEP, MANY_KEYS, { __proto__: { polluted: 1 } }, JSON.parse('{"__proto__": {"polluted": 1}}') as unknown),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A field name: one of the body's, or another (prototype names, unknown, Contiv's placeholders). */
function fieldName(body: Record<string, unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...Object.keys(body)),
    fc.constantFrom(...PROTO_NAMES, 'key', 'links', 'link-sets', 'extra'),
    fc.string({ maxLength: 10 }),
  );
}

type BodyMutation = (body: Record<string, unknown>) => unknown;

function bodyMutation(body: Record<string, unknown>): fc.Arbitrary<BodyMutation | string> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(fieldName(body), weirdValue).map(
        ([f, v]): BodyMutation =>
          (b) =>
            Object.defineProperty({ ...b }, f, { value: v, enumerable: true, configurable: true, writable: true }),
      ),
    },
    {
      weight: 1,
      arbitrary: fieldName(body).map(
        (f): BodyMutation =>
          (b) =>
            Object.fromEntries(Object.entries(b).filter(([k]) => k !== f)),
      ),
    },
    {
      weight: 1,
      arbitrary: weirdValue.map(
        (v): BodyMutation =>
          () =>
            v,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        '{',
        '{"a":',
        'null',
        'not json',
        '\u0000',
        '{"tenantName": "a"}}',
        ']'.repeat(10),
        '['.repeat(100_000) + ']'.repeat(100_000),
      ),
    },
  );
}

function pathMutation(r: ValidRequest): fc.Arbitrary<string> {
  const base = pathOf(r);
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(base) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((k) => `/${r.collection}/${segment(k)}/`) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...PROTO_NAMES, 'nosuch', 'endpoints', 'inspect', 'watch')
        .map((c) => `/${segment(c)}/${r.key === '' ? 'x' : r.key}/`),
    },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_NAMES).map((c) => `/${c}/`) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('%E0%A4%A', '%', '%zz', '%00', '%2F', '%2e%2e', 'a%3Ab%3Ac%3Ad', '..', 'x'.repeat(5000))
        .map((k) => `/${r.collection}/${k}/`),
    },
    { weight: 1, arbitrary: fc.constant(`/inspect${base}`) },
    { weight: 1, arbitrary: fc.constantFrom(base.slice(0, -1), `${base}/`, `${base}x/`, base.replace(/\//g, '//')) },
  );
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(undefined, 'application/json') },
  { weight: 4, arbitrary: contentTypes() },
);
function contentTypes(): fc.Arbitrary<string> {
  return fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=bogus',
    'application/json; charset=utf-16le',
    'application/json; charset=latin1',
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    ';;;',
    'application/json; charset',
  );
}
const contentEncoding = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip') },
);

const requestArb: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...validRequests('fz')).chain((r) =>
  fc
    .record({
      method: fc.constantFrom('POST', 'POST', 'POST', 'PUT', 'GET', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      path: pathMutation(r),
      mutation: fc.option(bodyMutation(r.body), { nil: undefined, freq: 5 }),
      type: contentType,
      encoding: contentEncoding,
      compress: fc.boolean(),
      auth: fc.constantFrom(undefined, 'Bearer x', 'Basic \u00ff'),
    })
    .map(({ method, path, mutation, type, encoding, compress, auth }) => {
      const text =
        mutation === undefined
          ? JSON.stringify(r.body)
          : typeof mutation === 'string'
            ? mutation
            : (JSON.stringify(mutation(r.body)) ?? '');
      let body: string | Buffer | undefined = method === 'GET' || method === 'HEAD' ? undefined : text;
      if (body !== undefined && compress && (encoding === 'gzip' || encoding === 'deflate'))
        body = encoding === 'gzip' ? gzipSync(body) : deflateSync(body);
      const headers: Record<string, string> = {};
      if (type) headers['Content-Type'] = type;
      if (encoding) headers['Content-Encoding'] = encoding;
      if (auth) headers.Authorization = auth;
      return { method, path: `/api/v1${path}`, headers, body };
    }),
);

describe('netmaster REST fuzz (real netmaster, real etcd)', function () {
  this.timeout(SECONDS * 1000 + 120_000);
  let etcd: TestEtcd | undefined;
  let raw: Etcd3 | undefined;
  let nm: RunningNetmaster | undefined;

  before(async () => {
    etcd = await startTestEtcd(PLAN, '/tmp/nl-rest-fuzz/logs');
    nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('rest-fuzz', { level: 'silent' }) });
    for (const r of validRequests('fz')) {
      const a = await send(nm.url, { method: 'POST', path: `/api/v1${pathOf(r)}`, headers: {}, body: JSON.stringify(r.body) });
      assert.equal(a.status, 200, `${pathOf(r)}: ${a.text}`);
    }
  });

  after(async () => {
    raw?.close();
    agent.destroy();
    await nm?.stop();
    await etcd?.stop();
  });

  it(`never a 5xx, every 4xx a JSON error naming its field, refusals write nothing (up to ${RUNS} requests or ${SECONDS} s)`, async () => {
    assert.ok(nm);
    const service = nm.service;
    const url = nm.url;
    const revision = async () => (await service.kv.read([])).revision;
    // netmaster writes its own bookkeeping meanwhile (a new tenant's pipeline ids, under the agent
    // root): only intent, allocations and endpoints count, compared at both revisions
    const client = (raw = new Etcd3({ hosts: etcd!.url }));
    const dataAt = async (rev: string) =>
      Object.entries(await client.getAll().prefix(ROOT).revision(rev).strings()).filter(([k]) => !k.startsWith(AGENT_ROOT));
    const dataChanges = async (a: string, b: string): Promise<string[]> => {
      const [x, y] = [new Map(await dataAt(a)), new Map(await dataAt(b))];
      return [...new Set([...x.keys(), ...y.keys()])].filter((k) => x.get(k) !== y.get(k)).sort();
    };
    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const before = await revision();
        const a = await send(url, r);
        sent++;
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const what = `${r.method} ${r.path.slice(0, 120)} ${JSON.stringify(r.headers)} body ${String(r.body).slice(0, 120)} -> ${a.status} ${a.text.slice(0, 300)}`;
        assert.ok(a.status < 500, what);
        if (a.status < 400) return;
        if (r.method !== 'HEAD') {
          assert.match(a.contentType, /application\/json/, what);
          const err = JSON.parse(a.text) as { code?: unknown; field?: unknown; error?: unknown };
          assert.equal(typeof err.code, 'string', what);
          assert.equal(typeof err.error, 'string', what);
          if (err.code === 'INVALID_ARGUMENT') assert.ok(typeof err.field === 'string' && err.field !== '', `no field: ${what}`);
        }
        const after = await revision();
        if (after !== before) assert.deepEqual(await dataChanges(before, after), [], `a refused request wrote to etcd: ${what}`);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
    );
    const counts = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
    console.log(`      REST fuzz: ${sent} requests, by status ${counts.join(' ')}`);
    assert.ok(sent >= Math.min(RUNS, 100), `only ${sent} requests ran`);
    assert.ok(
      [...statuses.keys()].some((s) => s === 200),
      'some mutated requests are valid and served',
    );

    // what was stored passes the schemas, and allocations match objects
    const report = await service.checkConsistency();
    assert.deepEqual(report.invalid, [], JSON.stringify(report.invalid.slice(0, 5)));
    assert.equal(report.clean, true, JSON.stringify({ leaked: report.leaked.slice(0, 5), missing: report.missing.slice(0, 5) }));
    // and every collection still lists
    for (const k of ALL_KINDS)
      assert.equal((await send(url, { method: 'GET', path: `/api/v1/${k.collection}/`, headers: {}, body: undefined })).status, 200);
  });
});
