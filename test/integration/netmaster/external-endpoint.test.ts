/**
 * External endpoints through netmaster's REST API on a real etcd (its own member, ports
 * 24710/24711): a registration takes its address and MAC in the allocators in the same
 * transaction as the object, so the allocator never hands the address out (a /29 filled up
 * around it), a request for it or a registration of a taken address is refused naming the field
 * and writes nothing, the endpoint API cannot delete its record, its network cannot go while it
 * exists, the consistency check finds nothing amiss, and unregistering frees the address.
 */
import assert from 'node:assert/strict';
import type { RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { call, startNetmasterOnEtcd, type NetmasterOnEtcd } from './support';

const ETCD = { name: 'bm1', clientUrl: 'http://127.0.0.1:24710', peerUrl: 'http://127.0.0.1:24711', dataDir: '/tmp/nl-baremetal/etcd1' };
const SERVER = { ip: '10.88.0.3', mac: '02:00:00:88:00:03' };

describe('external endpoints: netmaster REST on a real etcd', function () {
  this.timeout(60_000);
  let env: NetmasterOnEtcd | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  before(async () => {
    env = await startNetmasterOnEtcd(ETCD, '/tmp/nl-baremetal/logs');
    ({ nm, api } = env);
    for (const [path, body] of [
      ['/tenants/bm/', { tenantName: 'bm' }],
      // a /29: .1 the gateway, .2-.6 for endpoints
      [
        '/networks/bm:vl/',
        { tenantName: 'bm', networkName: 'vl', encap: 'vlan', pktTag: 300, subnet: '10.88.0.0/29', gateway: '10.88.0.1' },
      ],
      ['/networks/bm:vx/', { tenantName: 'bm', networkName: 'vx', encap: 'vxlan', subnet: '10.89.0.0/24' }],
      ['/endpointGroups/bm:metal/', { tenantName: 'bm', groupName: 'metal', networkName: 'vl' }],
    ] as const) {
      const r = await call('POST', `${api}${path}`, body);
      assert.equal(r.status, 200, r.text);
    }
  });

  after(async () => {
    await env?.stop();
  });

  const footprint = async () => {
    const r = await nm!.service.kv.read([{ kind: 'count', prefix: layout.root }]);
    return { revision: r.revision, keys: r.results[0]?.count ?? -1 };
  };

  async function refused(method: string, path: string, body: unknown, code: string, field: string, message: RegExp): Promise<void> {
    const before = await footprint();
    const r = await call(method, `${api}${path}`, body);
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path}: ${r.status} ${r.text}`);
    assert.equal(r.json.code, code, r.text);
    assert.equal(r.json.field, field, r.text);
    assert.match(r.json.error, message);
    assert.deepEqual(await footprint(), before, `${method} ${path} wrote to etcd`);
  }

  const register = (name: string, over: Record<string, unknown> = {}) => ({
    tenantName: 'bm',
    endpointName: name,
    networkName: 'vl',
    groupName: 'metal',
    ipAddress: SERVER.ip,
    macAddress: SERVER.mac,
    ...over,
  });
  const container = (id: string, over: Record<string, unknown> = {}) => ({
    tenantName: 'bm',
    networkName: 'vl',
    homingHost: 'host1',
    containerID: id,
    ...over,
  });

  let serverId = '';

  it('registers: the object, and an endpoint with no host holding the address and MAC', async () => {
    const r = await call('POST', `${api}/externalEndpoints/bm:server1/`, register('server1'));
    assert.equal(r.status, 200, r.text);
    const inspect = await call('GET', `${api}/inspect/externalEndpoints/bm:server1/`);
    serverId = inspect.json.Oper.endpointID;
    assert.match(serverId, /^[0-9a-f]{24}$/);
    const ep = (await call('GET', `${api}/endpoints/${serverId}/`)).json;
    assert.equal(ep.external, true);
    assert.equal(ep.homingHost, '');
    assert.equal(ep.ipAddress, SERVER.ip);
    assert.equal(ep.macAddress, SERVER.mac);
    assert.equal(ep.groupName, 'metal');
    assert.equal((await nm!.service.kv.get(layout.ip('bm:vl', 0x0a580003)))?.value, serverId);
    assert.equal((await nm!.service.kv.get(layout.mac(SERVER.mac)))?.value, serverId);
    const again = await call('POST', `${api}/externalEndpoints/bm:server1/`, register('server1'));
    assert.equal(again.status, 200, 'the same registration again is an update');
    const c = (await call('GET', `${api}/consistency`)).json;
    assert.equal(c.clean, true, JSON.stringify(c));
  });

  it('the allocator never hands the address out: the /29 fills up around it', async () => {
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call('POST', `${api}/endpoints/`, container(`fill-${i}`));
      if (r.status !== 200) {
        assert.equal(r.json.code, 'EXHAUSTED', r.text);
        break;
      }
      got.push(r.json.ipAddress);
    }
    assert.deepEqual(got.sort(), ['10.88.0.2', '10.88.0.4', '10.88.0.5', '10.88.0.6']);
    for (const e of (await call('GET', `${api}/endpoints/?network=bm:vl`)).json as Array<{ endpointID: string; external?: boolean }>)
      if (!e.external) assert.equal((await call('DELETE', `${api}/endpoints/${e.endpointID}/`)).status, 200);
  });

  it('refuses, naming the field and writing nothing: its address to a container, a taken address or MAC, the gateway, a VXLAN network', async () => {
    await refused('POST', '/endpoints/', container('c-x', { ipAddress: SERVER.ip }), 'CONFLICT', 'ipAddress', /already in use/);
    const c = await call('POST', `${api}/endpoints/`, container('c-y', { ipAddress: '10.88.0.6' }));
    assert.equal(c.status, 200, c.text);
    await refused(
      'POST',
      '/externalEndpoints/bm:dup/',
      register('dup', { ipAddress: '10.88.0.6', macAddress: '02:00:00:88:00:66' }),
      'CONFLICT',
      'ipAddress',
      /already allocated.*endpoint/,
    );
    await refused(
      'POST',
      '/externalEndpoints/bm:dup/',
      register('dup', { ipAddress: '10.88.0.5' }),
      'CONFLICT',
      'macAddress',
      /already used/,
    );
    await refused(
      'POST',
      '/externalEndpoints/bm:dup/',
      register('dup', { ipAddress: '10.88.0.1', macAddress: '02:00:00:88:00:66' }),
      'CONFLICT',
      'ipAddress',
      /gateway/,
    );
    await refused(
      'POST',
      '/externalEndpoints/bm:dup/',
      register('dup', { networkName: 'vx', groupName: '', ipAddress: '10.89.0.9' }),
      'INVALID_ARGUMENT',
      'networkName',
      /VLAN/,
    );
    await refused(
      'POST',
      '/externalEndpoints/bm:server1/',
      register('server1', { ipAddress: '10.88.0.4' }),
      'CONFLICT',
      'ipAddress',
      /register it again/,
    );
    assert.equal((await call('DELETE', `${api}/endpoints/${c.json.endpointID}/`)).status, 200);
  });

  it('its record cannot be deleted through the endpoint API, nor its network or group while it exists', async () => {
    await refused('DELETE', `/endpoints/${serverId}/`, undefined, 'CONFLICT', 'id', /unregister it/);
    for (const path of ['/networks/bm:vl/', '/endpointGroups/bm:metal/']) {
      const r = await call('DELETE', `${api}${path}`);
      assert.equal(r.json.code, 'IN_USE', r.text);
    }
  });

  it('unregistering frees the address and MAC (a container gets them), and leaves nothing behind', async () => {
    const r = await call('DELETE', `${api}/externalEndpoints/bm:server1/`);
    assert.equal(r.status, 200, r.text);
    assert.equal((await call('GET', `${api}/endpoints/${serverId}/`)).status, 404);
    assert.equal(await nm!.service.kv.get(layout.ip('bm:vl', 0x0a580003)), undefined);
    const c = await call('POST', `${api}/endpoints/`, container('c-z', { ipAddress: SERVER.ip, macAddress: SERVER.mac }));
    assert.equal(c.status, 200, c.text);
    assert.equal((await call('DELETE', `${api}/endpoints/${c.json.endpointID}/`)).status, 200);
    const report = (await call('GET', `${api}/consistency`)).json;
    assert.equal(report.clean, true, JSON.stringify(report));
  });
});
