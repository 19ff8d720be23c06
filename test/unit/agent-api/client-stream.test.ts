/**
 * NetmasterClient's reading of the desired-state stream and its liveness checks, against two
 * in-process replicas (fake-netmaster.ts): progress marks advance the revision it resumes from
 * without a 'state'; snapshots in parts are applied once, whole, and parts of a stream that broke
 * are dropped; updates out of order (a progress mark inside a group, a change inside a snapshot in
 * parts) make it reconnect from what it had applied; a stream that stays behind the etcd revision
 * the heartbeats report (or never opens) is moved to the other replica after stallTimeoutMs, a
 * quiet stream with progress marks is not; heartbeats carry the acknowledged revision. Time that
 * matters goes through a fake clock; the gRPC traffic is real. Ports 27014-27015 (ours).
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import type { HostState } from '../../../netplugin/netmaster-client/apply';
import { FakeClock } from '../../support/fake-clock';
import { MAX_RULE_COUNTERS } from '../../../proto/rule-counters';
import { FakeCluster, NETWORK, startReplica, until, type FakeReplica, type WatchCall } from './fake-netmaster';

const PORTS = [27014, 27015];
const STALL_MS = 5000;
const HEARTBEAT_MS = 1000;

const ep = (id: string, ip: string) => ({ id, network: 't:n', host: 'other', ip, mac: '02:00:00:00:00:0b' });

describe('NetmasterClient stream: progress, snapshots in parts, stalls, acknowledgements', function () {
  this.timeout(20_000);
  let cluster: FakeCluster;
  let r1: FakeReplica;
  let r2: FakeReplica;
  const clients: NetmasterClient[] = [];
  let logLines: string[];
  const newClient = (extra: Partial<ConstructorParameters<typeof NetmasterClient>[0]> = {}) => {
    const c = new NetmasterClient({
      address: PORTS.map((p) => `127.0.0.1:${p}`),
      host: 'h1',
      homeReplica: 0,
      backoff: { initialMs: 20, maxMs: 200 },
      callTimeoutMs: 2000,
      heartbeatMs: 100,
      logger: createLogger('test', { level: 'warn', destination: { write: (l: string) => logLines.push(l) } }),
      ...extra,
    });
    clients.push(c);
    return c;
  };
  /** every 'state' a client emits, with its revision */
  const statesOf = (c: NetmasterClient) => {
    const seen: Array<{ state: HostState; revision: string; kind: string }> = [];
    c.on('state', (state, revision, kind) => seen.push({ state, revision, kind }));
    return seen;
  };

  beforeEach(async () => {
    logLines = [];
    cluster = new FakeCluster();
    cluster.addEndpoint('e1', '10.5.0.2');
    r1 = await startReplica('r1', PORTS[0]!, cluster);
    r2 = await startReplica('r2', PORTS[1]!, cluster);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    r1.stop();
    r2.stop();
  });

  describe('progress marks', () => {
    it('advance the revision without a state, and the client resumes from there on another replica', async () => {
      const c = newClient();
      const states = statesOf(c);
      const marks: string[] = [];
      c.on('progress', (rev) => marks.push(rev));
      c.start();
      await until('snapshot from r1', () => c.revision === '101' && c.replica === r1.address);
      cluster.bump();
      cluster.bump();
      await until('progress to 103', () => c.revision === '103');
      assert.deepEqual(marks, ['102', '103']);
      assert.equal(states.length, 1, 'only the snapshot emitted a state');
      assert.equal(c.stats.progressMarks, 2);
      r1.stop();
      await until('following r2', () => c.replica === r2.address);
      assert.deepEqual(r2.resumes, ['103'], 'resumed from the progress mark, not from the snapshot');
      assert.equal(c.stats.snapshots, 1);
    });

    it('inside a group of changes is a protocol error: the group is dropped and the client resumes from the last applied revision', async () => {
      r1.script = (call: WatchCall) => {
        call.write({ revision: '101', snapshot: { state: { networks: [NETWORK], endpoints: [ep('e1', '10.5.0.2')] } } });
        call.write({ revision: '102', change: { key: 'endpoint/x', endpoint: ep('x', '10.5.0.77') } });
        call.write({ revision: '102', progress: {} });
      };
      const c = newClient();
      const states = statesOf(c);
      c.start();
      await until('following r2', () => c.replica === r2.address && r2.resumes.length > 0);
      assert.deepEqual(r2.resumes, ['101']);
      assert.equal(c.stats.protocolErrors, 1);
      assert.ok(
        logLines.some((l) => l.includes('bad update from netmaster') && l.includes('inside a group')),
        'logged',
      );
      await until('the empty group from r2', () => states.length === 2);
      assert.ok(
        states.every((s) => !s.state.endpoints.some((e) => e.id === 'x')),
        'the uncommitted change never applied',
      );
    });
  });

  describe('batches of changes', () => {
    it('a group in several batches is applied once, when the batch that commits it arrives; a bad put leaves the state as it was', async () => {
      r1.script = (call: WatchCall) => {
        call.write({ revision: '101', snapshot: { state: { networks: [NETWORK], endpoints: [ep('e1', '10.5.0.2')] } } });
        call.write({ revision: '102', changes: { changes: [{ key: 'endpoint/a', endpoint: ep('a', '10.5.0.3') }], commit: false } });
        call.write({
          revision: '102',
          changes: {
            changes: [
              { key: 'endpoint/b', endpoint: ep('b', '10.5.0.4') },
              { key: 'endpoint/e1', deleted: true },
            ],
            commit: true,
          },
        });
        // a put without its object: the whole group is refused, nothing of it applied
        call.write({
          revision: '103',
          changes: { changes: [{ key: 'endpoint/c', endpoint: ep('c', '10.5.0.5') }, { key: 'endpoint/d' }], commit: true },
        });
      };
      const c = newClient();
      const states = statesOf(c);
      c.start();
      await until('the group', () => states.length === 2);
      assert.deepEqual(
        states[1]!.state.endpoints.map((e) => e.id),
        ['a', 'b'],
      );
      assert.equal(states[1]!.revision, '102');
      await until('the bad group refused', () => c.stats.protocolErrors === 1);
      assert.equal(c.revision, '102');
      assert.deepEqual(
        c.state.endpoints.map((e) => e.id),
        ['a', 'b'],
        'nothing of the refused group',
      );
    });
  });

  describe('snapshots in parts', () => {
    it('are assembled and applied once, with global and bgp from the parts that carry them', async () => {
      r1.script = (call: WatchCall) => {
        call.write({
          revision: '101',
          snapshot: { state: { global: { fwdMode: 'bridge' }, networks: [NETWORK], endpoints: [ep('e1', '10.5.0.2')] }, more: true },
        });
        call.write({ revision: '101', snapshot: { state: { endpoints: [ep('e2', '10.5.0.3')], bgp: { as: 65001 } }, more: true } });
        call.write({ revision: '101', snapshot: { state: { endpoints: [ep('e3', '10.5.0.4')] } } });
      };
      const c = newClient();
      const states = statesOf(c);
      c.start();
      await until('the whole snapshot', () => states.length > 0);
      assert.equal(states.length, 1);
      const { state, revision, kind } = states[0]!;
      assert.equal(revision, '101');
      assert.equal(kind, 'snapshot');
      assert.deepEqual(
        state.endpoints.map((e) => e.id),
        ['e1', 'e2', 'e3'],
      );
      assert.deepEqual(
        state.networks.map((n) => n.key),
        ['t:n'],
      );
      assert.equal(state.global?.fwdMode, 'bridge');
      assert.equal(state.bgp?.as, 65001);
      assert.equal(c.stats.snapshotParts, 3);
      assert.equal(c.stats.snapshots, 1);
      assert.equal(c.revision, '101');
    });

    it('are dropped when the stream ends before the last part: the next stream starts over', async () => {
      r1.script = (call: WatchCall) => {
        call.write({ revision: '101', snapshot: { state: { networks: [NETWORK], endpoints: [ep('ghost', '10.5.0.66')] }, more: true } });
        call.end();
      };
      r2.snapshotPartSize = 1;
      cluster.addEndpoint('e2', '10.5.0.3');
      const c = newClient();
      const states = statesOf(c);
      c.start();
      await until('a snapshot from r2', () => states.length > 0 && c.replica === r2.address);
      assert.deepEqual(r2.resumes, ['0'], 'nothing was applied from r1');
      assert.equal(states.length, 1);
      assert.deepEqual(
        states[0]!.state.endpoints.map((e) => e.id),
        ['e1', 'e2'],
        'no part of the broken snapshot',
      );
      assert.equal(c.stats.snapshotParts, 3, 'one from r1, two from r2');
      assert.equal(c.stats.snapshots, 1);
    });

    it('a change inside a snapshot in parts is a protocol error', async () => {
      r1.script = (call: WatchCall) => {
        call.write({ revision: '101', snapshot: { state: { networks: [NETWORK], endpoints: [ep('ghost', '10.5.0.66')] }, more: true } });
        call.write({ revision: '102', change: { key: 'endpoint/x', endpoint: ep('x', '10.5.0.77') } });
      };
      const c = newClient();
      const states = statesOf(c);
      c.start();
      await until('a snapshot from r2', () => states.length > 0 && c.replica === r2.address);
      assert.equal(c.stats.protocolErrors, 1);
      assert.deepEqual(r2.resumes, ['0']);
      assert.deepEqual(
        states.map((s) => s.state.endpoints.map((e) => e.id)),
        [['e1']],
      );
    });
  });

  describe('stalled streams (fake clock)', () => {
    let clock: FakeClock;
    beforeEach(() => (clock = new FakeClock()));

    /** Move the fake clock on in small steps, letting the real gRPC traffic through, until `cond`. */
    async function runUntil(what: string, cond: () => boolean, maxMs: number): Promise<number> {
      const start = clock.monotonic();
      while (!cond()) {
        if (clock.monotonic() - start > maxMs) throw new Error(`${what}: not after ${maxMs} ms of fake time`);
        await clock.tick(100);
        await new Promise((r) => setTimeout(r, 2));
      }
      return clock.monotonic() - start;
    }
    /** Move the fake clock on by `ms` the same way. */
    async function runFor(ms: number): Promise<void> {
      const end = clock.monotonic() + ms;
      await runUntil(`${ms} ms`, () => clock.monotonic() >= end, ms + 100);
    }
    const stallClient = (extra: Partial<ConstructorParameters<typeof NetmasterClient>[0]> = {}) =>
      newClient({ clock, heartbeatMs: HEARTBEAT_MS, stallTimeoutMs: STALL_MS, ...extra });

    it('a stream behind the revision its replica reports moves to the other replica after stallTimeoutMs', async () => {
      const c = stallClient();
      c.start();
      await until('snapshot from r1', () => c.revision === '101' && c.replica === r1.address);
      r1.frozen = true; // heartbeats still answer, with etcd's revision
      cluster.addEndpoint('e2', '10.5.0.3');
      let stalledAfter = 0;
      const took = await runUntil(
        'moved to r2',
        () => {
          if (c.stats.stalls > 0 && stalledAfter === 0) stalledAfter = clock.monotonic();
          return c.replica === r2.address && c.state.endpoints.some((e) => e.id === 'e2');
        },
        4 * STALL_MS,
      );
      assert.equal(c.stats.stalls, 1);
      assert.ok(took >= STALL_MS, `not before stallTimeoutMs (${took} ms)`);
      assert.deepEqual(r2.resumes, ['101'], 'resumed from the last applied revision');
      assert.equal(c.stats.snapshots, 1);
      const warning = logLines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'netmaster stream stalled: moving it to another replica');
      assert.ok(warning, 'warned');
      assert.equal(warning.replica, r1.address);
      assert.equal(warning.streamRevision, '101');
      assert.equal(warning.etcdRevision, '102');
      assert.ok(stalledAfter > 0);
      // settled on r2: no more stalls while it keeps up
      cluster.addEndpoint('e3', '10.5.0.4');
      await runFor(2 * STALL_MS);
      assert.ok(c.state.endpoints.some((e) => e.id === 'e3'));
      assert.equal(c.stats.stalls, 1);
      assert.equal(c.replica, r2.address);
    });

    it('a stream that is behind but still delivering (a replica working through a backlog) is not stalled', async () => {
      let next = 101;
      let timer: NodeJS.Timeout | undefined;
      r1.script = (call: WatchCall) => {
        call.write({ revision: '101', snapshot: { state: { networks: [NETWORK], endpoints: [ep('e1', '10.5.0.2')] } } });
        // a group every few ms, each at a revision far behind the one heartbeats report
        timer = setInterval(() => call.write({ revision: String(++next), changes: { changes: [], commit: true } }), 5);
      };
      cluster.revision = 5000;
      const c = stallClient();
      c.start();
      try {
        await until('snapshot from r1', () => c.revision !== '0' && c.replica === r1.address);
        await runFor(4 * STALL_MS);
        assert.equal(c.stats.stalls, 0, 'behind, but moving');
        assert.equal(c.replica, r1.address);
      } finally {
        clearInterval(timer);
      }
    });

    it('a stalled home replica is gone back to less and less often', async () => {
      const c = stallClient({ returnHomeAfterMs: 2000 });
      c.start();
      await until('snapshot from r1', () => c.revision === '101' && c.replica === r1.address);
      r1.frozen = true; // for good: every return home ends in another stall
      cluster.addEndpoint('e2', '10.5.0.3');
      const returns: number[] = [];
      await runUntil(
        'three returns home',
        () => {
          if (c.stats.returnsHome > returns.length) returns.push(clock.monotonic());
          return returns.length >= 3;
        },
        120_000,
      );
      const [first, second, third] = returns as [number, number, number];
      // a return and its stall take a stall timeout, then the wait doubles: 2 s x 2, x 4, ...
      assert.ok(second - first >= STALL_MS + 2000 * 4, `second return ${second - first} ms after the first`);
      assert.ok(third - second >= STALL_MS + 2000 * 8, `third return ${third - second} ms after the second`);
      assert.ok(
        c.state.endpoints.some((e) => e.id === 'e2'),
        'the change arrived through r2',
      );
    });

    it('a quiet stream with progress marks is not stalled; without them it would be', async () => {
      const c = stallClient();
      c.start();
      await until('snapshot from r1', () => c.revision === '101' && c.replica === r1.address);
      // etcd moves on with nothing for this host, for three stall timeouts
      for (let i = 0; i < 6; i++) {
        cluster.bump();
        await until('the progress mark', () => c.revision === String(cluster.revision));
        await runFor(STALL_MS / 2);
      }
      assert.equal(c.stats.stalls, 0);
      assert.equal(c.replica, r1.address);
      assert.equal(c.stats.failovers, 0);
      // the same replica without progress marks: the stream stays behind, and that is a stall
      r1.progressMarks = false;
      cluster.bump();
      await runUntil('moved to r2', () => c.replica === r2.address, 4 * STALL_MS);
      assert.equal(c.stats.stalls, 1);
      assert.deepEqual(r2.resumes, [String(cluster.revision - 1)]);
      await until('caught up on r2', () => c.revision === String(cluster.revision));
    });

    it('a replica that answers heartbeats but never opens the stream is left after stallTimeoutMs', async () => {
      r1.silentStreams = true;
      r1.reportRevision = false; // an old server: only the missing stream tells
      const c = stallClient();
      c.start();
      await until('registered on r1', () => r1.calls.includes('Register'));
      const took = await runUntil('following r2', () => c.replica === r2.address, 4 * STALL_MS);
      assert.ok(took >= STALL_MS - HEARTBEAT_MS, `not much before stallTimeoutMs (${took} ms)`);
      assert.equal(c.stats.stalls, 1);
      assert.equal(c.revision, '101');
    });

    it('a heartbeat without a revision (an old server) never makes a stall', async () => {
      r1.reportRevision = false;
      const c = stallClient();
      c.start();
      await until('snapshot from r1', () => c.revision === '101' && c.replica === r1.address);
      r1.frozen = true;
      cluster.addEndpoint('e2', '10.5.0.3');
      await runFor(3 * STALL_MS);
      assert.equal(c.stats.stalls, 0);
      assert.equal(c.replica, r1.address);
    });
  });

  describe('acknowledgements', () => {
    it('by default every applied revision is acknowledged in the heartbeats', async () => {
      const c = newClient();
      c.start();
      await until('the snapshot acknowledged', () => r1.acks.includes('101'));
      cluster.bump(); // a progress mark is acknowledged too
      await until('the progress mark acknowledged', () => r1.acks.includes('102'));
      cluster.addEndpoint('e2', '10.5.0.3');
      await until('the group acknowledged', () => r1.acks.includes('103'));
      assert.equal(c.acknowledgedRevision, '103');
    });

    it('with manualAck only what the agent acknowledged, never going back', async () => {
      const c = newClient({ manualAck: true });
      c.start();
      await until('snapshot', () => c.revision === '101');
      const seen = r1.acks.length;
      await until('three more heartbeats', () => r1.acks.length >= seen + 3);
      assert.ok(
        r1.acks.every((a) => a === '0'),
        r1.acks.join(','),
      );
      c.acknowledge('101');
      await until('the acknowledgement', () => r1.acks.includes('101'));
      c.acknowledge('99');
      assert.equal(c.acknowledgedRevision, '101');
      const from = r1.acks.length;
      await until('two more heartbeats', () => r1.acks.length >= from + 2);
      assert.deepEqual(new Set(r1.acks.slice(from)), new Set(['101']));
    });
  });

  describe('rule counters', () => {
    it('heartbeats carry the latest counters the agent handed over, by rule id, at most MAX_RULE_COUNTERS', async () => {
      const c = newClient();
      c.start();
      await until('a heartbeat', () => r1.counters.length > 0);
      assert.deepEqual(r1.counters[0], [], 'none before the agent read any');
      c.setRuleCounters([
        { ruleId: 't:p/r2', packets: 0n, bytes: 0n },
        { ruleId: 't:p/r1', packets: 2n ** 40n, bytes: 3n },
      ]);
      const want = [
        { ruleId: 't:p/r1', packets: String(2n ** 40n), bytes: '3' },
        { ruleId: 't:p/r2', packets: '0', bytes: '0' },
      ];
      await until('the counters in a heartbeat', () => JSON.stringify(r1.counters.at(-1)) === JSON.stringify(want));
      const many = Array.from({ length: MAX_RULE_COUNTERS + 5 }, (_, i) => ({
        ruleId: `t:p/r${String(i).padStart(5, '0')}`,
        packets: 1n,
        bytes: 1n,
      }));
      c.setRuleCounters(many.reverse());
      await until('the capped counters', () => r1.counters.at(-1)?.length === MAX_RULE_COUNTERS);
      assert.equal(r1.counters.at(-1)![0]!.ruleId, 't:p/r00000', 'the first by rule id');
    });
  });
});
