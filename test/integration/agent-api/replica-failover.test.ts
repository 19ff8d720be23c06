/**
 * Agents spread over netmaster replicas and move when one fails, losing no update:
 * - three netmaster processes on one etcd (client port 28460), 24 agents spread over them by
 *   their home replica; one replica is killed (SIGKILL) while endpoints and a rule are being
 *   added through another: its agents resume elsewhere from their revision (no new snapshot)
 *   and every agent ends with exactly the view the cluster gives it;
 * - two agent servers in this process on one etcd (26340): one server's streams freeze while
 *   its heartbeats still answer; its agents see etcd's revision (from the heartbeats) move on
 *   without their stream, move to the other server and end with the right view.
 */
import assert from 'node:assert/strict';
import { readCluster } from '../../../netmaster/agent/cluster';
import { computeHostView } from '../../../netmaster/agent/host-view';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { stableJson } from '../../../netmaster/agent/view-diff';
import { NetmasterService } from '../../../netmaster/service/service';
import { EtcdKV } from '../../../netmaster/store/kv';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { ControlPlane, RestClient } from '../../../tools/agent-sim/cluster';
import { createEndpoint, createTopology, DEFAULT_TOPOLOGY as T, ruleBody, rulePath } from '../../../tools/agent-sim/topology';
import { startEnv, startServer, stopEnv, until, type Env } from './support';

/** Whether every client holds exactly the view the cluster in etcd gives its host now. */
async function allExact(kv: EtcdKV, clients: Map<string, NetmasterClient>): Promise<string[]> {
  const cluster = await readCluster(kv);
  const wrong: string[] = [];
  for (const [host, c] of clients) if (stableJson(c.state) !== stableJson(computeHostView(cluster, host))) wrong.push(host);
  return wrong;
}

describe('agent API: replicas fail, agents move (real etcd)', function () {
  this.timeout(120_000);

  describe('a killed replica (3 netmaster processes)', () => {
    let cp: ControlPlane | undefined;
    let rest: RestClient | undefined;
    let kv: EtcdKV | undefined;
    const clients = new Map<string, NetmasterClient>();
    const hosts = Array.from({ length: 24 }, (_, i) => `kill-${String(i).padStart(2, '0')}`);

    before(async function () {
      this.timeout(90_000);
      cp = await ControlPlane.start({
        name: 'nl-replica-kill',
        etcdBasePort: 28460,
        etcdMembers: 1,
        replicas: 3,
        dataDir: '/tmp/nl-grpc/replica-kill',
        netmasterArgs: ['--dead-host-grace', '600'],
      });
      rest = new RestClient(cp.netmasters[0]!.rest);
      kv = new EtcdKV({ hosts: cp.etcdUrls, dialTimeout: 5000 });
      await createTopology(rest);
      for (const [i, h] of hosts.entries()) await createEndpoint(rest, T.tenant, T.network, T.group, h, `c-${i}`);
      for (const [i, h] of hosts.entries()) {
        const c = new NetmasterClient({
          address: cp.grpcAddresses,
          host: h,
          vtepIp: `192.168.60.${i + 1}`,
          heartbeatMs: 500,
          backoff: { initialMs: 50, maxMs: 500 },
        });
        clients.set(h, c);
        c.start();
      }
    });

    after(async () => {
      await Promise.all([...clients.values()].map((c) => c.stop()));
      rest?.close();
      kv?.close();
      await cp?.stop();
    });

    it('its agents resume on the others from their revision and miss nothing made meanwhile', async () => {
      await until(
        'every agent holds every endpoint',
        () => [...clients.values()].every((c) => c.state.endpoints.length === hosts.length),
        30_000,
      );
      const followers = new Map<string, string[]>();
      for (const [h, c] of clients) followers.set(c.replica, [...(followers.get(c.replica) ?? []), h]);
      assert.ok(followers.size >= 2, `agents spread over replicas (${[...followers].map(([r, hs]) => `${r}: ${hs.length}`).join(', ')})`);
      const victim = cp!.netmasters.find((n) => (followers.get(n.grpc)?.length ?? 0) > 0 && n !== cp!.netmasters[0])!;
      const moved = followers.get(victim.grpc)!;
      process.kill(victim.pid, 'SIGKILL');
      // changes made right after, through a replica that lives
      for (let i = 0; i < 6; i++) await createEndpoint(rest!, T.tenant, T.network, T.group, hosts[i]!, `late-${i}`);
      await rest!.mustPost(rulePath(T, 'after-kill'), ruleBody(T, 'after-kill', 8080));
      await until('every agent holds exactly its view', async () => (await allExact(kv!, clients)).length === 0, 45_000).catch(
        async (e: unknown) => {
          throw new Error(`${(e as Error).message}: wrong ${(await allExact(kv!, clients)).join(', ')}`);
        },
      );
      for (const h of moved) {
        const c = clients.get(h)!;
        assert.notEqual(c.replica, victim.grpc, `${h} left the killed replica`);
        assert.equal(c.stats.snapshots, 1, `${h} resumed from its revision, no new snapshot`);
      }
      process.stdout.write(`      ${moved.length} agents moved off the killed replica\n`);
    });
  });

  describe('a replica whose streams freeze while its heartbeats answer (2 servers in process)', () => {
    let env: Env | undefined;
    let kv2: EtcdKV | undefined;
    const servers: RunningAgentServer[] = [];
    const clients = new Map<string, NetmasterClient>();
    const hosts = Array.from({ length: 12 }, (_, i) => `frz-${String(i).padStart(2, '0')}`);

    before(async () => {
      env = await startEnv('agentapi-freeze', 26340);
      kv2 = new EtcdKV({ hosts: [env.etcd.endpoint], dialTimeout: 5000 });
      servers.push(await startServer(env));
      servers.push(await startServer({ ...env, kv: kv2, service: new NetmasterService({ kv: kv2, logger: env.logger }) }));
      await env.service.upsert('network', { tenantName: 'default', networkName: 'n', subnet: '10.44.0.0/16', encap: 'vxlan', pktTag: 44 });
      for (const h of hosts) await env.service.createEndpoint({ networkName: 'n', containerID: `c-${h}`, homingHost: h });
      for (const [i, h] of hosts.entries()) {
        const c = new NetmasterClient({
          address: servers.map((s) => s.address),
          host: h,
          vtepIp: `192.168.61.${i + 1}`,
          heartbeatMs: 300,
          stallTimeoutMs: 2000,
          backoff: { initialMs: 50, maxMs: 500 },
        });
        clients.set(h, c);
        c.start();
      }
    });

    after(async () => {
      await Promise.all([...clients.values()].map((c) => c.stop()));
      for (const s of servers) await s.stop();
      kv2?.close();
      await stopEnv(env);
    });

    it('its agents notice etcd moving on without their stream and move to the other server', async () => {
      await until(
        'every agent holds every endpoint',
        () => [...clients.values()].every((c) => c.state.endpoints.length === hosts.length),
        20_000,
      );
      const frozen = servers[0]!;
      const onFrozen = [...clients].filter(([, c]) => c.replica === frozen.address).map(([h]) => h);
      assert.ok(onFrozen.length > 0 && onFrozen.length < hosts.length, `agents on both servers (${onFrozen.length} on the first)`);
      frozen.fanOut.stop(); // its streams stay open and send nothing more; Heartbeat still answers
      for (let i = 0; i < 4; i++) await env!.service.createEndpoint({ networkName: 'n', containerID: `late-${i}`, homingHost: hosts[i]! });
      await until('every agent holds exactly its view', async () => (await allExact(env!.kv, clients)).length === 0, 30_000).catch(
        async (e: unknown) => {
          throw new Error(`${(e as Error).message}: wrong ${(await allExact(env!.kv, clients)).join(', ')}`);
        },
      );
      for (const h of onFrozen) {
        const c = clients.get(h)!;
        assert.ok(c.stats.stalls >= 1, `${h} saw its stream stall`);
        assert.equal(c.replica, servers[1]!.address, `${h} follows the other server`);
        assert.equal(c.stats.snapshots, 1, `${h} resumed, no new snapshot`);
      }
    });
  });
});
