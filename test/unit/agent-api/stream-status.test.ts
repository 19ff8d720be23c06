/**
 * The desired-state stream's flow control with a fake call (a slow client gets one coalesced
 * group when its buffer drains, not every batch, and delays no other stream; progress marks;
 * snapshots in parts; resume from a past revision), server stop ending a stream, the NetloomError
 * to gRPC status mapping (and back), and the tenant id bookkeeping (pure parts).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { NetloomError, type ErrorCode } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { serveDesiredState, type DesiredStateCall, type StreamDeps } from '../../../netmaster/agent/desired-state';
import { FanOut, type FanOutOptions } from '../../../netmaster/agent/fan-out';
import { FakeClock } from '../../support/fake-clock';
import { ViewEngine } from '../../../netmaster/agent/view-engine';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { fromServiceError, grpcStatusOf, toServiceError } from '../../../proto/status';
import { lowestFree, tenantIdWork } from '../../../netmaster/agent/tenant-ids';
import type { DesiredStateUpdate } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';
import { ClusterBuilder } from './fixtures';

class FakeCall extends EventEmitter {
  readonly written: DesiredStateUpdate[] = [];
  blocked = false;
  ended = false;
  constructor(readonly request: { host: string; resumeFromRevision: string }) {
    super();
  }
  write(u: DesiredStateUpdate): boolean {
    this.written.push(u);
    return !this.blocked;
  }
  end(): void {
    this.ended = true;
  }
}

function fakeCache(b: ClusterBuilder) {
  return {
    get state() {
      return b.state;
    },
  };
}

const logger = createLogger('t', { level: 'silent' });

/** The keys of the changes a call received (batches flattened, commits as ''). */
function keysOf(updates: DesiredStateUpdate[]): string[] {
  return updates.flatMap((u) => [...(u.changes?.changes ?? []).map((c) => c.key ?? ''), ...(u.changes?.commit ? [''] : [])]);
}

/** Let the fan-out's queued slices run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** A stream's dependencies over a builder: the real engine and fan-out (progress marks by hand). */
function streamDeps(b: ClusterBuilder, extra: Partial<StreamDeps> = {}, fanOutOpts: Partial<FanOutOptions> = {}) {
  const views = new ViewEngine(() => b.state);
  const fanOut = new FanOut({ revision: () => b.state.revision, progressMs: 0, minIntervalMs: 0, ...fanOutOpts });
  let end: (() => void) | undefined;
  const deps: StreamDeps = {
    cache: fakeCache(b),
    views,
    fanOut,
    pastCluster: async () => {
      throw new Error('no past');
    },
    logger,
    track: (e) => ((end = e), () => undefined),
    ...extra,
  };
  return {
    deps,
    views,
    fanOut,
    /** the changes since the last call, as the cache would hand them over */
    apply: () => views.apply(b.takeChanges()),
    end: () => end?.(),
  };
}

describe('agent API desired-state stream (fake call)', () => {
  const world = () =>
    new ClusterBuilder()
      .global('bridge')
      .tenant('t1')
      .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24')
      .agent('hostB', '192.168.0.2')
      .endpoint('a1', 't1', 'web', 'hostA', '10.1.0.2');

  it('coalesces batches while the client is slow: one group with the latest revision after drain', async () => {
    const b = world();
    const s = streamDeps(b);
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    assert.equal(call.written.length, 1);
    assert.equal(call.written[0]?.snapshot?.reason, 'INITIAL');
    call.blocked = true;
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    s.apply();
    await settle();
    const afterFirst = call.written.length;
    assert.deepEqual(keysOf(call.written.slice(1)), ['vtep/hostB', 'endpoint/b1', ''], 'one batch: vtep, endpoint, committed');
    assert.equal(afterFirst, 2);
    for (let i = 0; i < 50; i++) {
      b.endpoint(`x${i}`, 't1', 'web', 'hostB', `10.1.0.${i + 10}`);
      s.apply();
    }
    b.del('/netloom/v1/ep/x0');
    s.apply();
    await settle();
    assert.equal(call.written.length, afterFirst, 'nothing queued while the buffer is full');
    call.blocked = false;
    call.emit('drain');
    await settle();
    const group = call.written.slice(afterFirst);
    assert.equal(group.length, 1, 'one message');
    assert.equal(keysOf(group).length, 49 + 1 + 1, '49 endpoint puts, the delete of x0 (it came and went: harmless), committed');
    assert.ok(group.every((u) => u.revision === b.state.revision));
    assert.equal(group[0]?.changes?.commit, true);
    // unrelated change: nothing
    b.tenant('t9').network('t9', 'z', 'vxlan', 9, '10.99.0.0/24').endpoint('z1', 't9', 'z', 'hostZ', '10.99.0.2');
    s.apply();
    await settle();
    assert.equal(call.written.length, afterFirst + group.length);
    // server stop ends the stream and drops the view
    s.end();
    assert.ok(call.ended);
    assert.equal(s.views.hosts, 0);
  });

  it('a slow stream delays no other: the others get their group while it waits for drain', async () => {
    const b = world().endpoint('b0', 't1', 'web', 'hostB', '10.1.0.9');
    const s = streamDeps(b);
    const slow = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    const fast = new FakeCall({ host: 'hostB', resumeFromRevision: '0' });
    await serveDesiredState(slow as unknown as DesiredStateCall, s.deps);
    await serveDesiredState(fast as unknown as DesiredStateCall, s.deps);
    slow.blocked = true;
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    s.apply();
    await settle();
    b.endpoint('b2', 't1', 'web', 'hostB', '10.1.0.4');
    s.apply();
    await settle();
    assert.deepEqual(
      keysOf(fast.written).filter((k) => k !== ''),
      ['endpoint/b1', 'endpoint/b2'],
    );
    assert.ok(!keysOf(slow.written).includes('endpoint/b2'), 'the slow one waits for its drain');
  });

  it('a stream sends at most one group per interval: a storm of changes arrives as few groups, an isolated one at once', async () => {
    const b = world();
    const clock = new FakeClock();
    const s = streamDeps(b, { clock }, { minIntervalMs: 100, clock });
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    b.endpoint('b0', 't1', 'web', 'hostB', '10.1.0.9');
    s.apply();
    await settle();
    assert.equal(call.written.length, 2, 'the first change goes at once');
    for (let i = 0; i < 30; i++) {
      b.endpoint(`s${i}`, 't1', 'web', 'hostB', `10.1.0.${i + 20}`);
      s.apply();
      await settle();
    }
    assert.equal(call.written.length, 2, 'the storm waits for the interval');
    clock.advance(100);
    await settle();
    assert.equal(call.written.length, 3, 'then one group');
    assert.equal(keysOf(call.written.slice(2)).length, 31);
  });

  it('progress marks go to idle streams that are behind, never in the middle of pending changes', async () => {
    const b = world();
    const s = streamDeps(b);
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    const sender = [...(s.fanOut as unknown as { streams: Set<{ progress(r: string): boolean }> }).streams][0]!;
    assert.equal(sender.progress(b.state.revision), false, 'not behind');
    b.tenant('t9');
    s.apply();
    assert.equal(sender.progress(b.state.revision), true);
    assert.deepEqual(call.written[call.written.length - 1], { revision: b.state.revision, progress: {} });
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    s.apply();
    b.tenant('t8');
    assert.equal(sender.progress(b.state.revision), false, 'changes are pending: they go first');
  });

  it('a group larger than the message limit comes in several batches, the last one committing it', async () => {
    const b = world();
    const s = streamDeps(b, { maxMessageBytes: 4 * 1024 });
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    for (let i = 0; i < 100; i++) b.endpoint(`g${i}`, 't1', 'web', 'hostB', `10.1.0.${i + 100}`);
    s.apply();
    await settle();
    const batches = call.written.slice(1);
    assert.ok(batches.length > 3, `${batches.length} batches`);
    assert.ok(batches.slice(0, -1).every((u) => u.changes?.commit === false) && batches[batches.length - 1]?.changes?.commit === true);
    for (const u of batches) assert.ok(JSON.stringify(u).length <= 4 * 1024 + 512, 'each about under the limit');
    assert.equal(keysOf(batches).filter((k) => k.startsWith('endpoint/')).length, 100);
  });

  it('a snapshot larger than the message limit comes in parts that add up to the view', async () => {
    const b = world();
    for (let i = 0; i < 300; i++) b.endpoint(`r${i}`, 't1', 'web', 'hostB', `10.1.${i >> 8}.${(i % 250) + 2}`);
    const s = streamDeps(b, { maxMessageBytes: 8 * 1024 });
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    const parts = call.written.map((u) => u.snapshot!);
    assert.ok(parts.length > 5, `${parts.length} parts`);
    assert.ok(parts.slice(0, -1).every((p) => p.more === true) && parts[parts.length - 1]?.more === false);
    for (const p of parts) assert.ok(JSON.stringify(p.state).length <= 8 * 1024, 'each part under the limit');
    const ids = parts.flatMap((p) => p.state!.endpoints!.map((e) => e.id));
    assert.deepEqual(
      ids,
      computeHostView(b.state, 'hostA').endpoints.map((e) => e.id),
    );
  });

  it('resumes from a past revision with the changes since, one etcd read shared by every stream', async () => {
    const b = world();
    const past = structuredClone(b.state);
    let reads = 0;
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    b.takeChanges();
    const s = streamDeps(b, {
      pastCluster: async () => {
        reads++;
        return past;
      },
    });
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: past.revision });
    await serveDesiredState(call as unknown as DesiredStateCall, s.deps);
    assert.deepEqual(keysOf(call.written), ['vtep/hostB', 'endpoint/b1', '']);
    assert.equal(reads, 1);
  });

  it('refuses a bad host name with INVALID_ARGUMENT', async () => {
    const call = new FakeCall({ host: 'no such host', resumeFromRevision: '0' });
    let err: grpc.ServiceError | undefined;
    call.on('error', (e: grpc.ServiceError) => (err = e));
    await serveDesiredState(call as unknown as DesiredStateCall, streamDeps(world()).deps);
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err?.details ?? '', /host/);
  });

  it('a resume revision ahead of the server gets a RESYNC snapshot', async () => {
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '999999' });
    await serveDesiredState(call as unknown as DesiredStateCall, streamDeps(world()).deps);
    assert.equal(call.written[0]?.snapshot?.reason, 'RESYNC');
  });
});

describe('agent API status codes', () => {
  const cases: Array<[ErrorCode, grpc.status]> = [
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT],
    ['NOT_FOUND', grpc.status.NOT_FOUND],
    ['ALREADY_EXISTS', grpc.status.ALREADY_EXISTS],
    ['IN_USE', grpc.status.FAILED_PRECONDITION],
    ['CONFLICT', grpc.status.FAILED_PRECONDITION],
    ['EXHAUSTED', grpc.status.RESOURCE_EXHAUSTED],
    ['UNAVAILABLE', grpc.status.UNAVAILABLE],
  ];
  for (const [code, status] of cases) {
    it(`${code} -> ${grpc.status[status]}, the field named in the message, and back`, () => {
      const se = toServiceError(new NetloomError(code, 'something is wrong', { field: 'networkName' }));
      assert.equal(se.code, status);
      assert.equal(grpcStatusOf(code), status);
      assert.match(se.details, /^network: something is wrong$/, 'service field names become proto field names');
      const back = fromServiceError(se);
      assert.equal(back.code, code);
      assert.equal(back.field, 'network');
    });
  }
  it('other errors are INTERNAL', () => {
    assert.equal(toServiceError(new Error('boom')).code, grpc.status.INTERNAL);
    assert.equal(fromServiceError({ code: grpc.status.UNAVAILABLE, details: 'down', metadata: new grpc.Metadata() }).code, 'UNAVAILABLE');
  });
});

describe('agent API tenant ids', () => {
  it('lists tenants to claim and ids to release', () => {
    const b = new ClusterBuilder().tenant('t1').tenant('t2', false);
    b.del('/netloom/v1/cfg/tenant/t1');
    b.tenant('t3');
    assert.deepEqual(tenantIdWork(b.state), { missing: ['t2'], stale: ['t1'] });
  });
  it('claims the lowest free id in 1..65535', () => {
    assert.equal(lowestFree(new Set([1, 2, 4])), 3);
    assert.equal(lowestFree(new Set()), 1);
    assert.equal(lowestFree(new Set([1, 2]), [1, 2]), undefined);
  });
});
