/**
 * The agent registry over a fake etcd and a fake clock: heartbeats are answered from memory (no
 * etcd call), registrations that arrive together share transactions, ids are unique across
 * replicas, the sweeper deletes only the records of silent agents (in batches, and never one
 * written again meanwhile), a takeover by another replica makes the old one answer 0, a lost
 * session lease is replaced and the records written again, HeartbeatResponse.revision comes
 * from etcd's replies, and a live host's VTEP cannot be taken over (nor lie outside the underlay).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { createLogger } from '../../../lib/logger';
import { AgentRegistry, createAgentRegistryMetrics, type AgentRegistryOptions } from '../../../netmaster/agent/registry';
import { agentLayout, type AgentRecord } from '../../../netmaster/store/agent-layout';
import { FakeClock, flushAsync } from '../../support/fake-clock';
import { FakeEtcd } from './fake-etcd';
import { isNetloomError } from '../../../lib/errors';

const logger = createLogger('registry-test', { level: 'silent' });

const reg = (host: string, vtepIp = '192.168.0.1') => ({ host, vtepIp, mgmtIp: '', capabilities: ['vxlan'], agentVersion: 't' });

function record(etcd: FakeEtcd, host: string): AgentRecord | undefined {
  const v = etcd.value(agentLayout.host(host));
  return v === undefined ? undefined : (JSON.parse(v) as AgentRecord);
}

describe('agent registry (fake etcd, fake clock)', () => {
  let etcd: FakeEtcd;
  let clock: FakeClock;
  const running: AgentRegistry[] = [];

  async function start(extra: Partial<AgentRegistryOptions> = {}): Promise<AgentRegistry> {
    const r = new AgentRegistry({ kv: etcd.client(), clock, logger, leaseTtlSeconds: 10, ...extra });
    running.push(r);
    await r.start();
    return r;
  }

  beforeEach(() => {
    etcd = new FakeEtcd();
    clock = new FakeClock();
  });

  afterEach(async () => {
    for (const r of running.splice(0)) await r.stop();
  });

  it('heartbeats are answered from memory: no etcd call, TTL for the current registration, 0 otherwise', async () => {
    const r = await start({ replicaId: 'nm1' });
    const { leaseId, ttlSeconds } = await r.register(reg('h1'));
    assert.equal(ttlSeconds, 10);
    assert.match(leaseId, /^[1-9]\d*$/);
    const rec = record(etcd, 'h1');
    assert.equal(rec?.leaseId, leaseId);
    assert.equal(rec?.replica, 'nm1');
    assert.equal(etcd.keys.get(agentLayout.host('h1'))?.lease, r.sessionLease, 'the record is on the session lease');
    assert.equal(etcd.value(agentLayout.known('h1')), 'h1');
    await flushAsync();
    const before = etcd.totalCalls;
    for (let i = 0; i < 1000; i++) assert.equal(r.heartbeat('h1', leaseId, String(i)), 10);
    assert.equal(r.heartbeat('h1', '12345'), 0, 'another registration id');
    assert.equal(r.heartbeat('nobody', leaseId), 0, 'an unknown host');
    assert.throws(() => r.heartbeat('h1', '0'), /lease_id/);
    assert.throws(() => r.heartbeat('bad host', leaseId), /host/);
    await flushAsync();
    assert.equal(etcd.totalCalls, before, 'no etcd call for 1003 heartbeats');
    const [a] = r.agents();
    assert.equal(a?.host, 'h1');
    assert.equal(a?.replica, 'nm1');
    assert.equal(a?.appliedRevision, '999');
    assert.equal(a?.lastSeenMs, 0);
  });

  it('50 concurrent registrations take few transactions (at most 64 ops each), with unique ids', async () => {
    const r = await start();
    const commits = r.commits;
    const res = await Promise.all(Array.from({ length: 50 }, (_, i) => r.register(reg(`c${i}`))));
    const txns = r.commits - commits;
    assert.ok(txns <= 3, `${txns} transactions for 50 registrations`);
    assert.ok(
      etcd.txnSizes.every((n) => n <= 64),
      `ops per transaction: ${etcd.txnSizes.join(',')}`,
    );
    assert.equal(new Set(res.map((x) => x.leaseId)).size, 50, 'unique ids');
    for (let i = 0; i < 50; i++) assert.equal(r.heartbeat(`c${i}`, res[i]!.leaseId), 10);
    assert.equal(r.size, 50);
  });

  it('registration ids are unique across replicas and positive int64', async () => {
    const a = await start({ replicaId: 'a' });
    const b = await start({ replicaId: 'b' });
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).register(reg(`u${round}-${i}`))));
      ids.push(...batch.map((x) => x.leaseId));
    }
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(BigInt(id) > 0n && BigInt(id) < 1n << 63n, id);
  });

  it('the sweeper deletes, in batches, only the records of agents silent for a TTL, and logs each', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const prom = new Registry();
    const r = await start({ logger: createLogger('t', { level: 'info', destination: sink }), metrics: createAgentRegistryMetrics(prom) });
    const live = await r.register(reg('live'));
    const silent = await Promise.all(Array.from({ length: 40 }, (_, i) => r.register(reg(`s${i}`))));
    // heartbeats from `live` only, every 3 s, for 15 s: the sweeper runs every 2.5 s meanwhile
    const commits = r.commits;
    for (let t = 0; t < 5; t++) {
      await clock.tick(3000);
      assert.equal(r.heartbeat('live', live.leaseId), 10);
    }
    await flushAsync(20);
    assert.ok(record(etcd, 'live'), 'the heartbeating agent keeps its record');
    for (let i = 0; i < 40; i++) {
      assert.equal(record(etcd, `s${i}`), undefined, `s${i} deleted`);
      assert.equal(r.heartbeat(`s${i}`, silent[i]!.leaseId), 0);
    }
    assert.equal(etcd.value(agentLayout.known('s1')), 's1', 'the known marker stays (the liveness task owns it)');
    assert.ok(r.commits - commits <= 2, `${r.commits - commits} transactions for 40 expiries`);
    const expired = lines.filter((l) => l.includes('agent expired')).map((l) => JSON.parse(l) as { host: string; silentMs: number });
    assert.equal(expired.length, 40);
    assert.ok(expired.every((e) => e.silentMs > 10_000));
    const text = await prom.metrics();
    assert.match(text, /netmaster_agent_expiries_total 40/);
    assert.match(text, /netmaster_agents_registered 1/);
    assert.match(text, /netmaster_agent_registrations_total 41/);
    assert.match(text, /netmaster_agent_heartbeats_rejected_total 40/);
  });

  it('an expired agent whose record was written again meanwhile (another replica) keeps that record', async () => {
    const a = await start({ replicaId: 'a', sweepMs: 60_000 });
    const b = await start({ replicaId: 'b', sweepMs: 60_000 });
    await a.register(reg('x'));
    await a.register(reg('y'));
    clock.advance(11_000);
    const sweep = a.sweep(); // x and y are found silent; their deletes are queued
    const fromB = await b.register(reg('x')); // x registers at b in the same turn
    await sweep;
    await flushAsync();
    assert.equal(record(etcd, 'x')?.leaseId, fromB.leaseId, "b's record of x is not deleted");
    assert.equal(record(etcd, 'y'), undefined);
    assert.equal(b.heartbeat('x', fromB.leaseId), 10);
  });

  it('a takeover by another replica makes the old one answer 0 (and the old one deletes nothing)', async () => {
    const a = await start({ replicaId: 'a' });
    const b = await start({ replicaId: 'b' });
    const first = await a.register(reg('t1'));
    await a.register(reg('t2'));
    assert.equal(a.heartbeat('t1', first.leaseId), 10);
    const second = await b.register(reg('t1'));
    await flushAsync();
    assert.equal(a.heartbeat('t1', first.leaseId), 0, 'the old replica dropped the host');
    assert.equal(b.heartbeat('t1', second.leaseId), 10);
    assert.deepEqual(
      a.agents().map((x) => x.host),
      ['t2'],
    );
    // a's sweeper runs long after: b's record of t1 stays
    for (let t = 0; t < 5; t++) {
      await clock.tick(3000);
      b.heartbeat('t1', second.leaseId);
    }
    await flushAsync(20);
    assert.equal(record(etcd, 't1')?.replica, 'b');
    assert.equal(record(etcd, 't2'), undefined, "a's own silent host is deleted");
  });

  it('the newer registration of a host on the same replica wins', async () => {
    const r = await start();
    const a = await r.register(reg('dup'));
    const b = await r.register(reg('dup'));
    assert.notEqual(a.leaseId, b.leaseId);
    assert.equal(r.heartbeat('dup', a.leaseId), 0);
    assert.equal(r.heartbeat('dup', b.leaseId), 10);
    assert.equal(record(etcd, 'dup')?.leaseId, b.leaseId);
  });

  it('a second registration of a live host with another VTEP is refused and logged, here or at another replica; the live agent keeps it', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const prom = new Registry();
    const a = await start({
      replicaId: 'a',
      logger: createLogger('t', { level: 'warn', destination: sink }),
      metrics: createAgentRegistryMetrics(prom),
    });
    const b = await start({ replicaId: 'b' });
    const live = await a.register(reg('v1', '192.168.0.1'));
    const conflict = (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'vtep_ip';
    await assert.rejects(a.register(reg('v1', '192.168.0.66')), conflict);
    await flushAsync();
    await assert.rejects(b.register(reg('v1', '192.168.0.66')), conflict, 'at another replica too');
    await assert.rejects(b.register(reg('v1', '')), conflict, 'no VTEP is another VTEP');
    assert.equal(record(etcd, 'v1')?.vtepIp, '192.168.0.1');
    assert.equal(record(etcd, 'v1')?.leaseId, live.leaseId);
    assert.equal(a.heartbeat('v1', live.leaseId), 10, 'the live agent keeps its registration');
    assert.ok(
      lines.some((l) => /another VTEP/.test(l) && /192\.168\.0\.66/.test(l)),
      'logged',
    );
    assert.match(await prom.metrics(), /netmaster_agent_registrations_refused_total\{reason="vtep-conflict"\} 1/);
    // once the live registration expired (and its record is gone) another VTEP is taken
    clock.advance(11_000);
    await a.sweep();
    await flushAsync();
    const moved = await b.register(reg('v1', '192.168.0.66'));
    assert.equal(record(etcd, 'v1')?.leaseId, moved.leaseId);
  });

  it('two registrations of one host with different VTEPs racing at two replicas: exactly one is taken', async () => {
    const a = await start({ replicaId: 'a' });
    const b = await start({ replicaId: 'b' });
    const results = await Promise.allSettled([a.register(reg('race', '192.168.0.1')), b.register(reg('race', '192.168.0.2'))]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1, 'one registration is taken');
    assert.equal(lost.length, 1);
    assert.ok(isNetloomError(lost[0]!.reason, 'CONFLICT'), String(lost[0]!.reason));
    const winner = results[0]!.status === 'fulfilled' ? '192.168.0.1' : '192.168.0.2';
    assert.equal(record(etcd, 'race')?.vtepIp, winner);
  });

  it('VTEPs must be unicast and lie in the configured underlay subnets', async () => {
    const r = await start({ vtepSubnets: ['10.213.1.0/24', '192.168.7.0/24'] });
    assert.ok(await r.register(reg('in1', '10.213.1.5')));
    assert.ok(await r.register(reg('in2', '192.168.7.9')));
    assert.ok(await r.register(reg('novtep', '')), 'an agent without a VTEP (VLAN only)');
    await assert.rejects(
      r.register(reg('out', '10.213.0.5')),
      (e: unknown) => isNetloomError(e, 'PERMISSION_DENIED') && e.field === 'vtep_ip',
    );
    assert.equal(record(etcd, 'out'), undefined);
    const any = await start();
    for (const bad of ['127.0.0.1', '224.0.0.5', '255.255.255.255', '0.0.0.0', '169.254.1.1'])
      await assert.rejects(
        any.register(reg('bad', bad)),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'vtep_ip',
        bad,
      );
    assert.throws(() => new AgentRegistry({ kv: etcd.client(), clock, logger, vtepSubnets: ['10.0.0.0/33'] }), /--vtep-subnets/);
  });

  it('a lost session lease is replaced and every record written again on the new one (heartbeats never fail)', async () => {
    const r = await start({ replicaId: 'nm' });
    const res = await Promise.all(Array.from({ length: 30 }, (_, i) => r.register(reg(`l${i}`))));
    const lost = r.sessionLease;
    etcd.expireLease(lost); // records deleted by etcd
    for (let i = 0; i < 30; i++) assert.equal(r.heartbeat(`l${i}`, res[i]!.leaseId), 10);
    await flushAsync(20);
    await r.settled();
    await flushAsync(20);
    assert.notEqual(r.sessionLease, lost);
    for (let i = 0; i < 30; i++) {
      const rec = record(etcd, `l${i}`);
      assert.equal(rec?.leaseId, res[i]!.leaseId, `l${i} written again with its id`);
      assert.equal(etcd.keys.get(agentLayout.host(`l${i}`))?.lease, r.sessionLease);
      assert.equal(r.heartbeat(`l${i}`, res[i]!.leaseId), 10);
    }
    assert.ok(etcd.keys.has(agentLayout.replica('nm')), 'the replica marker too');
  });

  it('the keep-alive loop finds a lost lease too (no record deleted yet: nothing to watch), and new registrations use the new lease', async () => {
    const r = await start({ replicaId: 'nm' });
    const lost = r.sessionLease;
    etcd.leases.delete(lost); // gone, keys not deleted yet (as seen from this replica)
    await clock.tick(4000); // one keep-alive period (ttl/3)
    await r.settled();
    assert.notEqual(r.sessionLease, lost);
    const x = await r.register(reg('after'));
    assert.equal(etcd.keys.get(agentLayout.host('after'))?.lease, r.sessionLease);
    assert.equal(r.heartbeat('after', x.leaseId), 10);
  });

  it('a write on a lease that was just lost is retried on a new one', async () => {
    const r = await start();
    etcd.leases.delete(r.sessionLease);
    const x = await r.register(reg('retry'));
    assert.equal(etcd.keys.get(agentLayout.host('retry'))?.lease, r.sessionLease);
    assert.ok(etcd.leases.has(r.sessionLease));
    assert.equal(r.heartbeat('retry', x.leaseId), 10);
  });

  it('a record deleted by someone else while the session lease lives: the host is dropped', async () => {
    const r = await start();
    const x = await r.register(reg('del'));
    const kv = etcd.client();
    await kv.commit([], [{ kind: 'delete', key: agentLayout.host('del') }]);
    await flushAsync(20);
    assert.equal(r.heartbeat('del', x.leaseId), 0);
  });

  it("HeartbeatResponse.revision: etcd's revision from its replies (probe and commits), not from the watch", async () => {
    const r = await start({ probeMs: 1000 });
    const afterStart = r.etcdRevision;
    assert.equal(afterStart, String(etcd.rev));
    // someone else writes: the watch of agent/host/ sees it, the revision does not move...
    await etcd.client().commit([], [{ kind: 'put', key: agentLayout.host('other'), value: '{}' }]);
    await flushAsync();
    assert.equal(r.etcdRevision, afterStart);
    // ...until the probe reads it
    await clock.tick(1000);
    assert.equal(r.etcdRevision, String(etcd.rev));
    await r.register(reg('p'));
    assert.equal(r.etcdRevision, String(etcd.rev), 'a commit tells it too');
  });

  it('etcd unreachable: heartbeats still answered from memory, registrations fail UNAVAILABLE', async () => {
    const r = await start();
    const x = await r.register(reg('down'));
    etcd.down = new Error('connect ECONNREFUSED');
    await clock.tick(5000);
    assert.equal(r.heartbeat('down', x.leaseId), 10);
    await assert.rejects(r.register(reg('down2')), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE');
    etcd.down = undefined;
  });
});
