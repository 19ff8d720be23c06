/**
 * The REST contract Contiv's own client relies on (issue 18), on a real netmaster and etcd: what
 * its netctl and contivmodel client read, as data taken from Contiv's model (field names and JSON
 * types of every config, oper, links and link-sets field) and from its client (an error is shown
 * only with status 500 and a text body; a 404 on DELETE counts as success). Requests are made as
 * that client makes them: `User-Agent: Go-http-client/1.1`, no Accept, no Content-Type.
 * Every other client keeps the 4xx JSON errors. The real binary's session is
 * test/contiv-session/run.sh (outside CI: it needs Contiv's sources).
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { call, startTestEtcd, type HttpResult, type TestEtcd } from './support';

/** JSON types as Go's encoding/json decodes Contiv's structs: a wrong type fails the whole decode. */
type T = 'string' | 'int' | 'string[]' | 'link' | 'linkMap' | { list: Shape } | { obj: Shape };
type Shape = Record<string, T>;

const LINK: Shape = { type: 'string', key: 'string' };
const ENDPOINT: Shape = {
  key: 'string',
  containerID: 'string',
  containerName: 'string',
  endpointGroupId: 'int',
  endpointGroupKey: 'string',
  endpointID: 'string',
  homingHost: 'string',
  intfName: 'string',
  ipAddress: 'string[]',
  labels: 'string',
  macAddress: 'string',
  network: 'string',
  serviceName: 'string',
  virtualPort: 'string',
  vtepIP: 'string',
};
const NETWORK_OPER: Shape = {
  allocatedAddressesCount: 'int',
  allocatedIPAddresses: 'string',
  availableIPAddresses: 'string',
  endpoints: { list: ENDPOINT },
  externalPktTag: 'int',
  networkTag: 'string',
  numEndpoints: 'int',
  pktTag: 'int',
};
const GROUP_OPER: Shape = {
  allocatedIPAddresses: 'string',
  availableIPAddresses: 'string',
  endpoints: { list: ENDPOINT },
  externalPktTag: 'int',
  groupTag: 'string',
  numEndpoints: 'int',
  pktTag: 'int',
};
const POLICY_OPER: Shape = { endpoints: { list: ENDPOINT }, numEndpoints: 'int', policyViolations: 'int' };
const SERVICE_OPER: Shape = { numProviders: 'int', providers: { list: ENDPOINT }, serviceVip: 'string' };

interface Model {
  config: Shape;
  /** link names of `links` (each a {type,key}) and of `link-sets` (each a map of them) */
  links: string[];
  linkSets: string[];
  oper?: Shape;
}

const MODEL: Record<string, Model> = {
  tenants: {
    config: { key: 'string', defaultNetwork: 'string', tenantName: 'string' },
    links: [],
    linkSets: ['AppProfiles', 'EndpointGroups', 'NetProfiles', 'Networks', 'Policies', 'Servicelbs', 'VolumeProfiles', 'Volumes'],
    oper: {
      endpointGroups: { list: GROUP_OPER },
      endpoints: { list: ENDPOINT },
      networks: { list: NETWORK_OPER },
      policies: { list: POLICY_OPER },
      servicelbs: { list: SERVICE_OPER },
      totalAppProfiles: 'int',
      totalEPGs: 'int',
      totalEndpoints: 'int',
      totalNetprofiles: 'int',
      totalNetworks: 'int',
      totalPolicies: 'int',
      totalServicelbs: 'int',
    },
  },
  networks: {
    config: {
      key: 'string',
      cfgdTag: 'string',
      encap: 'string',
      gateway: 'string',
      ipv6Gateway: 'string',
      ipv6Subnet: 'string',
      networkName: 'string',
      nwType: 'string',
      pktTag: 'int',
      subnet: 'string',
      tenantName: 'string',
    },
    links: ['Tenant'],
    linkSets: ['EndpointGroups', 'Servicelbs', 'Services'],
    oper: NETWORK_OPER,
  },
  endpointGroups: {
    config: {
      key: 'string',
      cfgdTag: 'string',
      extContractsGrps: 'string[]',
      groupName: 'string',
      ipPool: 'string',
      netProfile: 'string',
      networkName: 'string',
      policies: 'string[]',
      tenantName: 'string',
    },
    links: ['AppProfile', 'NetProfile', 'Network', 'Tenant'],
    linkSets: ['ExtContractsGrps', 'MatchRules', 'Policies', 'Services'],
    oper: GROUP_OPER,
  },
  policys: {
    config: { key: 'string', policyName: 'string', tenantName: 'string' },
    links: ['Tenant'],
    linkSets: ['EndpointGroups', 'Rules'],
    oper: POLICY_OPER,
  },
  rules: {
    config: {
      key: 'string',
      action: 'string',
      direction: 'string',
      fromEndpointGroup: 'string',
      fromIpAddress: 'string',
      fromNetwork: 'string',
      policyName: 'string',
      port: 'int',
      priority: 'int',
      protocol: 'string',
      ruleId: 'string',
      tenantName: 'string',
      toEndpointGroup: 'string',
      toIpAddress: 'string',
      toNetwork: 'string',
    },
    links: ['MatchEndpointGroup'],
    linkSets: ['Policies'],
  },
  netprofiles: {
    config: { key: 'string', DSCP: 'int', bandwidth: 'string', burst: 'int', profileName: 'string', tenantName: 'string' },
    links: ['Tenant'],
    linkSets: ['EndpointGroups'],
  },
  appProfiles: {
    config: { key: 'string', appProfileName: 'string', endpointGroups: 'string[]', tenantName: 'string' },
    links: ['Tenant'],
    linkSets: ['EndpointGroups'],
  },
  extContractsGroups: {
    config: { key: 'string', contracts: 'string[]', contractsGroupName: 'string', contractsType: 'string', tenantName: 'string' },
    links: [],
    linkSets: ['EndpointGroups'],
  },
  globals: {
    config: {
      key: 'string',
      arpMode: 'string',
      fwdMode: 'string',
      name: 'string',
      networkInfraType: 'string',
      pvtSubnet: 'string',
      vlans: 'string',
      vxlans: 'string',
    },
    links: [],
    linkSets: [],
    oper: {
      clusterMode: 'string',
      defaultNetwork: 'string',
      freeVXLANsStart: 'int',
      numNetworks: 'int',
      vlansInUse: 'string',
      vxlansInUse: 'string',
    },
  },
  aciGws: {
    config: {
      key: 'string',
      enforcePolicies: 'string',
      includeCommonTenant: 'string',
      name: 'string',
      nodeBindings: 'string',
      pathBindings: 'string',
      physicalDomain: 'string',
    },
    links: [],
    linkSets: [],
    oper: { numAppProfiles: 'int' },
  },
  Bgps: {
    config: { key: 'string', as: 'string', hostname: 'string', neighbor: 'string', 'neighbor-as': 'string', routerip: 'string' },
    links: [],
    linkSets: [],
    oper: { adminStatus: 'string', neighborStatus: 'string', numRoutes: 'int', routes: 'string[]' },
  },
  serviceLBs: {
    config: {
      key: 'string',
      ipAddress: 'string',
      networkName: 'string',
      ports: 'string[]',
      selectors: 'string[]',
      serviceName: 'string',
      tenantName: 'string',
    },
    links: ['Network', 'Tenant'],
    linkSets: [],
    oper: SERVICE_OPER,
  },
};

/** Every field of `v` that the shape names has the shape's JSON type (Go ignores the others). */
function checkShape(v: unknown, shape: Shape, where: string): void {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${where} must be an object`);
  for (const k of Object.keys(v as Record<string, unknown>)) {
    const want = shape[k];
    if (want !== undefined) checkType((v as Record<string, unknown>)[k], want, `${where}.${k}`);
  }
}

function checkType(v: unknown, t: T, where: string): void {
  if (t === 'string') assert.equal(typeof v, 'string', `${where} must be a string, is ${JSON.stringify(v)}`);
  else if (t === 'int') assert.ok(Number.isInteger(v), `${where} must be an integer, is ${JSON.stringify(v)}`);
  else if (t === 'string[]') assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `${where} must be a list of strings`);
  else if (t === 'link') checkShape(v, LINK, where);
  else if (t === 'linkMap') {
    checkShape(v, {}, where);
    for (const [k, l] of Object.entries(v as Record<string, unknown>)) checkShape(l, LINK, `${where}[${k}]`);
  } else if ('list' in t) {
    assert.ok(Array.isArray(v), `${where} must be a list`);
    v.forEach((x, i) => checkShape(x, t.list, `${where}[${i}]`));
  } else checkShape(v, t.obj, where);
}

/** An object as Contiv's model reads it: config fields present and typed, links and link-sets typed. */
function checkObject(coll: string, o: unknown): void {
  const m = MODEL[coll];
  assert.ok(m, coll);
  checkShape(o, m.config, coll);
  const obj = o as Record<string, unknown>;
  for (const f of Object.keys(m.config)) assert.ok(f in obj, `${coll} ${String(obj.key)} lacks ${f}`);
  if (m.links.length > 0) checkShape(obj.links, Object.fromEntries(m.links.map((l) => [l, 'link' as T])), `${coll}.links`);
  if (m.linkSets.length > 0) {
    assert.ok('link-sets' in obj, `${coll} ${String(obj.key)} lacks link-sets`);
    checkShape(obj['link-sets'], Object.fromEntries(m.linkSets.map((l) => [l, 'linkMap' as T])), `${coll}.link-sets`);
  }
}

const GO = { 'User-Agent': 'Go-http-client/1.1', 'Accept-Encoding': 'gzip' };

describe("netmaster: the REST contract of Contiv's own client (issue 18)", function () {
  this.timeout(60_000);
  let etcd: TestEtcd | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  /** A call as Contiv's client makes it. */
  const contiv = (method: string, path: string, body?: unknown): Promise<HttpResult> => call(method, `${api}${path}`, body, GO);
  const ok = async (method: string, path: string, body?: unknown): Promise<HttpResult> => {
    const r = await contiv(method, path, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
    return r;
  };

  before(async () => {
    etcd = await startTestEtcd(
      {
        name: 'contract1',
        clientUrl: 'http://127.0.0.1:24930',
        peerUrl: 'http://127.0.0.1:24931',
        dataDir: '/tmp/nl-contiv-contract/etcd1',
      },
      '/tmp/nl-contiv-contract/logs',
    );
    nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('contract', { level: 'silent' }) });
    api = `${nm.url}/api/v1`;
    // a tenant with one of everything, created with the bodies Contiv's netctl sends
    await ok('POST', '/tenants/ct/', { tenantName: 'ct', 'link-sets': {} });
    await ok('POST', '/networks/ct:nv/', {
      encap: 'vlan',
      gateway: '10.61.1.1',
      networkName: 'nv',
      nwType: 'data',
      pktTag: 161,
      subnet: '10.61.1.0/24',
      tenantName: 'ct',
      'link-sets': {},
      links: { Tenant: {} },
    });
    // Contiv's dual-stack form: IPv4 gateway at .254, IPv6 gateway at ::1 (refused before issue 18)
    await ok('POST', '/networks/ct:nx/', {
      encap: 'vxlan',
      gateway: '10.61.2.254',
      ipv6Gateway: '2001:db8:61::1',
      ipv6Subnet: '2001:db8:61::/64',
      networkName: 'nx',
      subnet: '10.61.2.0/24',
      tenantName: 'ct',
      'link-sets': {},
      links: { Tenant: {} },
    });
    await ok('POST', '/netprofiles/ct:np/', {
      DSCP: 10,
      bandwidth: '10mbps',
      burst: 64,
      profileName: 'np',
      tenantName: 'ct',
      'link-sets': {},
      links: { Tenant: {} },
    });
    await ok('POST', '/policys/ct:pw/', { policyName: 'pw', tenantName: 'ct', 'link-sets': {}, links: { Tenant: {} } });
    await ok('POST', '/extContractsGroups/ct:ec/', {
      contracts: ['uni/tn-x/brc-y'],
      contractsGroupName: 'ec',
      contractsType: 'consumed',
      tenantName: 'ct',
    });
    const grp = { 'link-sets': {}, links: { AppProfile: {}, NetProfile: {}, Network: {}, Tenant: {} } };
    await ok('POST', '/endpointGroups/ct:web/', {
      ...grp,
      groupName: 'web',
      networkName: 'nv',
      netProfile: 'np',
      policies: ['pw'],
      extContractsGrps: ['ec'],
      tenantName: 'ct',
    });
    await ok('POST', '/endpointGroups/ct:db/', {
      ...grp,
      groupName: 'db',
      networkName: 'nv',
      ipPool: '10.61.1.100-10.61.1.120',
      tenantName: 'ct',
    });
    await ok('POST', '/rules/ct:pw:1/', {
      action: 'allow',
      direction: 'in',
      fromEndpointGroup: 'db',
      policyName: 'pw',
      port: 5432,
      priority: 10,
      protocol: 'tcp',
      ruleId: '1',
      tenantName: 'ct',
      links: { MatchEndpointGroup: {} },
    });
    await ok('POST', '/appProfiles/ct:app/', {
      appProfileName: 'app',
      endpointGroups: ['web', 'db'],
      tenantName: 'ct',
      'link-sets': {},
      links: { Tenant: {} },
    });
    await ok('POST', '/serviceLBs/ct:svc/', {
      serviceName: 'svc',
      networkName: 'nv',
      selectors: ['app=web'],
      ports: ['80:8080:TCP'],
      tenantName: 'ct',
    });
    await ok('POST', '/Bgps/hc1/', {
      hostname: 'hc1',
      routerip: '10.62.0.2/24',
      as: '65001',
      neighbor: '10.62.0.1',
      'neighbor-as': '65000',
    });
    await ok('POST', '/aciGws/aciGw/', { name: 'aciGw', enforcePolicies: 'yes', includeCommonTenant: 'no', physicalDomain: 'dom' });
    for (const [net, group, id, labels] of [
      ['nv', 'web', 'cw', { app: 'web', tier: 'front' }],
      ['nv', 'db', 'cd', {}],
    ] as const) {
      await ok('POST', '/endpoints/', { tenantName: 'ct', networkName: net, groupName: group, containerID: id, homingHost: 'hc1', labels });
    }
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
  });

  it("serves every kind, listed, read and inspected, with the fields and JSON types of Contiv's model", async () => {
    const keys: Record<string, string> = {
      tenants: 'ct',
      networks: 'ct:nx',
      endpointGroups: 'ct:web',
      policys: 'ct:pw',
      rules: 'ct:pw:1',
      netprofiles: 'ct:np',
      appProfiles: 'ct:app',
      extContractsGroups: 'ct:ec',
      globals: 'global',
      aciGws: 'aciGw',
      Bgps: 'hc1',
      serviceLBs: 'ct:svc',
    };
    for (const [coll, key] of Object.entries(keys)) {
      const list = (await ok('GET', `/${coll}/`)).json as unknown[];
      assert.ok(list.length > 0, coll);
      for (const o of list) checkObject(coll, o);
      checkObject(coll, (await ok('GET', `/${coll}/${key}/`)).json);
      const i = (await ok('GET', `/inspect/${coll}/${key}/`)).json as { Config: unknown; Oper: unknown };
      checkObject(coll, i.Config);
      const oper = MODEL[coll]?.oper;
      if (oper) checkShape(i.Oper, oper, `${coll} Oper`);
    }
    for (const key of ['ct:nv', 'ct:db']) {
      const coll = key === 'ct:nv' ? 'networks' : 'endpointGroups';
      checkShape((await ok('GET', `/inspect/${coll}/${key}/`)).json.Oper, MODEL[coll]!.oper!, `${coll} ${key} Oper`);
    }
  });

  it("serves the oper values Contiv's users read (issue 18): arrays, groupTag text, allocated addresses, cluster mode", async () => {
    const t = (await ok('GET', '/inspect/tenants/ct/')).json.Oper;
    assert.deepEqual([t.networks.length, t.endpointGroups.length, t.policies.length, t.servicelbs.length], [2, 2, 1, 1]);
    assert.deepEqual(
      [t.totalNetworks, t.totalEPGs, t.totalPolicies, t.totalNetprofiles, t.totalAppProfiles, t.totalServicelbs, t.totalEndpoints],
      [2, 2, 1, 1, 1, 1, 2],
    );
    const web = (await ok('GET', '/inspect/endpointGroups/ct:web/')).json.Oper;
    assert.equal(web.groupTag, 'web.ct');
    assert.equal(web.pktTag, 161);
    const db = (await ok('GET', '/inspect/endpointGroups/ct:db/')).json.Oper;
    assert.equal(db.allocatedIPAddresses, '10.61.1.100');
    assert.equal(db.availableIPAddresses, '10.61.1.101-10.61.1.120');
    const nv = (await ok('GET', '/inspect/networks/ct:nv/')).json.Oper;
    assert.equal(nv.allocatedAddressesCount, 3, 'two endpoints and the service address');
    assert.equal(typeof nv.networkTag, 'string');
    const g = (await ok('GET', '/inspect/globals/global/')).json.Oper;
    assert.equal(g.clusterMode, 'netloom');
    assert.ok(g.freeVXLANsStart >= 1);
    assert.equal((await ok('GET', '/inspect/aciGws/aciGw/')).json.Oper.numAppProfiles, 1);
    const svc = (await ok('GET', '/inspect/serviceLBs/ct:svc/')).json;
    assert.equal(svc.Oper.serviceVip, svc.Config.ipAddress);
    assert.equal(svc.Oper.numProviders, 1);
    assert.ok(Array.isArray(svc.Oper.providers[0].ipAddress));
  });

  it("shows a network's packet tag as Contiv did: config pktTag as given (0 when allocated), Oper pktTag the tag in use", async () => {
    // ct:nx was created without pktTag: its VNI was allocated
    const configs = async (key: string) => [
      ((await ok('GET', '/networks/')).json as Array<{ key: string; pktTag: number }>).find((n) => n.key === key)?.pktTag,
      (await ok('GET', `/networks/${key}/`)).json.pktTag,
      (await ok('GET', `/inspect/networks/${key}/`)).json.Config.pktTag,
    ];
    assert.deepEqual(await configs('ct:nx'), [0, 0, 0], 'list, GET and inspect Config show 0, as Contiv');
    const tag = (await ok('GET', '/inspect/networks/ct:nx/')).json.Oper.pktTag as number;
    assert.ok(Number.isInteger(tag) && tag >= 1, `Oper pktTag ${tag}`);
    assert.equal((await ok('GET', '/inspect/networks/ct:nx/')).json.Oper.externalPktTag, tag);
    // it is the allocated tag: the allocator's key names this network, and the global oper counts it
    assert.equal((await nm!.service.kv.get(layout.tag('vxlan', tag)))?.value, 'ct:nx');
    assert.ok(
      String((await ok('GET', '/inspect/globals/global/')).json.Oper.vxlansInUse)
        .split(',')
        .includes(String(tag)),
    );
    // a given tag is shown in both
    assert.deepEqual(await configs('ct:nv'), [161, 161, 161]);
    assert.equal((await ok('GET', '/inspect/networks/ct:nv/')).json.Oper.pktTag, 161);
    // an update without a tag keeps the allocated one (config 0); naming another is refused, with the tag in use
    const body = {
      encap: 'vxlan',
      gateway: '10.61.2.254',
      ipv6Gateway: '2001:db8:61::1',
      ipv6Subnet: '2001:db8:61::/64',
      networkName: 'nx',
      subnet: '10.61.2.0/24',
      tenantName: 'ct',
    };
    await ok('POST', '/networks/ct:nx/', { ...body, cfgdTag: 'blue' });
    assert.deepEqual(await configs('ct:nx'), [0, 0, 0]);
    assert.equal((await ok('GET', '/inspect/networks/ct:nx/')).json.Oper.pktTag, tag);
    const other = tag === 10000 ? 9999 : tag + 1;
    const refused = await contiv('POST', '/networks/ct:nx/', { ...body, pktTag: other });
    assert.equal(refused.status, 500);
    assert.match(refused.text, new RegExp(`cannot change pktTag of network ct:nx from ${tag} to ${other}`));
    assert.equal((await call('POST', `${api}/networks/ct:nx/`, { ...body, pktTag: other })).status, 409);
    // the books agree: every allocation has its owner
    assert.equal((await call('GET', `${api}/consistency`)).json.clean, true);
  });

  it("frees an allocated network's tag on delete", async () => {
    await ok('POST', '/networks/ct:tmp/', { encap: 'vlan', networkName: 'tmp', subnet: '10.61.9.0/24', tenantName: 'ct' });
    const tag = (await ok('GET', '/inspect/networks/ct:tmp/')).json.Oper.pktTag as number;
    assert.equal((await ok('GET', '/networks/ct:tmp/')).json.pktTag, 0);
    assert.equal((await nm!.service.kv.get(layout.tag('vlan', tag)))?.value, 'ct:tmp');
    await ok('DELETE', '/networks/ct:tmp/');
    assert.equal(await nm!.service.kv.get(layout.tag('vlan', tag)), undefined, 'its allocation key is gone');
    // and the tag can be given to another network
    await ok('POST', '/networks/ct:tmp2/', { encap: 'vlan', networkName: 'tmp2', pktTag: tag, subnet: '10.61.9.0/24', tenantName: 'ct' });
    await ok('DELETE', '/networks/ct:tmp2/');
  });

  it('fills link-sets from the objects as they are', async () => {
    const ls = async (path: string) =>
      (await ok('GET', path)).json['link-sets'] as Record<string, Record<string, { type: string; key: string }>>;
    const tenant = await ls('/tenants/ct/');
    assert.deepEqual(Object.keys(tenant.Networks ?? {}).sort(), ['ct:nv', 'ct:nx']);
    assert.deepEqual(tenant.Networks?.['ct:nv'], { type: 'network', key: 'ct:nv' });
    assert.deepEqual(Object.keys(tenant.EndpointGroups ?? {}).sort(), ['ct:db', 'ct:web']);
    assert.deepEqual(Object.keys(tenant.Policies ?? {}), ['ct:pw']);
    assert.deepEqual(Object.keys(tenant.Servicelbs ?? {}), ['ct:svc']);
    assert.deepEqual(Object.keys((await ls('/networks/ct:nv/')).EndpointGroups ?? {}).sort(), ['ct:db', 'ct:web']);
    assert.deepEqual(await ls('/networks/ct:nx/'), {});
    const web = await ls('/endpointGroups/ct:web/');
    assert.deepEqual(web.Policies, { 'ct:pw': { type: 'policy', key: 'ct:pw' } });
    assert.deepEqual(Object.keys(web.ExtContractsGrps ?? {}), ['ct:ec']);
    assert.deepEqual(Object.keys((await ls('/endpointGroups/ct:db/')).MatchRules ?? {}), ['ct:pw:1']);
    const pol = await ls('/policys/ct:pw/');
    assert.deepEqual(Object.keys(pol.EndpointGroups ?? {}), ['ct:web']);
    assert.deepEqual(pol.Rules, { 'ct:pw:1': { type: 'rule', key: 'ct:pw:1' } });
    assert.deepEqual((await ls('/rules/ct:pw:1/')).Policies, { 'ct:pw': { type: 'policy', key: 'ct:pw' } });
    assert.deepEqual(Object.keys((await ls('/netprofiles/ct:np/')).EndpointGroups ?? {}), ['ct:web']);
    assert.deepEqual(Object.keys((await ls('/appProfiles/ct:app/')).EndpointGroups ?? {}).sort(), ['ct:db', 'ct:web']);
    assert.deepEqual(Object.keys((await ls('/extContractsGroups/ct:ec/')).EndpointGroups ?? {}), ['ct:web']);
  });

  it("gives Contiv's client endpoint labels as Contiv's text, others the object", async () => {
    const asContiv = (await ok('GET', '/inspect/networks/ct:nv/')).json.Oper.endpoints as Array<{ containerID: string; labels: unknown }>;
    assert.equal(asContiv.find((e) => e.containerID === 'cw')?.labels, 'map[app:web tier:front]');
    assert.equal(asContiv.find((e) => e.containerID === 'cd')?.labels, 'map[]');
    const plain = (await call('GET', `${api}/inspect/networks/ct:nv/`)).json.Oper.endpoints as Array<{
      containerID: string;
      labels: unknown;
    }>;
    assert.deepEqual(plain.find((e) => e.containerID === 'cw')?.labels, { app: 'web', tier: 'front' });
  });

  it("answers Contiv's client every error as 500 text with netctl's message; others keep 4xx JSON", async () => {
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      [
        'POST',
        '/networks/ct:bad/',
        { networkName: 'bad', tenantName: 'ct', subnet: '10.61.1.128/25' },
        409,
        /^subnet 10\.61\.1\.128\/25 overlaps .* \(field: subnet, code: CONFLICT\)\n$/,
      ],
      ['GET', '/tenants/nosuch/', undefined, 404, /^tenant nosuch does not exist \(code: NOT_FOUND\)\n$/],
      ['GET', '/volumes/', undefined, 404, /unknown collection 'volumes'.*\(field: collection, code: NOT_FOUND\)\n$/],
      [
        'POST',
        '/rules/ct:pw:2/',
        { ruleId: '2', policyName: 'pw', tenantName: 'ct', direction: 'in', port: 80 },
        400,
        /port 80 needs protocol tcp or udp .*\(field: port, code: INVALID_ARGUMENT\)/,
      ],
    ];
    for (const [method, path, body, status, text] of cases) {
      const r = await contiv(method, path, body);
      assert.equal(r.status, 500, `${method} ${path}: ${r.text}`);
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      assert.match(r.text, text);
      // the same request from netloom's netctl (Accept JSON), a Go program asking for JSON, or any other client: 4xx JSON
      for (const headers of [
        { Accept: 'application/json', 'User-Agent': 'netctl (netloom)' },
        { ...GO, Accept: 'application/json' },
        {},
      ] as Array<Record<string, string>>) {
        const p = await call(method, `${api}${path}`, body, headers);
        assert.equal(p.status, status, `${method} ${path} ${JSON.stringify(headers)}: ${p.text}`);
        assert.equal(typeof p.json.error, 'string');
      }
    }
  });

  it("makes a delete of a missing object fail in Contiv's client (it takes a 404 on DELETE for success)", async () => {
    for (const path of ['/tenants/nosuch/', '/networks/ct:nosuch/', '/policys/ct:nosuch/', '/rules/ct:pw:99/', '/Bgps/nosuch/']) {
      const r = await contiv('DELETE', path);
      assert.equal(r.status, 500, `${path}: ${r.text}`);
      assert.match(r.text, /does not exist/);
      assert.equal((await call('DELETE', `${api}${path}`)).status, 404, path);
    }
  });

  it("accepts Contiv's rule with a group and an address, and answers a delete with the key as a JSON string", async () => {
    await ok('POST', '/rules/ct:pw:3/', {
      action: 'deny',
      direction: 'in',
      fromEndpointGroup: 'db',
      fromIpAddress: '10.61.1.0/25',
      policyName: 'pw',
      ruleId: '3',
      tenantName: 'ct',
    });
    const r = await ok('DELETE', '/rules/ct:pw:3/');
    assert.equal(r.text, '"ct:pw:3"');
  });

  it('gives no endpoint the IPv6 gateway of a network whose IPv4 gateway is elsewhere (Contiv -g .254 -g6 ::1)', async () => {
    const eps = [];
    for (let i = 0; i < 3; i++) {
      eps.push((await ok('POST', '/endpoints/', { tenantName: 'ct', networkName: 'nx', containerID: `v6-${i}`, homingHost: 'hc1' })).json);
    }
    const v6 = eps.map((e: { ipv6Address: string }) => e.ipv6Address);
    assert.ok(!v6.includes('2001:db8:61::1'), v6.join(' '));
    assert.equal(new Set(v6).size, 3);
    const first = eps.find((e: { ipAddress: string }) => e.ipAddress === '10.61.2.1');
    assert.equal(first?.ipv6Address, '2001:db8:61::fe');
  });
});
