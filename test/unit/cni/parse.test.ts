/**
 * Parsing and validation of CNI requests (netplugin/cni/parse.ts): environment, CNI_ARGS,
 * network configuration and runtimeConfig, each bad input mapped to the spec's error code.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CniError } from '../../../netplugin/cni/errors';
import { networkRef, parseCniArgs, parseCniRequest, parseRequestedIp, type CniEnv } from '../../../netplugin/cni/parse';

const ENV: CniEnv = { command: 'ADD', containerId: 'ctr1', netns: '/run/netns/cnix', ifName: 'eth0', path: '/usr/lib/cni' };
const CONF = { cniVersion: '1.1.0', name: 'nlnet', type: 'netloom-cni' };
const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ ...CONF, ...extra });

function codeOf(f: () => unknown): number | 'ok' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (e instanceof CniError) return e.code;
    throw e;
  }
}

function addReq(env: Partial<CniEnv>, extra: Record<string, unknown> = {}) {
  const p = parseCniRequest({ ...ENV, ...env }, body(extra));
  if (p.command !== 'ADD') throw new Error('expected ADD');
  return p.req;
}

describe('cni parse', () => {
  describe('error codes for bad input (table)', () => {
    const cases: Array<[string, Partial<CniEnv>, string, number | 'ok']> = [
      ['valid ADD', {}, body(), 'ok'],
      ['no CNI_COMMAND', { command: undefined }, body(), 4],
      ['unknown command', { command: 'ATTACH' }, body(), 4],
      ['lower-case command', { command: 'add' }, body(), 4],
      ['no container id', { containerId: undefined }, body(), 4],
      ['container id starting with -', { containerId: '-abc' }, body(), 4],
      ['container id with /', { containerId: 'a/b' }, body(), 4],
      ['no ifname', { ifName: undefined }, body(), 4],
      ['ifname 16 bytes', { ifName: 'abcdefghijklmnop' }, body(), 4],
      ['ifname 15 bytes', { ifName: 'abcdefghijklmno' }, body(), 'ok'],
      ['ifname ..', { ifName: '..' }, body(), 4],
      ['ifname with colon', { ifName: 'eth0:1' }, body(), 4],
      ['ifname with space', { ifName: 'eth 0' }, body(), 4],
      ['no netns on ADD', { netns: undefined }, body(), 4],
      ['relative netns', { netns: 'run/netns/x' }, body(), 4],
      ['no netns on DEL is fine', { command: 'DEL', netns: undefined }, body(), 'ok'],
      ['no netns on CHECK', { command: 'CHECK', netns: undefined }, body({ prevResult: { interfaces: [], ips: [] } }), 4],
      ['CNI_ARGS without =', { args: 'FOO' }, body(), 4],
      ['CNI_ARGS with empty key', { args: '=x' }, body(), 4],
      ['CNI_ARGS bad IP', { args: 'IP=10.0.0.300' }, body(), 4],
      ['CNI_ARGS bad MAC', { args: 'MAC=zz:00:00:00:00:00' }, body(), 4],
      ['CNI_ARGS pod name without namespace (podman)', { args: 'IgnoreUnknown=1;K8S_POD_NAME=p' }, body(), 'ok'],
      ['CNI_ARGS bad tenant', { args: 'NETLOOM_TENANT=a b' }, body(), 4],
      ['body not JSON', {}, '{"cniVersion":', 6],
      ['body a JSON list', {}, '[]', 6],
      ['empty body', {}, '', 6],
      ['no cniVersion', {}, JSON.stringify({ name: 'n', type: 't' }), 7],
      ['cniVersion 0.2.0 (Mesos)', {}, body({ cniVersion: '0.2.0' }), 'ok'],
      ['cniVersion 0.0.9', {}, body({ cniVersion: '0.0.9' }), 1],
      ['cniVersion 2.0.0', {}, body({ cniVersion: '2.0.0' }), 1],
      ['cniVersion 0.3.1', {}, body({ cniVersion: '0.3.1' }), 'ok'],
      ['no name', {}, JSON.stringify({ cniVersion: '1.1.0', type: 't' }), 7],
      ['name with /', {}, body({ name: 'a/b' }), 7],
      ['ipam section', {}, body({ ipam: { type: 'host-local' } }), 2],
      ['unsupported capability', {}, body({ runtimeConfig: { bandwidth: { ingressRate: 1 } } }), 2],
      ['empty unsupported capability is ignored', {}, body({ runtimeConfig: { aliases: [] } }), 'ok'],
      ['runtimeConfig not an object', {}, body({ runtimeConfig: [] }), 7],
      ['runtimeConfig.ips bad', {}, body({ runtimeConfig: { ips: ['10.0.0.1/33'] } }), 7],
      ['runtimeConfig.ips not a list', {}, body({ runtimeConfig: { ips: '10.0.0.1' } }), 7],
      ['runtimeConfig.mac bad', {}, body({ runtimeConfig: { mac: '02:00' } }), 7],
      ['portMappings port 0', {}, body({ runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80 }] } }), 7],
      [
        'portMappings bad protocol',
        {},
        body({ runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, protocol: 'icmp' }] } }),
        7,
      ],
      ['args.cni.labels bad', {}, body({ args: { cni: { labels: [{ key: 'a' }] } } }), 7],
      ['mtu too small', {}, body({ mtu: 20 }), 7],
      ['mtu not a number', {}, body({ mtu: '1500' }), 7],
      ['tenant with space', {}, body({ tenant: 'a b' }), 7],
      ['dns nameserver not an IP', {}, body({ dns: { nameservers: ['dns.example'] } }), 7],
      ['prevResult not an object', {}, body({ prevResult: 'x' }), 7],
      ['prevResult ip without prefix', {}, body({ prevResult: { ips: [{ address: '10.0.0.1' }] } }), 7],
      [
        'prevResult ip pointing past interfaces',
        {},
        body({ prevResult: { interfaces: [], ips: [{ address: '10.0.0.1/24', interface: 0 }] } }),
        7,
      ],
      ['CHECK without prevResult', { command: 'CHECK' }, body(), 7],
      ['CHECK with cniVersion 0.3.1', { command: 'CHECK' }, body({ cniVersion: '0.3.1', prevResult: { ips: [] } }), 1],
      ['STATUS with cniVersion 1.0.0', { command: 'STATUS' }, body({ cniVersion: '1.0.0' }), 1],
      ['GC without valid-attachments', { command: 'GC' }, body(), 7],
      ['GC with a bad valid-attachment', { command: 'GC' }, body({ 'cni.dev/valid-attachments': [{ containerID: 'a' }] }), 7],
      ['GC ok', { command: 'GC' }, body({ 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }), 'ok'],
      ['GC with cni.dev/attachments', { command: 'GC' }, body({ 'cni.dev/attachments': [{ containerID: 'a', ifname: 'eth0' }] }), 'ok'],
      ['GC with a bad cni.dev/attachments', { command: 'GC' }, body({ 'cni.dev/attachments': {} }), 7],
      ['defaultRoute not a boolean', {}, body({ defaultRoute: 'yes' }), 7],
      ['defaultRoute false', {}, body({ defaultRoute: false }), 'ok'],
      ['VERSION ignores a bad body', { command: 'VERSION' }, 'garbage', 'ok'],
      ['CNI_ARGS all-zero MAC', { args: 'MAC=00:00:00:00:00:00' }, body(), 4],
      ['CNI_ARGS multicast MAC', { args: 'MAC=01:00:5e:00:00:01' }, body(), 4],
      ['CNI_ARGS broadcast MAC', { args: 'MAC=ff:ff:ff:ff:ff:ff' }, body(), 4],
      ['CNI_ARGS unicast MAC', { args: 'MAC=02:00:5e:00:00:01' }, body(), 'ok'],
      ['runtimeConfig.mac all zeros', {}, body({ runtimeConfig: { mac: '00:00:00:00:00:00' } }), 7],
      ['args.cni.mac multicast', {}, body({ args: { cni: { mac: '33:33:00:00:00:01' } } }), 7],
      ['CNI_ARGS IP 0.0.0.0', { args: 'IP=0.0.0.0' }, body(), 4],
      ['CNI_ARGS IP broadcast', { args: 'IP=255.255.255.255' }, body(), 4],
      ['runtimeConfig.ips multicast', {}, body({ runtimeConfig: { ips: ['224.0.0.1/24'] } }), 7],
      ['runtimeConfig.ips loopback', {}, body({ runtimeConfig: { ips: ['127.0.0.2'] } }), 7],
      ['runtimeConfig.ips IPv6 unspecified', {}, body({ runtimeConfig: { ips: ['::/64'] } }), 7],
      ['CNI_ARGS at its limit', { args: `IgnoreUnknown=1;A=${'x'.repeat(16 * 1024 - 18)}` }, body(), 'ok'],
      ['CNI_ARGS over its limit', { args: `A=${'x'.repeat(16 * 1024 - 1)}` }, body(), 4],
      ['CNI_PATH over its limit', { path: '/x'.repeat(8 * 1024 + 1) }, body(), 4],
      ['CNI_NETNS over its limit', { netns: `/${'n'.repeat(4096)}` }, body(), 4],
      ['CNI_CONTAINERID over its limit', { containerId: 'c'.repeat(1025) }, body(), 4],
      ['CNI_COMMAND over its limit', { command: 'ADD'.repeat(6) }, body(), 4],
    ];
    for (const [what, env, b, want] of cases) {
      it(`${what} -> ${want}`, () => {
        assert.equal(
          codeOf(() => parseCniRequest({ ...ENV, ...env }, b)),
          want,
        );
      });
    }
  });

  it('names the variable and the limit when a variable is too long (multi-byte counted in bytes)', () => {
    const e = (() => {
      try {
        parseCniRequest({ ...ENV, args: `K=${'é'.repeat(8192)}` }, body());
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    assert.ok(e instanceof CniError);
    assert.equal(e.code, 4);
    assert.match(e.message, /CNI_ARGS: is 16386 bytes long, more than 16384/);
  });

  it('names CNI_ARGS and the key for an unusable MAC or IP from it', () => {
    for (const args of ['MAC=00:00:00:00:00:00', 'IP=224.0.0.9']) {
      try {
        parseCniRequest({ ...ENV, args }, body());
        assert.fail(`expected ${args} to be refused`);
      } catch (e) {
        assert.ok(e instanceof CniError);
        assert.match(e.message, new RegExp(`CNI_ARGS: ${args.split('=')[0]}`));
      }
    }
  });

  it('names the bad variable in code-4 messages', () => {
    try {
      parseCniRequest({ ...ENV, ifName: 'way-too-long-name0' }, body());
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof CniError);
      assert.match(e.message, /CNI_IFNAME/);
    }
  });

  describe('CNI_ARGS', () => {
    it('splits pairs on ; and keeps = inside values', () => {
      const m = parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web-0;X=a=b;;EMPTY=');
      assert.deepEqual(
        [...m.entries()],
        [
          ['IgnoreUnknown', '1'],
          ['K8S_POD_NAME', 'web-0'],
          ['X', 'a=b'],
          ['EMPTY', ''],
        ],
      );
    });
    it('gives the pod from K8S_POD_* and ignores unknown keys', () => {
      const r = addReq({ args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc;WHATEVER=1' });
      assert.deepEqual(r.pod, { namespace: 'prod', name: 'web-0', infraContainerId: 'abc' });
      const withUid = addReq({ args: 'K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;K8S_POD_UID=0f3c' });
      assert.deepEqual(withUid.pod, { namespace: 'prod', name: 'web-0', uid: '0f3c' });
      assert.deepEqual(addReq({ args: 'K8S_POD_NAME=web-1' }).pod, { name: 'web-1' });
      assert.equal(addReq({ args: 'K8S_POD_NAMESPACE=prod' }).pod, undefined);
    });
  });

  describe('tenant/network/group precedence', () => {
    const cases: Array<[string, Record<string, unknown>, string, { tenant: string; network: string; group?: string }]> = [
      ['defaults', {}, '', { tenant: 'default', network: 'nlnet' }],
      ['netconf keys', { tenant: 't1', network: 'web', group: 'g1' }, '', { tenant: 't1', network: 'web', group: 'g1' }],
      [
        'CNI_ARGS beat netconf',
        { tenant: 't1', network: 'web', group: 'g1' },
        'NETLOOM_TENANT=t2;NETLOOM_NETWORK=db;NETLOOM_GROUP=g2',
        { tenant: 't2', network: 'db', group: 'g2' },
      ],
      ['partial CNI_ARGS', { tenant: 't1', network: 'web' }, 'NETLOOM_GROUP=g3', { tenant: 't1', network: 'web', group: 'g3' }],
      ['empty CNI_ARGS value falls through', { tenant: 't1' }, 'NETLOOM_TENANT=', { tenant: 't1', network: 'nlnet' }],
    ];
    for (const [what, conf, args, want] of cases) {
      it(what, () => {
        assert.deepEqual(networkRef({ ...CONF, ...conf }, 'nlnet', parseCniArgs(args)), { cniNetwork: 'nlnet', ...want });
      });
    }
  });

  describe('requested IP and MAC precedence: runtimeConfig > args.cni > CNI_ARGS', () => {
    it('runtimeConfig wins', () => {
      const r = addReq(
        { args: 'IP=10.0.0.9;MAC=02:00:00:00:00:09' },
        {
          runtimeConfig: { ips: ['10.0.0.7/24'], mac: '02:00:00:00:00:07' },
          args: { cni: { ips: ['10.0.0.8'], mac: '02:00:00:00:00:08' } },
        },
      );
      assert.deepEqual(r.requestedIps, [{ ip: '10.0.0.7', prefixLength: 24 }]);
      assert.equal(r.requestedMac, '02:00:00:00:00:07');
    });
    it('args.cni next', () => {
      const r = addReq(
        { args: 'IP=10.0.0.9;MAC=02:00:00:00:00:09' },
        { args: { cni: { ips: ['10.0.0.8'], mac: '02:00:00:00:00:08', labels: [{ key: 'app', value: 'web' }] } } },
      );
      assert.deepEqual(r.requestedIps, [{ ip: '10.0.0.8' }]);
      assert.equal(r.requestedMac, '02:00:00:00:00:08');
      assert.deepEqual(r.labels, { app: 'web' });
    });
    it('CNI_ARGS last, with several comma-separated IPs', () => {
      const r = addReq({ args: 'IP=10.0.0.9,fd00::9/64;MAC=02:00:00:00:00:0A' });
      assert.deepEqual(r.requestedIps, [{ ip: '10.0.0.9' }, { ip: 'fd00::9', prefixLength: 64 }]);
      assert.equal(r.requestedMac, '02:00:00:00:00:0a');
    });
    it('portMappings with default protocol', () => {
      const r = addReq(
        {},
        {
          runtimeConfig: {
            portMappings: [
              { hostPort: 8080, containerPort: 80 },
              { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
            ],
          },
        },
      );
      assert.deepEqual(r.portMappings, [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      ]);
    });
  });

  describe('parseRequestedIp', () => {
    const cases: Array<[string, ReturnType<typeof parseRequestedIp>]> = [
      ['10.1.2.3', { ip: '10.1.2.3' }],
      ['10.1.2.3/16', { ip: '10.1.2.3', prefixLength: 16 }],
      ['fd00::1/64', { ip: 'fd00::1', prefixLength: 64 }],
      ['10.1.2', undefined],
      ['010.1.2.3x', undefined],
      ['10.1.2.3/40', undefined],
      ['fd00::1/129', undefined],
      ['10.1.2.3/a', undefined],
      ['', undefined],
    ];
    for (const [input, want] of cases) it(JSON.stringify(input), () => assert.deepEqual(parseRequestedIp(input), want));
  });

  it('gives the ADD request every typed field', () => {
    const r = addReq(
      { args: 'K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0' },
      {
        tenant: 'acme',
        network: 'web',
        mtu: 1450,
        prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'lo0' }], ips: [{ address: '10.9.0.1/32', interface: 0 }] },
      },
    );
    assert.equal(r.containerId, 'ctr1');
    assert.equal(r.netnsPath, '/run/netns/cnix');
    assert.equal(r.ifName, 'eth0');
    assert.equal(r.idempotencyKey, 'nlnet/ctr1/eth0');
    assert.equal(r.mtu, 1450);
    assert.equal(r.defaultRoute, undefined, 'absent: the backend decides');
    assert.equal(addReq({}, { defaultRoute: true }).defaultRoute, true);
    assert.deepEqual(r.network, { cniNetwork: 'nlnet', tenant: 'acme', network: 'web' });
    assert.deepEqual(r.prevResult, { interfaces: [{ name: 'lo0' }], ips: [{ address: '10.9.0.1/32', interface: 0 }], routes: [], dns: {} });
  });

  it('gives GC the valid attachments', () => {
    const p = parseCniRequest(
      { command: 'GC' },
      body({
        'cni.dev/valid-attachments': [
          { containerID: 'a', ifname: 'eth0' },
          { containerID: 'b', ifname: 'net1' },
        ],
      }),
    );
    assert.equal(p.command, 'GC');
    if (p.command === 'GC')
      assert.deepEqual(p.req.validAttachments, [
        { containerId: 'a', ifName: 'eth0' },
        { containerId: 'b', ifName: 'net1' },
      ]);
  });
});

describe('deploy/cni/netloom.conflist', () => {
  it('is a valid configuration once a runtime derives the plugin request from it', () => {
    const list = JSON.parse(readFileSync(resolve(__dirname, '../../../../deploy/cni/netloom.conflist'), 'utf8')) as {
      cniVersion: string;
      name: string;
      plugins: Array<Record<string, unknown>>;
    };
    assert.equal(list.plugins.length, 1);
    const { capabilities, ...plugin } = list.plugins[0] ?? {};
    assert.deepEqual(capabilities, { ips: true, mac: true, portMappings: true });
    assert.equal(plugin.type, 'netloom-cni');
    const request = { ...plugin, cniVersion: list.cniVersion, name: list.name, runtimeConfig: { ips: ['10.1.0.9/24'] } };
    const p = parseCniRequest(ENV, JSON.stringify(request));
    assert.ok(p.command === 'ADD');
    assert.deepEqual(p.req.network, { cniNetwork: 'netloom', tenant: 'default', network: 'default-net' });
    assert.deepEqual(p.req.requestedIps, [{ ip: '10.1.0.9', prefixLength: 24 }]);
  });
});

describe('cni parse: runtimeConfig.portMappings (the portMappings capability)', () => {
  const pm = (portMappings: unknown) => body({ runtimeConfig: { portMappings } });
  /** the CniError of an ADD with these mappings */
  function refusal(portMappings: unknown): CniError {
    try {
      parseCniRequest(ENV, pm(portMappings));
    } catch (e) {
      if (e instanceof CniError) return e;
      throw e;
    }
    assert.fail(`accepted ${JSON.stringify(portMappings)}`);
  }
  const parsed = (portMappings: unknown) => {
    const p = parseCniRequest(ENV, pm(portMappings));
    if (p.command !== 'ADD') throw new Error('expected ADD');
    return p.req.portMappings;
  };

  it('protocol defaults to tcp, any case is accepted and given lower case; 0.0.0.0 and "" mean any address', () => {
    assert.deepEqual(
      parsed([
        { hostPort: 8080, containerPort: 80, protocol: 'TCP', hostIP: '' },
        { hostPort: 5353, containerPort: 53, protocol: 'Udp', hostIP: '0.0.0.0' },
        { hostPort: 9000, containerPort: 9000, hostIP: '10.213.1.1' },
      ]),
      [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostPort: 5353, containerPort: 53, protocol: 'udp' },
        { hostPort: 9000, containerPort: 9000, protocol: 'tcp', hostIP: '10.213.1.1' },
      ],
    );
  });

  it("field names in any case, as Go's encoding/json reads them: containerd 1.6 sends go-cni's untagged field names", () => {
    assert.deepEqual(
      parsed([
        { HostPort: 5353, ContainerPort: 53, Protocol: 'udp', HostIP: '' },
        { HOSTPORT: 8080, containerport: 80, HostIP: '10.213.1.1' },
        // the exact name wins over another case, as in Go
        { hostPort: 9000, HostPort: 1, containerPort: 9000 },
      ]),
      [
        { hostPort: 5353, containerPort: 53, protocol: 'udp' },
        { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '10.213.1.1' },
        { hostPort: 9000, containerPort: 9000, protocol: 'tcp' },
      ],
    );
  });

  it('the same host port on two protocols, or on two distinct host addresses, is fine', () => {
    assert.equal(
      parsed([
        { hostPort: 53, containerPort: 53, protocol: 'tcp' },
        { hostPort: 53, containerPort: 53, protocol: 'udp' },
        { hostPort: 80, containerPort: 80, hostIP: '10.0.0.1' },
        { hostPort: 80, containerPort: 8080, hostIP: '10.0.0.2' },
      ]).length,
      4,
    );
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not a list', { hostPort: 1, containerPort: 1 }, /runtimeConfig\.portMappings must be a list/],
    ['an entry not an object', [8080], /runtimeConfig\.portMappings\[0\] must be an object/],
    ['hostPort missing', [{ containerPort: 80 }], /runtimeConfig\.portMappings\[0\]\.hostPort undefined is not a port number 1\.\.65535/],
    ['hostPort 65536', [{ hostPort: 65536, containerPort: 80 }], /portMappings\[0\]\.hostPort 65536 is not a port number/],
    ['hostPort as text', [{ hostPort: '8080', containerPort: 80 }], /portMappings\[0\]\.hostPort "8080" is not a port number/],
    ['containerPort 0', [{ hostPort: 8080, containerPort: 0 }], /portMappings\[0\]\.containerPort 0 is not a port number/],
    ['containerPort fractional', [{ hostPort: 8080, containerPort: 80.5 }], /portMappings\[0\]\.containerPort 80\.5/],
    ['sctp', [{ hostPort: 1, containerPort: 1, protocol: 'sctp' }], /portMappings\[0\]\.protocol "sctp" is not tcp or udp/],
    ['protocol a number', [{ hostPort: 1, containerPort: 1, protocol: 6 }], /portMappings\[0\]\.protocol 6 is not tcp or udp/],
    [
      'hostIP not an address',
      [{ hostPort: 1, containerPort: 1, hostIP: 'localhost' }],
      /portMappings\[0\]\.hostIP "localhost" is not an IP/,
    ],
    ['hostIP with a prefix', [{ hostPort: 1, containerPort: 1, hostIP: '10.0.0.1/24' }], /portMappings\[0\]\.hostIP/],
    ['hostIP IPv6', [{ hostPort: 1, containerPort: 1, hostIP: '::1' }], /portMappings\[0\]\.hostIP ::1 is IPv6/],
    ['hostIP multicast', [{ hostPort: 1, containerPort: 1, hostIP: '239.1.1.1' }], /portMappings\[0\]\.hostIP 239\.1\.1\.1 is a multicast/],
    [
      'the same host socket twice',
      [
        { hostPort: 1, containerPort: 1 },
        { hostPort: 8080, containerPort: 80 },
        { hostPort: 8080, containerPort: 81, protocol: 'tcp' },
      ],
      /runtimeConfig\.portMappings\[2\] wants host port \*:8080\/tcp, which runtimeConfig\.portMappings\[1\] \(\*:8080\/tcp\) has already/,
    ],
    [
      'any address and one address on the same port',
      [
        { hostPort: 8080, containerPort: 80, hostIP: '10.0.0.1' },
        { hostPort: 8080, containerPort: 80 },
      ],
      /portMappings\[1\] wants host port \*:8080\/tcp, which runtimeConfig\.portMappings\[0\] \(10\.0\.0\.1:8080\/tcp\)/,
    ],
  ];
  for (const [what, v, msg] of bad) {
    it(`code 7 naming the field: ${what}`, () => {
      const e = refusal(v);
      assert.equal(e.code, 7);
      assert.match(e.message, msg);
    });
  }
});
