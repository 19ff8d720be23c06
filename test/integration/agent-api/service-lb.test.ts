/**
 * serviceLB's control plane end to end on a real etcd (netmaster with REST and agent API): a
 * service created over REST without an address gets one from its network (the endpoints'
 * allocator: never one an endpoint holds, never twice; a taken one is refused naming ipAddress);
 * its providers follow endpoint create and delete in the watch stream of a host of the tenant and
 * in inspect (with counters from a host's heartbeats); netctl lists and inspects it; deleting it
 * releases its address.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { layout } from '../../../netmaster/store/layout';
import { parseV4 } from '../../../netmaster/model/net';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { runCli } from '../../unit/netctl/run-cli';
import { rawClient, until } from './support';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';

type Json = Record<string, unknown>;

describe('agent API: serviceLB control plane (real etcd)', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let agent: NetmasterClient | undefined;
  let late: NetmasterClient | undefined;
  let raw: AgentClient | undefined;
  const logger = createLogger('service-lb-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  before(async () => {
    etcd = await startTestEtcd('agentapi-svclb', 26710);
    nm = await startNetmaster({
      etcdEndpoints: [etcd.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 60_000,
        leaderLeaseTtlSeconds: 10,
        replicaId: 'svclb-r0',
      },
    });
  });

  after(async () => {
    raw?.close();
    await agent?.stop().catch(() => undefined);
    await late?.stop().catch(() => undefined);
    await nm?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  async function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const res = await fetch(`${nm!.url}/api/v1/${path}`, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, json: (await res.json()) as Json };
  }

  const ipKey = async (ip: string) => (await nm!.service.kv.get(layout.ip('sv:web', parseV4(ip)!)))?.value;

  it('allocates the address, follows providers to the hosts of the tenant and into inspect, and releases the address', async () => {
    const svc = nm!.service;
    await svc.upsert('tenant', { tenantName: 'sv' });
    await svc.upsert('network', { tenantName: 'sv', networkName: 'web', subnet: '10.71.0.0/24', gateway: '10.71.0.1', encap: 'vxlan' });
    await svc.upsert('network', { tenantName: 'sv', networkName: 'db', subnet: '10.72.0.0/24', encap: 'vxlan' });
    const first = await svc.createEndpoint({ tenantName: 'sv', networkName: 'web', containerID: 'c0', homingHost: 'sv-h3' });
    assert.equal(first.ipAddress, '10.71.0.2');

    // created over REST without an address: the next free one of the network (not the gateway, not c0's)
    const body = { tenantName: 'sv', serviceName: 'websvc', networkName: 'web', selectors: ['app=web'], ports: ['80:8080:TCP'] };
    const created = await rest('POST', 'serviceLBs/sv:websvc/', body);
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const ip = String(created.json.ipAddress);
    assert.equal(ip, '10.71.0.3');
    assert.equal(await ipKey(ip), 'service:sv:websvc', 'held in the allocator under the service');
    // an update without the address keeps it
    assert.equal((await rest('POST', 'serviceLBs/sv:websvc/', body)).json.ipAddress, ip);
    // the address is never given twice: not to an endpoint, not to another service
    const ep = await svc.createEndpoint({ tenantName: 'sv', networkName: 'web', containerID: 'c9', homingHost: 'sv-h3' });
    assert.equal(ep.ipAddress, '10.71.0.4');
    const taken = await rest('POST', 'serviceLBs/sv:other/', { ...body, serviceName: 'other', ipAddress: ip });
    assert.deepEqual([taken.status, taken.json.code, taken.json.field], [409, 'CONFLICT', 'ipAddress'], JSON.stringify(taken.json));
    const askEp = await rest('POST', 'endpoints/', {
      tenantName: 'sv',
      networkName: 'web',
      containerID: 'cx',
      homingHost: 'sv-h3',
      ipAddress: ip,
    });
    assert.equal(askEp.status, 409, JSON.stringify(askEp.json));
    const gw = await rest('POST', 'serviceLBs/sv:other/', { ...body, serviceName: 'other', ipAddress: '10.71.0.1' });
    assert.deepEqual([gw.status, gw.json.field], [400, 'ipAddress']);
    const noNet = await rest('POST', 'serviceLBs/sv:other/', { ...body, serviceName: 'other', networkName: '' });
    assert.deepEqual([noNet.status, noNet.json.field], [400, 'networkName']);

    // a host of the tenant (its endpoint is in db, not web) follows its stream
    const address = nm!.agent!.server.address;
    agent = new NetmasterClient({ address: [address], host: 'sv-h1', vtepIp: '192.168.71.1', heartbeatMs: 200 });
    agent.start();
    await svc.createEndpoint({ tenantName: 'sv', networkName: 'db', containerID: 'd1', homingHost: 'sv-h1' });
    const p1 = await svc.createEndpoint({
      tenantName: 'sv',
      networkName: 'web',
      containerID: 'p1',
      homingHost: 'sv-h1',
      labels: { app: 'web' },
    });
    const p2 = await svc.createEndpoint({
      tenantName: 'sv',
      networkName: 'web',
      containerID: 'p2',
      homingHost: 'sv-h2',
      labels: { app: 'web', tier: 'x' },
    });
    const providersSeen = (want: string[]) => () => {
      const s = agent!.state.services.find((x) => x.key === 'sv:websvc');
      const ids = s?.providers.map((p) => p.endpointId) ?? [];
      return JSON.stringify(ids) === JSON.stringify(want) ? s : undefined;
    };
    const both = [p1.endpointID, p2.endpointID].sort();
    const seen = await until('both providers in the stream of sv-h1', providersSeen(both), 15_000);
    assert.deepEqual(
      { key: seen.key, tenant: seen.tenant, network: seen.network, ip: seen.ip, ports: seen.ports },
      {
        key: 'sv:websvc',
        tenant: 'sv',
        network: 'sv:web',
        ip,
        ports: [{ name: '', port: 80, targetPort: 8080, protocol: 'tcp', nodePort: 0 }],
      },
    );
    assert.deepEqual(
      seen.providers.map((p) => p.ip),
      both.map((id) => (id === p1.endpointID ? p1.ipAddress : p2.ipAddress)),
    );

    // a host that connects now (sv-h3: c0 and c9 are its) gets the service in its first snapshot
    late = new NetmasterClient({ address: [address], host: 'sv-h3', vtepIp: '192.168.71.3', heartbeatMs: 200 });
    late.start();
    const inSnapshot = await until(
      'the service in the snapshot of sv-h3',
      () => late!.state.services.find((x) => x.key === 'sv:websvc'),
      15_000,
    );
    assert.deepEqual(inSnapshot, seen);

    // sv-h2 reports its counters in a heartbeat (as its agent's group stats read would)
    raw = rawClient(address);
    const call = <Req, Res>(m: (req: Req, cb: (err: Error | null, res?: Res) => void) => unknown, req: Req) =>
      new Promise<Res>((resolve, reject) => m.call(raw, req, (err, res) => (err ? reject(err) : resolve(res as Res))));
    const reg = await call<object, { leaseId: string }>(raw.register.bind(raw) as never, { host: 'sv-h2', vtepIp: '192.168.71.2' });
    const counters = [
      { service: 'sv:websvc', endpointId: p1.endpointID, packets: '7', bytes: '700', connections: '2' },
      { service: 'sv:websvc', endpointId: p2.endpointID, packets: '3', bytes: '300', connections: '1' },
    ];
    await call(raw.heartbeat.bind(raw) as never, { host: 'sv-h2', leaseId: reg.leaseId, appliedRevision: '0', serviceCounters: counters });
    // with sv-h2's VTEP known, the remote provider's endpoint is in sv-h1's view too (a provider
    // in the service's network that sv-h1 has no endpoint in)
    await until(
      "the remote provider's endpoint in the view of sv-h1",
      () => agent!.state.endpoints.some((e) => e.id === p2.endpointID),
      15_000,
    );

    type Provider = { endpointID: string; homingHost: string; ipAddress: string[]; packets: number; connections: number; hosts: number };
    const oper = await until(
      'inspect shows both providers with counters',
      async () => {
        const o = (await rest('GET', 'inspect/serviceLBs/sv:websvc/')).json.Oper as Json;
        const ps = o.providers as Provider[];
        return ps.length === 2 && ps.some((p) => p.packets === 7) ? o : undefined;
      },
      10_000,
    );
    assert.equal(oper.serviceIP, ip);
    assert.equal(oper.numProviders, 2);
    assert.deepEqual(
      (oper.providers as Provider[]).map((p) => [p.endpointID, p.homingHost, p.ipAddress, p.packets, p.connections, p.hosts]),
      [
        [p1.endpointID, 'sv-h1', [p1.ipAddress], 7, 2, 1],
        [p2.endpointID, 'sv-h2', [p2.ipAddress], 3, 1, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );

    // netctl on the real netmaster
    const ls = await runCli(['--netmaster', nm!.url, 'service', 'ls', '-t', 'sv']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, new RegExp(`\\nwebsvc +sv +web +\\[app=web\\] +${ip.replace(/\./g, '\\.')} +80:8080:TCP +2\\n$`));
    const table = await runCli(['--netmaster', nm!.url, 'service', 'inspect', '-t', 'sv', 'websvc', '-o', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`\\n${p1.endpointID} +sv-h1 +${p1.ipAddress.replace(/\./g, '\\.')} +2 +7 +700\\n`));

    // a provider leaves: the stream and inspect follow
    await svc.deleteEndpoint(p2.endpointID);
    await until('only p1 left in the stream of sv-h1', providersSeen([p1.endpointID]), 15_000);
    assert.equal(((await rest('GET', 'inspect/serviceLBs/sv:websvc/')).json.Oper as Json).numProviders, 1);

    // deleting the service: gone from the stream, its address free again (another may ask for it)
    assert.equal((await rest('DELETE', 'serviceLBs/sv:websvc/')).status, 200);
    await until('the service gone from the stream of sv-h1', () => agent!.state.services.length === 0, 15_000);
    assert.equal(await ipKey(ip), undefined, 'released');
    const again = await rest('POST', 'serviceLBs/sv:again/', { ...body, serviceName: 'again', ipAddress: ip });
    assert.deepEqual([again.status, again.json.ipAddress], [200, ip], JSON.stringify(again.json));
    const report = (await rest('GET', 'consistency')).json;
    assert.equal(report.clean, true, JSON.stringify(report));
  });
  it('concurrent service and endpoint creates never share an address; deletes release every one', async () => {
    const svc = nm!.service;
    await svc.upsert('tenant', { tenantName: 'sc' });
    await svc.upsert('network', { tenantName: 'sc', networkName: 'n', subnet: '10.73.0.0/24', gateway: '10.73.0.1', encap: 'vxlan' });
    const n = 20;
    const results = await Promise.all([
      ...Array.from({ length: n }, (_, i) =>
        svc
          .upsert('serviceLB', { tenantName: 'sc', serviceName: `s${i}`, networkName: 'n', selectors: ['app=x'], ports: ['80:80:TCP'] })
          .then((r) => ['service', r.config.ipAddress] as const),
      ),
      ...Array.from({ length: n }, (_, i) =>
        svc
          .createEndpoint({ tenantName: 'sc', networkName: 'n', containerID: `sc${i}`, homingHost: 'sc-h1' })
          .then((e) => ['endpoint', e.ipAddress] as const),
      ),
    ]);
    const ips = results.map(([, ip]) => ip);
    assert.equal(new Set(ips).size, 2 * n, `no address twice: ${ips.join(' ')}`);
    assert.ok(!ips.includes('10.73.0.1'), 'never the gateway');
    const report = (await rest('GET', 'consistency')).json;
    assert.equal(report.clean, true, JSON.stringify(report));
    await Promise.all(Array.from({ length: n }, (_, i) => svc.delete('serviceLB', `sc:s${i}`)));
    const { kvs } = await svc.kv.list(layout.ipPrefix('sc:n'));
    assert.equal(kvs.filter((kv) => kv.value.startsWith('service:')).length, 0, 'every service address released');
    assert.equal(kvs.length, n + 1, "the endpoints' addresses and the gateway stay");
  });
});
