/**
 * netmaster's REST API against a real etcd: every Contiv collection through create, get, list,
 * update, inspect and delete over HTTP (bodies without Content-Type, as netctl sends them);
 * endpoints; 4xx errors that write nothing (etcd revision and key count unchanged); watch (SSE),
 * consistency, OpenAPI, metrics, bearer token on every route; and bin/netmaster as a real process with SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { mkdirSync, readFileSync } from 'node:fs';
import { makeSelfSigned } from '../../support/test-certs';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { isAlive, stopProcess } from '../../../lib/process';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { call, startTestEtcd, type TestEtcd } from './support';

const silent = () => createLogger('netmaster-test', { level: 'silent' });

describe('netmaster REST on a real etcd', function () {
  this.timeout(60_000);
  let etcd: TestEtcd | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  before(async () => {
    etcd = await startTestEtcd();
    nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: silent() });
    api = `${nm.url}/api/v1`;
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
  });

  /** etcd revision and netloom key count, to prove a refused request wrote nothing */
  async function footprint(): Promise<{ revision: string; keys: number }> {
    const kv = nm?.service.kv;
    assert.ok(kv);
    const r = await kv.read([{ kind: 'count', prefix: layout.root }]);
    return { revision: r.revision, keys: r.results[0]?.count ?? -1 };
  }

  async function expectRefused(method: string, path: string, body: unknown, status: number, code: string, field?: string): Promise<void> {
    const before = await footprint();
    const r = await call(method, `${api}${path}`, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.match(String(r.headers['content-type']), /application\/json/);
    assert.equal(r.json.code, code, r.text);
    assert.equal(typeof r.json.error, 'string');
    if (field !== undefined) assert.equal(r.json.field, field, r.text);
    assert.deepEqual(await footprint(), before, `${method} ${path} wrote to etcd`);
  }

  it('starts with the default tenant and the global object', async () => {
    const t = await call('GET', `${api}/tenants/`);
    assert.equal(t.status, 200);
    assert.deepEqual(
      t.json.map((x: { key: string }) => x.key),
      ['default'],
    );
    const g = await call('GET', `${api}/globals/global/`);
    assert.equal(g.json.vlans, '1-4094');
    assert.equal(g.json.pvtSubnet, '172.19.0.0/16');
  });

  it('creates, reads, lists, updates, inspects and deletes every kind of object', async () => {
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, `${api}${path}`, body);
      assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
      return r.json;
    };
    // tenant: exact netctl body
    const t = await ok('POST', '/tenants/t1/', { tenantName: 't1', 'link-sets': {} });
    assert.equal(t.key, 't1');
    // network: exact netctl body; PUT as well as POST
    const n = await ok('POST', '/networks/t1:net1/', {
      encap: 'vxlan',
      gateway: '10.2.1.1',
      networkName: 'net1',
      nwType: 'data',
      pktTag: 100,
      subnet: '10.2.1.0/24',
      tenantName: 't1',
      'link-sets': {},
      links: { Tenant: {} },
    });
    assert.equal(n.key, 't1:net1');
    assert.deepEqual(n.links, { Tenant: { type: 'tenant', key: 't1' } });
    const v = await ok('PUT', '/networks/t1:vlan1/', {
      encap: 'vlan',
      networkName: 'vlan1',
      subnet: '10.3.0.0/16',
      gateway: '10.3.0.1',
      ipv6Subnet: '2001:db8:3::/64',
      tenantName: 't1',
    });
    // pktTag 0: a VLAN is allocated; the config keeps 0 (as Contiv's), the tag in use is the Oper's
    assert.equal(v.pktTag, 0);
    const vTag = (await ok('GET', '/inspect/networks/t1:vlan1/')).Oper.pktTag;
    assert.ok(vTag >= 1 && vTag <= 4094, 'vlan allocated when pktTag is 0');
    // netprofile, policy, rule, contracts, group, app profile, service
    await ok('POST', '/netprofiles/t1:gold/', { tenantName: 't1', profileName: 'gold', bandwidth: '10mbps', DSCP: 10, burst: 100 });
    await ok('POST', '/policys/t1:web-pol/', { tenantName: 't1', policyName: 'web-pol' });
    await ok('POST', '/extContractsGroups/t1:ext/', {
      tenantName: 't1',
      contractsGroupName: 'ext',
      contractsType: 'provided',
      contracts: ['uni/tn-common/brc-default'],
    });
    const g = await ok('POST', '/endpointGroups/t1:web/', {
      groupName: 'web',
      networkName: 'net1',
      tenantName: 't1',
      policies: ['web-pol'],
      netProfile: 'gold',
      ipPool: '10.2.1.10-10.2.1.20',
      extContractsGrps: ['ext'],
      links: { AppProfile: {}, NetProfile: {}, Network: {}, Tenant: {} },
    });
    assert.deepEqual(g.links.Network, { type: 'network', key: 't1:net1' });
    const rule = await ok('POST', '/rules/t1:web-pol:1/', {
      ruleId: '1',
      policyName: 'web-pol',
      tenantName: 't1',
      direction: 'in',
      priority: 10,
      action: 'allow',
      protocol: 'tcp',
      port: 80,
      fromNetwork: 'vlan1',
      links: { MatchEndpointGroup: {} },
    });
    assert.equal(rule.key, 't1:web-pol:1');
    await ok('POST', '/appProfiles/t1:app/', { tenantName: 't1', appProfileName: 'app', endpointGroups: ['web'] });
    await ok('POST', '/serviceLBs/t1:svc/', {
      tenantName: 't1',
      serviceName: 'svc',
      networkName: 'net1',
      ipAddress: '10.2.1.200',
      selectors: ['app=web'],
      ports: ['80:8080:TCP'],
    });
    await ok('POST', '/Bgps/host1/', {
      hostname: 'host1',
      routerip: '50.1.1.1/24',
      as: '65002',
      neighbor: '50.1.1.2',
      'neighbor-as': '500',
    });
    await ok('POST', '/aciGws/aciGw/', { name: 'aciGw', enforcePolicies: 'yes', includeCommonTenant: 'no' });
    // global set as netctl does it: GET then POST the whole object back
    const glob = await ok('GET', '/globals/global/');
    await ok('POST', '/globals/global/', { ...glob, arpMode: 'flood' });
    assert.equal((await ok('GET', '/globals/global/')).arpMode, 'flood');

    // get and list
    assert.equal((await ok('GET', '/endpointGroups/t1:web/')).netProfile, 'gold');
    const nets = await ok('GET', '/networks/');
    assert.deepEqual(nets.map((x: { key: string }) => x.key).sort(), ['t1:net1', 't1:vlan1']);
    for (const coll of ['rules', 'netprofiles', 'appProfiles', 'extContractsGroups', 'serviceLBs', 'Bgps', 'aciGws', 'policys']) {
      assert.equal((await ok('GET', `/${coll}/`)).length, 1, coll);
    }

    // safe updates
    await ok('POST', '/netprofiles/t1:gold/', { tenantName: 't1', profileName: 'gold', bandwidth: '1gbps', DSCP: 20, burst: 200 });
    await ok('POST', '/policys/t1:db-pol/', { tenantName: 't1', policyName: 'db-pol' });
    await ok('POST', '/endpointGroups/t1:web/', {
      groupName: 'web',
      networkName: 'net1',
      tenantName: 't1',
      policies: ['web-pol', 'db-pol'],
      netProfile: 'gold',
      ipPool: '10.2.1.10-10.2.1.20',
      extContractsGrps: ['ext'],
    });
    assert.deepEqual((await ok('GET', '/endpointGroups/t1:web/')).policies, ['web-pol', 'db-pol']);
    // an update of every other kind, read back
    const updates: Array<[string, Record<string, unknown>, string, unknown]> = [
      ['/tenants/t1/', { tenantName: 't1', defaultNetwork: 'net1' }, 'defaultNetwork', 'net1'],
      [
        '/networks/t1:net1/',
        { tenantName: 't1', networkName: 'net1', encap: 'vxlan', subnet: '10.2.1.0/24', gateway: '10.2.1.1', cfgdTag: 'blue' },
        'cfgdTag',
        'blue',
      ],
      [
        '/rules/t1:web-pol:1/',
        {
          ruleId: '1',
          policyName: 'web-pol',
          tenantName: 't1',
          direction: 'in',
          priority: 50,
          action: 'deny',
          protocol: 'tcp',
          port: 80,
          fromNetwork: 'vlan1',
        },
        'priority',
        50,
      ],
      ['/appProfiles/t1:app/', { tenantName: 't1', appProfileName: 'app', endpointGroups: [] }, 'endpointGroups', []],
      [
        '/serviceLBs/t1:svc/',
        {
          tenantName: 't1',
          serviceName: 'svc',
          networkName: 'net1',
          ipAddress: '10.2.1.200',
          selectors: ['app=db'],
          ports: ['80:8080:TCP'],
        },
        'selectors',
        ['app=db'],
      ],
      [
        '/Bgps/host1/',
        { hostname: 'host1', routerip: '50.1.1.1/24', as: '65002', neighbor: '50.1.1.3', 'neighbor-as': '501' },
        'neighbor',
        '50.1.1.3',
      ],
      ['/aciGws/aciGw/', { name: 'aciGw', enforcePolicies: 'no', includeCommonTenant: 'yes' }, 'includeCommonTenant', 'yes'],
      [
        '/extContractsGroups/t1:ext/',
        { tenantName: 't1', contractsGroupName: 'ext', contractsType: 'provided', contracts: ['a', 'b'] },
        'contracts',
        ['a', 'b'],
      ],
    ];
    for (const [path, body, field, want] of updates) {
      await ok('PUT', path, body);
      assert.deepEqual((await ok('GET', path))[field], want, path);
    }
    await ok('POST', '/appProfiles/t1:app/', { tenantName: 't1', appProfileName: 'app', endpointGroups: ['web'] });

    // endpoints and inspect
    const ep = await ok('POST', '/endpoints/', {
      tenantName: 't1',
      networkName: 'net1',
      groupName: 'web',
      containerID: 'c1',
      containerName: 'web-1',
      homingHost: 'host1',
      labels: { app: 'web' },
    });
    assert.equal(ep.ipAddress, '10.2.1.10', 'first address of the pool');
    assert.match(ep.macAddress, /^02(:[0-9a-f]{2}){5}$/);
    const again = await ok('POST', '/endpoints/', {
      tenantName: 't1',
      networkName: 'net1',
      groupName: 'web',
      containerID: 'c1',
      homingHost: 'host1',
    });
    assert.equal(again.endpointID, ep.endpointID, 'a retry returns the same endpoint');
    assert.equal(again.ipAddress, ep.ipAddress);
    const ep6 = await ok('POST', '/endpoints/', { tenantName: 't1', networkName: 'vlan1', containerID: 'c2', homingHost: 'host2' });
    assert.equal(ep6.ipAddress, '10.3.0.2', 'gateway 10.3.0.1 is reserved');
    assert.equal(ep6.ipv6Address, '2001:db8:3::2');
    // a requested MAC is used (lower-cased); a taken one is a CONFLICT, a multicast one is refused
    const em = await ok('POST', '/endpoints/', {
      tenantName: 't1',
      networkName: 'vlan1',
      containerID: 'cm1',
      homingHost: 'host2',
      macAddress: '02:AA:00:00:00:01',
    });
    assert.equal(em.macAddress, '02:aa:00:00:00:01');
    await expectRefused(
      'POST',
      '/endpoints/',
      { tenantName: 't1', networkName: 'vlan1', containerID: 'cm2', homingHost: 'host2', macAddress: '02:aa:00:00:00:01' },
      409,
      'CONFLICT',
      'macAddress',
    );
    await expectRefused(
      'POST',
      '/endpoints/',
      { tenantName: 't1', networkName: 'vlan1', containerID: 'cm3', homingHost: 'host2', macAddress: '01:00:5e:00:00:01' },
      400,
      'INVALID_ARGUMENT',
      'macAddress',
    );
    await ok('DELETE', `/endpoints/${em.endpointID}/`);
    const ni = await ok('GET', '/inspect/networks/t1:net1/');
    assert.equal(ni.Config.subnet, '10.2.1.0/24');
    // the endpoint's address and the service's (10.2.1.200)
    assert.equal(ni.Oper.allocatedAddressesCount, 2);
    assert.equal(ni.Oper.allocatedIPAddresses, '10.2.1.10, 10.2.1.200');
    assert.equal(ni.Oper.availableIPAddresses, '10.2.1.2-10.2.1.9, 10.2.1.11-10.2.1.199, 10.2.1.201-10.2.1.254');
    assert.equal(ni.Oper.pktTag, 100);
    assert.equal(ni.Oper.externalPktTag, 100);
    assert.equal(ni.Oper.numEndpoints, 1);
    assert.equal(ni.Oper.endpoints[0].containerID, 'c1');
    const gi = await ok('GET', '/inspect/endpointGroups/t1:web/');
    assert.ok(gi.Oper.endpointGroupId > 0);
    assert.equal(gi.Oper.numEndpoints, 1);
    const ti = await ok('GET', '/inspect/tenants/t1/');
    // Contiv's TenantOper: each network's oper in an array, and totals
    assert.equal(ti.Oper.networks.length, 2);
    assert.equal(ti.Oper.totalNetworks, 2);
    assert.equal(ti.Oper.totalEndpoints, 2);
    assert.equal(ti.Oper.numEndpoints, 2);
    const pi = await ok('GET', '/inspect/policys/t1:web-pol/');
    assert.equal(pi.Oper.numEndpoints, 1);
    const gl = await ok('GET', '/inspect/globals/global/');
    assert.equal(gl.Oper.numNetworks, 2);
    const ei = await ok('GET', `/inspect/endpoints/${ep.endpointID}/`);
    assert.deepEqual(ei.Oper.ipAddress, ['10.2.1.10']);
    assert.equal((await ok('GET', '/inspect/endpoints/c1/')).Config.endpointID, ep.endpointID, 'by container id');
    assert.equal((await ok('GET', `/inspect/endpoints/${ep.endpointID.slice(0, 10)}/`)).Config.endpointID, ep.endpointID, 'by id prefix');
    assert.equal((await ok('GET', '/endpoints/')).length, 2);
    assert.equal((await ok('GET', '/endpoints/?host=host2')).length, 1);
    for (const coll of ['rules', 'netprofiles', 'appProfiles', 'extContractsGroups', 'serviceLBs', 'Bgps', 'aciGws']) {
      const list = await ok('GET', `/${coll}/`);
      const i = await ok('GET', `/inspect/${coll}/${list[0].key}/`);
      assert.equal(i.Config.key, list[0].key, coll);
    }

    // the consistency check is clean
    const c = await ok('GET', '/consistency');
    assert.equal(c.clean, true, JSON.stringify(c));

    // deletes in dependency order; a delete returns the key as a JSON string
    assert.equal((await call('DELETE', `${api}/endpoints/${ep.endpointID}/`)).status, 200);
    assert.equal((await call('DELETE', `${api}/endpoints/${ep.endpointID}/`)).status, 200, 'endpoint delete is idempotent');
    await ok('DELETE', `/endpoints/${ep6.endpointID}/`);
    // the tenant's default network stays while the tenant names it
    const held = await call('DELETE', `${api}/networks/t1:net1/`);
    assert.equal(held.status, 409, held.text);
    assert.match(held.json.error, /used by tenant\(s\) t1/);
    await ok('POST', '/tenants/t1/', { tenantName: 't1', defaultNetwork: '' });
    for (const p of [
      '/appProfiles/t1:app/',
      '/rules/t1:web-pol:1/',
      '/serviceLBs/t1:svc/',
      '/endpointGroups/t1:web/',
      '/policys/t1:web-pol/',
      '/policys/t1:db-pol/',
      '/netprofiles/t1:gold/',
      '/extContractsGroups/t1:ext/',
      '/networks/t1:net1/',
      '/networks/t1:vlan1/',
      '/Bgps/host1/',
      '/aciGws/aciGw/',
    ]) {
      const r = await call('DELETE', `${api}${p}`);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.equal(r.json, p.split('/')[2]);
    }
    assert.equal(await ok('DELETE', '/tenants/t1/'), 't1');
    const after = await ok('GET', '/consistency');
    assert.equal(after.clean, true, JSON.stringify(after));
    assert.equal(after.counts.allocations, 0, 'every allocation was released');
  });

  it('refuses bad requests with 4xx JSON and writes nothing', async () => {
    const r0 = await call('POST', `${api}/tenants/t2/`, { tenantName: 't2' });
    assert.equal(r0.status, 200);
    assert.equal(
      (
        await call('POST', `${api}/networks/t2:a/`, {
          tenantName: 't2',
          networkName: 'a',
          subnet: '10.5.0.0/16',
          encap: 'vlan',
          pktTag: 500,
        })
      ).status,
      200,
    );
    assert.equal((await call('POST', `${api}/endpointGroups/t2:g/`, { tenantName: 't2', groupName: 'g', networkName: 'a' })).status, 200);
    // each refused with its status, code and field, and nothing written
    const refusals: Array<Parameters<typeof expectRefused>> = [
      ['POST', '/tenants/t3/', '{not json', 400, 'INVALID_ARGUMENT', 'body'],
      ['POST', '/tenants/t3/', { tenantName: 't4' }, 400, 'INVALID_ARGUMENT', 'key'],
      ['POST', '/tenants/bad_name/', { tenantName: 'bad_name' }, 400, 'INVALID_ARGUMENT', 'tenantName'],
      ['POST', '/networks/t2:b/', { tenantName: 't2', networkName: 'b', subnet: '10.5.1.0/24' }, 409, 'CONFLICT', 'subnet'],
      [
        'POST',
        '/networks/t2:b/',
        { tenantName: 't2', networkName: 'b', subnet: '10.6.0.0/24', encap: 'vlan', pktTag: 500 },
        409,
        'CONFLICT',
        'pktTag',
      ],
      [
        'POST',
        '/networks/t2:a/',
        { tenantName: 't2', networkName: 'a', subnet: '10.7.0.0/16', encap: 'vlan', pktTag: 500 },
        409,
        'CONFLICT',
        'subnet',
      ],
      ['POST', '/networks/nope:b/', { tenantName: 'nope', networkName: 'b', subnet: '10.6.0.0/24' }, 404, 'NOT_FOUND', 'tenantName'],
      [
        'POST',
        '/rules/t2:p:1/',
        { tenantName: 't2', policyName: 'p', ruleId: '1', direction: 'in', priority: 101 },
        400,
        'INVALID_ARGUMENT',
        'priority',
      ],
      ['POST', '/endpointGroups/t2:a/', { tenantName: 't2', groupName: 'a', networkName: 'a' }, 409, 'CONFLICT', 'groupName'],
      ['DELETE', '/networks/t2:a/', undefined, 409, 'IN_USE'],
      ['DELETE', '/tenants/t2/', undefined, 409, 'IN_USE'],
      ['DELETE', '/globals/global/', undefined, 409, 'CONFLICT'],
      ['GET', '/networks/t2:zz/', undefined, 404, 'NOT_FOUND'],
      ['DELETE', '/networks/t2:zz/', undefined, 404, 'NOT_FOUND'],
      ['GET', '/widgets/', undefined, 404, 'NOT_FOUND'],
      ['POST', '/endpoints/', { tenantName: 't2', networkName: 'zz', containerID: 'x' }, 404, 'NOT_FOUND', 'networkName'],
      [
        'POST',
        '/endpoints/',
        { tenantName: 't2', networkName: 'a', ipAddress: '10.9.9.9', containerID: 'x' },
        400,
        'INVALID_ARGUMENT',
        'ipAddress',
      ],
      ['GET', '/inspect/endpoints/nope/', undefined, 404, 'NOT_FOUND'],
    ];
    for (const r of refusals) await expectRefused(...r);
    // an endpoint makes the group and the network "in use"
    const ep = await call('POST', `${api}/endpoints/`, { tenantName: 't2', networkName: 'a', groupName: 'g', containerID: 'x' });
    assert.equal(ep.status, 200);
    await expectRefused(
      'POST',
      '/endpoints/',
      { tenantName: 't2', networkName: 'a', ipAddress: ep.json.ipAddress, containerID: 'y' },
      409,
      'CONFLICT',
      'ipAddress',
    );
    await expectRefused('DELETE', '/endpointGroups/t2:g/', undefined, 409, 'IN_USE');
    assert.equal((await call('DELETE', `${api}/endpoints/${ep.json.endpointID}/`)).status, 200);
    assert.equal((await call('DELETE', `${api}/endpointGroups/t2:g/`)).status, 200);
    assert.equal((await call('DELETE', `${api}/networks/t2:a/`)).status, 200);
    assert.equal((await call('DELETE', `${api}/tenants/t2/`)).status, 200);
  });

  it('streams changes as server-sent events from a revision', async () => {
    const since = await nm?.service.currentRevision();
    await call('POST', `${api}/tenants/w1/`, { tenantName: 'w1' });
    await call('DELETE', `${api}/tenants/w1/`);
    const events: Array<{ op: string; type: string; key: string }> = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${api}/watch?since=${since}`, (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers['content-type']), /text\/event-stream/);
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          for (const m of buf.matchAll(/^data: (.*)$/gm)) {
            const e = JSON.parse(m[1] ?? '{}') as { op: string; type: string; key: string };
            if (!events.some((x) => JSON.stringify(x) === JSON.stringify({ op: e.op, type: e.type, key: e.key })))
              events.push({ op: e.op, type: e.type, key: e.key });
          }
          if (events.length >= 2) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (events.length >= 2 ? resolve() : reject(e)));
      setTimeout(() => {
        req.destroy();
        reject(new Error(`only ${events.length} events`));
      }, 5000).unref();
    });
    assert.deepEqual(events.slice(0, 2), [
      { op: 'put', type: 'tenant', key: 'w1' },
      { op: 'delete', type: 'tenant', key: 'w1' },
    ]);
  });

  it('a snapshot at a revision plus the watch from it misses nothing', async () => {
    const svc = nm?.service;
    assert.ok(svc);
    const snap = await svc.snapshot();
    assert.ok(snap.objects.some((o) => o.type === 'global' && o.key === 'global'));
    assert.ok(!snap.objects.some((o) => o.key === 'snap1'));
    await call('POST', `${api}/tenants/snap1/`, { tenantName: 'snap1' });
    const seen: string[] = [];
    const stop = await svc.watch(
      snap.revision,
      (e) => seen.push(`${e.op} ${e.type} ${e.key}`),
      () => undefined,
    );
    try {
      await waitFor('the change after the snapshot', () => seen.includes('put tenant snap1'), { timeoutMs: 5000, intervalMs: 20 });
    } finally {
      await stop();
    }
    assert.equal((await call('DELETE', `${api}/tenants/snap1/`)).status, 200);
  });

  it('serves version, info, OpenAPI and metrics', async () => {
    const base = nm?.url ?? '';
    assert.match((await call('GET', `${base}/version`)).json.Version, /^\d+\.\d+\.\d+/);
    assert.equal((await call('GET', `${base}/info`)).json.FwdMode, 'bridge');
    const h = await call('GET', `${base}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(h.json.intentCopy, true);
    assert.match(h.json.revision, /^\d+$/);
    const doc = (await call('GET', `${api}/openapi.json`)).json;
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/networks/{key}/'].post);
    assert.deepEqual(doc.components.schemas.rule.properties.direction.enum, ['in', 'out']);
    assert.ok(doc.paths['/api/v1/trace/'].post);
    assert.deepEqual(doc.components.schemas.traceRequest.properties.protocol.enum, ['tcp', 'udp', 'icmp']);
    const m = (await call('GET', `${base}/metrics`)).text;
    assert.match(m, /netmaster_http_requests_total\{method="POST",route="\/api\/v1\/:coll\/:key\/",status="200"\} \d+/);
    assert.match(m, /netmaster_http_requests_total\{method="POST",route="\/api\/v1\/:coll\/:key\/",status="409"\} \d+/);
    assert.match(m, /netmaster_objects\{type="tenant"\} 1/);
    assert.match(m, /netmaster_allocations\{kind="ip"\} 0/);
    assert.match(m, /netmaster_fast_commits [1-9]\d*/);
  });

  it('repairs a leaked allocation found by the consistency check', async () => {
    const kv = nm?.service.kv;
    assert.ok(kv);
    await kv.commit([], [{ kind: 'put', key: layout.tag('vlan', 4000), value: 'ghost:net' }]);
    const c = (await call('GET', `${api}/consistency`)).json;
    assert.equal(c.clean, false);
    assert.deepEqual(
      c.leaked.map((f: { key: string }) => f.key),
      [layout.tag('vlan', 4000)],
    );
    const fixed = (await call('POST', `${api}/consistency`, { repair: true })).json;
    assert.equal(fixed.repaired, 1);
    assert.equal((await call('GET', `${api}/consistency`)).json.clean, true);
  });

  it('asks for the bearer token on every call when configured, reads included (/healthz stays open)', async () => {
    assert.ok(etcd);
    const secured = await startNetmaster({ etcdEndpoints: [etcd.url], logger: silent(), authToken: 's3cret' });
    try {
      const a = `${secured.url}/api/v1`;
      assert.equal((await call('GET', `${a}/tenants/`)).status, 401, 'reads need the token too');
      assert.equal((await call('GET', `${secured.url}/metrics`)).status, 401);
      assert.equal((await call('GET', `${a}/tenants/`, undefined, { Authorization: 'Bearer s3cret' })).status, 200);
      assert.equal((await call('GET', `${secured.url}/healthz`)).status, 200, 'the probe needs none');
      const denied = await call('POST', `${a}/tenants/sec/`, { tenantName: 'sec' });
      assert.equal(denied.status, 401);
      assert.equal(denied.json.code, 'UNAUTHENTICATED');
      const allowed = await call('POST', `${a}/tenants/sec/`, { tenantName: 'sec' }, { Authorization: 'Bearer s3cret' });
      assert.equal(allowed.status, 200);
      assert.equal((await call('DELETE', `${a}/tenants/sec/`, undefined, { Authorization: 'Bearer s3cret' })).status, 200);
    } finally {
      await secured.stop();
    }
  });

  it('serves HTTPS when given a certificate and key', async () => {
    assert.ok(etcd);
    const dir = '/tmp/nl-netmaster/tls';
    mkdirSync(dir, { recursive: true });
    await makeSelfSigned(dir, 'server', '127.0.0.1', 'IP:127.0.0.1');
    const cert = readFileSync(`${dir}/server.crt`);
    const tlsNm = await startNetmaster({
      etcdEndpoints: [etcd.url],
      logger: silent(),
      tls: { cert, key: readFileSync(`${dir}/server.key`) },
    });
    try {
      assert.match(tlsNm.url, /^https:/);
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get(`${tlsNm.url}/api/v1/tenants/`, { ca: cert }, (res) => {
            let b = '';
            res.on('data', (c: Buffer) => (b += c.toString()));
            res.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      assert.ok((JSON.parse(body) as Array<{ key: string }>).some((t) => t.key === 'default'));
    } finally {
      await tlsNm.stop();
    }
  });

  it('bin/netmaster serves the API with Contiv flags and stops cleanly on SIGTERM', async () => {
    assert.ok(etcd);
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const child = spawn(bin, ['--insecure', '--etcd', etcd.url, '--listen-url', `127.0.0.1:${port}`, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const pid = child.pid ?? 0;
    try {
      await waitFor(
        'bin/netmaster to answer',
        async () => (await call('GET', `http://127.0.0.1:${port}/version`).catch(() => undefined))?.status === 200,
        { timeoutMs: 10_000 },
      );
      const r = await call('GET', `http://127.0.0.1:${port}/api/v1/tenants/`);
      assert.ok(r.json.some((t: { key: string }) => t.key === 'default'));
      process.kill(pid, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5000))]);
      assert.equal(code, 0, `exit code after SIGTERM (stderr: ${stderr})`);
    } finally {
      if (pid && isAlive(pid)) await stopProcess(pid, 'netmaster');
    }
  });
  it('bin/netmaster stops cleanly on a SIGTERM that comes while its agent side is still starting', async () => {
    assert.ok(etcd);
    const free = () =>
      new Promise<number>((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as { port: number }).port;
          s.close(() => resolve(p));
        });
      });
    const [port, grpcPort] = [await free(), await free()];
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const child = spawn(
      bin,
      [
        '--insecure',
        '--etcd',
        etcd.url,
        '--listen-url',
        `127.0.0.1:${port}`,
        '--grpc-listen',
        `127.0.0.1:${grpcPort}`,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    const pid = child.pid ?? 0;
    try {
      // REST answers before the agent API has started (etcd session, cluster read): signal at once
      await waitFor(
        'bin/netmaster to answer',
        async () => (await call('GET', `http://127.0.0.1:${port}/version`).catch(() => undefined))?.status === 200,
        { timeoutMs: 10_000, intervalMs: 2 },
      );
      process.kill(pid, 'SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
      assert.equal(code, 0, `exit after SIGTERM during start (stderr: ${stderr})`);
    } finally {
      if (pid && isAlive(pid)) await stopProcess(pid, 'netmaster');
    }
  });
});
