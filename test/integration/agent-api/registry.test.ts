/**
 * The agent registry against a real etcd (26180/26181), two registries as two netmaster replicas:
 * a takeover at the other replica makes the first answer 0 and never delete the new record, 50
 * registrations at once take few transactions, a revoked session lease is replaced and the
 * records written again with their ids, and a silent agent's record is deleted after the TTL
 * while a heartbeating one stays.
 */
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { systemClock, waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { AgentRegistry } from '../../../netmaster/agent/registry';
import { agentLayout, type AgentRecord } from '../../../netmaster/store/agent-layout';
import { EtcdKV } from '../../../netmaster/store/kv';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';

const logger = createLogger('registry-it', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });
const reg = (host: string, vtepIp = '192.168.3.1') => ({ host, vtepIp, mgmtIp: '', capabilities: [], agentVersion: 't' });

describe('agent registry: two replicas on one real etcd', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture | undefined;
  let raw: Etcd3 | undefined;
  const kvs: EtcdKV[] = [];
  const registries: AgentRegistry[] = [];

  const newKv = () => {
    const kv = new EtcdKV({ hosts: [etcd!.endpoint], dialTimeout: 5000 });
    kvs.push(kv);
    return kv;
  };
  const startRegistry = async (replicaId: string, ttl = 10) => {
    const r = new AgentRegistry({ kv: newKv(), clock: systemClock, logger, leaseTtlSeconds: ttl, replicaId });
    registries.push(r);
    await r.start();
    return r;
  };
  const record = async (host: string): Promise<AgentRecord | undefined> => {
    const kv = await kvs[0]!.get(agentLayout.host(host));
    return kv ? (JSON.parse(kv.value) as AgentRecord) : undefined;
  };

  before(async () => {
    etcd = await startTestEtcd('agentapi-registry', 26180);
    raw = new Etcd3({ hosts: [etcd.endpoint], dialTimeout: 5000 });
  });

  after(async () => {
    for (const r of registries) await r.stop();
    for (const kv of kvs) kv.close();
    raw?.close();
    await etcd?.stop();
  });

  it('a takeover at another replica makes the first answer 0; the first never deletes the new record', async () => {
    const a = await startRegistry('ra', 1);
    const b = await startRegistry('rb', 10);
    const first = await a.register(reg('tk'));
    assert.equal(a.heartbeat('tk', first.leaseId), 1);
    // the same VTEP: an agent moving to another replica (another VTEP for a live host is refused)
    const second = await b.register(reg('tk'));
    assert.notEqual(first.leaseId, second.leaseId);
    await waitFor('the first replica to drop the host', () => a.heartbeat('tk', first.leaseId) === 0, { timeoutMs: 5000, intervalMs: 20 });
    assert.equal(b.heartbeat('tk', second.leaseId), 10);
    // well past a's TTL (1 s) and several of its sweeps: b's record stays
    const until = Date.now() + 1600;
    await waitFor('1.6 s of b heartbeating', () => b.heartbeat('tk', second.leaseId) === 10 && Date.now() > until, {
      timeoutMs: 5000,
      intervalMs: 100,
    });
    const rec = await record('tk');
    assert.equal(rec?.replica, 'rb');
    assert.equal(rec?.leaseId, second.leaseId);
  });

  it('50 registrations at once take few transactions; ids unique across both replicas', async () => {
    const [a, b] = [registries[0]!, registries[1]!];
    const commits = a.commits;
    const res = await Promise.all(Array.from({ length: 50 }, (_, i) => a.register(reg(`m${i}`))));
    const txns = a.commits - commits;
    assert.ok(txns <= 3, `${txns} transactions`);
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => b.register(reg(`n${i}`))));
    const ids = [...res, ...more].map((x) => x.leaseId);
    assert.equal(new Set(ids).size, ids.length);
    const { kvs: records } = await kvs[0]!.list(agentLayout.hostPrefix);
    const byHost = new Map(records.map((k) => [k.key.slice(agentLayout.hostPrefix.length), JSON.parse(k.value) as AgentRecord]));
    for (let i = 0; i < 50; i++) assert.equal(byHost.get(`m${i}`)?.leaseId, res[i]!.leaseId);
  });

  it('a revoked session lease is replaced: the records are written again with their ids, heartbeats never answer 0', async () => {
    const b = registries[1]!;
    const hosts = Array.from({ length: 20 }, (_, i) => `n${i}`);
    const ids = new Map<string, string>();
    for (const h of hosts) {
      const rec = await record(h);
      assert.ok(rec, h);
      ids.set(h, rec.leaseId);
    }
    const lost = b.sessionLease;
    await raw!.leaseClient.leaseRevoke({ ID: lost });
    for (const h of hosts) assert.equal(b.heartbeat(h, ids.get(h)!), 10, 'answered from memory meanwhile');
    await waitFor(
      'the records on a new lease',
      async () => {
        if (b.sessionLease === lost || b.sessionLease === '') return false;
        const { kvs: records } = await kvs[1]!.list(agentLayout.hostPrefix);
        return hosts.every((h) =>
          records.some((k) => k.key === agentLayout.host(h) && (JSON.parse(k.value) as AgentRecord).leaseId === ids.get(h)),
        );
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const ttl = await raw!.leaseClient.leaseTimeToLive({ ID: b.sessionLease, keys: true });
    const keys = ttl.keys.map((k) => k.toString());
    for (const h of hosts) assert.ok(keys.includes(agentLayout.host(h)), `${h} on the new lease`);
    for (const h of hosts) assert.equal(b.heartbeat(h, ids.get(h)!), 10);
  });

  it("a silent agent's record is deleted after the TTL; a heartbeating one stays", async () => {
    const c = await startRegistry('rc', 1);
    const live = await c.register(reg('alive'));
    await c.register(reg('silent'));
    const beat = setInterval(() => c.heartbeat('alive', live.leaseId), 200);
    try {
      await waitFor('the silent record deleted', async () => (await record('silent')) === undefined, { timeoutMs: 5000, intervalMs: 50 });
      assert.equal((await record('alive'))?.leaseId, live.leaseId);
      assert.equal(c.heartbeat('alive', live.leaseId), 1);
    } finally {
      clearInterval(beat);
    }
  });
});
