/**
 * Realization you can see, netmaster's part: two replicas (agent registries on one fake etcd)
 * each holding one agent; their publishers share applied revisions and rule counters through
 * etcd; an inspect on either replica counts the hosts concerned (from the views) that applied the
 * object's current version and sums the rules' counters over both hosts. Also: what a publisher
 * writes (only changes, the revision lowered to the last cluster change, guarded by the agent
 * record, deleted when the host leaves, everything again after a lost lease), reports left behind
 * by a replica the agent moved from are ignored, and an endpoint's effective rules.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { hostsConcerned } from '../../../netmaster/agent/concerned';
import { InspectRealization } from '../../../netmaster/agent/inspect-realization';
import { combineRealization, realizationOf, ruleCountersOf, type HostRealization } from '../../../netmaster/agent/realization';
import { RealizationPublisher } from '../../../netmaster/agent/realization-publisher';
import { AgentRegistry } from '../../../netmaster/agent/registry';
import { agentLayout, type AgentRecord } from '../../../netmaster/store/agent-layout';
import { isNetloomError } from '../../../lib/errors';
import { FakeClock } from '../../support/fake-clock';
import { FakeEtcd } from './fake-etcd';
import { ClusterBuilder } from './fixtures';

const logger = createLogger('realization-test', { level: 'silent' });

/** web on h1 and h2, db on h3 (policy pw applies to web; pd to db); h4 has an endpoint in no group. */
function world(): ClusterBuilder {
  return new ClusterBuilder()
    .global('bridge')
    .tenant('t1')
    .network('t1', 'net', 'vxlan', 5001, '10.1.0.0/24', '10.1.0.1')
    .network('t1', 'other', 'vxlan', 5002, '10.2.0.0/24', '10.2.0.1')
    .agent('h1', '192.168.0.1')
    .agent('h2', '192.168.0.2')
    .agent('h3', '192.168.0.3')
    .agent('h4', '192.168.0.4')
    .group('t1', 'web', 'net', ['pw'])
    .group('t1', 'db', 'net', ['pd'])
    .group('t1', 'lone', 'other')
    .policy('t1', 'pw', [{ id: 'r1', from: 'db' }, { id: 'r2' }])
    .policy('t1', 'pd')
    .endpoint('w1', 't1', 'net', 'h1', '10.1.0.10', 'web', '192.168.0.1')
    .endpoint('w2', 't1', 'net', 'h2', '10.1.0.11', 'web', '192.168.0.2')
    .endpoint('d1', 't1', 'net', 'h3', '10.1.0.20', 'db', '192.168.0.3')
    .endpoint('x1', 't1', 'other', 'h4', '10.2.0.5', '', '192.168.0.4');
}

const host = (applied: bigint, rules: Record<string, [bigint, bigint]> = {}): HostRealization => ({
  applied,
  rules: new Map(Object.entries(rules).map(([k, [packets, bytes]]) => [k, { packets, bytes }])),
  services: new Map(),
});

describe('realization: hosts concerned', () => {
  it("a policy concerns the hosts of its groups' endpoints; a group also the hosts whose view carries its endpoints", () => {
    const b = world();
    assert.deepEqual(hostsConcerned(b.state, { policy: 't1:pw' }), ['h1', 'h2']);
    assert.deepEqual(hostsConcerned(b.state, { policy: 't1:pd' }), ['h3']);
    // web: its own hosts, and h3 whose view has web's endpoints (same network; pw names db, not web)
    assert.deepEqual(hostsConcerned(b.state, { group: 't1:web' }), ['h1', 'h2', 'h3']);
    // db: its host, the web hosts (rule r1 names db, and db's endpoint is on their network)
    assert.deepEqual(hostsConcerned(b.state, { group: 't1:db' }), ['h1', 'h2', 'h3']);
    assert.deepEqual(hostsConcerned(b.state, { group: 't1:lone' }), [], 'a group without endpoints concerns nobody');
  });
});

describe('realization: counting', () => {
  it('a host counts as realized once its agent applied the revision; absent agents are pending', () => {
    const hosts = new Map([
      ['h1', host(120n)],
      ['h2', host(99n)],
    ]);
    assert.deepEqual(realizationOf(100n, ['h1', 'h2', 'h3'], hosts), {
      revision: 100,
      hostsConcerned: 3,
      hostsRealized: 1,
      pendingHosts: ['h2', 'h3'],
    });
    assert.deepEqual(realizationOf(100n, [], hosts), { revision: 100, hostsConcerned: 0, hostsRealized: 0, pendingHosts: [] });
  });

  it("sums each rule's counters over the hosts that have it in place", () => {
    const hosts = new Map([
      ['h1', host(1n, { 't1:pw/r1': [3n, 300n], 't1:pw/r2': [0n, 0n] })],
      ['h2', host(1n, { 't1:pw/r1': [2n, 150n] })],
      ['h3', host(1n, { 't1:pd/r1': [9n, 900n] })],
    ]);
    assert.deepEqual(
      ruleCountersOf(
        [
          ['r1', 't1:pw/r1'],
          ['r2', 't1:pw/r2'],
          ['r3', 't1:pw/r3'],
        ],
        hosts,
      ),
      [
        { ruleId: 'r1', packets: 5, bytes: 450, hosts: 2 },
        { ruleId: 'r2', packets: 0, bytes: 0, hosts: 1 },
        { ruleId: 'r3', packets: 0, bytes: 0, hosts: 0 },
      ],
    );
  });

  it("takes another replica's report only for the replica and registration the agent record names", () => {
    const rec = (h: string, replica: string, leaseId: string): [string, AgentRecord] => [
      h,
      { host: h, vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '', registeredAt: '', leaseId, replica },
    ];
    const records = new Map([rec('h1', 'A', '11'), rec('h2', 'B', '22'), rec('h3', 'B', '33'), rec('h4', 'C', '44')]);
    const kv = (key: string, value: unknown) => ({
      key,
      value: JSON.stringify(value),
      modRevision: '5',
      createRevision: '5',
      version: '1',
      lease: '0',
    });
    const applied = [
      kv(agentLayout.applied('B'), { replica: 'B', hosts: { h2: ['22', '50'], h3: ['31', '50'] } }), // h3: an older registration
      kv(agentLayout.applied('C'), { replica: 'C', hosts: { h1: ['9', '70'], h4: ['44', '60'] } }), // h1 moved from C to A
    ];
    const counters = [
      kv(agentLayout.counters('h2'), { replica: 'B', id: '22', rules: [['t1:p/r1', '4', '40']] }),
      kv(agentLayout.counters('h4'), { replica: 'B', id: '44', rules: [['t1:p/r1', '1', '1']] }), // left by B: h4 is C's
    ];
    const local = {
      replica: 'A',
      agents: [
        {
          host: 'h1',
          id: '11',
          replica: 'A',
          vtepIp: '',
          registeredAt: '',
          lastSeenMs: 0,
          appliedRevision: '80',
          ruleCounters: [{ ruleId: 't1:p/r1', packets: '1', bytes: '10' }],
          serviceCounters: [],
          recordRevision: '3',
        },
      ],
    };
    const out = combineRealization(records, local, applied, counters);
    assert.deepEqual([...out.keys()].sort(), ['h1', 'h2', 'h4']);
    assert.equal(out.get('h1')?.applied, 80n, "this replica's own agent, from memory");
    assert.deepEqual(out.get('h1')?.rules.get('t1:p/r1'), { packets: 1n, bytes: 10n });
    assert.equal(out.get('h2')?.applied, 50n);
    assert.deepEqual(out.get('h2')?.rules.get('t1:p/r1'), { packets: 4n, bytes: 40n });
    assert.equal(out.get('h4')?.applied, 60n);
    assert.equal(out.get('h4')?.rules.size, 0, "counters another replica left behind are not this registration's");
  });
});

describe('realization across replicas (fake etcd)', () => {
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

  it('publishes only what changed, the applied revision lowered to the last cluster change', async () => {
    const a = await replica('A');
    let changedAt = '40';
    const pub = new RealizationPublisher({ registry: a, changedAt: () => changedAt, clock, logger });
    const { leaseId } = await a.register({ host: 'h1', vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '' });
    a.heartbeat('h1', leaseId, '55', [{ ruleId: 't1:p/r1', packets: '1', bytes: '2' }]);
    await pub.publish();
    assert.deepEqual(JSON.parse(etcd.value(agentLayout.applied('A'))!), { replica: 'A', hosts: { h1: [leaseId, '40'] } });
    assert.deepEqual(JSON.parse(etcd.value(agentLayout.counters('h1'))!), { replica: 'A', id: leaseId, rules: [['t1:p/r1', '1', '2']] });
    const writes = pub.writes;
    // the agent moves on through progress marks only (nothing changed the cluster): nothing to write
    a.heartbeat('h1', leaseId, '60', [{ ruleId: 't1:p/r1', packets: '1', bytes: '2' }]);
    await pub.publish();
    assert.equal(pub.writes, writes, 'no write without a change that matters');
    changedAt = '58';
    a.heartbeat('h1', leaseId, '61', [{ ruleId: 't1:p/r1', packets: '5', bytes: '9' }]);
    await pub.publish();
    assert.deepEqual(JSON.parse(etcd.value(agentLayout.applied('A'))!).hosts, { h1: [leaseId, '58'] });
    assert.deepEqual(JSON.parse(etcd.value(agentLayout.counters('h1'))!).rules, [['t1:p/r1', '5', '9']]);
    assert.equal(pub.writes, writes + 2);
  });

  it('deletes the counters of a host that left, and writes everything again after a lost session lease', async () => {
    const a = await replica('A');
    const pub = new RealizationPublisher({ registry: a, changedAt: () => '1000', clock, logger });
    const h1 = await a.register({ host: 'h1', vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '' });
    const h2 = await a.register({ host: 'h2', vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '' });
    a.heartbeat('h1', h1.leaseId, '5', [{ ruleId: 't1:p/r1', packets: '1', bytes: '1' }]);
    a.heartbeat('h2', h2.leaseId, '5', [{ ruleId: 't1:p/r1', packets: '2', bytes: '2' }]);
    await pub.publish();
    assert.ok(etcd.value(agentLayout.counters('h2')));
    // h2 goes silent and expires here
    clock.advance(6000);
    a.heartbeat('h1', h1.leaseId, '5', [{ ruleId: 't1:p/r1', packets: '1', bytes: '1' }]);
    clock.advance(6000);
    await a.sweep();
    await pub.publish();
    assert.equal(etcd.value(agentLayout.counters('h2')), undefined, "the host's counters went with it");
    assert.deepEqual(Object.keys(JSON.parse(etcd.value(agentLayout.applied('A'))!).hosts), ['h1']);
    // the session lease is lost: the keys on it are gone, and written again on the new one
    etcd.expireLease(a.sessionLease);
    await a.sweep().catch(() => undefined);
    const before = a.sessionRenewals;
    for (let i = 0; i < 50 && a.sessionRenewals === before; i++) {
      clock.advance(4000);
      await new Promise((r) => setImmediate(r));
    }
    await a.settled();
    assert.equal(etcd.value(agentLayout.applied('A')), undefined);
    await pub.publish();
    assert.ok(etcd.value(agentLayout.applied('A')), 'applied written again');
    assert.ok(etcd.value(agentLayout.counters('h1')), 'counters written again');
  });

  it('an inspect on one replica counts the hosts of both and sums their counters; a rule change is pending until applied', async () => {
    const b = world();
    const a = await replica('A');
    const z = await replica('Z');
    const r1 = await a.register({ host: 'h1', vtepIp: '192.168.0.1', mgmtIp: '', capabilities: [], agentVersion: '' });
    const r2 = await z.register({ host: 'h2', vtepIp: '192.168.0.2', mgmtIp: '', capabilities: [], agentVersion: '' });
    // the cluster as the caches see it: the agent records as the registries wrote them
    for (const h of ['h1', 'h2']) b.raw(agentLayout.host(h), etcd.value(agentLayout.host(h)));
    const rev = BigInt(b.state.revision);
    a.heartbeat('h1', r1.leaseId, String(rev), [{ ruleId: 't1:pw/r1', packets: '3', bytes: '300' }]);
    z.heartbeat('h2', r2.leaseId, String(rev), [
      { ruleId: 't1:pw/r1', packets: '2', bytes: '150' },
      { ruleId: 't1:pw/r2', packets: '0', bytes: '0' },
    ]);
    await new RealizationPublisher({ registry: z, changedAt: () => b.state.revision, clock, logger }).publish();
    const kv = etcd.client();
    const inspectAt = (reg: AgentRegistry) =>
      new InspectRealization({ cache: { state: b.state }, registry: reg, kv, currentRevision: async () => b.state.revision, clock });
    const policy = await inspectAt(a).policy('t1:pw');
    assert.deepEqual(policy, {
      realization: {
        revision: Number(b.state.objects.get('rule')!.get('t1:pw:r2')!.modRevision),
        hostsConcerned: 2,
        hostsRealized: 2,
        pendingHosts: [],
      },
      ruleCounters: [
        { ruleId: 'r1', packets: 5, bytes: 450, hosts: 2 },
        { ruleId: 'r2', packets: 0, bytes: 0, hosts: 1 },
      ],
    });
    // a rule deleted: the policy's version moves on, pending until the agents apply it
    b.del('/netloom/v1/cfg/rule/t1:pw:r2');
    const after = await inspectAt(z).policy('t1:pw');
    assert.equal(after?.realization.revision, Number(b.state.revision));
    assert.deepEqual(after?.realization.pendingHosts, ['h1', 'h2']);
    assert.deepEqual(
      after?.ruleCounters.map((r) => r.ruleId),
      ['r1'],
    );
    z.heartbeat('h2', r2.leaseId, b.state.revision, []);
    const partly = await inspectAt(z).policy('t1:pw');
    assert.deepEqual(partly?.realization, {
      revision: Number(b.state.revision),
      hostsConcerned: 2,
      hostsRealized: 1,
      pendingHosts: ['h1'],
    });
    const group = await inspectAt(a).group('t1:web');
    assert.equal(group?.realization.hostsConcerned, 3, 'h1, h2 and h3 (no live agent there: pending)');
    assert.ok(group?.realization.pendingHosts.includes('h3'));
    assert.equal(await inspectAt(a).policy('t1:nope'), undefined);
  });

  it("an endpoint's effective rules in both directions, in evaluation order, compiled from its host's view", async () => {
    const b = world().rule('t1', 'pw', 'r3', {
      direction: 'out',
      action: 'deny',
      priority: 7,
      toEndpointGroup: 'db',
      protocol: 'udp',
      port: 53,
    });
    const a = await replica('A');
    const ins = new InspectRealization({
      cache: { state: b.state },
      registry: a,
      kv: etcd.client(),
      currentRevision: async () => b.state.revision,
      clock,
    });
    const eff = await ins.effectiveRules('w1');
    assert.equal(eff?.host, 'h1');
    assert.deepEqual(
      eff?.ingress.rules.map((r) => [r.id, r.action, r.peers.include]),
      [
        ['t1:pw/r1', 'allow', ['10.1.0.20/32']],
        ['t1:pw/r2', 'allow', ['0.0.0.0/0']],
      ],
    );
    assert.deepEqual(
      eff?.egress.rules.map((r) => [r.id, r.action, r.priority, r.services]),
      [['t1:pw/r3', 'deny', 7, [{ protocol: 'udp', ports: [{ from: 53, to: 53 }] }]]],
    );
    assert.deepEqual((await ins.effectiveRules('x1'))?.ingress, { isolated: false, rules: [] }, 'no group: open');
    assert.equal(await ins.effectiveRules('nope'), undefined);
  });

  it('refuses malformed rule counters in a heartbeat, naming the field', async () => {
    const a = await replica('A');
    const { leaseId } = await a.register({ host: 'h1', vtepIp: '', mgmtIp: '', capabilities: [], agentVersion: '' });
    for (const bad of [
      [{ ruleId: '', packets: '1', bytes: '1' }],
      [{ ruleId: 't:p/r', packets: '-1', bytes: '1' }],
      Array.from({ length: 4097 }, (_, i) => ({ ruleId: `r${i}`, packets: '0', bytes: '0' })),
    ]) {
      assert.throws(
        () => a.heartbeat('h1', leaseId, '1', bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'rule_counters',
      );
    }
    assert.equal(a.heartbeat('h1', leaseId, '1', [{ ruleId: 't:p/r', packets: '18446744073709551615', bytes: '0' }]), 10);
    assert.deepEqual(a.agents()[0]?.ruleCounters, [{ ruleId: 't:p/r', packets: '18446744073709551615', bytes: '0' }]);
  });
});
