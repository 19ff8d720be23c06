/**
 * netctl read commands against the in-process fake netmaster: Contiv's tables (golden strings,
 * including Go tabwriter's trailing padding), the requests made (tenant check, then the list),
 * `-t` filtering, `-a`, `-q`, `-j`, `-o json|yaml`, inspect, global info, version, endpoints and
 * the consistency report.
 */
import { strict as assert } from 'node:assert';
import { parse as parseYaml } from 'yaml';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli, type CliResult } from './run-cli';

describe('netctl read commands (fake netmaster)', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  beforeEach(() => {
    fake.put('tenants', 't1', { tenantName: 't1' });
    fake.put('networks', 't1:net-vlan', {
      tenantName: 't1',
      networkName: 'net-vlan',
      nwType: 'data',
      encap: 'vlan',
      pktTag: 100,
      subnet: '10.2.1.0/24',
      gateway: '10.2.1.1',
    });
    fake.put('networks', 'default:n6', {
      tenantName: 'default',
      networkName: 'n6',
      nwType: 'infra',
      encap: 'vxlan',
      subnet: '10.3.0.0/16',
      gateway: '10.3.0.1',
      ipv6Subnet: '2001:db8::/64',
      ipv6Gateway: '2001:db8::1',
      cfgdTag: 'blue',
    });
  });
  afterEach(async () => {
    await fake.stop();
  });

  async function ok(...argv: string[]): Promise<CliResult> {
    const r = await runCli(['--netmaster', fake.url, ...argv]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    return r;
  }

  const paths = (): string[] => fake.requests.map((r) => `${r.method} ${r.path}`);

  it('tenant ls: Contiv table, -q, -j, -o yaml', async () => {
    assert.equal((await ok('tenant', 'ls')).stdout, 'Name     \n------   \ndefault  \nt1       \n');
    assert.equal((await ok('tenant', 'ls', '-q')).stdout, 'default\nt1\n');
    assert.deepEqual(JSON.parse((await ok('tenant', 'list', '-j')).stdout), [
      { key: 'default', tenantName: 'default' },
      { tenantName: 't1' },
    ]);
    assert.deepEqual(parseYaml((await ok('tenant', 'ls', '-o', 'yaml')).stdout), [
      { key: 'default', tenantName: 'default' },
      { tenantName: 't1' },
    ]);
  });

  it('net ls -t T checks the tenant, lists all networks and filters on the client', async () => {
    const r = await ok('net', 'ls', '-t', 't1');
    assert.equal(
      r.stdout,
      'Tenant  Network   Nw Type  Encap type  Packet tag  Subnet       Gateway   IPv6Subnet  IPv6Gateway  Cfgd Tag \n' +
        '------  -------   -------  ----------  ----------  -------      ------    ----------  -----------  ---------\n' +
        't1      net-vlan  data     vlan        100         10.2.1.0/24  10.2.1.1                           \n',
    );
    assert.deepEqual(paths(), ['GET /api/v1/tenants/t1/', 'GET /api/v1/networks/']);
  });

  it('net ls -a lists every tenant without a tenant check', async () => {
    const r = await ok('network', 'ls', '-a');
    assert.equal(
      r.stdout,
      'Tenant   Network   Nw Type  Encap type  Packet tag  Subnet       Gateway   IPv6Subnet     IPv6Gateway  Cfgd Tag \n' +
        '------   -------   -------  ----------  ----------  -------      ------    ----------     -----------  ---------\n' +
        't1       net-vlan  data     vlan        100         10.2.1.0/24  10.2.1.1                              \n' +
        'default  n6        infra    vxlan       0           10.3.0.0/16  10.3.0.1  2001:db8::/64  2001:db8::1  blue\n',
    );
    assert.deepEqual(paths(), ['GET /api/v1/networks/']);
  });

  it('net ls: default tenant, -q, -j, -o json, -o yaml', async () => {
    assert.equal((await ok('net', 'ls', '-q')).stdout, 'n6\n');
    assert.equal((await ok('net', 'ls', '-a', '-q')).stdout, 'net-vlan\nn6\n');
    const j = JSON.parse((await ok('net', 'ls', '-t', 't1', '--json')).stdout) as { networkName: string }[];
    assert.deepEqual(
      j.map((n) => n.networkName),
      ['net-vlan'],
    );
    const o = JSON.parse((await ok('net', 'ls', '-t', 't1', '-o', 'json')).stdout) as { networkName: string }[];
    assert.deepEqual(o, j);
    const y = parseYaml((await ok('net', 'ls', '-a', '-o', 'yaml')).stdout) as { networkName: string; pktTag?: number }[];
    assert.deepEqual(
      y.map((n) => n.networkName),
      ['net-vlan', 'n6'],
    );
    assert.equal(y[0]!.pktTag, 100);
  });

  it('net ls -t of a missing tenant fails with the server message', async () => {
    const r = await runCli(['--netmaster', fake.url, 'net', 'ls', '-t', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: tenants nosuch not found (code: NOT_FOUND)\n');
    assert.equal(r.stdout, '');
  });

  it('inspect commands GET /api/v1/inspect/<coll>/<key>/ and print indented JSON (or -o yaml)', async () => {
    const cases: [string[], string][] = [
      [['tenant', 'inspect', 't1'], '/api/v1/inspect/tenants/t1/'],
      [['net', 'inspect', '-t', 't1', 'net-vlan'], '/api/v1/inspect/networks/t1:net-vlan/'],
    ];
    for (const [argv, path] of cases) {
      fake.requests.length = 0;
      const r = await ok(...argv);
      assert.deepEqual(paths(), [`GET ${path}`]);
      assert.equal(r.stdout, JSON.stringify(JSON.parse(r.stdout), null, 2) + '\n');
      assert.ok('Config' in (JSON.parse(r.stdout) as object));
    }
    fake.put('endpointGroups', 't1:g1', { groupName: 'g1' });
    fake.put('policys', 't1:p1', { policyName: 'p1' });
    fake.put('netprofiles', 't1:np1', { profileName: 'np1' });
    fake.put('Bgps', 'host1', { hostname: 'host1' });
    fake.put('serviceLBs', 't1:s1', { serviceName: 's1' });
    fake.put('aciGws', 'aciGw', { name: 'aciGw' });
    const more: [string[], string][] = [
      [['group', 'inspect', '-t', 't1', 'g1'], '/api/v1/inspect/endpointGroups/t1:g1/'],
      [['policy', 'inspect', '-t', 't1', 'p1'], '/api/v1/inspect/policys/t1:p1/'],
      [['netprofile', 'inspect', '-t', 't1', 'np1'], '/api/v1/inspect/netprofiles/t1:np1/'],
      [['service', 'inspect', '-t', 't1', 's1'], '/api/v1/inspect/serviceLBs/t1:s1/'],
      [['global', 'inspect'], '/api/v1/inspect/globals/global/'],
      [['aci-gw', 'inspect'], '/api/v1/inspect/aciGws/aciGw/'],
    ];
    for (const [argv, path] of more) {
      fake.requests.length = 0;
      const y = parseYaml((await ok(...argv, '-o', 'yaml')).stdout) as { Config: unknown; Oper: unknown };
      assert.deepEqual(paths(), [`GET ${path}`], argv.join(' '));
      assert.deepEqual(y.Oper, { numEndpoints: 0 });
    }
  });

  it('JSON output escapes HTML characters like Go json.MarshalIndent', async () => {
    fake.put('tenants', 'odd', { tenantName: 'odd', note: 'a<b>&c' });
    const r = await ok('tenant', 'inspect', 'odd');
    assert.match(r.stdout, /"note": "a\\u003cb\\u003e\\u0026c"/);
    assert.equal((JSON.parse(r.stdout) as { Config: { note: string } }).Config.note, 'a<b>&c');
  });

  it('group ls', async () => {
    fake.put('endpointGroups', 't1:g1', {
      tenantName: 't1',
      groupName: 'g1',
      networkName: 'net1',
      ipPool: '10.2.1.10-10.2.1.20',
      cfgdTag: 'x',
      policies: ['p1', 'p2'],
      netProfile: 'np1',
    });
    fake.put('endpointGroups', 't1:g2', { tenantName: 't1', groupName: 'g2', networkName: 'net1' });
    fake.put('endpointGroups', 'default:g3', { tenantName: 'default', groupName: 'g3', networkName: 'n6' });
    assert.equal(
      (await ok('group', 'ls', '-t', 't1')).stdout,
      'Tenant  Group  Network  IP Pool              CfgdTag  Policies  Network profile\n' +
        '------  -----  -------  -------              -------  --------  ---------------\n' +
        't1      g1     net1     10.2.1.10-10.2.1.20  x        p1,p2     np1\n' +
        't1      g2     net1                                             \n',
    );
    assert.equal((await ok('group', 'ls', '-a', '-q')).stdout, 'g1\ng2\ng3\n');
    assert.equal((await ok('group', 'ls', '-q')).stdout, 'g3\n');
  });

  it('group ls -a: wide cells are cut at 60 characters with an ellipsis, control characters shown as ?; -o json keeps them', async () => {
    const huge = 'x'.repeat(1_000_000);
    fake.put('endpointGroups', 't1:g1', { tenantName: 't1', groupName: 'g1', networkName: 'net1', cfgdTag: huge, policies: ['p1'] });
    fake.put('endpointGroups', 't1:g2', { tenantName: 't1', groupName: 'g2', networkName: 'net1', cfgdTag: 'a\tb\nc' });
    const out = (await ok('group', 'ls', '-a')).stdout;
    assert.ok(out.length < 1000, `table of ${out.length} characters`);
    const lines = out.split('\n');
    assert.equal(lines.length, 5);
    assert.ok(lines.every((l) => l.length <= 200));
    assert.ok(lines[2]?.includes(`${'x'.repeat(59)}…  p1`), lines[2]);
    assert.ok(lines[3]?.includes('a?b?c'), lines[3]);
    const json = JSON.parse((await ok('group', 'ls', '-a', '-o', 'json')).stdout) as Array<{ cfgdTag: string }>;
    assert.equal(json.find((g) => g.cfgdTag.length > 60)?.cfgdTag, huge);
  });

  it('policy ls and rule-ls (sorted by priority, split in/out)', async () => {
    fake.put('policys', 't1:p1', { tenantName: 't1', policyName: 'p1' });
    fake.put('rules', 't1:p1:1', {
      tenantName: 't1',
      policyName: 'p1',
      ruleId: '1',
      priority: 10,
      direction: 'in',
      fromEndpointGroup: 'g1',
      protocol: 'tcp',
      port: 80,
      action: 'deny',
    });
    fake.put('rules', 't1:p1:2', {
      tenantName: 't1',
      policyName: 'p1',
      ruleId: '2',
      priority: 1,
      direction: 'out',
      toNetwork: 'net2',
      protocol: 'udp',
      action: 'allow',
    });
    fake.put('rules', 't1:p1:3', {
      tenantName: 't1',
      policyName: 'p1',
      ruleId: '3',
      priority: 5,
      direction: 'in',
      fromIpAddress: '10.1.0.0/16',
      action: 'allow',
    });
    fake.put('rules', 't1:other:1', { tenantName: 't1', policyName: 'other', ruleId: '1', priority: 1, direction: 'in', action: 'allow' });
    assert.equal((await ok('policy', 'ls', '-t', 't1')).stdout, 'Tenant  Policy\n------  ------\nt1      p1\n');
    assert.equal((await ok('policy', 'ls', '-t', 't1', '-q')).stdout, 'p1\n');
    fake.requests.length = 0;
    const r = await ok('policy', 'rule-ls', '-t', 't1', 'p1');
    assert.deepEqual(paths(), ['GET /api/v1/tenants/t1/', 'GET /api/v1/policys/t1:p1/', 'GET /api/v1/rules/']);
    assert.equal(
      r.stdout,
      'Incoming Rules:\n' +
        'Rule  Priority  From EndpointGroup  From Network  From IpAddress  To IpAddress  Protocol  Port  Action\n' +
        '----  --------  ------------------  ------------  ---------       ------------  --------  ----  ------\n' +
        '3     5                                           10.1.0.0/16                             0     allow\n' +
        '1     10        g1                                                              tcp       80    deny\n' +
        'Outgoing Rules:\n' +
        'Rule  Priority  To EndpointGroup  To Network  To IpAddress  Protocol  Port  Action\n' +
        '----  --------  ----------------  ----------  ---------     --------  ----  ------\n' +
        '2     1                           net2                      udp       0     allow\n',
    );
    assert.equal((await ok('policy', 'rule-ls', '-t', 't1', '-q', 'p1')).stdout, '2\n3\n1\n');
    const j = JSON.parse((await ok('policy', 'rule-ls', '-t', 't1', '-j', 'p1')).stdout) as { ruleId: string }[];
    assert.deepEqual(
      j.map((x) => x.ruleId),
      ['2', '3', '1'],
    );
  });

  it('netprofile ls (bandwidth column as Contiv printed it)', async () => {
    fake.put('netprofiles', 't1:np1', { tenantName: 't1', profileName: 'np1', bandwidth: '10mbps', DSCP: 5, burst: 100 });
    fake.put('netprofiles', 't1:np2', { tenantName: 't1', profileName: 'np2' });
    fake.put('netprofiles', 't1:np3', { tenantName: 't1', profileName: 'np3', bandwidth: '1gbps' });
    assert.equal(
      (await ok('netprofile', 'ls', '-t', 't1')).stdout,
      'Name    Tenant  Bandwidth  DSCP      burst size\n' +
        '------  ------  ---------  --------  ----------\n' +
        'np1     t1      10Mbps     5         100\n' +
        'np2     t1                 0\n' +
        'np3     t1      1Gbps      0  0\n', // np2 has no DSCP cell: Go's tabwriter starts a new column block
    );
    assert.equal((await ok('netprofile', 'ls', '-t', 't1', '-q')).stdout, 'np1\nnp2\nnp3\n');
  });

  it('bgp ls (table, -q, -j)', async () => {
    fake.put('Bgps', 'host1', { hostname: 'host1', routerip: '50.1.1.1/24', as: '65002', neighbor: '50.1.1.2', 'neighbor-as': '500' });
    assert.equal(
      (await ok('bgp', 'ls')).stdout,
      'HostName   RouterIP     AS       Neighbor  NeighborAS\n' +
        '---------  --------     -------  --------  -------\n' +
        'host1      50.1.1.1/24  65002    50.1.1.2  500\n',
    );
    assert.equal((await ok('bgp', 'ls', '-q')).stdout, 'host1\n');
    assert.equal((JSON.parse((await ok('bgp', 'ls', '-j')).stdout) as { hostname: string }[])[0]!.hostname, 'host1');
  });

  it('app-profile ls and group-ls', async () => {
    fake.put('appProfiles', 't1:app1', { tenantName: 't1', appProfileName: 'app1', endpointGroups: ['g1', 'g2'] });
    assert.equal(
      (await ok('app-profile', 'ls', '-t', 't1')).stdout,
      'Tenant  AppProfile  Groups\n------  ----------  ------\nt1      app1        g1,g2\n',
    );
    assert.equal((await ok('app-profile', 'ls', '-a', '-q')).stdout, 'app1\n');
    fake.requests.length = 0;
    assert.equal((await ok('app-profile', 'group-ls', '-t', 't1', 'app1')).stdout, 'g1,g2\n');
    assert.deepEqual(paths(), ['GET /api/v1/appProfiles/t1:app1/']);
    assert.equal((await ok('app-profile', 'group-ls', '-t', 't1', '-q', 'app1')).stdout, 'g1\ng2\n');
    assert.deepEqual(
      (JSON.parse((await ok('app-profile', 'group-list', '-t', 't1', '-j', 'app1')).stdout) as { endpointGroups: string[] }).endpointGroups,
      ['g1', 'g2'],
    );
  });

  it('external-contracts ls and service ls', async () => {
    fake.put('extContractsGroups', 't1:ec1', {
      tenantName: 't1',
      contractsGroupName: 'ec1',
      contractsType: 'consumed',
      contracts: ['uni/a', 'uni/b'],
    });
    assert.equal(
      (await ok('external-contracts', 'ls', '-t', 't1')).stdout,
      'Tenant  Name      Type        Contracts\n------  ------    ------      -------\nt1      ec1       consumed  [uni/a uni/b]\n',
    );
    assert.equal((await ok('external-contracts', 'ls', '-a', '-q')).stdout, 'ec1\n');
    fake.put('serviceLBs', 't1:svc1', {
      key: 't1:svc1',
      tenantName: 't1',
      serviceName: 'svc1',
      networkName: 'net1',
      ipAddress: '10.1.1.2',
      selectors: ['app=web', 'tier=fe'],
      ports: ['80:8080:TCP', '53:53:UDP'],
    });
    const oper = {
      serviceIP: '10.1.1.2',
      network: 't1:net1',
      ports: [
        { port: 80, targetPort: 8080, protocol: 'tcp' },
        { port: 53, targetPort: 53, protocol: 'udp' },
      ],
      numProviders: 2,
      providers: [
        {
          endpointID: 'ep1',
          homingHost: 'h1',
          ipAddress: '10.1.1.5',
          containerName: 'a',
          packets: 10,
          bytes: 900,
          connections: 3,
          hosts: 2,
        },
        { endpointID: 'ep2', homingHost: 'h2', ipAddress: '10.1.1.6', containerName: 'b', packets: 0, bytes: 0, connections: 0, hosts: 0 },
      ],
    };
    fake.canned.set('GET /api/v1/inspect/serviceLBs/t1:svc1/', {
      status: 200,
      body: JSON.stringify({ Config: fake.get('serviceLBs', 't1:svc1'), Oper: oper }),
    });
    assert.equal(
      (await ok('service', 'ls', '-t', 't1')).stdout,
      'ServiceName  Tenant    Network  Selectors          IP        Ports                  Providers\n' +
        '---------    --------  -------  -------            --        -----                  ---------\n' +
        'svc1         t1        net1     [app=web tier=fe]  10.1.1.2  80:8080:TCP,53:53:UDP  2\n',
    );
    assert.equal((await ok('service', 'ls', '-a', '-q')).stdout, 'svc1\n');
    assert.equal(
      (JSON.parse((await ok('service', 'ls', '-t', 't1', '-o', 'json')).stdout) as Array<{ numProviders: number }>)[0]?.numProviders,
      2,
    );
    assert.equal(
      (await ok('service', 'inspect', '-t', 't1', '-o', 'table', 'svc1')).stdout,
      'Service t1:svc1: 10.1.1.2 80->8080/tcp,53->53/udp in t1:net1, 2 providers\n' +
        'Endpoint  Host  IP        Connections  Packets  Bytes\n' +
        '--------  ----  --        -----------  -------  -----\n' +
        'ep1       h1    10.1.1.5  3            10       900\n' +
        'ep2       h2    10.1.1.6  0            0        0\n',
    );
    assert.deepEqual(
      (JSON.parse((await ok('service', 'inspect', '-t', 't1', 'svc1')).stdout) as { Oper: unknown }).Oper,
      oper,
      'the default output is the JSON, providers and counters included',
    );
    // more providers than a service balances over: the table says so under its title
    fake.canned.set('GET /api/v1/inspect/serviceLBs/t1:svc1/', {
      status: 200,
      body: JSON.stringify({
        Config: fake.get('serviceLBs', 't1:svc1'),
        Oper: { ...oper, warning: '1002 providers are more than the 1000 a service balances over' },
      }),
    });
    assert.equal(
      (await ok('service', 'inspect', '-t', 't1', '-o', 'table', 'svc1')).stdout.split('\n')[1],
      'Warning: 1002 providers are more than the 1000 a service balances over',
    );
  });

  it('global info prints the Contiv lines; -j and -o yaml print the list', async () => {
    fake.requests.length = 0;
    assert.equal(
      (await ok('global', 'info')).stdout,
      'Fabric mode: default\nForward mode: bridge\nARP mode: proxy\nVlan Range: 1-4094\nVxlan range: 1-10000\nPrivate subnet: 172.19.0.0/16\n',
    );
    assert.deepEqual(paths(), ['GET /api/v1/globals/']);
    assert.equal((JSON.parse((await ok('global', 'info', '-j')).stdout) as { vlans: string }[])[0]!.vlans, '1-4094');
    assert.equal((parseYaml((await ok('global', 'info', '-o', 'yaml')).stdout) as { fwdMode: string }[])[0]!.fwdMode, 'bridge');
  });

  it('aci-gw info', async () => {
    fake.put('aciGws', 'aciGw', {
      name: 'aciGw',
      pathBindings: 'p',
      nodeBindings: 'n',
      physicalDomain: 'd',
      enforcePolicies: 'yes',
      includeCommonTenant: 'no',
    });
    assert.equal(
      (await ok('aci-gw', 'info')).stdout,
      'Path bindings: p\nNode bindings: n\nPhysical domain: d\nEnforce policies: yes\nInclude Common-Tenant: no\n',
    );
  });

  it('version prints client and server version in Contiv layout; -o json both', async () => {
    const r = await ok('version');
    assert.match(
      r.stdout,
      /^Client Version:\nVersion: \d+\.\d+\.\d+\nGitCommit: \nBuildTime: \n\nServer Version:\nVersion: 1\.2\.3\nGitCommit: abc123\nBuildTime: 2026-11-25\n$/,
    );
    const j = JSON.parse((await ok('version', '-o', 'json')).stdout) as { client: { Version: string }; server: { Version: string } };
    assert.equal(j.server.Version, '1.2.3');
    assert.match(j.client.Version, /^\d+\.\d+\.\d+$/);
  });

  it('endpoint ls and endpoint inspect', async () => {
    fake.endpoints = [
      {
        endpointID: 'ep1abc',
        network: 'net1.t1',
        endpointGroupKey: 'g1:t1',
        ipAddress: ['10.2.1.11', ''],
        macAddress: '02:02:0a:02:01:0b',
        homingHost: 'host1',
        intfName: 'vport1',
        containerName: 'web1',
        tenantName: 't1',
      },
      { endpointID: 'ep2def', network: 'default:n6', ipAddress: ['10.3.0.5'], macAddress: '02:02:0a:03:00:05', homingHost: 'host2' },
    ];
    assert.equal(
      (await ok('endpoint', 'ls')).stdout,
      'Endpoint ID  Network     Group  IP Address  MAC Address        Host   Interface  Container\n' +
        '-----------  -------     -----  ----------  -----------        ----   ---------  ---------\n' +
        'ep1abc       net1.t1     g1:t1  10.2.1.11   02:02:0a:02:01:0b  host1  vport1     web1\n' +
        'ep2def       default:n6         10.3.0.5    02:02:0a:03:00:05  host2             \n',
    );
    assert.equal((await ok('endpoint', 'ls', '-q')).stdout, 'ep1abc\nep2def\n');
    assert.equal((await ok('ep', 'ls', '-t', 'default', '-q')).stdout, 'ep2def\n');
    assert.equal((await ok('ep', 'ls', '-t', 't1', '-q')).stdout, 'ep1abc\n');
    fake.requests.length = 0;
    const r = await ok('endpoint', 'inspect', 'ep1abc');
    assert.deepEqual(paths(), ['GET /api/v1/inspect/endpoints/ep1abc/']);
    assert.equal((JSON.parse(r.stdout) as { Oper: { homingHost: string } }).Oper.homingHost, 'host1');
  });

  it('consistency prints the report; exits 1 when the report says inconsistent', async () => {
    fake.requests.length = 0;
    const r = await ok('consistency');
    assert.deepEqual(paths(), ['GET /api/v1/consistency']);
    assert.deepEqual(JSON.parse(r.stdout), { consistent: true, problems: [] });
    fake.consistency = {
      consistent: false,
      problems: [
        { kind: 'orphan', key: '/netloom/x' },
        { kind: 'leak', key: '/netloom/y' },
      ],
    };
    const bad = await runCli(['--netmaster', fake.url, 'consistency', '-o', 'yaml']);
    assert.equal(bad.code, 1);
    assert.equal((parseYaml(bad.stdout) as { problems: unknown[] }).problems.length, 2);
    assert.equal(bad.stderr, 'netctl: netmaster state is not consistent: 2 problem(s)\n');
  });

  it("consistency understands netmaster's report (clean, leaked, missing) and --repair POSTs {repair:true}", async () => {
    fake.consistency = {
      revision: '42',
      clean: false,
      leaked: [{ key: 'alloc/x', value: 'n1', reason: 'leak' }],
      missing: [],
      counts: {},
      repaired: 0,
    };
    const r = await runCli(['--netmaster', fake.url, 'consistency']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'netctl: netmaster state is not consistent: 1 problem(s)\n');
    assert.equal((JSON.parse(r.stdout) as { revision: string }).revision, '42');
    fake.canned.set('POST /api/v1/consistency', {
      status: 200,
      body: JSON.stringify({ revision: '43', clean: true, leaked: [], missing: [], repaired: 1 }),
    });
    fake.requests.length = 0;
    const fixed = await ok('consistency', '--repair');
    assert.deepEqual(
      fake.requests.map((q) => [q.method, q.path, q.body]),
      [['POST', '/api/v1/consistency', '{"repair":true}']],
    );
    assert.equal((JSON.parse(fixed.stdout) as { repaired: number }).repaired, 1);
  });

  it('endpoint ls --network / --host ask the server to filter', async () => {
    fake.canned.set('GET /api/v1/endpoints/?network=t1%3Anet1&host=h1', {
      status: 200,
      body: JSON.stringify([{ endpointID: 'e9', network: 't1:net1', tenantName: 't1', ipAddress: '10.2.1.9' }]),
    });
    const r = await ok('endpoint', 'ls', '-t', 't1', '-n', 'net1', '--host', 'h1', '-q');
    assert.equal(r.stdout, 'e9\n');
    assert.deepEqual(paths(), ['GET /api/v1/endpoints/?network=t1%3Anet1&host=h1']);
    fake.canned.set('GET /api/v1/endpoints/?network=t2%3Anet2', { status: 200, body: '[]' });
    fake.requests.length = 0;
    await ok('endpoint', 'ls', '--network', 't2:net2');
    assert.deepEqual(paths(), ['GET /api/v1/endpoints/?network=t2%3Anet2']);
  });

  it('-o json and -o yaml work on every read command and carry the same data', async () => {
    fake.put('aciGws', 'aciGw', { name: 'aciGw' });
    fake.put('appProfiles', 't1:app1', { tenantName: 't1', appProfileName: 'app1', endpointGroups: ['g1'] });
    fake.put('policys', 't1:p1', { tenantName: 't1', policyName: 'p1' });
    fake.put('Bgps', 'h1', { hostname: 'h1' });
    // bgp inspect asks the host's agent (through netmaster) too
    fake.canned.set('GET /api/v1/bgp-status/h1/', { status: 200, body: JSON.stringify({ host: 'h1', running: true, neighbors: [] }) });
    fake.endpoints = [{ endpointID: 'e1', network: 't1:net-vlan', tenantName: 't1' }];
    const reads: string[][] = [
      ['version'],
      ['consistency'],
      ['global', 'info'],
      ['global', 'inspect'],
      ['aci-gw', 'info'],
      ['aci-gw', 'inspect'],
      ['tenant', 'ls'],
      ['tenant', 'inspect', 't1'],
      ['net', 'ls', '-t', 't1'],
      ['net', 'inspect', '-t', 't1', 'net-vlan'],
      ['group', 'ls', '-a'],
      ['policy', 'ls', '-t', 't1'],
      ['policy', 'rule-ls', '-t', 't1', 'p1'],
      ['netprofile', 'ls', '-a'],
      ['bgp', 'ls'],
      ['bgp', 'inspect', 'h1'],
      ['app-profile', 'ls', '-t', 't1'],
      ['app-profile', 'group-ls', '-t', 't1', 'app1'],
      ['external-contracts', 'ls', '-a'],
      ['service', 'ls', '-a'],
      ['endpoint', 'ls'],
      ['endpoint', 'inspect', 'e1'],
    ];
    for (const argv of reads) {
      const j = await ok(...argv, '-o', 'json');
      const y = await ok(...argv, '-o', 'yaml');
      const data: unknown = JSON.parse(j.stdout);
      assert.deepEqual(parseYaml(y.stdout), data, argv.join(' '));
    }
  });
});
