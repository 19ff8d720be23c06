/**
 * Nomad's and Mesos' CNI calls as netloom parses them (netplugin/cni/nomad-identity.ts,
 * mesos-identity.ts, parse.ts): labels, tenant/network/group by the mapping, port mappings, unknown
 * CNI_ARGS keys, and each bad input as a CNI error naming its field.
 */
import { strict as assert } from 'node:assert';
import { CniError } from '../../../netplugin/cni/errors';
import { checkArgKeys, parseCniArgs, parseCniRequest, type CniEnv } from '../../../netplugin/cni/parse';
import { mesosIdentity } from '../../../netplugin/cni/mesos-identity';
import { nomadIdentity, nomadMapping } from '../../../netplugin/cni/nomad-identity';

const ENV: CniEnv = { command: 'ADD', containerId: 'ctr1', netns: '/run/netns/cnix', ifName: 'eth0', path: '/opt/cni/bin' };
const CONF = { cniVersion: '1.0.0', name: 'nlnet', type: 'netloom-cni', tenant: 'blue', network: 'web' };

/** CNI_ARGS as Nomad's client builds them (networking_cni.go Setup: IgnoreUnknown=true, the user's cni args, NOMAD_*). */
const NOMAD_ARGS =
  'IgnoreUnknown=true;NOMAD_REGION=global;NOMAD_NAMESPACE=prod;NOMAD_JOB_ID=shop;NOMAD_GROUP_NAME=api;' +
  'NOMAD_ALLOC_ID=0b5d6c4e-8a1f-4b0e-9c57-3f1e2d4c5b6a';

function add(env: Partial<CniEnv>, conf: Record<string, unknown> = {}) {
  const p = parseCniRequest({ ...ENV, ...env }, JSON.stringify({ ...CONF, ...conf }));
  if (p.command !== 'ADD') throw new Error('expected ADD');
  return p.req;
}

function failure(f: () => unknown): CniError {
  try {
    f();
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CNI error');
}

const mesosConf = (networkInfo: unknown): Record<string, unknown> => ({
  cniVersion: '0.2.0',
  args: { 'org.apache.mesos': { network_info: networkInfo } },
});

describe('cni: Nomad and Mesos calls', () => {
  describe('CNI_ARGS keys netloom does not know', () => {
    it('are refused naming the key unless IgnoreUnknown is 1 or true (libcni LoadArgs)', () => {
      const e = failure(() => add({ args: 'K8S_POD_NAME=p;FOO=bar' }));
      assert.equal(e.code, 4);
      assert.match(e.message, /CNI_ARGS: unknown key "FOO".*IgnoreUnknown=1/);
      for (const on of ['1', 'true', 'TRUE', 'True']) assert.doesNotThrow(() => checkArgKeys(parseCniArgs(`IgnoreUnknown=${on};FOO=bar`)));
      for (const off of ['0', 'false']) assert.equal(failure(() => checkArgKeys(parseCniArgs(`IgnoreUnknown=${off};FOO=bar`))).code, 4);
      const bad = failure(() => add({ args: 'IgnoreUnknown=yes' }));
      assert.equal(bad.code, 4);
      assert.match(bad.message, /IgnoreUnknown="yes" is not a boolean/);
    });

    it("Nomad's own keys are known; its users' cni { args } ride on its IgnoreUnknown=true", () => {
      assert.doesNotThrow(() => checkArgKeys(parseCniArgs(NOMAD_ARGS.replace('IgnoreUnknown=true;', ''))));
      assert.equal(add({ args: `${NOMAD_ARGS};FancyMessage=hi` }).network.tenant, 'blue');
    });
  });

  describe('Nomad', () => {
    it('every NOMAD_* value is an endpoint label; by default tenant, network and group are the configuration s', () => {
      const req = add({ args: NOMAD_ARGS });
      assert.deepEqual(req.labels, {
        'nomadproject.io/region': 'global',
        'nomadproject.io/namespace': 'prod',
        'nomadproject.io/job': 'shop',
        'nomadproject.io/group': 'api',
        'nomadproject.io/alloc': '0b5d6c4e-8a1f-4b0e-9c57-3f1e2d4c5b6a',
      });
      assert.deepEqual(req.network, { cniNetwork: 'nlnet', tenant: 'blue', network: 'web' });
    });

    it('the nomad mapping: namespace as tenant, job or group as group; NETLOOM_* in CNI_ARGS still win', () => {
      assert.deepEqual(add({ args: NOMAD_ARGS }, { nomad: { tenant: 'namespace', group: 'job' } }).network, {
        cniNetwork: 'nlnet',
        tenant: 'prod',
        network: 'web',
        group: 'shop',
      });
      assert.equal(add({ args: NOMAD_ARGS }, { nomad: { group: 'group' } }).network.group, 'api');
      assert.equal(add({ args: `${NOMAD_ARGS};NETLOOM_TENANT=red` }, { nomad: { tenant: 'namespace' } }).network.tenant, 'red');
      // a value Nomad left out (it skips those with ";") falls back to the configuration
      assert.equal(add({ args: NOMAD_ARGS.replace(';NOMAD_JOB_ID=shop', '') }, { nomad: { group: 'job' } }).network.group, undefined);
    });

    it("a DEL carries no NOMAD_* (Nomad's Teardown passes only the port mappings)", () => {
      const p = parseCniRequest({ ...ENV, command: 'DEL' }, JSON.stringify({ ...CONF, nomad: { tenant: 'namespace', group: 'job' } }));
      assert.equal(p.command, 'DEL');
      if (p.command === 'DEL') assert.deepEqual(p.req.labels, {});
    });

    it('bad mappings and values: code 7 naming the nomad key, code 4 naming the CNI_ARGS key', () => {
      const m = failure(() => add({ args: NOMAD_ARGS }, { nomad: { tenant: 'job' } }));
      assert.equal(m.code, 7);
      assert.match(m.message, /nomad\.tenant must be one of "config", "namespace"/);
      assert.match(failure(() => nomadMapping({ nomad: { groups: 'job' } })).message, /nomad\.groups is not a key/);
      assert.match(failure(() => nomadMapping({ nomad: 'job' })).message, /nomad must be an object/);
      const name = failure(() =>
        add({ args: NOMAD_ARGS.replace('NOMAD_JOB_ID=shop', 'NOMAD_JOB_ID=shop/batch') }, { nomad: { group: 'job' } }),
      );
      assert.equal(name.code, 4);
      assert.match(name.message, /CNI_ARGS: NOMAD_JOB_ID="shop\/batch" cannot be a netloom group name/);
      const label = failure(() => add({ args: NOMAD_ARGS.replace('NOMAD_GROUP_NAME=api', 'NOMAD_GROUP_NAME=a=b') }));
      assert.equal(label.code, 4);
      assert.match(label.message, /CNI_ARGS: NOMAD_GROUP_NAME="a=b".*'='/);
    });

    it('go-cni portMappings (Go field names, tcp and udp per port, HostIP of the host network) become published ports', () => {
      const req = add(
        { args: NOMAD_ARGS },
        {
          runtimeConfig: {
            portMappings: [
              { HostPort: 24028, ContainerPort: 8080, Protocol: 'tcp', HostIP: '10.0.0.7' },
              { HostPort: 24028, ContainerPort: 8080, Protocol: 'udp', HostIP: '10.0.0.7' },
            ],
          },
        },
      );
      assert.deepEqual(req.portMappings, [
        { hostPort: 24028, containerPort: 8080, protocol: 'tcp', hostIP: '10.0.0.7' },
        { hostPort: 24028, containerPort: 8080, protocol: 'udp', hostIP: '10.0.0.7' },
      ]);
    });

    it('nomadIdentity is undefined for a call without NOMAD_* keys', () => {
      assert.equal(nomadIdentity(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=p'), nomadMapping({})), undefined);
    });
  });

  describe('Mesos', () => {
    const info = {
      name: 'netloom',
      labels: {
        labels: [
          { key: 'io.contiv.tenant', value: 'blue' },
          { key: 'io.contiv.network', value: 'db' },
          { key: 'io.contiv.net-group', value: 'backend' },
          { key: 'app', value: 'pg' },
          { key: 'flag' },
        ],
      },
      port_mappings: [
        { host_port: 15432, container_port: 5432 },
        { host_port: 15433, container_port: 5433, protocol: 'UDP' },
      ],
    };

    it("Contiv's labels name tenant, network and group; the others are endpoint labels; port_mappings are published ports", () => {
      const req = add({}, { ...mesosConf(info), tenant: 'default', network: 'other' });
      assert.deepEqual(req.network, { cniNetwork: 'nlnet', tenant: 'blue', network: 'db', group: 'backend' });
      assert.deepEqual(req.labels, { app: 'pg', flag: '' });
      assert.deepEqual(req.portMappings, [
        { hostPort: 15432, containerPort: 5432, protocol: 'tcp' },
        { hostPort: 15433, containerPort: 5433, protocol: 'udp' },
      ]);
      assert.equal(req.cniVersion, '0.2.0');
    });

    it("netloom.io/* labels win over Contiv's; without either the configuration's names apply", () => {
      const both = { labels: { labels: [...info.labels.labels, { key: 'netloom.io/tenant', value: 'red' }] } };
      assert.equal(add({}, mesosConf(both)).network.tenant, 'red');
      assert.deepEqual(add({}, mesosConf({ name: 'netloom' })).network, { cniNetwork: 'nlnet', tenant: 'blue', network: 'web' });
    });

    it('the Mesos key without network_info, and other bad NetworkInfo: code 7 naming the field', () => {
      const cases: Array<[unknown, RegExp]> = [
        [{ 'org.apache.mesos': {} }, /args\.org\.apache\.mesos\.network_info is required/],
        [{ 'org.apache.mesos': 'x' }, /args\.org\.apache\.mesos must be an object/],
        [{ 'org.apache.mesos': { network_info: [] } }, /network_info must be an object/],
        [
          { 'org.apache.mesos': { network_info: { labels: { labels: [{ key: 'io.contiv.tenant', value: 'a b' }] } } } },
          /network_info\.labels\.io\.contiv\.tenant "a b" is not a netloom tenant name/,
        ],
        [{ 'org.apache.mesos': { network_info: { labels: [] } } }, /network_info\.labels must be an object/],
        [
          { 'org.apache.mesos': { network_info: { port_mappings: [{ host_port: 0, container_port: 80 }] } } },
          /port_mappings\[0\]\.host_port/,
        ],
        [
          { 'org.apache.mesos': { network_info: { port_mappings: [{ host_port: 80, container_port: 80, protocol: 'sctp' }] } } },
          /port_mappings\[0\]\.protocol "sctp" is not tcp or udp/,
        ],
      ];
      for (const [args, re] of cases) {
        const e = failure(() => add({}, { args }));
        assert.equal(e.code, 7, e.message);
        assert.match(e.message, re);
      }
      // the same for DEL: Mesos sends its checkpointed configuration, args and all
      assert.equal(
        failure(() => parseCniRequest({ ...ENV, command: 'DEL' }, JSON.stringify({ ...CONF, args: { 'org.apache.mesos': {} } }))).code,
        7,
      );
    });

    it('a host port wanted twice (runtimeConfig and network_info) is refused naming both', () => {
      const e = failure(() =>
        add(
          {},
          {
            ...mesosConf({ port_mappings: [{ host_port: 8080, container_port: 80 }] }),
            runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 81 }] },
          },
        ),
      );
      assert.equal(e.code, 7);
      assert.match(e.message, /network_info\.port_mappings\[0\] wants host port .*runtimeConfig\.portMappings\[0\]/);
    });

    it('mesosIdentity is undefined without the key', () => {
      assert.equal(mesosIdentity({ cni: {} }), undefined);
    });
  });
});
