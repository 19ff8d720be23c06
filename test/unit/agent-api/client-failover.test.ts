/**
 * NetmasterClient with two netmaster replicas, against two in-process gRPC servers (no etcd)
 * that share one fake cluster with etcd-like revisions: the client follows the first; when that
 * one stops, it resumes on the second from its last revision (changes, no new snapshot) and gets
 * changes made meanwhile; a replica whose heartbeat hangs is left although its stream stays
 * open; it goes back to the first replica once that one answers again; unary calls that find a
 * replica down are retried once on the next;
 * with every replica down it keeps retrying with a bounded backoff and comes back when one
 * returns. Ports 27010-27013 (ours).
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { systemClock, waitFor, type Clock } from '../../../lib/clock';
import { isNetloomError } from '../../../lib/errors';
import { loadAgentProto } from '../../../proto/loader';
import type { AgentHandlers } from '../../../proto/gen/netloom/v1/Agent';
import type { DesiredStateUpdate } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { Endpoint } from '../../../proto/gen/netloom/v1/Endpoint';
import { NetmasterClient, isReplicaFailure } from '../../../netplugin/netmaster-client/client';
import { nextAddressIndex, parseNetmasterAddresses } from '../../../netplugin/netmaster-client/addresses';

const PORTS = [27010, 27011];

/** What etcd would hold: endpoints with the revision that created them. */
class FakeCluster {
  revision = 100;
  readonly endpoints: Array<{ ep: Endpoint; rev: number }> = [];
  private readonly listeners = new Set<() => void>();

  addEndpoint(id: string, ip: string): void {
    this.revision++;
    this.endpoints.push({ rev: this.revision, ep: { id, network: 't:n', host: 'other', ip, mac: '02:00:00:00:00:09' } });
    for (const l of [...this.listeners]) l();
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

interface FakeReplica {
  name: string;
  address: string;
  /** while true, unary calls are never answered (a replica that hangs, its stream left open) */
  hang: boolean;
  /** calls served, by RPC name */
  calls: string[];
  /** resume revisions streams were opened with */
  resumes: string[];
  stop(): void;
}

const NETWORK = {
  key: 't:n',
  tenant: 't',
  name: 'n',
  encap: 'vxlan',
  pktTag: 5000,
  subnet: '10.5.0.0/24',
  gateway: '10.5.0.1',
  networkId: 5000,
};

async function startReplica(name: string, port: number, cluster: FakeCluster): Promise<FakeReplica> {
  const calls: string[] = [];
  const resumes: string[] = [];
  const unsubs = new Set<() => void>();
  const server = new grpc.Server();
  const replica: FakeReplica = {
    name,
    address: `127.0.0.1:${port}`,
    hang: false,
    calls,
    resumes,
    stop() {
      for (const u of unsubs) u();
      server.forceShutdown();
    },
  };
  const handlers: AgentHandlers = {
    Register: (_call, cb) => {
      calls.push('Register');
      cb(null, { leaseId: '7', leaseTtlSeconds: 10, clusterId: 'fake' });
    },
    Heartbeat: (_call, cb) => {
      calls.push('Heartbeat');
      if (!replica.hang) cb(null, { leaseTtlSeconds: 10 });
    },
    WatchDesiredState: (call) => {
      calls.push('WatchDesiredState');
      const from = Number(call.request.resumeFromRevision || '0');
      resumes.push(String(from));
      let sent = from;
      const send = (u: DesiredStateUpdate) => call.write(u);
      if (from === 0) {
        send({
          revision: String(cluster.revision),
          snapshot: { reason: 'INITIAL', state: { networks: [NETWORK], endpoints: cluster.endpoints.map((e) => e.ep) } },
        });
        sent = cluster.revision;
      }
      const flush = (): void => {
        const fresh = cluster.endpoints.filter((e) => e.rev > sent);
        for (const e of fresh) send({ revision: String(cluster.revision), change: { key: `endpoint/${e.ep.id}`, endpoint: e.ep } });
        send({ revision: String(cluster.revision), change: { key: '' } });
        sent = cluster.revision;
      };
      if (from !== 0) flush();
      const unsub = cluster.subscribe(flush);
      unsubs.add(unsub);
      call.on('cancelled', () => unsub());
    },
    CreateEndpoint: (call, cb) => {
      calls.push('CreateEndpoint');
      cb(null, {
        id: `ep-${call.request.idempotencyKey}`,
        network: 't:n',
        host: call.request.host,
        ip: '10.5.0.9',
        mac: '02:00:00:00:00:0a',
        labels: { replica: name },
      });
    },
    DeleteEndpoint: (_call, cb) => {
      calls.push('DeleteEndpoint');
      cb(null, { existed: true });
    },
    LookupNetwork: (call, cb) => {
      calls.push('LookupNetwork');
      if (call.request.network !== 'n') {
        cb(
          Object.assign(new Error('no such network'), {
            code: grpc.status.NOT_FOUND,
            details: `network '${call.request.network}' of tenant 't' does not exist`,
          }),
        );
        return;
      }
      cb(null, { ...NETWORK, nwType: name });
    },
  };
  server.addService(loadAgentProto().netloom.v1.Agent.service, handlers);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return replica;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NetmasterClient with two netmaster replicas (in-process gRPC servers)', function () {
  this.timeout(20_000);
  let cluster: FakeCluster;
  const replicas: FakeReplica[] = [];
  const clients: NetmasterClient[] = [];
  const newClient = (extra: Partial<ConstructorParameters<typeof NetmasterClient>[0]> = {}) => {
    const c = new NetmasterClient({
      address: PORTS.map((p) => `127.0.0.1:${p}`).join(','),
      host: 'h1',
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

  it('goes back to the first replica once it answers again (after returnToFirstAfterMs), resuming without a snapshot', async () => {
    const [r1, r2] = replicas as [FakeReplica, FakeReplica];
    const c = newClient({ returnToFirstAfterMs: 300 });
    c.start();
    await until('following r1', () => c.replica === r1.address && c.revision !== '0');
    r1.stop();
    await until('following r2', () => c.replica === r2.address);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.replica, r2.address, 'stays on r2 while r1 is down');
    assert.equal(c.stats.returnsToFirst, 0);
    const back = await startReplica('r1b', PORTS[0]!, cluster);
    replicas.push(back);
    await until('back on r1', () => c.replica === back.address, 8000);
    assert.equal(c.stats.returnsToFirst, 1);
    assert.equal(c.stats.snapshots, 1, 'resumed, no new snapshot');
    assert.ok(back.calls.indexOf('Heartbeat') < back.calls.indexOf('WatchDesiredState'), 'checked with a heartbeat first');
    cluster.addEndpoint('e7', '10.5.0.7');
    await until('a change through r1 again', () => c.state.endpoints.some((e) => e.id === 'e7'));
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
