/**
 * Service counters from heartbeats: checked by the registry (field service_counters), published
 * by a replica for the others (agent/counters/<host>), and summed per provider over the hosts by
 * an inspect on any replica, with the service's realization on the hosts concerned.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { isNetloomError } from '../../../lib/errors';
import { InspectRealization } from '../../../netmaster/agent/inspect-realization';
import { RealizationPublisher } from '../../../netmaster/agent/realization-publisher';
import { AgentRegistry } from '../../../netmaster/agent/registry';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { MAX_SERVICE_COUNTERS } from '../../../proto/service-counters';
import { FakeClock } from '../../support/fake-clock';
import { FakeEtcd } from './fake-etcd';
import { ClusterBuilder } from './fixtures';

const logger = createLogger('service-counters-test', { level: 'silent' });

const counter = (endpointId: string, packets: string, connections = '1') => ({
  service: 't1:svc',
  endpointId,
  packets,
  bytes: String(Number(packets) * 100),
  connections,
});

describe('service counters from heartbeats', () => {
  let etcd: FakeEtcd;
  let clock: FakeClock;
  const running: AgentRegistry[] = [];

  async function replica(id: string): Promise<AgentRegistry> {
    const r = new AgentRegistry({ kv: etcd.client(), clock, logger, leaseTtlSeconds: 10, replicaId: id });
    running.push(r);
    await r.start();
    return r;
  }

  beforeEach(() => {
    etcd = new FakeEtcd();
    clock = new FakeClock();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  it('the registry refuses bad service counters, naming service_counters', async () => {
    const a = await replica('A');
    const { leaseId } = await a.register({ host: 'h1', vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '' });
    const bad = [
      [counter('p1', '-1')],
      [{ ...counter('p1', '1'), service: '' }],
      [{ ...counter('p1', '1'), endpointId: 'x'.repeat(65) }],
      [{ ...counter('p1', '1'), connections: '1.5' }],
      Array.from({ length: MAX_SERVICE_COUNTERS + 1 }, (_, i) => counter(`p${i}`, '1')),
    ];
    for (const list of bad)
      assert.throws(
        () => a.heartbeat('h1', leaseId, '1', [], list),
        (e: unknown) => isNetloomError(e) && e.code === 'INVALID_ARGUMENT' && e.field === 'service_counters',
      );
    assert.equal(a.heartbeat('h1', leaseId, '1', [], [counter('p1', '3')]), 10);
    assert.deepEqual(a.agents()[0]?.serviceCounters, [counter('p1', '3')]);
  });

  it("an inspect on one replica sums each provider's counters over the hosts of both", async () => {
    const b = new ClusterBuilder()
      .global('bridge')
      .tenant('t1')
      .network('t1', 'web', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
      .endpoint('p1', 't1', 'web', 'h1', '10.1.0.11', '', '192.168.0.1', { app: 'web' })
      .endpoint('p2', 't1', 'web', 'h2', '10.1.0.12', '', '192.168.0.2', { app: 'web' })
      .endpoint('c3', 't1', 'web', 'h3', '10.1.0.13', '', '192.168.0.3')
      .service('t1', 'svc', 'web', '10.1.0.200', ['app=web']);
    const a = await replica('A');
    const z = await replica('Z');
    const r1 = await a.register({ host: 'h1', vtepIp: '192.168.0.1', mgmtIp: '', capabilities: [], agentVersion: '' });
    const r2 = await z.register({ host: 'h2', vtepIp: '192.168.0.2', mgmtIp: '', capabilities: [], agentVersion: '' });
    for (const h of ['h1', 'h2']) b.raw(agentLayout.host(h), etcd.value(agentLayout.host(h)));
    a.heartbeat('h1', r1.leaseId, b.state.revision, [], [counter('p1', '3', '2'), counter('p2', '5', '4')]);
    z.heartbeat('h2', r2.leaseId, b.state.revision, [], [counter('p1', '1', '1')]);
    await new RealizationPublisher({ registry: z, changedAt: () => b.state.revision, clock, logger }).publish();
    assert.deepEqual(JSON.parse(etcd.value(agentLayout.counters('h2'))!).services, [['t1:svc', 'p1', '1', '100', '1']]);
    const ins = new InspectRealization({
      cache: { state: b.state },
      registry: a,
      kv: etcd.client(),
      currentRevision: async () => b.state.revision,
      clock,
    });
    const r = await ins.service('t1:svc', ['p1', 'p2']);
    assert.deepEqual(r?.realization, {
      revision: Number(b.state.objects.get('serviceLB')!.get('t1:svc')!.modRevision),
      hostsConcerned: 3,
      hostsRealized: 2,
      pendingHosts: ['h3'],
    });
    assert.deepEqual(Object.fromEntries(r?.counters ?? []), {
      p1: { packets: 4, bytes: 400, connections: 3, hosts: 2 },
      p2: { packets: 5, bytes: 500, connections: 4, hosts: 1 },
    });
    assert.equal(await ins.service('t1:nope', []), undefined);
  });
});
