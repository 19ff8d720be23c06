/**
 * Refused policy input over REST against a real etcd (docs/policy.md, 'Refused input'): every bad
 * rule or netprofile, and every delete of a policy or profile a group still uses, answers 4xx
 * JSON naming the field (or the group), and a GET afterwards shows nothing written.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { call } from './support';

const T = 'pin';
const rule = (over: Record<string, unknown> = {}) => ({ tenantName: T, policyName: 'pol', ruleId: '9', direction: 'in', ...over });
const profile = (over: Record<string, unknown> = {}) => ({ tenantName: T, profileName: 'bad', ...over });

describe('netmaster refuses bad policy input over REST and writes nothing', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let api = '';

  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, `${api}${path}`, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
    return r.json;
  };

  /** etcd revision and netloom key count: a refused request changes neither */
  async function footprint(): Promise<{ revision: string; keys: number }> {
    const kv = nm?.service.kv;
    assert.ok(kv);
    const r = await kv.read([{ kind: 'count', prefix: layout.root }]);
    return { revision: r.revision, keys: r.results[0]?.count ?? -1 };
  }

  /** The request is refused with `status`, a JSON error naming `field` (and matching `message`); `path` reads back as before. */
  async function expectRefused(
    method: string,
    path: string,
    body: unknown,
    want: { status: number; code: string; field?: string; message?: RegExp },
  ): Promise<void> {
    const before = await call('GET', `${api}${path}`);
    const fp = await footprint();
    const r = await call(method, `${api}${path}`, body);
    const what = `${method} ${path} ${JSON.stringify(body)}: ${r.text}`;
    assert.equal(r.status, want.status, what);
    assert.match(String(r.headers['content-type']), /application\/json/, what);
    assert.equal(r.json.code, want.code, what);
    assert.equal(typeof r.json.error, 'string', what);
    if (want.field !== undefined) assert.equal(r.json.field, want.field, what);
    if (want.message) assert.match(r.json.error, want.message, what);
    const after = await call('GET', `${api}${path}`);
    assert.equal(after.status, before.status, `GET after ${what}`);
    assert.deepEqual(after.json, before.json, `GET after ${what}`);
    assert.deepEqual(await footprint(), fp, `${what} wrote to etcd`);
  }

  before(async () => {
    etcd = await startTestEtcd('policy-input', 25460);
    nm = await startNetmaster({ etcdEndpoints: [etcd.endpoint], logger: createLogger('policy-input-test', { level: 'silent' }) });
    api = `${nm.url}/api/v1`;
    await ok('POST', `/tenants/${T}/`, { tenantName: T });
    await ok('POST', `/networks/${T}:net/`, { tenantName: T, networkName: 'net', subnet: '10.46.0.0/24', encap: 'vxlan' });
    await ok('POST', `/policys/${T}:pol/`, { tenantName: T, policyName: 'pol' });
    await ok('POST', `/netprofiles/${T}:gold/`, { tenantName: T, profileName: 'gold', bandwidth: '10mbps', burst: 64, DSCP: 10 });
    await ok('POST', `/endpointGroups/${T}:web/`, {
      tenantName: T,
      groupName: 'web',
      networkName: 'net',
      policies: ['pol'],
      netProfile: 'gold',
    });
    await ok('POST', `/rules/${T}:pol:1/`, rule({ ruleId: '1', fromEndpointGroup: 'web', protocol: 'tcp', port: 80, priority: 5 }));
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
  });

  it('refuses bad rules, new or as an update, naming the field', async () => {
    const bad = 400;
    const cases: Array<[Record<string, unknown>, number, string, string, RegExp]> = [
      [{ fromEndpointGroup: 'nosuch' }, 404, 'NOT_FOUND', 'fromEndpointGroup', /endpoint group pin:nosuch does not exist/],
      [{ direction: 'out', toEndpointGroup: 'nosuch' }, 404, 'NOT_FOUND', 'toEndpointGroup', /pin:nosuch/],
      [{ fromNetwork: 'nosuch' }, 404, 'NOT_FOUND', 'fromNetwork', /network pin:nosuch does not exist/],
      [{ direction: 'out', toNetwork: 'nosuch' }, 404, 'NOT_FOUND', 'toNetwork', /network pin:nosuch/],
      [{ port: 80 }, bad, 'INVALID_ARGUMENT', 'port', /needs protocol tcp or udp \(no protocol given; Contiv ignored/],
      [{ protocol: 'icmp', port: 80 }, bad, 'INVALID_ARGUMENT', 'port', /got 'icmp'/],
      [{ priority: 101 }, bad, 'INVALID_ARGUMENT', 'priority', /between 1 and 100/],
      [{ priority: -1 }, bad, 'INVALID_ARGUMENT', 'priority', /between 1 and 100/],
      [{ fromIpAddress: '10.1.1.300' }, bad, 'INVALID_ARGUMENT', 'fromIpAddress', /IPv4 address or CIDR/],
      [{ fromIpAddress: '10.1.1.0/33' }, bad, 'INVALID_ARGUMENT', 'fromIpAddress', /IPv4 address or CIDR/],
      [{ direction: 'out', toIpAddress: 'garbage' }, bad, 'INVALID_ARGUMENT', 'toIpAddress', /IPv4 address or CIDR/],
      [{ protocol: 'sctp' }, bad, 'INVALID_ARGUMENT', 'protocol', /tcp', 'udp', 'icmp'/],
      [{ protocol: '256' }, bad, 'INVALID_ARGUMENT', 'protocol', /between 0 and 255/],
      [{ fromEndpointGroup: 'web', fromNetwork: 'net' }, bad, 'INVALID_ARGUMENT', 'fromNetwork', /mutually exclusive/],
      [{ fromEndpointGroup: 'web', toIpAddress: '10.46.0.5' }, bad, 'INVALID_ARGUMENT', 'toIpAddress', /not allowed/],
      [{ direction: 'out', fromNetwork: 'net' }, bad, 'INVALID_ARGUMENT', 'fromNetwork', /not allowed/],
    ];
    for (const [over, status, code, field, message] of cases) {
      // a new rule (GET stays 404) and an update of rule 1 (GET shows it unchanged)
      await expectRefused('POST', `/rules/${T}:pol:9/`, rule(over), { status, code, field, message });
      await expectRefused('POST', `/rules/${T}:pol:1/`, rule({ ruleId: '1', ...over }), { status, code, field, message });
    }
    assert.equal((await call('GET', `${api}/rules/${T}:pol:1/`)).json.priority, 5);
  });

  it("stores priority 0 as Contiv's default, 1", async () => {
    await ok('POST', `/rules/${T}:pol:2/`, rule({ ruleId: '2', priority: 0 }));
    assert.equal((await ok('GET', `/rules/${T}:pol:2/`)).priority, 1);
    await ok('DELETE', `/rules/${T}:pol:2/`);
  });

  it('refuses netprofiles whose bandwidth, burst or DSCP the agent cannot use', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ bandwidth: 'fast' }, 'bandwidth', /kbps, mbps or gbps/],
      [{ bandwidth: '10mb' }, 'bandwidth', /kbps, mbps or gbps/],
      [{ bandwidth: '500bps' }, 'bandwidth', /whole number of kbps/],
      [{ bandwidth: '4295gbps' }, 'bandwidth', /at most 4294967295kbps/],
      [{ burst: 536870912 }, 'burst', /between 0 and 536870911 \(kbytes\)/],
      [{ burst: -1 }, 'burst', /between 0 and 536870911/],
      [{ burst: '64' }, 'burst', /must be a number/],
      [{ DSCP: 64 }, 'DSCP', /between 0 and 63/],
      [{ DSCP: -1 }, 'DSCP', /between 0 and 63/],
    ];
    for (const [over, field, message] of cases) {
      const want = { status: 400, code: 'INVALID_ARGUMENT', field, message };
      await expectRefused('POST', `/netprofiles/${T}:bad/`, profile(over), want);
      await expectRefused('POST', `/netprofiles/${T}:gold/`, profile({ profileName: 'gold', ...over }), want);
    }
    assert.equal((await ok('GET', `/netprofiles/${T}:gold/`)).burst, 64);
  });

  it('refuses deleting a policy or a netprofile a group still uses, naming the group', async () => {
    const want = (label: string) => ({
      status: 409,
      code: 'IN_USE',
      message: new RegExp(`${label} pin:\\w+ is used by endpoint group\\(s\\) web`),
    });
    await expectRefused('DELETE', `/policys/${T}:pol/`, undefined, want('policy'));
    await expectRefused('DELETE', `/netprofiles/${T}:gold/`, undefined, want('netprofile'));
    // the policy's rules are still there
    assert.equal((await ok('GET', `/rules/${T}:pol:1/`)).port, 80);
    // once the group lets go of them, both deletes go through
    await ok('POST', `/endpointGroups/${T}:web/`, { tenantName: T, groupName: 'web', networkName: 'net' });
    await ok('DELETE', `/netprofiles/${T}:gold/`);
    await ok('DELETE', `/rules/${T}:pol:1/`);
    await ok('DELETE', `/policys/${T}:pol/`);
  });
});
