/**
 * End to end with the real control plane: a NetmasterService and its gRPC agent server (in this
 * process, listening on the lab's management address, on the lab's etcd), two real netplugin
 * processes following it with --netmaster-grpc, containers created through the CNI shim (addresses
 * allocated by netmaster), and real traffic between them over VXLAN; DEL releases the endpoint in
 * netmaster and removes it from the other host's state.
 */
import { strict as assert } from 'node:assert';
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
  const ipOf = (r: Record<string, unknown>) => ((r.ips as Array<{ address: string }>)[0]?.address ?? '').split('/')[0]!;

  before(async function () {
    this.timeout(60_000);
    await lab.up(2);
    const logger = createLogger('netmaster-e2e', { level: 'silent' });
    kv = new EtcdKV({ hosts: [lab.plan.etcd[0]!.clientUrl], dialTimeout: 5000 });
    service = new NetmasterService({ kv, logger });
    await service.init();
    await service.upsert('tenant', { tenantName: 'acme' });
    await service.upsert('network', { tenantName: 'acme', networkName: 'web', subnet: '10.61.0.0/24', gateway: '10.61.0.254', encap: 'vxlan', pktTag: 6001 });
    server = await startAgentServer({ service, logger, listen: `${lab.plan.rootMgmtIp}:0` });
    await Promise.all([lab.startAgent('host1', [], server.address), lab.startAgent('host2', [], server.address)]);
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

  it('CNI DEL releases the endpoint in netmaster and the other host stops reaching it', async () => {
    const ipB = ipOf(rb);
    const mentionsB = new RegExp(`${ipB.replace(/\./g, '\\.')}(?![0-9])`);
    assert.match(await lab.ofctl('host1', ['dump-flows', 'br-int']), mentionsB, 'host1 has flows for b2');
    const del = await lab.cni('DEL', b2);
    assert.equal(del.code, 0, del.stdout);
    await waitFor('host1 flows for b2 gone', async () => !mentionsB.test(await lab.ofctl('host1', ['dump-flows', 'br-int'])), { timeoutMs: 8000, intervalMs: 100 });
    assert.equal(await pingOnce(lab.ns(a1), ipB, 1), false);
    const left = (await service!.snapshot()).endpoints.map((e) => e.containerID);
    assert.ok(!left.includes('ctr-e2eb'), `netmaster still has ${left.join(' ')}`);
    assert.ok(left.includes('ctr-e2ea'));
    const again = await lab.cni('DEL', b2);
    assert.equal(again.code, 0, 'DEL is idempotent');
  });
});
