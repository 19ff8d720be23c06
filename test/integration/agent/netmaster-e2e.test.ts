/**
 * End to end with the real control plane: a NetmasterService and its gRPC agent server (in this
 * process, listening on the lab's management address, on the lab's etcd), two real netplugin
 * processes following it with --netmaster-grpc, containers created through the CNI shim (addresses
 * allocated by netmaster), and real traffic between them over VXLAN; DEL releases the endpoint in
 * netmaster and removes it from the other host's state. The CNM driver of host2's agent, driven over
 * its socket with the calls dockerd makes (and the interface moved as dockerd moves it), plugs a
 * third container that reaches the first.
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { addNetns } from '../../../deploy/lab/netns';
import { run } from '../../../lib/exec';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startAgentServer, type RunningAgentServer } from '../../../netmaster/agent/server';
import { NetmasterService } from '../../../netmaster/service/service';
import { EtcdKV } from '../../../netmaster/store/kv';
import { tcpTransfer } from '../../support/traffic';
import { AgentLab, pingOnce } from './support';

describe('netplugin with a real netmaster (gRPC agent service, etcd from the lab)', function () {
  this.timeout(60_000);
  const lab = new AgentLab();
  let kv: EtcdKV | undefined;
  let server: RunningAgentServer | undefined;
  let service: NetmasterService | undefined;
  const a1 = { name: 'e2ea', host: 'host1', tenant: 'acme', network: 'web' };
  const b2 = { name: 'e2eb', host: 'host2', tenant: 'acme', network: 'web' };
  const cnmSock = () => `${lab.dir(lab.host('host2'))}/cnm/netloom.sock`;
  /** one CNM call over the plugin socket, as dockerd makes it */
  const cnmCall = (method: string, body: unknown): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = request(
        {
          socketPath: cnmSock(),
          path: method,
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            const j = JSON.parse(text) as Record<string, unknown>;
            if (res.statusCode !== 200 || j.Err) reject(new Error(`${method}: ${res.statusCode ?? 0} ${text}`));
            else resolve(j);
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  const ipOf = (r: Record<string, unknown>) => ((r.ips as Array<{ address: string }>)[0]?.address ?? '').split('/')[0]!;

  before(async function () {
    this.timeout(60_000);
    await lab.up(2);
    const logger = createLogger('netmaster-e2e', { level: 'silent' });
    kv = new EtcdKV(lab.etcdOptions());
    service = new NetmasterService({ kv, logger });
    await service.init();
    await service.upsert('tenant', { tenantName: 'acme' });
    await service.upsert('network', {
      tenantName: 'acme',
      networkName: 'web',
      subnet: '10.61.0.0/24',
      gateway: '10.61.0.254',
      encap: 'vxlan',
      pktTag: 6001,
    });
    server = await startAgentServer({ service, logger, listen: `${lab.plan.rootMgmtIp}:0`, tls: lab.agentServerTls() });
    const cnm = ['--cnm-socket', cnmSock(), '--cnm-state', `${lab.dir(lab.host('host2'))}/cnm-state.json`];
    await Promise.all([lab.startAgent('host1', [], server.address), lab.startAgent('host2', cnm, server.address)]);
  });
  after(async function () {
    this.timeout(60_000);
    await lab.teardown();
    await server?.stop();
    kv?.close();
  });

  let ra: Record<string, unknown>;
  let rb: Record<string, unknown>;

  it('CNI ADD gets addresses from netmaster and the containers talk across hosts (ping, TCP)', async () => {
    ra = await lab.plug(a1);
    rb = await lab.plug(b2);
    const ipA = ipOf(ra);
    const ipB = ipOf(rb);
    assert.match(ipA, /^10\.61\.0\.\d+$/);
    assert.match(ipB, /^10\.61\.0\.\d+$/);
    assert.notEqual(ipA, ipB);
    // host1 learns b2 from netmaster's stream after b2's ADD returned: allow the propagation
    await waitFor('a1 -> b2 ping', () => pingOnce(lab.ns(a1), ipB, 1), { timeoutMs: 8000, intervalMs: 50 });
    assert.ok(await pingOnce(lab.ns(b2), ipA, 2));
    const tcp = await tcpTransfer(lab.ns(a1), lab.ns(b2), ipB, { seconds: 1, port: 5311 });
    assert.ok(tcp.ok, tcp.error);
  });

  it('the CNM driver plugs a container that reaches a CNI container on the other host', async () => {
    const netId = 'd'.repeat(63) + '1';
    const epId = 'e'.repeat(63) + '2';
    const pool = await cnmCall('/IpamDriver.RequestPool', {
      AddressSpace: 'netloom',
      Pool: '',
      SubPool: '',
      Options: { tenant: 'acme', network: 'web' },
      V6: false,
    });
    assert.equal(pool.Pool, '10.61.0.0/24');
    const gw = await cnmCall('/IpamDriver.RequestAddress', {
      PoolID: pool.PoolID,
      Address: '',
      Options: { RequestAddressType: 'com.docker.network.gateway' },
    });
    await cnmCall('/NetworkDriver.CreateNetwork', {
      NetworkID: netId,
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': { tenant: 'acme', network: 'web' } },
      IPv4Data: [{ AddressSpace: 'netloom', Gateway: gw.Address, Pool: '10.61.0.0/24' }],
      IPv6Data: [],
    });
    const addr = await cnmCall('/IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '', Options: null });
    const cidr = String(addr.Address);
    const ep = await cnmCall('/NetworkDriver.CreateEndpoint', {
      NetworkID: netId,
      EndpointID: epId,
      Interface: { Address: cidr, AddressIPv6: '', MacAddress: '' },
      Options: {},
    });
    const mac = (ep.Interface as { MacAddress: string }).MacAddress;
    const c = { name: 'e2ec' };
    const ns = lab.ns(c);
    lab.netns.push(ns);
    await addNetns(ns);
    const join = await cnmCall('/NetworkDriver.Join', { NetworkID: netId, EndpointID: epId, SandboxKey: `/run/netns/${ns}`, Options: {} });
    const src = (join.InterfaceName as { SrcName: string }).SrcName;
    // what dockerd does with the Join answer: move, rename, address, up, default route
    await run('ip', ['link', 'set', src, 'netns', ns], { netns: lab.host('host2').netns });
    await run('ip', ['-b', '-'], {
      netns: ns,
      input: `link set ${src} name eth0\naddr add ${cidr} dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via ${String(join.Gateway ?? '10.61.0.254')}\n`,
    });
    const link = JSON.parse((await run('ip', ['-j', 'link', 'show', 'eth0'], { netns: ns })).stdout) as Array<{
      address: string;
      mtu: number;
    }>;
    assert.equal(link[0]?.address, mac);
    assert.equal(link[0]?.mtu, 1450);
    const ipC = cidr.split('/')[0]!;
    await waitFor('cnm container -> a1', () => pingOnce(ns, ipOf(ra), 1), { timeoutMs: 8000, intervalMs: 50 });
    await waitFor('a1 -> cnm container', () => pingOnce(lab.ns(a1), ipC, 1), { timeoutMs: 8000, intervalMs: 50 });
    const tcp = await tcpTransfer(ns, lab.ns(a1), ipOf(ra), { seconds: 1, port: 5312 });
    assert.ok(tcp.ok, tcp.error);
    // Docker's removal calls: the endpoint goes away in netmaster
    await cnmCall('/NetworkDriver.Leave', { NetworkID: netId, EndpointID: epId });
    await cnmCall('/NetworkDriver.DeleteEndpoint', { NetworkID: netId, EndpointID: epId });
    await cnmCall('/IpamDriver.ReleaseAddress', { PoolID: pool.PoolID, Address: ipC });
    // an address from the host's block is deregistered in the background (docs/ipam.md)
    await waitFor(`netmaster forgets ${ipC}`, async () => !(await service!.snapshot()).endpoints.some((e) => e.ipAddress === ipC), {
      timeoutMs: 8000,
      intervalMs: 50,
    });
  });

  it('CNI DEL releases the endpoint in netmaster and the other host stops reaching it', async () => {
    const ipB = ipOf(rb);
    const mentionsB = new RegExp(`${ipB.replace(/\./g, '\\.')}(?![0-9])`);
    assert.match(await lab.ofctl('host1', ['dump-flows', 'br-int']), mentionsB, 'host1 has flows for b2');
    const del = await lab.cni('DEL', b2);
    assert.equal(del.code, 0, del.stdout);
    await waitFor('host1 flows for b2 gone', async () => !mentionsB.test(await lab.ofctl('host1', ['dump-flows', 'br-int'])), {
      timeoutMs: 8000,
      intervalMs: 100,
    });
    assert.equal(await pingOnce(lab.ns(a1), ipB, 1), false);
    const left = (await service!.snapshot()).endpoints.map((e) => e.containerID);
    assert.ok(!left.includes('ctr-e2eb'), `netmaster still has ${left.join(' ')}`);
    assert.ok(left.includes('ctr-e2ea'));
    const again = await lab.cni('DEL', b2);
    assert.equal(again.code, 0, 'DEL is idempotent');
  });
});
