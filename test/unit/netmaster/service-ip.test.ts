/**
 * A serviceLB's address (service/service-ip.ts) over a map of allocation keys: allocated from the
 * subnet by the endpoints' allocator when none is given, a given one checked free, kept across
 * updates, moved (old key released) when the network or address changes; and the checks of
 * validate.ts (a network is required, not the gateway, one value per selector label).
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { parseV4 } from '../../../netmaster/model/net';
import type { Network, ServiceLB } from '../../../netmaster/model/schemas';
import { planServiceIp, releaseServiceIp, serviceIpOwner, type PickIp } from '../../../netmaster/service/service-ip';
import type { Guard, KeyValue } from '../../../netmaster/store/kv';
import { blockKeys, encodeBlockValue } from '../../../netmaster/service/block-keys';
import { layout } from '../../../netmaster/store/layout';
import { checkUpsert } from '../../../netmaster/model/validate';
import { parseObject } from '../../../netmaster/model/keys';
import { IntentState } from '../../../netmaster/model/state';

const NET = { tenantName: 't1', networkName: 'web', subnet: '10.1.0.0/24', gateway: '10.1.0.1' } as Network;

const svc = (fields: Partial<ServiceLB> = {}): ServiceLB => ({
  tenantName: 't1',
  serviceName: 's',
  networkName: 'web',
  ipAddress: '',
  selectors: ['app=web'],
  ports: ['80:8080:TCP'],
  ...fields,
});

/** etcd's allocation keys as a map, read through `get` */
function keys(entries: Record<string, string> = {}) {
  const m = new Map(Object.entries(entries));
  return {
    m,
    kv: {
      get: (key: string): Promise<KeyValue | undefined> =>
        Promise.resolve(m.has(key) ? ({ key, value: m.get(key) ?? '', modRevision: '7' } as KeyValue) : undefined),
      list: (prefix: string) =>
        Promise.resolve({
          revision: '7',
          kvs: [...m].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value, modRevision: '7', createRevision: '7' })),
        }),
    },
  };
}

const ipKey = (ip: string, net = 't1:web') => layout.ip(net, parseV4(ip)!);
/** the guards on address keys (the others say no address block appeared around the address) */
const ipGuards = (gs: readonly Guard[]) => gs.filter((g) => g.kind === 'modEquals' && !g.key.startsWith(blockKeys.root));

/** the first number in the ranges not in `used`, as the allocator would (hex keys) */
function picker(used: Set<number>, seen: Array<{ ranges: ReadonlyArray<[number, number]>; hex: boolean | undefined }>): PickIp {
  return (_prefix, _keyOf, ranges, _field, _what, hex) => {
    seen.push({ ranges, hex });
    for (const [a, b] of ranges) for (let n = a; n <= b; n++) if (!used.has(n)) return Promise.resolve(n);
    return Promise.resolve(undefined);
  };
}

describe('service addresses', () => {
  it('without an address: one from the subnet by the allocator (gateway reserved), guarded absent', async () => {
    const { kv } = keys();
    const seen: Array<{ ranges: ReadonlyArray<[number, number]>; hex: boolean | undefined }> = [];
    const plan = await planServiceIp(kv, 't1:s', svc(), undefined, NET, picker(new Set([parseV4('10.1.0.1')!]), seen));
    assert.ok(plan);
    assert.equal(plan.config.ipAddress, '10.1.0.2');
    assert.deepEqual(seen, [{ ranges: [[parseV4('10.1.0.1')!, parseV4('10.1.0.254')!]], hex: true }]);
    assert.deepEqual(ipGuards(plan.guards), [{ kind: 'modEquals', key: ipKey('10.1.0.2'), modRevision: '0' }]);
    assert.deepEqual(plan.writes, [{ kind: 'put', key: ipKey('10.1.0.2'), value: serviceIpOwner('t1:s') }]);
    assert.equal(serviceIpOwner('t1:s'), 'service:t1:s');
    assert.deepEqual(plan.claimed, { prefix: layout.ipPrefix('t1:web'), n: parseV4('10.1.0.2') });
  });

  it('a given address must be free: one held by an endpoint or the gateway is a CONFLICT naming ipAddress', async () => {
    const { kv } = keys({ [ipKey('10.1.0.9')]: 'ep123', [ipKey('10.1.0.1')]: 'gateway' });
    for (const [ip, by] of [
      ['10.1.0.9', /endpoint ep123/],
      ['10.1.0.1', /the gateway/],
    ] as const) {
      await assert.rejects(
        planServiceIp(kv, 't1:s', svc({ ipAddress: ip }), undefined, NET, picker(new Set(), [])),
        (e: unknown) => e instanceof NetloomError && e.code === 'CONFLICT' && e.field === 'ipAddress' && by.test(e.message),
      );
    }
    const plan = await planServiceIp(kv, 't1:s', svc({ ipAddress: '10.1.0.50' }), undefined, NET, picker(new Set(), []));
    assert.equal(plan?.config.ipAddress, '10.1.0.50');
    assert.deepEqual(ipGuards(plan?.guards ?? []), [{ kind: 'modEquals', key: ipKey('10.1.0.50'), modRevision: '0' }]);
  });

  it('address blocks (issue 15): the search skips them, a given address inside one is a CONFLICT naming block and host', async () => {
    const block = { base: parseV4('10.1.0.0')!, prefix: 26 };
    const { kv } = keys({ [blockKeys.key('t1:web', block)]: encodeBlockValue('hostA', block, new Date(0)) });
    const seen: Array<{ ranges: ReadonlyArray<[number, number]>; hex: boolean | undefined }> = [];
    const plan = await planServiceIp(kv, 't1:s', svc(), undefined, NET, picker(new Set(), seen));
    assert.equal(plan?.config.ipAddress, '10.1.0.64');
    assert.deepEqual(seen[0]?.ranges, [[parseV4('10.1.0.64')!, parseV4('10.1.0.254')!]]);
    // the commit also guards that no block around the address appeared meanwhile
    const around = blockKeys.key('t1:web', { base: parseV4('10.1.0.64')!, prefix: 26 });
    assert.ok(plan?.guards.some((g) => g.kind === 'modEquals' && g.key === around && g.modRevision === '0'));
    await assert.rejects(
      planServiceIp(kv, 't1:s', svc({ ipAddress: '10.1.0.10' }), undefined, NET, picker(new Set(), [])),
      (e: unknown) =>
        e instanceof NetloomError && e.code === 'CONFLICT' && e.field === 'ipAddress' && /10\.1\.0\.0\/26 of host hostA/.test(e.message),
    );
  });

  it('an update keeps the address (with or without it in the body); a new address or network moves it', async () => {
    const { kv } = keys({ [ipKey('10.1.0.2')]: 'service:t1:s' });
    const prev = svc({ ipAddress: '10.1.0.2' });
    for (const body of [svc(), svc({ ipAddress: '10.1.0.2' }), svc({ selectors: ['app=db'] })]) {
      const plan = await planServiceIp(kv, 't1:s', body, prev, NET, picker(new Set(), []));
      assert.equal(plan?.config.ipAddress, '10.1.0.2');
      assert.deepEqual([plan?.guards, plan?.writes], [[], []], 'nothing to write');
    }
    const moved = await planServiceIp(kv, 't1:s', svc({ ipAddress: '10.1.0.60' }), prev, NET, picker(new Set(), []));
    assert.deepEqual(moved?.writes, [
      { kind: 'delete', key: ipKey('10.1.0.2') },
      { kind: 'put', key: ipKey('10.1.0.60'), value: 'service:t1:s' },
    ]);
    const other = { ...NET, networkName: 'db', subnet: '10.2.0.0/24', gateway: '' } as Network;
    const renet = await planServiceIp(kv, 't1:s', svc({ networkName: 'db' }), prev, other, picker(new Set(), []));
    assert.equal(renet?.config.ipAddress, '10.2.0.1');
    assert.deepEqual(renet?.writes[0], { kind: 'delete', key: ipKey('10.1.0.2') });
    assert.deepEqual(renet?.writes[1], { kind: 'put', key: ipKey('10.2.0.1', 't1:db'), value: 'service:t1:s' });
  });

  it('release: only a key the service still holds', async () => {
    const { kv } = keys({ [ipKey('10.1.0.2')]: 'service:t1:s', [ipKey('10.1.0.3')]: 'ep9' });
    assert.deepEqual(await releaseServiceIp(kv, 't1:s', svc({ ipAddress: '10.1.0.2' })), {
      guards: [{ kind: 'modEquals', key: ipKey('10.1.0.2'), modRevision: '7' }],
      writes: [{ kind: 'delete', key: ipKey('10.1.0.2') }],
    });
    assert.deepEqual(await releaseServiceIp(kv, 't1:s', svc({ ipAddress: '10.1.0.3' })), { guards: [], writes: [] });
  });

  it('validation: a network is required, the gateway is refused, one value per label and one mapping per port', () => {
    const state = new IntentState({
      ranges: [],
      keys: [
        { type: 'tenant', key: 't1', item: { obj: { tenantName: 't1', defaultNetwork: '' }, modRevision: '1' } },
        { type: 'network', key: 't1:web', item: { obj: { ...NET, encap: 'vxlan', pktTag: 5 }, modRevision: '1' } },
        { type: 'serviceLB', key: 't1:s', item: undefined },
      ],
      endpointCounts: new Map(),
      tagOwners: new Map(),
    });
    const check = (body: Record<string, unknown>) =>
      checkUpsert('serviceLB', parseObject('serviceLB', { tenantName: 't1', serviceName: 's', ...body }), state);
    const refused = (body: Record<string, unknown>, field: string, msg: RegExp) =>
      assert.throws(
        () => check(body),
        (e: unknown) => e instanceof NetloomError && e.field === field && msg.test(e.message),
      );
    refused({}, 'networkName', /needs a network/);
    refused({ networkName: 'web', ipAddress: '10.1.0.1' }, 'ipAddress', /gateway/);
    refused({ networkName: 'web', selectors: ['app=a', 'app=b'] }, 'selectors', /'app' twice/);
    refused({ networkName: 'web', ports: ['80:8080:TCP', '80:9090:TCP'] }, 'ports', /80\/TCP twice/);
    check({ networkName: 'web', ports: ['80:8080:TCP', '80:8080:UDP'], selectors: ['app=a', 'tier=b'] });
  });
});
