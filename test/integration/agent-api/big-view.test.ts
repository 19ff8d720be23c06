/**
 * A view too big for one gRPC message: 50,000 endpoints in one network reach an agent that joins
 * it. The snapshot comes in parts, each under the agent's 4 MiB receive limit (the raw client here
 * keeps gRPC's default limit, so a larger message would fail the stream), and together they hold
 * every endpoint; the agent's own client assembles them into one state. Real etcd (26330).
 */
import assert from 'node:assert/strict';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { layout } from '../../../netmaster/store/layout';
import { rawClient, startEnv, startServer, stopEnv, StreamRecorder, until, type Env } from './support';

const ENDPOINTS = 50_000;
const FAR_HOSTS = 500;

describe('agent API: a 50,000-endpoint view (real etcd)', function () {
  this.timeout(180_000);
  let env: Env | undefined;
  let server: RunningAgentServer | undefined;
  let client: NetmasterClient | undefined;

  before(async function () {
    this.timeout(120_000);
    env = await startEnv('agentapi-bigview', 26330);
    await env.service.upsert('network', { tenantName: 'default', networkName: 'big', subnet: '10.128.0.0/14', encap: 'vxlan', pktTag: 77 });
    // written straight into etcd, 128 keys per transaction: creating them one by one through the
    // service would take minutes and is measured elsewhere
    const value = (i: number) =>
      JSON.stringify({
        endpointID: `far-${i}`,
        tenantName: 'default',
        networkName: 'big',
        network: 'default:big',
        groupName: '',
        ipAddress: `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        ipv6Address: '',
        macAddress: `02:42:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        homingHost: `far-${i % FAR_HOSTS}`,
        intfName: '',
        // a valid address per far host (192.168.0.256 would be refused as stored state)
        vtepIP: `192.${168 + (i % FAR_HOSTS >> 8)}.${i % FAR_HOSTS & 255}.1`,
        labels: {},
        containerID: `c-far-${i}`,
        containerName: '',
        idempotencyKey: '',
        createdAt: '',
      });
    const txns: Array<Promise<unknown>> = [];
    for (let start = 0; start < ENDPOINTS; start += 128) {
      const success = [];
      for (let i = start; i < Math.min(ENDPOINTS, start + 128); i++)
        success.push({ request_put: { key: Buffer.from(layout.ep(`far-${i}`)), value: Buffer.from(value(i)) } });
      txns.push(env.raw.kv.txn({ compare: [], success, failure: [] }));
      if (txns.length >= 16) await Promise.all(txns.splice(0));
    }
    await Promise.all(txns);
    await env.service.createEndpoint({ networkName: 'big', containerID: 'joiner-c', homingHost: 'joiner' });
    server = await startServer(env);
    await until(
      'the server holds every endpoint and the tenant id',
      () => server!.cache.state.endpoints.size === ENDPOINTS + 1 && server!.cache.state.tenantIds.has('default'),
      60_000,
    );
  });

  after(async () => {
    await client?.stop();
    await server?.stop();
    await stopEnv(env);
  });

  it('the snapshot comes in parts under 4 MiB that hold all 50,001 endpoints', async () => {
    const rec = new StreamRecorder(rawClient(server!.address), 'joiner');
    await until('the last part', () => rec.updates.some((u) => u.snapshot && !u.snapshot.more) || rec.ended, 60_000);
    assert.equal(rec.error, undefined, 'no message over the receive limit');
    const parts = rec.updates.filter((u) => u.snapshot);
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    assert.ok(parts.slice(0, -1).every((u) => u.snapshot?.more));
    const ids = new Set(parts.flatMap((u) => u.snapshot?.state?.endpoints.map((e) => e.id) ?? []));
    assert.equal(ids.size, ENDPOINTS + 1);
    assert.ok(
      parts.every((u) => u.revision === parts[0]?.revision),
      'one revision for the whole snapshot',
    );
    rec.cancel();
  });

  it("the agent's client assembles the parts into one state", async () => {
    client = new NetmasterClient({ address: server!.address, host: 'joiner' });
    client.start();
    await until('the whole view', () => client!.state.endpoints.length === ENDPOINTS + 1, 60_000);
    assert.equal(client.stats.snapshots, 1);
    assert.equal(client.state.vteps.length, FAR_HOSTS);
  });
});
