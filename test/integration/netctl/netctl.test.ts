/**
 * netctl against the real netmaster on a real etcd: every command group of Contiv's netctl, the
 * messages and tables it prints, and one-line errors with a non-zero exit.
 */
import { strict as assert } from 'node:assert';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { run, spawnDaemon } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { stopProcess } from '../../../lib/process';
import { EtcdFixture, startTestEtcd } from '../../support/etcd-fixture';

const ROOT = resolve(__dirname, '../../../..');
const NETCTL = `${ROOT}/bin/netctl`;
const PORT = 25199;
const URL = `http://127.0.0.1:${PORT}`;

async function netctl(...args: string[]) {
  return run(NETCTL, ['--netmaster', URL, ...args], { allowFailure: true, env: { ...process.env, NETMASTER: '' } });
}
async function ok(...args: string[]): Promise<string> {
  const r = await netctl(...args);
  assert.equal(r.code, 0, `netctl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

describe('netctl against the real netmaster', function () {
  let etcd: EtcdFixture;
  let pid = 0;

  before(async () => {
    etcd = await startTestEtcd('netctl', 25110);
    const fd = openSync('/tmp/nl-etcd-netctl/netmaster.log', 'a');
    pid = spawnDaemon(
      process.execPath,
      [`${ROOT}/dist/netmaster/main.js`, '--insecure', '--etcd', etcd.endpoint, '--listen-url', `127.0.0.1:${PORT}`, '--log-level', 'warn'],
      { logFd: fd },
    );
    closeSync(fd);
    await waitFor('netmaster to answer', async () => (await fetch(`${URL}/version`)).ok, { timeoutMs: 20_000 });
  });
  after(async () => {
    if (pid) await stopProcess(pid, 'netmaster');
    await etcd?.stop();
  });

  it('creates, lists, inspects and removes tenants and networks with Contiv messages and columns', async () => {
    assert.match(await ok('tenant', 'create', 't1'), /Creating tenant: t1/);
    assert.match(
      await ok('net', 'create', '-t', 't1', '-e', 'vlan', '-p', '100', '-s', '10.1.1.0/24', '-g', '10.1.1.1', 'net-vlan'),
      /Creating network t1:net-vlan/,
    );
    await ok('net', 'create', '-t', 't1', '-e', 'vxlan', '-s', '10.1.2.0/24', '-g', '10.1.2.1', 'net-vx');
    const ls = await ok('net', 'ls', '-t', 't1');
    assert.match(
      ls.split('\n')[0] ?? '',
      /^Tenant\s+Network\s+Nw Type\s+Encap type\s+Packet tag\s+Subnet\s+Gateway\s+IPv6Subnet\s+IPv6Gateway\s+Cfgd Tag/,
    );
    assert.match(ls, /t1\s+net-vlan\s+data\s+vlan\s+100\s+10\.1\.1\.0\/24\s+10\.1\.1\.1/);
    // created without -p: packet tag 0 in its config, as Contiv's netctl showed it; the allocated VNI in its Oper
    assert.match(ls, /t1\s+net-vx\s+data\s+vxlan\s+0\s+10\.1\.2\.0\/24/);
    const vx = JSON.parse(await ok('net', 'inspect', '-t', 't1', 'net-vx')) as { Config: { pktTag: number }; Oper: { pktTag: number } };
    assert.equal(vx.Config.pktTag, 0);
    assert.ok(Number.isInteger(vx.Oper.pktTag) && vx.Oper.pktTag >= 1, `Oper pktTag ${vx.Oper.pktTag}`);
    const inspect = JSON.parse(await ok('net', 'inspect', '-t', 't1', 'net-vlan')) as {
      Config: { pktTag: number };
      Oper: Record<string, unknown>;
    };
    assert.equal(inspect.Config.pktTag, 100);
    assert.ok('availableIPAddresses' in inspect.Oper || 'allocatedIPAddresses' in inspect.Oper, 'inspect carries Oper data');
    assert.deepEqual((await ok('net', 'ls', '-t', 't1', '-q')).trim().split('\n').sort(), ['net-vlan', 'net-vx']);
    const asJson = JSON.parse(await ok('net', 'ls', '-t', 't1', '-o', 'json')) as unknown[];
    assert.equal(asJson.length, 2);
  });

  it('refuses an overlapping subnet with a one-line reason and exit 1, writing nothing', async () => {
    const r = await netctl('net', 'create', '-t', 't1', '-s', '10.1.1.128/25', 'overlap');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /overlap/);
    assert.doesNotMatch(await ok('net', 'ls', '-t', 't1', '-q'), /overlap/);
  });

  it('handles groups, policies with rules, and net profiles', async () => {
    await ok('netprofile', 'create', '-t', 't1', '-b', '10mbps', '-d', '10', '-s', '1024', 'gold');
    await ok('policy', 'create', '-t', 't1', 'web-pol');
    await ok('policy', 'rule-add', '-t', 't1', '-d', 'in', '-l', 'tcp', '-P', '80', '-j', 'allow', '-p', '10', 'web-pol', '1');
    await ok('policy', 'rule-add', '-t', 't1', '-d', 'out', '-o', 'net-vx', '-j', 'deny', 'web-pol', '2');
    await ok('group', 'create', '-t', 't1', '-p', 'web-pol', '-n', 'gold', 'net-vlan', 'web');
    assert.match(await ok('group', 'ls', '-t', 't1'), /web\s+net-vlan\s+web-pol/);
    const rules = await ok('policy', 'rule-ls', '-t', 't1', 'web-pol');
    assert.match(rules, /Incoming Rules:[\s\S]*1\s+10\s+.*tcp\s+80\s+allow/);
    assert.match(rules, /Outgoing Rules:[\s\S]*2\s+1\s+.*net-vx.*deny/);
    assert.match(await ok('netprofile', 'ls', '-t', 't1'), /gold/);
    const busy = await netctl('netprofile', 'rm', '-t', 't1', 'gold');
    assert.equal(busy.code, 1, 'a profile in use cannot be removed');
    await ok('policy', 'rule-rm', '-t', 't1', 'web-pol', '2');
    assert.doesNotMatch(await ok('policy', 'rule-ls', '-t', 't1', 'web-pol'), /deny/);
  });

  it('prints a refused rule and a policy still in use on one line naming the field or the group, exit 1, writing nothing', async () => {
    const rule = await netctl('policy', 'rule-add', '-t', 't1', '-d', 'in', '-g', 'nosuch', 'web-pol', '7');
    assert.equal(rule.code, 1);
    assert.equal(rule.stderr.trim(), 'netctl: endpoint group t1:nosuch does not exist (field: fromEndpointGroup, code: NOT_FOUND)');
    assert.doesNotMatch(await ok('policy', 'rule-ls', '-t', 't1', 'web-pol'), /^7\s/m);
    const busy = await netctl('policy', 'rm', '-t', 't1', 'web-pol');
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr.trim(), 'netctl: policy t1:web-pol is used by endpoint group(s) web (code: IN_USE)');
    assert.match(await ok('policy', 'ls', '-t', 't1'), /web-pol/);
  });

  it('sets and shows global settings, BGP, app profiles, external contracts, aci-gw and services', async () => {
    await ok('global', 'set', '--arp-mode', 'flood');
    assert.match(await ok('global', 'info'), /ARP mode:\s*flood/);
    await ok('bgp', 'create', '--router-ip', '50.1.1.1/24', '--as', '65001', '--neighbor-as', '65002', '--neighbor', '50.1.1.2', 'host1');
    assert.match(await ok('bgp', 'ls'), /host1/);
    await ok('app-profile', 'create', '-t', 't1', '-g', 'web', 'app1');
    assert.match(await ok('app-profile', 'group-ls', '-t', 't1', 'app1'), /web/);
    await ok('external-contracts', 'create', '-t', 't1', '-c', '-a', 'uni/tn-common/brc-default', 'ext1');
    assert.match(await ok('external-contracts', 'ls', '-t', 't1'), /ext1/);
    await ok('aci-gw', 'set', '--include-common-tenant', 'yes');
    assert.match(await ok('aci-gw', 'inspect'), /includeCommonTenant/);
    await ok('service', 'create', '-t', 't1', '-s', 'net-vlan', '-l', 'app=web', '-p', '80:8080:TCP', 'svc1');
    assert.match(await ok('service', 'ls', '-t', 't1'), /svc1/);
    await ok('service', 'rm', '-t', 't1', 'svc1');
  });

  it('reports a clean consistency check, lists endpoints, and removes everything again', async () => {
    assert.match(await ok('consistency'), /clean/i);
    await ok('endpoint', 'ls');
    await ok('app-profile', 'rm', '-t', 't1', 'app1');
    await ok('external-contracts', 'rm', '-t', 't1', 'ext1');
    await ok('group', 'rm', '-t', 't1', 'web');
    await ok('policy', 'rm', '-t', 't1', 'web-pol');
    await ok('netprofile', 'rm', '-t', 't1', 'gold');
    const inUse = await netctl('tenant', 'rm', 't1');
    assert.equal(inUse.code, 1, 'a tenant with networks cannot be removed');
    await ok('net', 'rm', '-t', 't1', 'net-vlan');
    await ok('net', 'rm', '-t', 't1', 'net-vx');
    await ok('bgp', 'rm', 'host1');
    await ok('tenant', 'rm', 't1');
    assert.doesNotMatch(await ok('tenant', 'ls', '-q'), /t1/);
    assert.match(await ok('consistency'), /clean/i);
  });

  it('exits 1 with a message naming the netmaster when it cannot be reached', async () => {
    const r = await run(NETCTL, ['--netmaster', 'http://127.0.0.1:1', 'tenant', 'ls'], { allowFailure: true });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot reach netmaster at http:\/\/127\.0\.0\.1:1/);
  });
});
