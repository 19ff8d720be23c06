/**
 * NetmasterClient with two netmaster replicas, against two in-process gRPC servers (no etcd)
 * that share one fake cluster with etcd-like revisions (fake-netmaster.ts): agents spread over
 * the replicas by a hash of their host name; the client follows its home replica; when that
 * one stops, it resumes on the second from its last revision (changes, no new snapshot) and gets
 * changes made meanwhile; a replica whose heartbeat hangs is left although its stream stays
 * open; it goes back home once the home replica answers again; unary calls that find a
 * replica down are retried once on the next;
 * with every replica down it keeps retrying with a bounded backoff and comes back when one
 * returns. Ports 27010-27013 (ours).
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { systemClock, waitFor, type Clock } from '../../../lib/clock';
import { isNetloomError } from '../../../lib/errors';
import { NetmasterClient, isReplicaFailure } from '../../../netplugin/netmaster-client/client';
import { homeReplicaIndex, nextAddressIndex, parseNetmasterAddresses } from '../../../netplugin/netmaster-client/addresses';
import { FakeCluster, startReplica, until, type FakeReplica } from './fake-netmaster';

const PORTS = [27010, 27011];

describe('NetmasterClient with two netmaster replicas (in-process gRPC servers)', function () {
  this.timeout(20_000);
  let cluster: FakeCluster;
  const replicas: FakeReplica[] = [];
  const clients: NetmasterClient[] = [];
  const newClient = (extra: Partial<ConstructorParameters<typeof NetmasterClient>[0]> = {}) => {
    const c = new NetmasterClient({
      address: PORTS.map((p) => `127.0.0.1:${p}`).join(','),
      host: 'h1',
      homeReplica: 0,
      backoff: { initialMs: 20, maxMs: 200 },
      callTimeoutMs: 2000,
      heartbeatMs: 200,
      ...extra,
    });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    cluster = new FakeCluster();
    cluster.addEndpoint('e1', '10.5.0.2');
    replicas.push(await startReplica('r1', PORTS[0]!, cluster), await startReplica('r2', PORTS[1]!, cluster));
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    for (const r of replicas.splice(0)) r.stop();
  });

  it('parses the replica list and rotates through it', () => {
    assert.deepEqual(parseNetmasterAddresses('a:1, b:2,,a:1'), ['a:1', 'b:2']);
    assert.deepEqual(parseNetmasterAddresses(['[::1]:9', 'x:3,y:4']), ['[::1]:9', 'x:3', 'y:4']);
    for (const bad of ['', ' , ', 'nohostport', 'h:0', 'h:99999', 'a:1,b']) {
      assert.throws(
        () => parseNetmasterAddresses(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'netmaster-grpc',
        bad,
      );
    }
    assert.deepEqual(
      [0, 1, 2].map((i) => nextAddressIndex(i, 3)),
      [1, 2, 0],
    );
    assert.equal(nextAddressIndex(0, 1), 0);
    assert.equal(isReplicaFailure({ code: grpc.status.UNAVAILABLE }), true);
    assert.equal(isReplicaFailure({ code: grpc.status.DEADLINE_EXCEEDED }), true);
    assert.equal(isReplicaFailure({ code: grpc.status.NOT_FOUND }), false);
  });

  it('spreads hosts evenly over the replicas by a stable hash of their name', () => {
    // 300 hosts named the ways fleets are: each of 3 replicas gets 100 +- 15
    const fleets = [(i: number) => `node-${i}.dc1`, (i: number) => `worker-${String(i).padStart(3, '0')}`, (i: number) => `k8s-node-${i}`];
    for (const name of fleets) {
      for (const count of [2, 3]) {
        const per = new Array<number>(count).fill(0);
        for (let i = 0; i < 300; i++) per[homeReplicaIndex(name(i), count)]!++;
        const even = 300 / count;
        for (const n of per) assert.ok(Math.abs(n - even) <= even * 0.15, `${name(0)}.. on ${count} replicas: ${per.join(', ')}`);
      }
    }
    // the same home on every run and every machine: FNV-1a('a') = 0xe40c292c, 3826002220 mod 3 = 1
    assert.deepEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((h) => homeReplicaIndex(h, 3)),
      [1, 1, 2, 1, 2, 2],
    );
    assert.equal(homeReplicaIndex('anything', 1), 0);
    const three = ['x:1', 'x:2', 'x:3'];
    const picks = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const c = new NetmasterClient({ address: three, host: `node-${i}.dc1` });
      assert.equal(c.home, homeReplicaIndex(`node-${i}.dc1`, 3));
      assert.equal(c.preferredReplica, three[c.home], 'starts at home');
      picks.add(c.home);
      void c.stop();
    }
    assert.equal(picks.size, 3, "every replica is somebody's home");
    // the same replica however the list is ordered (a deployment may put each host's own first)
    for (let i = 0; i < 30; i++) {
      const a = new NetmasterClient({ address: three, host: `node-${i}.dc1` });
      const b = new NetmasterClient({ address: [...three].reverse(), host: `node-${i}.dc1` });
      assert.equal(a.homeReplica, b.homeReplica);
      void a.stop();
      void b.stop();
    }
    const forced = new NetmasterClient({ address: three, host: 'node-1.dc1', homeReplica: 2 });
    assert.equal(forced.homeReplica, 'x:3');
    void forced.stop();
    for (const bad of [-1, 3, 1.5])
      assert.throws(
        () => new NetmasterClient({ address: three, host: 'h', homeReplica: bad }),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT'),
      );
  });

  it('starts on its home replica, not the first in the list', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const host = ['h1', 'h2', 'h3', 'h4'].find((h) => homeReplicaIndex(h, 2) === 1)!;
    const c = newClient({ host, homeReplica: undefined });
    assert.equal(c.home, 1);
    c.start();
    await until('snapshot from r2', () => c.revision !== '0' && c.replica === r2.address);
    await until('registered on r2', () => r2.calls.includes('Register'));
    assert.deepEqual(r1.calls, [], 'nothing went to the first replica');
  });

  it('follows the first replica; when it stops, resumes on the second without a new snapshot and gets later changes', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const c = newClient();
    c.start();
    await until('snapshot from r1', () => c.revision !== '0' && c.replica === r1.address);
    assert.equal(c.stats.snapshots, 1);
    assert.deepEqual(
      c.state.endpoints.map((e) => e.id),
      ['e1'],
    );
    await until('registered on r1', () => r1.calls.includes('Register'));
    cluster.addEndpoint('e2', '10.5.0.3');
    await until('e2 through r1', () => c.state.endpoints.length === 2);
    const revBefore = c.revision;
    assert.equal(revBefore, String(cluster.revision));

    r1.stop();
    await until('following r2', () => c.replica === r2.address);
    assert.deepEqual(r2.resumes, [revBefore], 'resumed from the last applied revision');
    cluster.addEndpoint('e3', '10.5.0.4');
    await until('e3 through r2', () => c.state.endpoints.some((e) => e.id === 'e3'));
    assert.equal(c.stats.snapshots, 1, 'no second snapshot');
    assert.ok(c.stats.failovers >= 1);
    assert.equal(c.preferredReplica, r2.address);
    // heartbeats (and the next registration) go to the live replica too
    await until('a heartbeat or registration on r2', () => r2.calls.includes('Heartbeat') || r2.calls.includes('Register'), 8000);
    // unary calls go to the live one, without a retry
    const ep = await c.createEndpoint({ idempotencyKey: 'k1', tenant: 't', network: 'n', containerId: 'c1' });
    assert.equal(ep.labels.replica, 'r2');
    assert.equal(c.stats.unaryRetries, 0);
  });

  it('leaves a replica that stops answering (heartbeat deadline) although its stream stays open', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const c = newClient({ callTimeoutMs: 300 });
    c.start();
    await until('following r1', () => c.replica === r1.address && c.revision !== '0');
    r1.hang = true; // its stream stays open, silent
    await until('following r2', () => c.replica === r2.address, 5000);
    assert.equal(c.stats.snapshots, 1, 'resumed on r2, no new snapshot');
    cluster.addEndpoint('e5', '10.5.0.5');
    await until('a change through r2', () => c.state.endpoints.some((e) => e.id === 'e5'));
  });

  it('goes back home once the home replica answers again (after returnHomeAfterMs), resuming without a snapshot', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const c = newClient({ returnHomeAfterMs: 300 });
    c.start();
    await until('following r1', () => c.replica === r1.address && c.revision !== '0');
    r1.stop();
    await until('following r2', () => c.replica === r2.address);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.replica, r2.address, 'stays on r2 while r1 is down');
    assert.equal(c.stats.returnsHome, 0);
    const back = await startReplica('r1b', PORTS[0]!, cluster);
    replicas.push(back);
    await until('back on r1', () => c.replica === back.address, 8000);
    assert.equal(c.stats.returnsHome, 1);
    assert.equal(c.stats.snapshots, 1, 'resumed, no new snapshot');
    assert.ok(back.calls.indexOf('Heartbeat') < back.calls.indexOf('WatchDesiredState'), 'checked with a heartbeat first');
    cluster.addEndpoint('e7', '10.5.0.7');
    await until('a change through r1 again', () => c.state.endpoints.some((e) => e.id === 'e7'));
  });

  it('goes back home and registers there when its registration lives on the replica it leaves', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    r1.ownLeasesOnly = true;
    r2.ownLeasesOnly = true;
    const c = newClient({ returnHomeAfterMs: 300 });
    c.start();
    await until('following r1', () => c.replica === r1.address && c.revision !== '0');
    r1.stop();
    await until('registered on r2', () => c.replica === r2.address && c.lease.id === r2.address.split(':')[1], 8000);
    const back = await startReplica('r1b', PORTS[0]!, cluster);
    back.ownLeasesOnly = true;
    replicas.push(back);
    await until('back on r1 with a registration of its own', () => c.replica === back.address && c.lease.id === String(PORTS[0]), 8000);
    assert.equal(c.stats.returnsHome, 1);
    assert.equal(c.stats.snapshots, 1, 'resumed, no new snapshot');
    assert.ok(back.calls.includes('Register'));
  });

  it('retries a unary call once on the next replica when the current one is down, then fails clearly', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const c = newClient(); // not started: only unary calls
    assert.equal((await c.createEndpoint({ idempotencyKey: 'a', tenant: 't', network: 'n', containerId: 'c' })).labels.replica, 'r1');
    r1.stop();
    const net = await c.lookupNetwork({ tenant: 't', network: 'n' });
    assert.equal(net.nwType, 'r2', 'answered by r2');
    assert.equal(c.stats.unaryRetries, 1);
    assert.equal(c.preferredReplica, r2.address, 'later calls go straight to r2');
    await c.deleteEndpoint({ id: 'x' });
    assert.equal(c.stats.unaryRetries, 1);
    // a NOT_FOUND answer is final: no retry on another replica
    await assert.rejects(
      c.lookupNetwork({ tenant: 't', network: 'gone' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && /network 'gone' of tenant 't'/.test(e.message),
    );
    assert.equal(c.stats.unaryRetries, 1);
    assert.deepEqual(r2.calls.filter((x) => x === 'LookupNetwork').length, 2);
    r2.stop();
    const t0 = Date.now();
    await assert.rejects(c.createEndpoint({ idempotencyKey: 'b', tenant: 't', network: 'n', containerId: 'c' }), (e: unknown) =>
      isNetloomError(e, 'UNAVAILABLE'),
    );
    assert.ok(Date.now() - t0 < 3000, 'both replicas tried once, no long wait');
  });

  it('with every replica down keeps retrying within the backoff cap, and follows the first one back', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    // real time, with every pause the client takes written down
    const pauses: number[] = [];
    const clock: Clock = { ...systemClock, sleep: (ms, signal) => (pauses.push(ms), systemClock.sleep(ms, signal)) };
    const c = newClient({ backoff: { initialMs: 20, maxMs: 100 }, clock });
    c.start();
    await until('snapshot', () => c.revision !== '0');
    const rev = c.revision;
    r1.stop();
    r2.stop();
    await until('disconnected', () => c.replica === '');
    pauses.length = 0;
    const before = c.stats.reconnects;
    // pauses 20, 20, 40, 40, 80, 80 ms, then capped at 100 ms; doubling without the cap would go
    // on to 160, 320, 640 ms and never pause 100 ms (200 ms is the heartbeat period, not a retry)
    await waitFor('three retry pauses at the cap', () => pauses.filter((ms) => ms === 100).length >= 3, {
      timeoutMs: 8000,
      intervalMs: 10,
    });
    const attempts = c.stats.reconnects - before;
    assert.ok(attempts >= 3, `retried ${attempts} times before reaching three capped pauses`);
    const retryPauses = pauses.filter((ms) => ms !== 200);
    assert.ok(Math.max(...retryPauses) <= 100, `no retry pause above the cap: ${retryPauses.join(', ')}`);
    cluster.addEndpoint('e9', '10.5.0.9');
    const back = await startReplica('r2b', PORTS[1]!, cluster);
    replicas.push(back);
    await until('e9 after the replica came back', () => c.state.endpoints.some((e) => e.id === 'e9'), 5000);
    assert.equal(c.replica, back.address);
    assert.equal(c.stats.snapshots, 1, 'resumed, not re-snapshotted');
    assert.deepEqual(back.resumes, [rev]);
  });
});
