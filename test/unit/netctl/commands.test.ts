/**
 * netctl write commands against the in-process fake netmaster: for every command and flag, the
 * exact method, path and body text sent (Contiv's bodies: Go struct field order, omitempty,
 * link placeholders), that no Content-Type header is sent, and the message printed.
 */
import { strict as assert } from 'node:assert';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli } from './run-cli';

interface Sent {
  method: string;
  path: string;
  body?: string;
}

describe('netctl write commands (fake netmaster)', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));

  async function expectSends(argv: string[], sent: Sent[], stdout: string): Promise<void> {
    const r = await runCli(['--netmaster', fake.url, ...argv]);
    assert.equal(r.stderr, '', `stderr of netctl ${argv.join(' ')}`);
    assert.equal(r.code, 0);
    assert.deepEqual(
      fake.writes().map((w) => ({ method: w.method, path: w.path, ...(w.method === 'POST' ? { body: w.body } : {}) })),
      sent,
    );
    for (const w of fake.writes()) {
      assert.equal(w.headers['content-type'], undefined, `${w.method} ${w.path} must not carry a Content-Type`);
      if (w.method === 'POST') assert.equal(w.headers['content-length'], String(Buffer.byteLength(w.body)));
    }
    assert.equal(r.stdout, stdout);
  }

  const NET_LINKS = '"link-sets":{},"links":{"Tenant":{}}';
  const EPG_LINKS = '"link-sets":{},"links":{"AppProfile":{},"NetProfile":{},"Network":{},"Tenant":{}}';
  const RULE_LINKS = '"link-sets":{},"links":{"MatchEndpointGroup":{}}';

  it('tenant create / rm', async () => {
    await expectSends(
      ['tenant', 'create', 't1'],
      [{ method: 'POST', path: '/api/v1/tenants/t1/', body: '{"tenantName":"t1","link-sets":{}}' }],
      'Creating tenant: t1\n',
    );
    fake.requests.length = 0;
    await expectSends(['tenant', 'rm', 't1'], [{ method: 'DELETE', path: '/api/v1/tenants/t1/' }], 'Deleting tenant t1\n');
    assert.equal(fake.get('tenants', 't1'), undefined);
  });

  it('tenant delete is an alias of rm', async () => {
    fake.put('tenants', 't2', { tenantName: 't2' });
    await expectSends(['tenant', 'delete', 't2'], [{ method: 'DELETE', path: '/api/v1/tenants/t2/' }], 'Deleting tenant t2\n');
  });

  it('net create with -t -e -p -s -g (the reference body)', async () => {
    await expectSends(
      ['net', 'create', '-t', 't1', '-e', 'vlan', '-p', '100', '-s', '10.2.1.0/24', '-g', '10.2.1.1', 'net-vlan'],
      [
        {
          method: 'POST',
          path: '/api/v1/networks/t1:net-vlan/',
          body: `{"encap":"vlan","gateway":"10.2.1.1","networkName":"net-vlan","nwType":"data","pktTag":100,"subnet":"10.2.1.0/24","tenantName":"t1",${NET_LINKS}}`,
        },
      ],
      'Creating network t1:net-vlan\n',
    );
  });

  it('net create --no-nat adds nat:false after the reference body (nat is on when not given)', async () => {
    await expectSends(
      ['net', 'create', '-t', 't1', '-e', 'vlan', '-p', '100', '-s', '10.2.1.0/24', '-g', '10.2.1.1', '--no-nat', 'net-vlan'],
      [
        {
          method: 'POST',
          path: '/api/v1/networks/t1:net-vlan/',
          body: `{"encap":"vlan","gateway":"10.2.1.1","networkName":"net-vlan","nwType":"data","pktTag":100,"subnet":"10.2.1.0/24","tenantName":"t1",${NET_LINKS},"nat":false}`,
        },
      ],
      'Creating network t1:net-vlan\n',
    );
  });

  it('net create --block-prefix adds blockPrefix after the reference body; out of 16..30 is refused naming the flag', async () => {
    await expectSends(
      ['net', 'create', '-t', 't1', '-s', '10.2.0.0/16', '--block-prefix', '24', 'big'],
      [
        {
          method: 'POST',
          path: '/api/v1/networks/t1:big/',
          body: `{"encap":"vxlan","networkName":"big","nwType":"data","subnet":"10.2.0.0/16","tenantName":"t1",${NET_LINKS},"blockPrefix":24}`,
        },
      ],
      'Creating network t1:big\n',
    );
    const r = await runCli(['--netmaster', fake.url, 'net', 'create', '-t', 't1', '-s', '10.2.0.0/16', '--block-prefix', '31', 'big']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--block-prefix/);
  });

  it('net create with -s6 -g6 --tag -n and the defaults (vxlan, tenant default)', async () => {
    await expectSends(
      [
        'network',
        'create',
        '-s',
        '10.3.0.0/16',
        '-g',
        '10.3.0.1',
        '-s6',
        '2001:db8::/64',
        '-g6',
        '2001:db8::1',
        '--tag',
        'blue',
        '-n',
        'infra',
        'n6',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/networks/default:n6/',
          body: `{"cfgdTag":"blue","encap":"vxlan","gateway":"10.3.0.1","ipv6Gateway":"2001:db8::1","ipv6Subnet":"2001:db8::/64","networkName":"n6","nwType":"infra","subnet":"10.3.0.0/16","tenantName":"default",${NET_LINKS}}`,
        },
      ],
      'Creating network default:n6\n',
    );
  });

  it('net create accepts Go-style spellings: --tenant, -subnet=, --s6=, --nw-tag, range subnet, no gateway', async () => {
    await expectSends(
      [
        'net',
        'create',
        '--tenant',
        't1',
        '-subnet=10.4.0.10-10.4.0.100/24',
        '--s6=2001:db8:1::/64',
        '--nw-tag',
        'x',
        '--pkt-tag',
        '5',
        'n4',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/networks/t1:n4/',
          body: `{"cfgdTag":"x","encap":"vxlan","ipv6Subnet":"2001:db8:1::/64","networkName":"n4","nwType":"data","pktTag":5,"subnet":"10.4.0.10-10.4.0.100/24","tenantName":"t1",${NET_LINKS}}`,
        },
      ],
      'Creating network t1:n4\n',
    );
  });

  it('net rm', async () => {
    fake.put('networks', 't1:n1', { tenantName: 't1', networkName: 'n1' });
    await expectSends(['net', 'rm', '-t', 't1', 'n1'], [{ method: 'DELETE', path: '/api/v1/networks/t1:n1/' }], 'Deleting network t1:n1\n');
  });

  it('group create with every flag (-t -p -n -r --tag -e)', async () => {
    await expectSends(
      [
        'group',
        'create',
        '-t',
        't1',
        '-p',
        'p1,p2',
        '-p',
        'p3',
        '-n',
        'np1',
        '-r',
        '10.2.1.10-10.2.1.20',
        '--tag',
        'g-tag',
        '-e',
        'ec1',
        'net1',
        'g1',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/endpointGroups/t1:g1/',
          body: `{"cfgdTag":"g-tag","extContractsGrps":["ec1"],"groupName":"g1","ipPool":"10.2.1.10-10.2.1.20","netProfile":"np1","networkName":"net1","policies":["p1","p2","p3"],"tenantName":"t1",${EPG_LINKS}}`,
        },
      ],
      'Creating EndpointGroup t1:g1\n',
    );
  });

  it('group create with only NETWORK GROUP, and --epg-tag alias', async () => {
    await expectSends(
      ['group', 'create', '--epg-tag', 'e1', 'net1', 'g2'],
      [
        {
          method: 'POST',
          path: '/api/v1/endpointGroups/default:g2/',
          body: `{"cfgdTag":"e1","groupName":"g2","networkName":"net1","tenantName":"default",${EPG_LINKS}}`,
        },
      ],
      'Creating EndpointGroup default:g2\n',
    );
  });

  it('group rm', async () => {
    fake.put('endpointGroups', 't1:g1', {});
    await expectSends(['group', 'rm', '-t', 't1', 'g1'], [{ method: 'DELETE', path: '/api/v1/endpointGroups/t1:g1/' }], '');
  });

  it('policy create / rm', async () => {
    await expectSends(
      ['policy', 'create', '-t', 't1', 'p1'],
      [{ method: 'POST', path: '/api/v1/policys/t1:p1/', body: `{"policyName":"p1","tenantName":"t1",${NET_LINKS}}` }],
      'Creating policy t1:p1\n',
    );
    fake.requests.length = 0;
    await expectSends(
      ['policy', 'rm', '-t', 't1', 'p1'],
      [{ method: 'DELETE', path: '/api/v1/policys/t1:p1/' }],
      'Deleting policy t1:p1\n',
    );
  });

  it('policy rule-add with defaults (direction in, priority 1, action allow)', async () => {
    await expectSends(
      ['policy', 'rule-add', 'p1', '2'],
      [
        {
          method: 'POST',
          path: '/api/v1/rules/default:p1:2/',
          body: `{"action":"allow","direction":"in","policyName":"p1","priority":1,"ruleId":"2","tenantName":"default",${RULE_LINKS}}`,
        },
      ],
      '',
    );
  });

  it('policy rule-add incoming with -p -g -i -s -l -P -j', async () => {
    await expectSends(
      [
        'policy',
        'rule-add',
        '-t',
        't1',
        '-d',
        'in',
        '-p',
        '10',
        '-g',
        'g1',
        '-i',
        '10.1.0.0/16',
        '-s',
        '10.2.0.1',
        '-l',
        'tcp',
        '-P',
        '80',
        '-j',
        'deny',
        'p1',
        '1',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/rules/t1:p1:1/',
          body: `{"action":"deny","direction":"in","fromEndpointGroup":"g1","fromIpAddress":"10.1.0.0/16","policyName":"p1","port":80,"priority":10,"protocol":"tcp","ruleId":"1","tenantName":"t1","toIpAddress":"10.2.0.1",${RULE_LINKS}}`,
        },
      ],
      '',
    );
  });

  it('policy rule-add incoming from a network (-n)', async () => {
    await expectSends(
      ['policy', 'rule-add', '-t', 't1', '-n', 'net1', '-l', 'udp', '-P', '53', 'p1', '3'],
      [
        {
          method: 'POST',
          path: '/api/v1/rules/t1:p1:3/',
          body: `{"action":"allow","direction":"in","fromNetwork":"net1","policyName":"p1","port":53,"priority":1,"protocol":"udp","ruleId":"3","tenantName":"t1",${RULE_LINKS}}`,
        },
      ],
      '',
    );
  });

  it('policy rule-add outgoing with -e, and with -o (long names too)', async () => {
    await expectSends(
      ['policy', 'rule-add', '-t', 't1', '-d', 'out', '-e', 'g2', '-l', 'icmp', 'p1', '4'],
      [
        {
          method: 'POST',
          path: '/api/v1/rules/t1:p1:4/',
          body: `{"action":"allow","direction":"out","policyName":"p1","priority":1,"protocol":"icmp","ruleId":"4","tenantName":"t1","toEndpointGroup":"g2",${RULE_LINKS}}`,
        },
      ],
      '',
    );
    fake.requests.length = 0;
    await expectSends(
      [
        'policy',
        'rule-add',
        '--tenant',
        't1',
        '--direction',
        'out',
        '--to-network',
        'net2',
        '--protocol',
        '6',
        '--port',
        '443',
        '--action',
        'deny',
        '--priority',
        '100',
        'p1',
        '5',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/rules/t1:p1:5/',
          body: `{"action":"deny","direction":"out","policyName":"p1","port":443,"priority":100,"protocol":"6","ruleId":"5","tenantName":"t1","toNetwork":"net2",${RULE_LINKS}}`,
        },
      ],
      '',
    );
  });

  it('policy rule-rm', async () => {
    fake.put('rules', 't1:p1:1', {});
    await expectSends(['policy', 'rule-rm', '-t', 't1', 'p1', '1'], [{ method: 'DELETE', path: '/api/v1/rules/t1:p1:1/' }], '');
  });

  it('netprofile create (-b -d -s) / rm', async () => {
    await expectSends(
      ['netprofile', 'create', '-t', 't1', '-b', '10mbps', '-d', '5', '-s', '100', 'np1'],
      [
        {
          method: 'POST',
          path: '/api/v1/netprofiles/t1:np1/',
          body: `{"DSCP":5,"bandwidth":"10mbps","burst":100,"profileName":"np1","tenantName":"t1",${NET_LINKS}}`,
        },
      ],
      'Creating netprofile t1:np1\n',
    );
    fake.requests.length = 0;
    await expectSends(['netprofile', 'rm', '-t', 't1', 'np1'], [{ method: 'DELETE', path: '/api/v1/netprofiles/t1:np1/' }], '');
  });

  it('bgp create (--router-ip --as --neighbor-as --neighbor) / rm', async () => {
    await expectSends(
      ['bgp', 'create', '--router-ip', '50.1.1.1/24', '--as', '65002', '--neighbor-as', '500', '--neighbor', '50.1.1.2', 'host1'],
      [
        {
          method: 'POST',
          path: '/api/v1/Bgps/host1/',
          body: '{"as":"65002","hostname":"host1","neighbor":"50.1.1.2","neighbor-as":"500","routerip":"50.1.1.1/24"}',
        },
      ],
      '',
    );
    fake.requests.length = 0;
    await expectSends(['bgp', 'rm', 'host1'], [{ method: 'DELETE', path: '/api/v1/Bgps/host1/' }], 'Deleting Bgp router config: host1\n');
  });

  it('app-profile create / update / rm', async () => {
    await expectSends(
      ['app-profile', 'create', '-t', 't1', '-g', 'g1,g2', 'app1'],
      [
        {
          method: 'POST',
          path: '/api/v1/appProfiles/t1:app1/',
          body: `{"appProfileName":"app1","endpointGroups":["g1","g2"],"tenantName":"t1",${NET_LINKS}}`,
        },
      ],
      'Creating AppProfile t1:app1\n',
    );
    fake.requests.length = 0;
    await expectSends(
      ['app-profile', 'update', '-t', 't1', '-g', 'g3', 'app1'],
      [
        {
          method: 'POST',
          path: '/api/v1/appProfiles/t1:app1/',
          body: `{"appProfileName":"app1","endpointGroups":["g3"],"tenantName":"t1",${NET_LINKS}}`,
        },
      ],
      '',
    );
    fake.requests.length = 0;
    await expectSends(
      ['app-profile', 'update', '-t', 't1', 'app1'],
      [{ method: 'POST', path: '/api/v1/appProfiles/t1:app1/', body: `{"appProfileName":"app1","tenantName":"t1",${NET_LINKS}}` }],
      '',
    );
    fake.requests.length = 0;
    await expectSends(['app-profile', 'rm', '-t', 't1', 'app1'], [{ method: 'DELETE', path: '/api/v1/appProfiles/t1:app1/' }], '');
  });

  it('external-contracts create -c / -p with -a, and rm', async () => {
    await expectSends(
      ['external-contracts', 'create', '-t', 't1', '-c', '-a', 'uni/tn-common/brc-default', '-a', 'uni/tn-x/brc-y', 'ec1'],
      [
        {
          method: 'POST',
          path: '/api/v1/extContractsGroups/t1:ec1/',
          body: '{"contracts":["uni/tn-common/brc-default","uni/tn-x/brc-y"],"contractsGroupName":"ec1","contractsType":"consumed","tenantName":"t1","link-sets":{}}',
        },
      ],
      'Creating ExternalContracts t1:ec1\n',
    );
    fake.requests.length = 0;
    await expectSends(
      ['external-contracts', 'create', '-p', '-a', 'uni/tn-common/brc-web', 'ec2'],
      [
        {
          method: 'POST',
          path: '/api/v1/extContractsGroups/default:ec2/',
          body: '{"contracts":["uni/tn-common/brc-web"],"contractsGroupName":"ec2","contractsType":"provided","tenantName":"default","link-sets":{}}',
        },
      ],
      'Creating ExternalContracts default:ec2\n',
    );
    fake.requests.length = 0;
    await expectSends(
      ['external-contracts', 'rm', '-t', 't1', 'ec1'],
      [{ method: 'DELETE', path: '/api/v1/extContractsGroups/t1:ec1/' }],
      'Deleting external contracts group ec1 in tenant t1\n',
    );
  });

  it('global set GETs the global object and POSTs it back whole with long flags', async () => {
    await expectSends(
      ['global', 'set', '--fwd-mode', 'routing', '--arp-mode', 'flood'],
      [
        {
          method: 'POST',
          path: '/api/v1/globals/global/',
          body: '{"key":"global","arpMode":"flood","fwdMode":"routing","name":"global","networkInfraType":"default","pvtSubnet":"172.19.0.0/16","vlans":"1-4094","vxlans":"1-10000"}',
        },
      ],
      '',
    );
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /api/v1/globals/global/', 'POST /api/v1/globals/global/'],
    );
  });

  it('global set with every flag (--fabric-mode --vlan-range --vxlan-range --private-subnet and short forms)', async () => {
    await expectSends(
      [
        'global',
        'set',
        '--fabric-mode',
        'aci',
        '--vlan-range',
        '100-200',
        '-x',
        '1000-2000',
        '-b',
        'bridge',
        '-a',
        'proxy',
        '--private-subnet',
        '172.20.0.0/16',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/globals/global/',
          body: '{"key":"global","arpMode":"proxy","fwdMode":"bridge","name":"global","networkInfraType":"aci","pvtSubnet":"172.20.0.0/16","vlans":"100-200","vxlans":"1000-2000"}',
        },
      ],
      '',
    );
    fake.requests.length = 0;
    await expectSends(
      ['global', 'set', '-f', 'default', '-v', '1-4094', '-s', '172.21.0.0/16'],
      [
        {
          method: 'POST',
          path: '/api/v1/globals/global/',
          body: '{"key":"global","arpMode":"proxy","fwdMode":"bridge","name":"global","networkInfraType":"default","pvtSubnet":"172.21.0.0/16","vlans":"1-4094","vxlans":"1000-2000"}',
        },
      ],
      '',
    );
  });

  it('global set keeps fields the server added beyond Contiv', async () => {
    fake.put('globals', 'global', { key: 'global', name: 'global', fwdMode: 'bridge', extra: { a: 1 } });
    await expectSends(
      ['global', 'set', '--arp-mode', 'flood'],
      [
        {
          method: 'POST',
          path: '/api/v1/globals/global/',
          body: '{"key":"global","arpMode":"flood","fwdMode":"bridge","name":"global","extra":{"a":1}}',
        },
      ],
      '',
    );
  });

  it('aci-gw set creates a fresh aciGw object when none exists (defaults -e yes -i no)', async () => {
    await expectSends(
      ['aci-gw', 'set', '-p', 'topology/pod-1/paths-101/pathep-[eth1/14]', '-n', 'topology/pod-1/node-101', '-d', 'containerDom'],
      [
        {
          method: 'POST',
          path: '/api/v1/aciGws/aciGw/',
          body: '{"enforcePolicies":"yes","includeCommonTenant":"no","name":"aciGw","nodeBindings":"topology/pod-1/node-101","pathBindings":"topology/pod-1/paths-101/pathep-[eth1/14]","physicalDomain":"containerDom"}',
        },
      ],
      '',
    );
  });

  it('aci-gw set overwrites an existing object (-e -i long forms)', async () => {
    fake.put('aciGws', 'aciGw', { key: 'aciGw', name: 'aciGw', enforcePolicies: 'yes', physicalDomain: 'old', pathBindings: 'p' });
    await expectSends(
      ['aci-gw', 'set', '--enforce-policies', 'no', '--include-common-tenant', 'yes', '--phys-dom', 'new'],
      [
        {
          method: 'POST',
          path: '/api/v1/aciGws/aciGw/',
          body: '{"key":"aciGw","enforcePolicies":"no","includeCommonTenant":"yes","name":"aciGw","physicalDomain":"new"}',
        },
      ],
      '',
    );
  });

  it('service create (-t -s -l -p --preferred-ip / -ip) and rm', async () => {
    await expectSends(
      [
        'service',
        'create',
        '-t',
        't1',
        '-s',
        'net1',
        '-l',
        'app=web',
        '--selector=tier=fe',
        '-p',
        '80:8080:TCP',
        '-ip',
        '10.1.1.5',
        'svc1',
      ],
      [
        {
          method: 'POST',
          path: '/api/v1/serviceLBs/t1:svc1/',
          body: '{"ipAddress":"10.1.1.5","networkName":"net1","ports":["80:8080:TCP"],"selectors":["app=web","tier=fe"],"serviceName":"svc1","tenantName":"t1","links":{"Network":{},"Tenant":{}}}',
        },
      ],
      'Creating ServiceLB t1:svc1\n',
    );
    fake.requests.length = 0;
    // -n names the network too; without -ip the address is netmaster's to allocate
    await expectSends(
      ['service', 'create', '-t', 't1', '-n', 'net1', '-l', 'app=db', '-p', '5432:5432:TCP', 'db'],
      [
        {
          method: 'POST',
          path: '/api/v1/serviceLBs/t1:db/',
          body: '{"networkName":"net1","ports":["5432:5432:TCP"],"selectors":["app=db"],"serviceName":"db","tenantName":"t1","links":{"Network":{},"Tenant":{}}}',
        },
      ],
      'Creating ServiceLB t1:db\n',
    );
    fake.requests.length = 0;
    await expectSends(
      ['service', 'rm', '-t', 't1', 'svc1'],
      [{ method: 'DELETE', path: '/api/v1/serviceLBs/t1:svc1/' }],
      'Deleting Service  svc1,t1\n',
    );
  });

  it('the server stores what netctl sent (POST without Content-Type parsed as JSON)', async () => {
    const r = await runCli(['--netmaster', fake.url, 'net', 'create', '-t', 't1', '-s', '10.9.0.0/24', 'n9']);
    assert.equal(r.code, 0);
    assert.equal(fake.get('networks', 't1:n9')?.['subnet'], '10.9.0.0/24');
  });
});
