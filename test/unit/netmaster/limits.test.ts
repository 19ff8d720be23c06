/**
 * Input limits (issue 13): every string and list field of every kind and of the endpoint schemas
 * declares a bound (lib/kinds/limits.ts), so no value the API accepts can grow without one; the
 * per-object size cap names the largest field; endpoint fields refuse control characters, `..`
 * path parts, the zero MAC and too many labels; stored values are checked against the schemas;
 * HTTP-layer errors become 4xx naming what was wrong.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { NetloomError } from '../../../lib/errors';
import { LIMITS } from '../../../lib/kinds/limits';
import { parseObject } from '../../../netmaster/model/keys';
import { endpointRequestSchema, endpointSchema, schemas, OBJECT_TYPES } from '../../../netmaster/model/schemas';
import { problemOf } from '../../../netmaster/store/stored-values';
import { layout } from '../../../netmaster/store/layout';
import { httpStatusOf, toNetloomError } from '../../../netmaster/rest/errors';

/** The parts of a zod definition the walk reads. */
interface Def {
  type: string;
  checks?: Array<{ _zod: { def: { check: string } } }>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
}

/** Contiv's placeholders: accepted and dropped, never stored. */
const DROPPED = new Set(['key', 'links', 'link-sets']);

/** Paths of string and list fields without a maximum length. */
function unbounded(s: z.ZodType, path: string): string[] {
  const def = s._zod.def as unknown as Def;
  const hasMax = (def.checks ?? []).some((c) => c._zod.def.check === 'max_length');
  switch (def.type) {
    case 'string':
      return hasMax ? [] : [path];
    case 'array':
      return [...(hasMax ? [] : [path]), ...(def.element ? unbounded(def.element, `${path}[]`) : [])];
    case 'default':
    case 'optional':
    case 'nullable':
    case 'prefault':
      return def.innerType ? unbounded(def.innerType, path) : [];
    case 'pipe':
      return [...(def.in ? unbounded(def.in, path) : []), ...(def.out ? unbounded(def.out, path) : [])];
    case 'union':
      return (def.options ?? []).flatMap((o) => unbounded(o, path));
    case 'record':
      return [
        ...(def.keyType ? unbounded(def.keyType, `${path}{key}`) : []),
        ...(def.valueType ? unbounded(def.valueType, `${path}{}`) : []),
      ];
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([k, v]) => (DROPPED.has(k) ? [] : unbounded(v, path ? `${path}.${k}` : k)));
    default:
      return [];
  }
}

function expectRefused(fn: () => unknown, field: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NetloomError, String(e));
    assert.equal(e.code, 'INVALID_ARGUMENT', e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const parseEndpoint = (body: Record<string, unknown>) => {
  const r = endpointRequestSchema.safeParse({ networkName: 'n1', ...body });
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new NetloomError('INVALID_ARGUMENT', issue?.message ?? '', { field: issue?.path.map(String).join('.') ?? '' });
};

describe('netmaster input limits', () => {
  it('every string and list field of every kind and of the endpoint schemas declares a maximum', () => {
    for (const t of OBJECT_TYPES) assert.deepEqual(unbounded(schemas[t], ''), [], t);
    assert.deepEqual(unbounded(endpointRequestSchema, ''), [], 'endpoint request');
    assert.deepEqual(unbounded(endpointSchema, ''), [], 'stored endpoint');
    // the walk does see an unbounded field
    assert.deepEqual(unbounded(z.object({ a: z.string(), b: z.array(z.string().max(3)).default([]) }), ''), ['a', 'b']);
  });

  it('caps an object at LIMITS.objectBytes as JSON, naming its largest field', () => {
    const contracts = Array.from({ length: LIMITS.list }, (_, i) => `${i}`.padEnd(LIMITS.string, 'c'));
    expectRefused(
      () => parseObject('extContractsGroup', { tenantName: 't1', contractsGroupName: 'x', contractsType: 'provided', contracts }),
      'contracts',
      new RegExp(`more than the limit of ${LIMITS.objectBytes}`),
    );
  });

  it(`refuses a body of more than ${LIMITS.bodyFields} fields, and checks Contiv's dropped placeholders only for being objects`, () => {
    const wide = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, 'v']));
    expectRefused(() => parseObject('tenant', { tenantName: 't1', ...wide }), 'body', new RegExp(`limit of ${LIMITS.bodyFields}`));
    const links = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, {}]));
    const t0 = process.hrtime.bigint();
    assert.deepEqual(parseObject('tenant', { tenantName: 't1', links, 'link-sets': links }), { tenantName: 't1', defaultNetwork: '' });
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 100, 'placeholders are not walked key by key');
    expectRefused(() => parseObject('tenant', { tenantName: 't1', links: 'x' }), 'links', /must be an object/);
  });

  it('endpoint fields: no control characters, no .. path parts, bounded length', () => {
    for (const field of ['containerID', 'containerName', 'intfName', 'homingHost', 'idempotencyKey']) {
      expectRefused(() => parseEndpoint({ [field]: 'a\u0000b' }), field, /control characters|host name/);
      expectRefused(() => parseEndpoint({ [field]: 'a\nb' }), field, /control characters|host name/);
      expectRefused(() => parseEndpoint({ [field]: 'x'.repeat(300_000) }), field, /at most \d+ characters/);
    }
    for (const field of ['containerID', 'containerName', 'intfName']) {
      for (const v of ['../../x', '..', 'a/../b', 'a\\..']) expectRefused(() => parseEndpoint({ [field]: v }), field, /'\.\.' path part/);
    }
    // dots that are no path part are fine
    assert.equal(parseEndpoint({ containerName: 'web..1', containerID: 'a.b' }).containerName, 'web..1');
    expectRefused(() => parseEndpoint({ homingHost: '../../x' }), 'homingHost', /host name/);
    expectRefused(() => parseEndpoint({ vtepIP: 'not-an-ip' }), 'vtepIP', /IPv4/);
  });

  it('endpoint MAC: the zero MAC and multicast MACs are refused', () => {
    for (const mac of ['00:00:00:00:00:00', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '33:33:00:00:00:01'])
      expectRefused(() => parseEndpoint({ macAddress: mac }), 'macAddress', /unicast MAC/);
    assert.equal(parseEndpoint({ macAddress: '02:AA:00:00:00:01' }).macAddress, '02:aa:00:00:00:01');
  });

  it(`endpoint labels: at most ${LIMITS.labels}, keys and values bounded, no control characters`, () => {
    // counted before the entries are checked (checking 100,000 entries takes seconds): few values are read
    let reads = 0;
    const many = new Proxy(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'v'])), {
      get: (target, key, receiver) => {
        reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expectRefused(() => parseEndpoint({ labels: many }), 'labels', new RegExp(`at most ${LIMITS.labels} entries`));
    assert.ok(reads <= LIMITS.labels, `refused after reading ${reads} values, not every entry`);
    const atLimit = Object.fromEntries(Array.from({ length: LIMITS.labels }, (_, i) => [`k${i}`, 'v']));
    assert.equal(Object.keys(parseEndpoint({ labels: atLimit }).labels).length, LIMITS.labels);
    expectRefused(() => parseEndpoint({ labels: { a: 'x'.repeat(LIMITS.labelValue + 1) } }), 'labels.a', /at most/);
    expectRefused(() => parseEndpoint({ labels: { a: 'b\u0000' } }), 'labels.a', /control characters/);
    expectRefused(() => parseEndpoint({ labels: { a: 7 } }), 'labels.a', /string/);
  });
});

describe('netmaster stored values against the schemas', () => {
  const cfg = (type: string, key: string, config: unknown) =>
    [`${layout.cfgRoot()}${type}/${key}`, JSON.stringify({ config, oper: {} })] as const;
  const ep = {
    endpointID: 'ab12',
    tenantName: 't1',
    networkName: 'n1',
    network: 't1:n1',
    ipAddress: '10.1.1.2',
    macAddress: '02:00:00:00:00:01',
  };

  it('a valid object and endpoint pass', () => {
    assert.equal(problemOf(...cfg('tenant', 't1', { tenantName: 't1', defaultNetwork: '' })), undefined);
    assert.equal(problemOf(layout.ep('ab12'), JSON.stringify(ep)), undefined);
    // allocation and index keys are not checked here
    assert.equal(problemOf(layout.mac('02:00:00:00:00:01'), 'whatever'), undefined);
  });

  it('reports what the REST fuzz of issue 13 stored, naming the field', () => {
    const bad: Array<[readonly [string, string], string, RegExp]> = [
      [cfg('Bgp', 'h1', { hostname: 'h1', routerip: '50.1.1.1/24', as: '0' }), 'as', /AS number/],
      [
        cfg('network', 't1:n1', { tenantName: 't1', networkName: 'n1', subnet: '10.1.1.0/24', cfgdTag: 'x'.repeat(1_000_000) }),
        'cfgdTag',
        /at most/,
      ],
      [cfg('serviceLB', 't1:s', { tenantName: 't1', serviceName: 's', ports: ['1:99999:TCP'] }), 'ports.0', /65535/],
      [cfg('tenant', 't1', { tenantName: 't1:x' }), 'tenantName', /DNS label/],
      [cfg('tenant', 't2', { tenantName: 't1' }), 'key', /make the key 't1'/],
      [cfg('nosuchkind', 'x', {}), '', /no object type/],
      [[`${layout.cfgRoot()}tenant/t1`, '{not json'], '', /not JSON/],
      [[`${layout.cfgRoot()}tenant/t1`, '"text"'], 'config', /\{config, oper\}/],
      [[layout.ep('ab12'), JSON.stringify({ ...ep, macAddress: '00:00:00:00:00:00' })], 'macAddress', /unicast/],
      [[layout.ep('ab12'), JSON.stringify({ ...ep, containerID: '../../x' })], 'containerID', /path part/],
      [
        [layout.ep('ab12'), JSON.stringify({ ...ep, labels: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, ''])) })],
        'labels',
        /at most/,
      ],
      [[layout.ep('ffff'), JSON.stringify(ep)], 'endpointID', /its endpointID is 'ab12', not 'ffff'/],
    ];
    for (const [[key, value], field, reason] of bad) {
      const r = problemOf(key, value);
      assert.ok(r, `${key} ${value.slice(0, 80)}`);
      // the reason names the field at fault (the schema path, or what is wrong with the value as a whole)
      if (field !== '' && field !== 'key' && field !== 'config' && field !== 'endpointID')
        assert.match(r.reason, new RegExp(`${field.replace('.', '\\.')}: `));
      assert.match(r.reason, reason);
    }
  });
});

describe('netmaster REST: errors of the HTTP layer', () => {
  const status = (e: unknown) => httpStatusOf(toNetloomError(e));
  const fieldOf = (e: unknown) => (toNetloomError(e) as NetloomError).field;
  const httpErr = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);

  it('maps each to a 4xx naming the header, path or body', () => {
    const cases: Array<[Error, number, string]> = [
      [httpErr({ status: 413, type: 'entity.too.large', limit: LIMITS.bodyBytes }), 413, 'body'],
      [httpErr({ status: 415, type: 'charset.unsupported' }, 'unsupported charset "BOGUS"'), 415, 'Content-Type'],
      [httpErr({ status: 415, type: 'encoding.unsupported' }, 'unsupported content encoding "br2"'), 415, 'Content-Encoding'],
      [httpErr({ status: 400, code: 'Z_DATA_ERROR' }, 'incorrect header check'), 400, 'Content-Encoding'],
      [httpErr({ status: 400 }, "Failed to decode param '%E0%A4%A'"), 400, 'path'],
      [httpErr({ status: 400, type: 'request.size.invalid' }), 400, 'Content-Length'],
      [httpErr({ status: 400, type: 'request.aborted' }), 400, 'body'],
    ];
    for (const [e, s, f] of cases) {
      assert.equal(status(e), s, e.message);
      assert.equal(fieldOf(e), f, e.message);
      assert.equal((toNetloomError(e) as NetloomError).code, 'INVALID_ARGUMENT');
    }
    assert.match((toNetloomError(cases[0]![0]) as Error).message, new RegExp(`limit of ${LIMITS.bodyBytes} bytes`));
  });

  it('keeps our own failures 500 and NetloomErrors as they are', () => {
    assert.equal(status(new Error('boom')), 500);
    assert.equal(status(httpErr({ status: 503 })), 500);
    const own = new NetloomError('NOT_FOUND', 'x', { field: 'key' });
    assert.equal(toNetloomError(own), own);
  });
});
