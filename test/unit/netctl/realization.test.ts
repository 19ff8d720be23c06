/**
 * netctl shows realization on the hosts: `policy inspect`, `group inspect` and `endpoint
 * inspect` print Contiv's JSON by default (netmaster's added Oper fields in it), `-o yaml`, and
 * with `-o table` a summary line and a table (golden strings). Against the fake netmaster with
 * canned inspect answers shaped like netmaster's.
 */
import { strict as assert } from 'node:assert';
import { parse as parseYaml } from 'yaml';
import { FakeNetmaster, fakeNetmasterPerTest } from './fake-netmaster';
import { runCli, type CliResult } from './run-cli';

const POLICY = {
  Config: { key: 't1:pw', policyName: 'pw', tenantName: 't1' },
  Oper: {
    endpointGroups: ['web'],
    numEndpoints: 2,
    endpoints: [],
    realization: { revision: 120, hostsConcerned: 3, hostsRealized: 2, pendingHosts: ['h3'] },
    ruleCounters: [
      { ruleId: 'r1', packets: 5, bytes: 450, hosts: 2 },
      { ruleId: 'r10', packets: 0, bytes: 0, hosts: 0 },
    ],
  },
};

const GROUP = {
  Config: { key: 't1:web', groupName: 'web', tenantName: 't1', networkName: 'net' },
  Oper: { numEndpoints: 2, realization: { revision: 99, hostsConcerned: 2, hostsRealized: 2, pendingHosts: [] } },
};

const ENDPOINT = {
  Config: { key: 'w1', endpointID: 'w1' },
  Oper: {
    endpointID: 'w1',
    homingHost: 'h1',
    effectiveRules: {
      host: 'h1',
      ingress: {
        isolated: false,
        rules: [
          {
            id: 't1:pw/r1',
            peers: { include: ['10.1.0.20/32', '10.1.0.21/32'], exclude: [] },
            services: [{ protocol: 'tcp', ports: [{ from: 80, to: 80 }] }],
            action: 'allow',
            priority: 10,
          },
          { id: 't1:pw/r0', peers: { include: ['0.0.0.0/0'], exclude: [] }, services: [], action: 'deny', priority: 1 },
        ],
      },
      egress: {
        isolated: true,
        rules: [
          {
            id: 't1:pw/r3',
            peers: { include: ['10.0.0.0/8'], exclude: ['10.1.0.0/16'] },
            services: [{ protocol: 'udp', ports: [{ from: 53, to: 54 }] }, { protocol: 'icmp' }],
            action: 'allow',
            priority: 7,
          },
        ],
      },
    },
  },
};

describe('netctl: realization in inspect (fake netmaster)', () => {
  let fake: FakeNetmaster;
  fakeNetmasterPerTest((f) => (fake = f));
  afterEach(async () => {
    await fake.stop();
  });

  async function ok(...argv: string[]): Promise<CliResult> {
    const r = await runCli(['--netmaster', fake.url, ...argv]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    return r;
  }
  const can = (path: string, body: unknown) => fake.canned.set(`GET ${path}`, { status: 200, body: JSON.stringify(body) });

  it('policy inspect: JSON by default, YAML, and a table of realization and rule counters', async () => {
    can('/api/v1/inspect/policys/t1:pw/', POLICY);
    assert.deepEqual(JSON.parse((await ok('policy', 'inspect', '-t', 't1', 'pw')).stdout), POLICY);
    assert.deepEqual(parseYaml((await ok('policy', 'inspect', '-t', 't1', 'pw', '-o', 'yaml')).stdout), POLICY);
    assert.equal(
      (await ok('policy', 'inspect', '-t', 't1', 'pw', '-o', 'table')).stdout,
      'Policy t1:pw: realized on 2/3 hosts at revision 120 (pending: h3)\n' +
        'Rule  Packets  Bytes  Hosts\n' +
        '----  -------  -----  -----\n' +
        'r1    5        450    2\n' +
        'r10   0        0      0\n',
    );
  });

  it('group inspect -o table: its realization; a netmaster without the agent API says so', async () => {
    can('/api/v1/inspect/endpointGroups/t1:web/', GROUP);
    assert.equal(
      (await ok('group', 'inspect', '-t', 't1', 'web', '-o', 'table')).stdout,
      'EndpointGroup t1:web: realized on 2/2 hosts at revision 99\n',
    );
    can('/api/v1/inspect/endpointGroups/t1:db/', { Config: { key: 't1:db' }, Oper: { numEndpoints: 0 } });
    assert.equal(
      (await ok('group', 'inspect', '-t', 't1', 'db', '-o', 'table')).stdout,
      'EndpointGroup t1:db: realization: not reported (netmaster runs without its agent API)\n',
    );
  });

  it('net inspect -o table: address blocks per host with their use; JSON carries them as netmaster sent them', async () => {
    const NET = {
      Config: { key: 't1:web', networkName: 'web', tenantName: 't1' },
      Oper: {
        numEndpoints: 3,
        blocks: [
          { cidr: '10.1.0.64/26', host: 'h2', used: 1, size: 64 },
          { cidr: '10.1.0.0/26', host: 'h1', used: 2, size: 62 },
        ],
      },
    };
    can('/api/v1/inspect/networks/t1:web/', NET);
    assert.deepEqual(JSON.parse((await ok('net', 'inspect', '-t', 't1', 'web')).stdout), NET);
    assert.equal(
      (await ok('net', 'inspect', '-t', 't1', 'web', '-o', 'table')).stdout,
      'Network t1:web: 2 address blocks, 3/126 addresses used\n' +
        'Host  Block         Used\n' +
        '----  -----         ----\n' +
        'h1    10.1.0.0/26   2/62\n' +
        'h2    10.1.0.64/26  1/64\n',
    );
  });

  it('endpoint inspect -o table: the effective rules of both directions in evaluation order, and the defaults', async () => {
    can('/api/v1/inspect/endpoints/w1/', ENDPOINT);
    assert.deepEqual(JSON.parse((await ok('endpoint', 'inspect', 'w1')).stdout), ENDPOINT);
    assert.equal(
      (await ok('endpoint', 'inspect', 'w1', '-o', 'table')).stdout,
      'Endpoint w1 on h1: ingress default: allow; egress default: deny\n' +
        'Direction  Priority  Action  Peers                          Services        Rule\n' +
        '---------  --------  ------  -----                          --------        ----\n' +
        'ingress    10        allow   10.1.0.20/32,10.1.0.21/32      tcp/80          t1:pw/r1\n' +
        'ingress    1         deny    any                            any             t1:pw/r0\n' +
        'egress     7         allow   10.0.0.0/8 except 10.1.0.0/16  udp/53-54,icmp  t1:pw/r3\n',
    );
  });
});
