/**
 * One valid request of every kind (and of endpoints) in a tenant of their own, in dependency
 * order: the REST limit tests and the REST fuzz start from these and change one thing at a time.
 */
export interface ValidRequest {
  /** the REST collection (`endpoints` for endpoints) */
  collection: string;
  /** the object's key in the path ('' for an endpoint create) */
  key: string;
  body: Record<string, unknown>;
}

/** Valid requests for tenant `t`, its network on 10.77.<n>.0/24, in the order they can be created. */
export function validRequests(t: string, n = 1): ValidRequest[] {
  const subnet = `10.77.${n}.0/24`;
  return [
    { collection: 'tenants', key: t, body: { tenantName: t, defaultNetwork: '' } },
    {
      collection: 'networks',
      key: `${t}:net1`,
      body: { tenantName: t, networkName: 'net1', encap: 'vxlan', subnet, gateway: `10.77.${n}.1`, cfgdTag: 'blue' },
    },
    { collection: 'policys', key: `${t}:pol`, body: { tenantName: t, policyName: 'pol' } },
    {
      collection: 'rules',
      key: `${t}:pol:1`,
      body: { tenantName: t, policyName: 'pol', ruleId: '1', direction: 'in', priority: 5, protocol: 'tcp', port: 80, action: 'allow' },
    },
    {
      collection: 'netprofiles',
      key: `${t}:prof`,
      body: { tenantName: t, profileName: 'prof', bandwidth: '10mbps', DSCP: 10, burst: 100 },
    },
    {
      collection: 'extContractsGroups',
      key: `${t}:ext`,
      body: { tenantName: t, contractsGroupName: 'ext', contractsType: 'provided', contracts: ['c1'] },
    },
    {
      collection: 'endpointGroups',
      key: `${t}:grp`,
      body: {
        tenantName: t,
        groupName: 'grp',
        networkName: 'net1',
        policies: ['pol'],
        netProfile: 'prof',
        extContractsGrps: ['ext'],
        cfgdTag: 'web',
      },
    },
    { collection: 'appProfiles', key: `${t}:app`, body: { tenantName: t, appProfileName: 'app', endpointGroups: ['grp'] } },
    {
      collection: 'serviceLBs',
      key: `${t}:svc`,
      body: {
        tenantName: t,
        serviceName: 'svc',
        networkName: 'net1',
        ipAddress: `10.77.${n}.200`,
        selectors: ['app=db'],
        ports: ['80:8080:TCP'],
      },
    },
    {
      collection: 'networks',
      key: `${t}:vnet`,
      body: { tenantName: t, networkName: 'vnet', encap: 'vlan', subnet: `10.76.${n}.0/24`, gateway: `10.76.${n}.1` },
    },
    {
      collection: 'externalEndpoints',
      key: `${t}:srv`,
      body: {
        tenantName: t,
        endpointName: 'srv',
        networkName: 'vnet',
        ipAddress: `10.76.${n}.50`,
        macAddress: `02:00:00:76:${(n % 256).toString(16).padStart(2, '0')}:50`,
      },
    },
    { collection: 'tenants', key: t, body: { tenantName: t, defaultNetwork: 'net1' } },
    {
      collection: 'Bgps',
      key: `${t}-host`,
      body: { hostname: `${t}-host`, routerip: '50.1.1.1/24', as: '65001', neighbor: '50.1.1.2', 'neighbor-as': '65002' },
    },
    { collection: 'aciGws', key: 'aciGw', body: { name: 'aciGw', enforcePolicies: 'yes', includeCommonTenant: 'no' } },
    {
      collection: 'globals',
      key: 'global',
      body: {
        name: 'global',
        networkInfraType: 'default',
        vlans: '1-4094',
        vxlans: '1-10000',
        fwdMode: 'bridge',
        arpMode: 'proxy',
        pvtSubnet: '172.19.0.0/16',
      },
    },
    {
      collection: 'endpoints',
      key: '',
      body: {
        tenantName: t,
        networkName: 'net1',
        groupName: 'grp',
        containerID: `${t}-c1`,
        containerName: 'web-1',
        homingHost: 'host1',
        intfName: 'eth0',
        labels: { app: 'db', 'io.example/tier': 'back' },
      },
    },
  ];
}

/** The path of a request under /api/v1 (`/networks/t:net1/`, `/endpoints/`). */
export function pathOf(r: ValidRequest): string {
  return r.key === '' ? `/${r.collection}/` : `/${r.collection}/${r.key}/`;
}
