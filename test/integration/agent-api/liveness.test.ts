/**
 * Registration, heartbeats and dead-host cleanup against a real etcd: the record on the replica's
 * session lease, ttl 0 once the record is gone (and the client registers again by itself), the
 * newer of two registrations of one host wins, and the leader's liveness task releases a dead
 * host's endpoints after the grace period (not before), while a host that comes back in time
 * keeps them.
 */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { LeaderElector, runWhileLeader } from '../../../netmaster/ha/leader';
import { createLivenessMetrics, runLiveness } from '../../../netmaster/agent/liveness';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { startAgentSide } from '../../../netmaster/agent/wiring';
import { sleep, startEnv, startServer, stopEnv, until, type Env } from './support';

describe('agent API: registration, heartbeats and dead hosts (real etcd)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let server: RunningAgentServer | undefined;
  const clients: NetmasterClient[] = [];
  const newClient = (host: string, extra: Partial<ConstructorParameters<typeof NetmasterClient>[0]> = {}) => {
    const c = new NetmasterClient({
      address: server!.address,
      host,
      vtepIp: '192.168.1.1',
      capabilities: ['vxlan'],
      agentVersion: 't',
      backoff: { initialMs: 50, maxMs: 200 },
      ...extra,
    });
    clients.push(c);
    return c;
  };

  before(async () => {
    env = await startEnv('agentapi-live', 26110);
    server = await startServer(env, { leaseTtlSeconds: 2 });
    await env.service.upsert('network', { tenantName: 'default', networkName: 'net', subnet: '10.5.0.0/24', encap: 'vxlan', pktTag: 42 });
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    await server?.stop();
    await stopEnv(env);
  });

  it("Register writes the record on the replica's session lease; Heartbeat answers the TTL, then 0 once the record is deleted", async () => {
    const c = newClient('reg1');
    const { leaseId, ttlSeconds } = await c.register();
    assert.equal(ttlSeconds, 2);
    const header = (await env!.raw.maintenance.status()).header;
    assert.equal(c.clusterId, BigInt(header.cluster_id).toString(16), "Register answers etcd's cluster id");
    const rec = await env!.kv.get(agentLayout.host('reg1'));
    assert.ok(rec, 'record written');
    const parsed = JSON.parse(rec.value) as {
      leaseId: string;
      replica: string;
      vtepIp: string;
      capabilities: string[];
      registeredAt: string;
    };
    assert.equal(parsed.leaseId, leaseId);
    assert.equal(parsed.replica, server!.registry.replicaId);
    assert.equal(parsed.vtepIp, '192.168.1.1');
    assert.deepEqual(parsed.capabilities, ['vxlan']);
    assert.ok(parsed.registeredAt !== '');
    const ttl = await env!.raw.leaseClient.leaseTimeToLive({ ID: server!.registry.sessionLease, keys: true });
    assert.ok(Number(ttl.TTL) > 0);
    assert.ok(
      ttl.keys.map((k) => k.toString()).includes(agentLayout.host('reg1')),
      "the record is attached to the replica's session lease",
    );
    assert.equal(await c.heartbeat(), 2);
    await env!.kv.commit([], [{ kind: 'delete', key: agentLayout.host('reg1') }]);
    await until('heartbeat answers 0', async () => (await c.heartbeat()) === 0);
  });

  it('the client registers again by itself when the heartbeat answers 0', async () => {
    const c = newClient('reg2', { heartbeatMs: 100 });
    c.start();
    await until('registered', () => c.stats.registrations === 1 && c.lease.id !== '');
    const first = c.lease.id;
    await env!.kv.commit([], [{ kind: 'delete', key: agentLayout.host('reg2') }]);
    await until('registered again', () => c.stats.registrations === 2, 5000);
    assert.notEqual(c.lease.id, first);
    assert.ok(await env!.kv.get(agentLayout.host('reg2')));
  });

  it('a second registration of a live host with its VTEP wins (a restarted agent): the first one is answered 0', async () => {
    // another VTEP for a live host is refused (host takeover; test/unit/agent-api and the lab's attack test)
    const a = newClient('dup', { vtepIp: '192.168.1.2' });
    const b = newClient('dup', { vtepIp: '192.168.1.2' });
    await a.register();
    await b.register();
    assert.equal(await a.heartbeat(), 0, 'the older agent must register again');
    assert.equal(await b.heartbeat(), 2);
    const rec = JSON.parse((await env!.kv.get(agentLayout.host('dup')))!.value) as { vtepIp: string };
    assert.equal(rec.vtepIp, '192.168.1.2');
  });

  it('the leader releases the endpoints of a dead host after the grace period, and only then; a host back in time keeps its endpoints', async () => {
    const registry = new Registry();
    const metrics = createLivenessMetrics(registry);
    const elector = new LeaderElector({ store: env!.kv, id: 'nm-test', ttlSeconds: 2, electionName: 'agentapi-live' });
    const detach = runWhileLeader(elector, (signal) =>
      runLiveness({ service: env!.service, logger: env!.logger, graceMs: 1000, tickMs: 50, metrics }, signal),
    );
    elector.start();
    try {
      await until('leader', () => elector.isLeader);
      const dead = newClient('dead1');
      const back = newClient('back1');
      await dead.register();
      await back.register();
      const e1 = await env!.service.createEndpoint({ networkName: 'net', containerID: 'x1', homingHost: 'dead1' });
      const e2 = await env!.service.createEndpoint({ networkName: 'net', containerID: 'x2', homingHost: 'dead1' });
      const e3 = await env!.service.createEndpoint({ networkName: 'net', containerID: 'y1', homingHost: 'back1' });
      // an endpoint of a host no agent ever ran is left alone
      const e4 = await env!.service.createEndpoint({ networkName: 'net', containerID: 'z1', homingHost: 'never-registered' });
      await sleep(300); // the task has read its state
      const t0 = Date.now();
      // both records gone at once (as when their replica dies)
      await env!.kv.commit(
        [],
        [
          { kind: 'delete', key: agentLayout.host('dead1') },
          { kind: 'delete', key: agentLayout.host('back1') },
        ],
      );
      await sleep(300);
      await back.register(); // back within the grace
      await sleep(300);
      assert.equal((await env!.service.listEndpoints({ host: 'dead1' })).length, 2, 'nothing released before the grace period');
      await until('dead host released', async () => (await env!.service.listEndpoints({ host: 'dead1' })).length === 0, 5000);
      const took = Date.now() - t0;
      assert.ok(took >= 1000, `released after ${took} ms, not before the 1 s grace`);
      await sleep(1200);
      assert.deepEqual(
        (await env!.service.listEndpoints({ host: 'back1' })).map((e) => e.endpointID),
        [e3.endpointID],
        'a host back in time keeps its endpoints',
      );
      assert.deepEqual(
        (await env!.service.listEndpoints({ host: 'never-registered' })).map((e) => e.endpointID),
        [e4.endpointID],
      );
      await assert.rejects(env!.service.getEndpoint(e1.endpointID), /does not exist/);
      await assert.rejects(env!.service.getEndpoint(e2.endpointID), /does not exist/);
      const text = await registry.metrics();
      // dead1, and the hosts of the earlier tests whose agents stopped heartbeating
      assert.match(text, /netmaster_agent_dead_hosts_total [1-9]/);
      assert.match(text, /netmaster_agent_dead_host_endpoints_released_total 2/);
      assert.equal(await env!.kv.get(agentLayout.known('dead1')), undefined, 'the dead host is forgotten');
      process.stdout.write(`      dead host released ${took} ms after its record was deleted (grace 1000 ms)\n`);
    } finally {
      detach();
      await elector.stop();
    }
  });
});

describe('agent API: startAgentSide (server + leader-elected liveness, real etcd)', function () {
  this.timeout(30_000);
  let env: Env | undefined;
  let side: Awaited<ReturnType<typeof startAgentSide>> | undefined;
  const clients: NetmasterClient[] = [];

  before(async () => {
    env = await startEnv('agentapi-side', 26130);
    side = await startAgentSide(
      env.service,
      { grpcListen: '127.0.0.1:0', agentLeaseTtlSeconds: 1, deadHostGraceMs: 500, leaderLeaseTtlSeconds: 2 },
      env.logger,
    );
    assert.ok(side);
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    await side?.stop();
    await stopEnv(env);
  });

  it('serves agents, is elected, and releases the endpoints of an agent that stops heartbeating', async () => {
    await env!.service.upsert('network', { tenantName: 'default', networkName: 'n', subnet: '10.6.0.0/24', encap: 'vxlan', pktTag: 9 });
    const live = new NetmasterClient({ address: side!.server.address, host: 'live1', heartbeatMs: 200 });
    const quiet = new NetmasterClient({ address: side!.server.address, host: 'quiet1' });
    clients.push(live, quiet);
    live.start();
    await quiet.register(); // and never heartbeats: its 1 s lease expires
    await live.createEndpoint({ idempotencyKey: 'l1', network: 'n' });
    await quiet.createEndpoint({ idempotencyKey: 'q1', network: 'n' });
    await until('leader', () => side!.elector.isLeader, 10_000);
    await until('quiet host released', async () => (await env!.service.listEndpoints({ host: 'quiet1' })).length === 0, 10_000);
    assert.equal((await env!.service.listEndpoints({ host: 'live1' })).length, 1, 'the heartbeating host keeps its endpoint');
  });

  it('a taken default address: runs without the agent API (bindOptional); a taken explicit address fails', async () => {
    const taken = side!.server.address;
    const base = { grpcListen: taken, agentLeaseTtlSeconds: 1, deadHostGraceMs: 500, leaderLeaseTtlSeconds: 2 };
    assert.equal(await startAgentSide(env!.service, { ...base, bindOptional: true }, env!.logger), undefined);
    await assert.rejects(startAgentSide(env!.service, base, env!.logger), /cannot listen/);
  });
});
