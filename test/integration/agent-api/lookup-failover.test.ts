/**
 * LookupNetwork and replica failover against a real etcd and two real agent servers (two
 * netmaster replicas): a host with no endpoint finds a network (the message its desired state
 * would carry), even one created a moment ago through the other replica; a missing one is
 * NOT_FOUND naming tenant and network. An agent-side client given both replicas follows the
 * first; when it stops, the client resumes on the second from its etcd revision (no new
 * snapshot), gets a change made meanwhile, and its unary calls succeed. Ports 27100-27103 (ours).
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { isNetloomError } from '../../../lib/errors';
import { computeHostView } from '../../../netmaster/agent/host-view';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { NetmasterService } from '../../../netmaster/service/service';
import { EtcdKV } from '../../../netmaster/store/kv';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import type { Network__Output } from '../../../proto/gen/netloom/v1/Network';
import { rawClient, startEnv, startServer, stopEnv, until, type Env } from './support';

const ETCD_PORT = 27100;
const GRPC = ['127.0.0.1:27102', '127.0.0.1:27103'];

describe('agent API: LookupNetwork and failover between two replicas (real etcd)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let kv2: EtcdKV | undefined;
  let svc2: NetmasterService | undefined;
  const servers: Array<RunningAgentServer | undefined> = [undefined, undefined];
  const clients: NetmasterClient[] = [];

  before(async () => {
    env = await startEnv('agentapi-lookup', ETCD_PORT);
    kv2 = new EtcdKV({ hosts: [env.etcd.endpoint], dialTimeout: 5000 });
    svc2 = new NetmasterService({ kv: kv2, logger: env.logger });
    servers[0] = await startServer(env, { listen: GRPC[0] });
    servers[1] = await startServer({ ...env, kv: kv2, service: svc2 }, { listen: GRPC[1] });
    await env.service.upsert('tenant', { tenantName: 'blue' });
    await env.service.upsert('network', {
      tenantName: 'blue',
      networkName: 'vx',
      subnet: '10.71.2.0/24',
      gateway: '10.71.2.254',
      encap: 'vxlan',
      pktTag: 7102,
    });
    await env.service.createEndpoint({ tenantName: 'blue', networkName: 'vx', containerID: 'c-b', homingHost: 'hostB' });
    // hostB's VTEP, so that its VXLAN endpoints are in other hosts' views
    await servers[0].registry.register({ host: 'hostB', vtepIp: '192.168.7.2', mgmtIp: '', capabilities: ['vxlan'], agentVersion: 'test' });
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    for (const s of servers) await s?.stop();
    kv2?.close();
    await stopEnv(env);
  });

  const lookup = (address: string, req: { host: string; tenant: string; network?: string; subnet?: string }) =>
    new Promise<Network__Output>((resolve, reject) => {
      const c = rawClient(address);
      c.lookupNetwork({ network: '', subnet: '', ...req }, { deadline: Date.now() + 5000 }, (err, res) => {
        c.close();
        if (err || !res) reject(err ?? new Error('empty'));
        else resolve(res);
      });
    });

  it('a host with no endpoint looks a network up by name or subnet: the message the desired state carries', async () => {
    const s1 = servers[0]!;
    await until('tenant id and endpoint in the cache', () => s1.cache.state.tenantIds.has('blue') && s1.cache.state.endpoints.size === 1);
    assert.equal(computeHostView(s1.cache.state, 'hostA').networks.length, 0, 'hostA carries no network');
    const byName = await lookup(GRPC[0]!, { host: 'hostA', tenant: 'blue', network: 'vx' });
    assert.deepEqual(byName, computeHostView(s1.cache.state, 'hostB').networks[0]);
    const bySubnet = await lookup(GRPC[1]!, { host: 'hostA', tenant: 'blue', subnet: '10.71.2.0/24' });
    assert.deepEqual(bySubnet, byName, 'the other replica answers the same');
  });

  it('a missing network is NOT_FOUND naming tenant and network; one just created through the other replica is found', async () => {
    await assert.rejects(lookup(GRPC[0]!, { host: 'hostA', tenant: 'blue', network: 'nope' }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.NOT_FOUND);
      assert.match(e.details, /network 'nope' of tenant 'blue' does not exist/);
      assert.equal(e.metadata.get('netloom-field')[0], 'network');
      return true;
    });
    for (let i = 0; i < 5; i++) {
      await svc2!.upsert('network', {
        tenantName: 'blue',
        networkName: `fresh${i}`,
        subnet: `10.72.${i}.0/24`,
        encap: 'vlan',
        pktTag: 700 + i,
      });
      const n = await lookup(GRPC[0]!, { host: 'hostA', tenant: 'blue', network: `fresh${i}` });
      assert.equal(n.key, `blue:fresh${i}`);
      assert.equal(n.networkId, 0x1000000 | (700 + i));
    }
  });

  it('a client given both replicas follows the first, and after it stops resumes on the second without a snapshot', async () => {
    await env!.service.createEndpoint({ tenantName: 'blue', networkName: 'vx', containerID: 'c-a', homingHost: 'hostA' });
    const c = new NetmasterClient({
      address: GRPC.join(','),
      host: 'hostA',
      vtepIp: '192.168.7.1',
      backoff: { initialMs: 50, maxMs: 500 },
      heartbeatMs: 300,
      callTimeoutMs: 3000,
    });
    clients.push(c);
    c.start();
    await until('snapshot from replica 1', () => c.revision !== '0' && c.replica === GRPC[0], 10_000);
    assert.equal(c.stats.snapshots, 1);
    assert.deepEqual(c.state.endpoints.map((e) => e.containerId).sort(), ['c-a', 'c-b']);

    await servers[0]!.stop();
    servers[0] = undefined;
    // a change made while the client moves over
    await svc2!.createEndpoint({ tenantName: 'blue', networkName: 'vx', containerID: 'c-b2', homingHost: 'hostB' });
    await until('following replica 2', () => c.replica === GRPC[1], 10_000);
    await until('the change made during the failover', () => c.state.endpoints.some((e) => e.containerId === 'c-b2'), 10_000);
    assert.equal(c.stats.snapshots, 1, 'resumed from its etcd revision: no new snapshot');
    // unary calls go to the live replica
    const ep = await c.createEndpoint({ idempotencyKey: 'k-a2', tenant: 'blue', network: 'vx', containerId: 'c-a2' });
    assert.match(ep.ip, /^10\.71\.2\./);
    assert.equal((await c.lookupNetwork({ tenant: 'blue', network: 'vx' })).gateway, '10.71.2.254');
    await assert.rejects(
      c.lookupNetwork({ tenant: 'blue', network: 'nope' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'network',
    );
    await until('its own endpoint in its state', () => c.state.endpoints.some((e) => e.id === ep.id));
    // the registration stays alive through the other replica
    await new Promise((r) => setTimeout(r, 700));
    const rec = await env!.kv.get('/netloom/v1/agent/host/hostA');
    assert.ok(rec, 'agent record still there (lease kept alive through replica 2)');

    // replica 1 back: nothing breaks; the client stays where it is
    servers[0] = await startServer(env!, { listen: GRPC[0] });
    await svc2!.createEndpoint({ tenantName: 'blue', networkName: 'vx', containerID: 'c-b3', homingHost: 'hostB' });
    await until('a later change', () => c.state.endpoints.some((e) => e.containerId === 'c-b3'), 10_000);
    assert.equal(c.stats.snapshots, 1);
  });
});
