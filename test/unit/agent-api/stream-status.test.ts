/**
 * The desired-state stream's flow control with a fake call (a slow client gets one coalesced
 * group when its buffer drains, not every batch), server stop ending a stream, the NetloomError
 * to gRPC status mapping (and back), and the tenant id bookkeeping (pure parts).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { NetloomError, type ErrorCode } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { batchTouchesView, serveDesiredState, type DesiredStateCall } from '../../../netmaster/agent/desired-state';
import type { BatchInfo } from '../../../netmaster/agent/cluster-cache';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { fromServiceError, grpcStatusOf, toServiceError } from '../../../proto/status';
import { lowestFree, tenantIdWork } from '../../../netmaster/agent/tenant-ids';
import type { ClusterState } from '../../../netmaster/agent/cluster';
import type { DesiredStateUpdate } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { EtcdKV } from '../../../netmaster/store/kv';
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
  const listeners = new Set<(s: ClusterState, batch: BatchInfo) => void>();
  return {
    get state() {
      return b.state;
    },
    subscribe(l: (s: ClusterState, batch: BatchInfo) => void) {
      listeners.add(l);
      return () => void listeners.delete(l);
    },
    notify(batch: BatchInfo = { full: true, endpoints: [], agentHosts: [] }) {
      for (const l of listeners) l(b.state, batch);
    },
    get listeners() {
      return listeners.size;
    },
  };
}

const logger = createLogger('t', { level: 'silent' });

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
    const cache = fakeCache(b);
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '0' });
    let end: (() => void) | undefined;
    await serveDesiredState(call as unknown as DesiredStateCall, {
      cache,
      kv: {} as EtcdKV,
      logger,
      track: (e) => ((end = e), () => undefined),
    });
    assert.equal(call.written.length, 1);
    assert.equal(call.written[0]?.snapshot?.reason, 'INITIAL');
    call.blocked = true;
    b.endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3');
    cache.notify();
    const afterFirst = call.written.length;
    assert.equal(afterFirst, 1 + 3, 'vtep, endpoint, marker');
    for (let i = 0; i < 50; i++) {
      b.endpoint(`x${i}`, 't1', 'web', 'hostB', `10.1.0.${i + 10}`);
      cache.notify();
    }
    b.del('/netloom/v1/ep/x0');
    cache.notify();
    assert.equal(call.written.length, afterFirst, 'nothing queued while the buffer is full');
    call.blocked = false;
    call.emit('drain');
    const group = call.written.slice(afterFirst);
    assert.equal(group.length, 49 + 1, '49 endpoint puts (x0 came and went) and one marker');
    assert.ok(group.every((u) => u.revision === b.state.revision));
    assert.equal(group[group.length - 1]?.change?.key, '');
    // unrelated change: nothing
    b.tenant('t9').network('t9', 'z', 'vxlan', 9, '10.99.0.0/24').endpoint('z1', 't9', 'z', 'hostZ', '10.99.0.2');
    cache.notify();
    assert.equal(call.written.length, afterFirst + group.length);
    // server stop ends the stream and unsubscribes
    end?.();
    assert.ok(call.ended);
    assert.equal(cache.listeners, 0);
  });

  it('refuses a bad host name with INVALID_ARGUMENT', async () => {
    const call = new FakeCall({ host: 'no such host', resumeFromRevision: '0' });
    let err: grpc.ServiceError | undefined;
    call.on('error', (e: grpc.ServiceError) => (err = e));
    await serveDesiredState(call as unknown as DesiredStateCall, {
      cache: fakeCache(world()),
      kv: {} as EtcdKV,
      logger,
      track: () => () => undefined,
    });
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err?.details ?? '', /host/);
  });

  it('a resume revision ahead of the server gets a RESYNC snapshot', async () => {
    const call = new FakeCall({ host: 'hostA', resumeFromRevision: '999999' });
    await serveDesiredState(call as unknown as DesiredStateCall, {
      cache: fakeCache(world()),
      kv: {} as EtcdKV,
      logger,
      track: () => () => undefined,
    });
    assert.equal(call.written[0]?.snapshot?.reason, 'RESYNC');
  });
});

describe('agent API batch relevance', () => {
  const b = new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24')
    .network('t1', 'db', 'vxlan', 5002, '10.2.0.0/24');
  b.agent('hostB', '192.168.0.2')
    .endpoint('a1', 't1', 'web', 'hostA', '10.1.0.2')
    .endpoint('b1', 't1', 'web', 'hostB', '10.1.0.3')
    .endpoint('c1', 't1', 'db', 'hostC', '10.2.0.2');
  const view = computeHostView(b.state, 'hostA');
  const ep = (id: string) => b.state.endpoints.get(id)!.ep;
  const batch = (p: Partial<BatchInfo>): BatchInfo => ({ full: false, endpoints: [], agentHosts: [], ...p });
  it('skips only batches that cannot change the view', () => {
    assert.equal(batchTouchesView(batch({ endpoints: [ep('c1')] }), 'hostA', view), false, 'an endpoint of a network outside the view');
    assert.equal(batchTouchesView(batch({ agentHosts: ['hostC'] }), 'hostA', view), true, 'an agent record may make endpoints reachable');
    assert.equal(batchTouchesView(batch({}), 'hostA', view), false);
    assert.equal(batchTouchesView(batch({ endpoints: [ep('b1')] }), 'hostA', view), true);
    assert.equal(
      batchTouchesView(batch({ endpoints: [{ ...ep('c1'), homingHost: 'hostA' }] }), 'hostA', view),
      true,
      'a new local endpoint',
    );
    assert.equal(batchTouchesView(batch({ agentHosts: ['hostB'] }), 'hostA', view), true);
    assert.equal(batchTouchesView(batch({ agentHosts: ['hostA'] }), 'hostA', view), true);
    assert.equal(batchTouchesView(batch({ full: true }), 'hostA', view), true);
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
