/**
 * BGP mode intent through netmaster's REST API on a real etcd (its own member, ports
 * 24760/24761): a `bgp` network gets an id of its own and no packet tag may be given; routed
 * subnets of different tenants never overlap, refused with a 4xx naming the field and the other
 * tenant's network, nothing written; Contiv's form (routing mode, Bgp objects) keeps working
 * and its bad input is refused naming the field; the cluster-wide default and a host's object
 * reach the host views read back from etcd.
 */
import assert from 'node:assert/strict';
import type { RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { readCluster } from '../../../netmaster/agent/cluster';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { call, startNetmasterOnEtcd, type NetmasterOnEtcd } from './support';

const ETCD = { name: 'bgp1', clientUrl: 'http://127.0.0.1:24760', peerUrl: 'http://127.0.0.1:24761', dataDir: '/tmp/nl-bgp-intent/etcd1' };

describe('BGP intent: netmaster REST on a real etcd', function () {
  this.timeout(60_000);
  let env: NetmasterOnEtcd | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  before(async () => {
    env = await startNetmasterOnEtcd(ETCD, '/tmp/nl-bgp-intent/logs');
    ({ nm, api } = env);
    for (const t of ['red', 'blue']) assert.equal((await call('POST', `${api}/tenants/${t}/`, { tenantName: t })).status, 200);
  });

  after(async () => {
    await env?.stop();
  });

  const footprint = async () => {
    const r = await nm!.service.kv.read([{ kind: 'count', prefix: layout.root }]);
    return { revision: r.revision, keys: r.results[0]?.count ?? -1 };
  };

  async function ok(path: string, body: unknown): Promise<Record<string, unknown>> {
    const r = await call('POST', `${api}${path}`, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.json as Record<string, unknown>;
  }

  async function refused(path: string, body: unknown, code: string, field: string, message: RegExp): Promise<void> {
    const before = await footprint();
    const r = await call('POST', `${api}${path}`, body);
    assert.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status} ${r.text}`);
    assert.equal(r.json.code, code, r.text);
    assert.equal(r.json.field, field, r.text);
    assert.match(r.json.error, message);
    assert.deepEqual(await footprint(), before, `${path} wrote to etcd`);
  }

  it('a bgp network gets an id of its own (no VLAN or VNI taken); a given pktTag is refused', async () => {
    const n = await ok('/networks/red:routed/', { tenantName: 'red', networkName: 'routed', encap: 'bgp', subnet: '10.60.0.0/16' });
    assert.equal(n['encap'], 'bgp');
    assert.equal(n['pktTag'], 0, 'the config keeps what was given (Contiv shows 0)');
    // the id is the tag in use, in the network's Oper (model/network-tag.ts)
    const id = Number((await call('GET', `${api}/inspect/networks/red:routed/`)).json.Oper.pktTag);
    assert.ok(id > 0, 'allocated');
    assert.equal((await nm!.service.kv.get(layout.tag('bgp', id)))?.value, 'red:routed');
    assert.equal(await nm!.service.kv.get(layout.tag('vxlan', id)), undefined);
    await refused(
      '/networks/red:r2/',
      { tenantName: 'red', networkName: 'r2', encap: 'bgp', pktTag: 7, subnet: '10.61.0.0/16' },
      'INVALID_ARGUMENT',
      'pktTag',
      /bgp network is routed/,
    );
  });

  it("another tenant's overlapping routed subnet is refused naming the field and the network; nothing written", async () => {
    await refused(
      '/networks/blue:routed/',
      { tenantName: 'blue', networkName: 'routed', encap: 'bgp', subnet: '10.60.128.0/24' },
      'CONFLICT',
      'subnet',
      /overlaps subnet 10\.60\.0\.0\/16 of network red:routed: routed networks of different tenants may not overlap/,
    );
    await ok('/networks/blue:routed/', { tenantName: 'blue', networkName: 'routed', encap: 'bgp', subnet: '10.62.0.0/24' });
    // an overlay network of another tenant may reuse the routed subnet: overlays stay apart
    await ok('/networks/blue:ov/', { tenantName: 'blue', networkName: 'ov', encap: 'vxlan', subnet: '10.60.0.0/24' });
  });

  it("Contiv's Bgp object: bad AS, router IP and neighbor are refused naming the field; a good one is stored", async () => {
    const good = { hostname: 'host1', routerip: '10.213.1.1/24', as: '65001', neighbor: '10.213.1.254', 'neighbor-as': '65000' };
    await refused('/Bgps/host1/', { ...good, as: '0' }, 'INVALID_ARGUMENT', 'as', /AS number \(1-4294967295\)/);
    await refused('/Bgps/host1/', { ...good, 'neighbor-as': '4294967296' }, 'INVALID_ARGUMENT', 'neighbor-as', /AS number/);
    await refused('/Bgps/host1/', { ...good, routerip: '10.213.1.1' }, 'INVALID_ARGUMENT', 'routerip', /prefix length/);
    await refused('/Bgps/host1/', { ...good, neighbor: 'tor' }, 'INVALID_ARGUMENT', 'neighbor', /IPv4 address/);
    await refused('/Bgps/host1/', { ...good, neighbors: ['10.213.1.253'] }, 'INVALID_ARGUMENT', 'neighbors.0', /'IP:AS'/);
    await ok('/Bgps/host1/', { ...good, neighbors: ['10.213.1.253:65000'] });
  });

  it('the default on the global object and the Bgp object reach the host views', async () => {
    const g = (await call('GET', `${api}/globals/global/`)).json as Record<string, unknown>;
    await refused(
      '/globals/global/',
      { ...g, bgpAs: '65000', bgpHoldTime: 3, bgpKeepaliveTime: 3 },
      'INVALID_ARGUMENT',
      'bgpKeepaliveTime',
      /shorter/,
    );
    await ok('/globals/global/', { ...g, bgpAs: '65000', bgpNeighbors: ['10.213.1.254:65000'] });
    const cluster = await readCluster(nm!.service.kv);
    const own = computeHostView(cluster, 'host1').bgp;
    assert.deepEqual(
      [own?.as, own?.fromDefault, own?.neighbors.map((n) => `${n.address}:${n.as}`)],
      [65001, false, ['10.213.1.254:65000', '10.213.1.253:65000']],
    );
    const dflt = computeHostView(cluster, 'host9').bgp;
    assert.deepEqual([dflt?.hostname, dflt?.as, dflt?.fromDefault, dflt?.holdTime, dflt?.keepaliveTime], ['host9', 65000, true, 9, 3]);
  });
});

describe("BGP intent: Contiv's routing mode on a real etcd", function () {
  this.timeout(60_000);
  let env: NetmasterOnEtcd | undefined;
  let api = '';

  before(async () => {
    env = await startNetmasterOnEtcd(ETCD, '/tmp/nl-bgp-intent/logs');
    api = env.api;
  });

  after(async () => {
    await env?.stop();
  });

  it('routing mode + a Bgp object: VLAN networks are routed, so tenants may not overlap; the first BGP settings check existing ones', async () => {
    const post = (path: string, body: unknown) => call('POST', `${api}${path}`, body);
    const g = (await call('GET', `${api}/globals/global/`)).json as Record<string, unknown>;
    assert.equal((await post('/globals/global/', { ...g, fwdMode: 'routing' })).status, 200);
    for (const t of ['red', 'blue']) assert.equal((await post(`/tenants/${t}/`, { tenantName: t })).status, 200);
    // without BGP settings routing mode routes between a tenant's networks in OVS: tenants may overlap
    assert.equal(
      (await post('/networks/red:v/', { tenantName: 'red', networkName: 'v', encap: 'vlan', subnet: '10.70.0.0/24' })).status,
      200,
    );
    assert.equal(
      (await post('/networks/blue:v/', { tenantName: 'blue', networkName: 'v', encap: 'vlan', subnet: '10.70.0.0/24' })).status,
      200,
    );
    const bgp = { hostname: 'host1', routerip: '10.213.1.1/24', as: '65001', neighbor: '10.213.1.254', 'neighbor-as': '65000' };
    const r = await post('/Bgps/host1/', bgp);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.field, 'hostname');
    assert.match(r.json.error, /network blue:v \(10\.70\.0\.0\/24\) and network red:v \(10\.70\.0\.0\/24\) routed/);
    assert.equal((await call('DELETE', `${api}/networks/blue:v/`)).status, 200);
    assert.equal((await post('/Bgps/host1/', bgp)).status, 200, 'no overlap left');
    const again = await post('/networks/blue:v2/', { tenantName: 'blue', networkName: 'v2', encap: 'vlan', subnet: '10.70.0.0/25' });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.json.field, 'subnet');
    assert.match(again.json.error, /network red:v/);
  });
});
