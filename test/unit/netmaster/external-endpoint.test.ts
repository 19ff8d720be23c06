/**
 * Registration of external endpoints (kind externalEndpoint): the checks of a registration
 * against a small world (each refusal names its field), and the endpoint record netmaster writes
 * for it (no host, marked external, its own address and MAC, a stable id).
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { parseObject } from '../../../netmaster/model/keys';
import { checkUpsert, needsForUpsert } from '../../../netmaster/model/validate';
import { checkDelete, needsForDelete } from '../../../netmaster/model/deletes';
import type { ExternalEndpoint, Network } from '../../../netmaster/model/schemas';
import { externalEndpointId, externalEndpointRecord } from '../../../netmaster/service/external-endpoints';
import { endpointSchema } from '../../../netmaster/model/schemas';
import { baseWorld, loadFromWorld, type World } from './world';

/** t1:n2 is a VLAN network (10.1.2.0/24); give it a gateway and a group g3. */
function world(): World {
  const w = baseWorld();
  w.network = (w.network ?? []).map((n) => (n.networkName === 'n2' ? { ...n, gateway: '10.1.2.1' } : n));
  w.endpointGroup = [
    ...(w.endpointGroup ?? []),
    {
      tenantName: 't1',
      groupName: 'g3',
      networkName: 'n2',
      ipPool: '',
      policies: [],
      netProfile: '',
      extContractsGrps: [],
      cfgdTag: '',
    },
  ];
  return w;
}

const body = (over: Record<string, unknown> = {}) => ({
  tenantName: 't1',
  endpointName: 'db1',
  networkName: 'n2',
  groupName: 'g3',
  ipAddress: '10.1.2.200',
  macAddress: '02:AA:00:00:00:01',
  ...over,
});

function upsert(b: unknown, w: World = world()) {
  const obj = parseObject('externalEndpoint', b);
  return checkUpsert('externalEndpoint', obj, loadFromWorld(w, needsForUpsert('externalEndpoint', obj)));
}

function refused(b: unknown, code: string, field: string, message: RegExp, w?: World): void {
  assert.throws(
    () => upsert(b, w),
    (e: unknown) => {
      assert.ok(e instanceof NetloomError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.field, field, e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('external endpoints: registration checks', () => {
  it('a server on a VLAN network, in a group of that network, is accepted (MAC stored in lower case)', () => {
    const r = upsert(body());
    assert.equal(r.prev, undefined);
    assert.equal(r.obj.macAddress, '02:aa:00:00:00:01');
    assert.ok(upsert(body({ groupName: '' })).obj, 'without a group');
  });

  it('refuses what cannot work, naming the field', () => {
    refused(body({ networkName: 'n1', groupName: '' }), 'INVALID_ARGUMENT', 'networkName', /vxlan network: external endpoints need a VLAN/);
    refused(body({ networkName: 'nope' }), 'NOT_FOUND', 'networkName', /does not exist/);
    refused(body({ groupName: 'g1' }), 'INVALID_ARGUMENT', 'groupName', /belongs to network n1, not n2/);
    refused(body({ groupName: 'nope' }), 'NOT_FOUND', 'groupName', /does not exist/);
    refused(body({ ipAddress: '10.1.3.5' }), 'INVALID_ARGUMENT', 'ipAddress', /not an address of network t1:n2/);
    refused(body({ ipAddress: 'ten' }), 'INVALID_ARGUMENT', 'ipAddress', /IPv4 address/);
    refused(body({ ipAddress: '10.1.2.1' }), 'CONFLICT', 'ipAddress', /the gateway/);
    refused(body({ macAddress: '01:00:5e:00:00:01' }), 'INVALID_ARGUMENT', 'macAddress', /unicast/);
    refused(body({ macAddress: 'zz' }), 'INVALID_ARGUMENT', 'macAddress', /MAC/);
    refused({ ...body(), ipAddress: undefined }, 'INVALID_ARGUMENT', 'ipAddress', /required/);
    refused(body({ tenantName: 'nope' }), 'NOT_FOUND', 'tenantName', /tenant nope does not exist/);
  });

  it('its address, MAC, network and group are fixed while it exists', () => {
    const w = world();
    w.externalEndpoint = [parseObject('externalEndpoint', body())];
    for (const [f, v] of [
      ['ipAddress', '10.1.2.201'],
      ['macAddress', '02:aa:00:00:00:02'],
      ['groupName', ''],
    ] as const)
      refused(body({ [f]: v }), 'CONFLICT', f, /delete and register it again/, w);
    assert.ok(upsert(body(), w).prev, 'the same registration again is an update');
  });

  it('its network and group cannot be deleted while it exists', () => {
    const inUse = (w: World, type: 'network' | 'endpointGroup', key: string) =>
      assert.throws(
        () => checkDelete(type, key, loadFromWorld(w, needsForDelete(type, key))),
        (e: unknown) => e instanceof NetloomError && e.code === 'IN_USE' && /external endpoint\(s\) db1/.test(e.message),
      );
    const grouped = world();
    grouped.externalEndpoint = [parseObject('externalEndpoint', body())];
    inUse(grouped, 'endpointGroup', 't1:g3');
    const bare = baseWorld();
    bare.externalEndpoint = [parseObject('externalEndpoint', body({ groupName: '' }))];
    inUse(bare, 'network', 't1:n2');
  });
});

describe('external endpoints: the endpoint record', () => {
  it('has no host, is marked external, carries the address, MAC and group, and passes the stored schema', () => {
    const x = parseObject('externalEndpoint', body()) as ExternalEndpoint;
    const nw = (world().network ?? []).find((n) => n.networkName === 'n2') as Network;
    const rec = externalEndpointRecord(x, nw, '2026-01-01T00:00:00.000Z');
    assert.equal(rec.homingHost, '');
    assert.equal(rec.external, true);
    assert.equal(rec.network, 't1:n2');
    assert.equal(rec.groupName, 'g3');
    assert.equal(rec.ipAddress, '10.1.2.200');
    assert.equal(rec.macAddress, '02:aa:00:00:00:01');
    assert.equal(rec.ipv6Address, '2001:db8:1::c8', 'the IPv6 address at its IPv4 host offset, as a container would get');
    assert.equal(rec.containerName, 'db1');
    assert.equal(rec.endpointID, externalEndpointId(x));
    assert.deepEqual(endpointSchema.parse(JSON.parse(JSON.stringify(rec))), rec);
  });

  it('its id is stable for tenant, network and name, and differs between names', () => {
    const a = externalEndpointId({ tenantName: 't1', networkName: 'n2', endpointName: 'db1' });
    assert.equal(a, externalEndpointId({ tenantName: 't1', networkName: 'n2', endpointName: 'db1' }));
    assert.notEqual(a, externalEndpointId({ tenantName: 't1', networkName: 'n2', endpointName: 'db2' }));
    assert.match(a, /^[0-9a-f]{24}$/);
  });
});
