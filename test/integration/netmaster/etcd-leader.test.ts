/**
 * The etcd leader killed (SIGKILL) in the middle of a burst of endpoint creates through two
 * netmaster replicas on a 3-member cluster: the cluster elects a new leader, every create that
 * succeeded holds a distinct address, retries with the same idempotency key return the same
 * allocation, and allocations match objects (consistency clean): nothing half-made, nothing leaked.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import { isAlive } from '../../../lib/process';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../../../deploy/lab/etcd-cluster';
import type { EtcdMemberPlan } from '../../../deploy/lab/plan';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { call } from './support';

const DIR = '/tmp/nl-etcd3';
const MEMBERS: EtcdMemberPlan[] = [1, 2, 3].map((i) => ({
  name: `m${i}`,
  clientUrl: `http://127.0.0.1:${25300 + i * 10}`,
  peerUrl: `http://127.0.0.1:${25300 + i * 10 + 1}`,
  dataDir: `${DIR}/m${i}`,
}));
const ENDPOINTS = MEMBERS.map((m) => m.clientUrl);

/** The client URL of the current leader, as etcd reports it. */
async function leaderUrl(): Promise<string> {
  const r = await run('etcdctl', ['--endpoints', ENDPOINTS.join(','), 'endpoint', 'status', '-w', 'json'], {
    env: { ...process.env, ETCDCTL_API: '3' },
    allowFailure: true,
  });
  const st = JSON.parse(r.stdout) as Array<{
    Endpoint: string;
    Status: { header: { member_id: number | string }; leader: number | string };
  }>;
  const leader = st.find((s) => String(s.Status.header.member_id) === String(s.Status.leader));
  if (!leader) throw new Error(`no leader in ${r.stdout}`);
  return leader.Endpoint;
}

describe('etcd leader killed during a burst (3 members, 2 netmasters)', function () {
  this.timeout(120_000);
  const pids = new Map<string, number>();
  const netmasters: RunningNetmaster[] = [];

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    const token = `nl-etcd3-${Date.now()}`; // one token for the whole cluster
    for (const m of MEMBERS) pids.set(m.clientUrl, startEtcdMember(m, MEMBERS, token, `${DIR}/log`));
    await waitEtcdHealthy(ENDPOINTS, 30_000);
    for (let i = 0; i < 2; i++)
      netmasters.push(await startNetmaster({ etcdEndpoints: ENDPOINTS, logger: createLogger('netmaster', { level: 'silent' }) }));
  });
  after(async () => {
    for (const nm of netmasters) await nm.stop().catch(() => undefined);
    for (const pid of pids.values()) if (isAlive(pid)) await stopEtcdMember(pid);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('loses and leaks nothing, and serves again on the new leader', async () => {
    const [a, b] = netmasters.map((n) => `${n.url}/api/v1`);
    assert.ok(a && b);
    assert.equal(
      (
        await call('POST', `${a}/networks/default:burst/`, {
          tenantName: 'default',
          networkName: 'burst',
          subnet: '10.66.0.0/16',
          gateway: '10.66.0.1',
        })
      ).status,
      200,
    );

    const results = new Map<string, string>(); // containerID -> IP of a successful create
    const failed: string[] = [];
    let done = 0;
    let killed = '';
    const load = Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; i < 25; i++) {
          const id = `c${c}-${i}`;
          const api = (c + i) % 2 === 0 ? a : b;
          const r = await call('POST', `${api}/endpoints/`, { tenantName: 'default', networkName: 'burst', containerID: id }).catch(
            () => undefined,
          );
          if (r?.status === 200) results.set(id, (r.json as { ipAddress: string }).ipAddress);
          else failed.push(id);
          done++;
        }
      }),
    );
    while (done < 100) await new Promise((r) => setTimeout(r, 20));
    killed = await leaderUrl();
    process.kill(pids.get(killed) as number, 'SIGKILL');
    await load;
    assert.ok(killed, 'a leader was killed mid-burst');

    const alive = ENDPOINTS.filter((e) => e !== killed);
    await waitEtcdHealthy(alive, 30_000);
    assert.notEqual(await leaderUrl().catch(() => killed), killed, 'a new leader was elected');

    // a client whose create failed retries with the same key; one that succeeded gets the same answer
    for (const id of failed) {
      const r = await call('POST', `${a}/endpoints/`, { tenantName: 'default', networkName: 'burst', containerID: id });
      assert.equal(r.status, 200, `retry of ${id}: ${r.text}`);
      results.set(id, (r.json as { ipAddress: string }).ipAddress);
    }
    const [someId, someIp] = [...results.entries()][0] ?? ['', ''];
    const again = await call('POST', `${b}/endpoints/`, { tenantName: 'default', networkName: 'burst', containerID: someId });
    assert.equal((again.json as { ipAddress: string }).ipAddress, someIp, 'idempotent retry returns the same address');

    assert.equal(results.size, 16 * 25);
    assert.equal(new Set(results.values()).size, results.size, 'every address distinct');
    const eps = await call('GET', `${a}/endpoints/`);
    assert.equal((eps.json as unknown[]).length, results.size, 'exactly one endpoint object per create');
    const report = await call('GET', `${b}/consistency`);
    assert.equal(report.status, 200);
    assert.equal((report.json as { clean: boolean }).clean, true, `consistency: ${report.text}`);
  });
});
