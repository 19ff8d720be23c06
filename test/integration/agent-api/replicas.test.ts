/**
 * Two agent servers on one real etcd (as two netmaster replicas): tenant ids claimed by both at
 * once stay unique, one per tenant; a client started before its server is up connects (backoff)
 * once the server listens, and both servers give a host the same view.
 */
import assert from 'node:assert/strict';
import { stableJson } from '../../../netmaster/agent/view-diff';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { EtcdKV } from '../../../netmaster/store/kv';
import { NetmasterService } from '../../../netmaster/service/service';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { startEnv, startServer, stopEnv, until, type Env } from './support';

describe('agent API: two servers on one etcd (real etcd)', function () {
  this.timeout(30_000);
  let env: Env | undefined;
  let kv2: EtcdKV | undefined;
  const servers: RunningAgentServer[] = [];
  const clients: NetmasterClient[] = [];

  before(async () => {
    env = await startEnv('agentapi-replicas', 26140);
    kv2 = new EtcdKV({ hosts: [env.etcd.endpoint], dialTimeout: 5000 });
    servers.push(await startServer(env));
    servers.push(await startServer({ ...env, kv: kv2, service: new NetmasterService({ kv: kv2, logger: env.logger }) }));
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    for (const s of servers) await s.stop();
    kv2?.close();
    await stopEnv(env);
  });

  it('tenant ids claimed concurrently by two servers are unique, one per tenant', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `rt${i}`);
    await Promise.all(names.map((n) => env!.service.upsert('tenant', { tenantName: n })));
    await until(
      'every tenant has an id on both servers',
      () => servers.every((s) => names.every((n) => s.cache.state.tenantIds.has(n))),
      10_000,
    );
    const byTenant = (await env!.kv.list(agentLayout.tenantIdOfPrefix)).kvs;
    const byId = (await env!.kv.list(agentLayout.tenantIdPrefix)).kvs;
    assert.equal(byTenant.length, names.length + 1, 'the default tenant too');
    assert.equal(byId.length, byTenant.length, 'no orphan id key');
    const ids = byTenant.map((k) => Number(k.value));
    assert.equal(new Set(ids).size, ids.length, 'unique');
    for (const k of byId) {
      const tenant = k.value;
      assert.equal(
        Number(byTenant.find((t) => t.key === agentLayout.tenantIdOf(tenant))?.value),
        Number(k.key.slice(agentLayout.tenantIdPrefix.length)),
      );
    }
  });

  it('a client started before its server connects once the server listens, and both servers agree on the view', async () => {
    await env!.service.upsert('network', { tenantName: 'rt1', networkName: 'n', subnet: '10.11.0.0/24', encap: 'vxlan', pktTag: 11 });
    await env!.service.createEndpoint({ tenantName: 'rt1', networkName: 'n', containerID: 'c1', homingHost: 'late' });
    // a port nobody listens on: start a server, note its port, stop it
    const probe = await startServer(env!);
    const port = probe.port;
    await probe.stop();
    const c = new NetmasterClient({ address: `127.0.0.1:${port}`, host: 'late', backoff: { initialMs: 50, maxMs: 300 } });
    clients.push(c);
    c.start();
    await until('the client to retry', () => c.stats.reconnects >= 2);
    assert.equal(c.revision, '0', 'nothing yet');
    assert.ok(c.stats.reconnects >= 2, `retried (${c.stats.reconnects})`);
    const s = await startServer(env!, { listen: `127.0.0.1:${port}` });
    servers.push(s);
    await until('snapshot', () => c.revision !== '0', 5000);
    assert.equal(c.state.endpoints.length, 1);
    await until('both servers at the same revision', () => servers[0]!.cache.state.revision === servers[1]!.cache.state.revision);
    assert.equal(
      stableJson(computeHostView(servers[0]!.cache.state, 'late')),
      stableJson(computeHostView(servers[1]!.cache.state, 'late')),
    );
    assert.equal(stableJson(c.state), stableJson(computeHostView(servers[1]!.cache.state, 'late')));
  });
});
