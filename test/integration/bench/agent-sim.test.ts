/**
 * The agent simulator (tools/agent-sim) against a real netmaster process on a real etcd (client
 * port 28440, peer 28441): 20 simulated agents in 2 worker processes each apply their first
 * snapshot (holding the 20 endpoints of their network) and then a rule change, with arrival times
 * after the change was sent; one in-process SimulatedAgent waits for a predicate on its state.
 */
import { strict as assert } from 'node:assert';
import { SimulatedAgent } from '../../../tools/agent-sim/agent';
import { ControlPlane, RestClient } from '../../../tools/agent-sim/cluster';
import { crossProcessNow } from '../../../tools/agent-sim/conditions';
import { AgentSimulator, simHostName } from '../../../tools/agent-sim/simulator';
import { createEndpoint, createTopology, DEFAULT_TOPOLOGY as T, inFlight, ruleBody, rulePath } from '../../../tools/agent-sim/topology';

describe('agent simulator (real netmaster and etcd)', function () {
  this.timeout(120_000);
  let cp: ControlPlane | undefined;
  let rest: RestClient | undefined;
  let sim: AgentSimulator | undefined;
  let single: SimulatedAgent | undefined;
  const N = 20;

  before(async () => {
    cp = await ControlPlane.start({
      name: 'nl-agentsim-test',
      etcdBasePort: 28440,
      etcdMembers: 1,
      replicas: 1,
      dataDir: '/tmp/nl-scale/agent-sim-test',
    });
    rest = new RestClient(cp.netmasters[0]!.rest);
    await createTopology(rest);
    await inFlight(N, 4, (i) => createEndpoint(rest!, T.tenant, T.network, T.group, simHostName(i), `c${i}`));
  });

  after(async () => {
    await single?.stop();
    await sim?.stop();
    rest?.close();
    await cp?.stop();
  });

  it('20 agents in 2 workers get their snapshot with every endpoint, then a rule change', async () => {
    sim = new AgentSimulator({ addresses: cp!.grpcAddresses, agents: N, workers: 2, ratePerSec: 200 });
    const t0 = crossProcessNow();
    const snap = await sim.watchAll({ kind: 'snapshot' });
    await sim.start();
    const s = await snap.wait(30_000);
    assert.ok(s.ok, `no snapshot on ${s.missingCount} agents: ${s.missing.join(', ')}`);
    assert.ok(
      s.times.every((t) => t >= t0 && t <= crossProcessNow()),
      'snapshot times between start and now',
    );

    const all = await sim.waitAll({ kind: 'endpointCount', network: T.networkKey, atLeast: N }, 30_000);
    assert.ok(all.ok, `${all.missingCount} agents without the ${N} endpoints`);

    const w = await sim.watchAll({ kind: 'rules', policy: T.policyKey, ruleIds: ['r1'] });
    const sent = crossProcessNow();
    const r = await rest!.post(rulePath(T, 'r1'), ruleBody(T, 'r1', 8080));
    assert.equal(r.status, 200, r.text);
    const got = await w.wait(30_000);
    assert.ok(got.ok, `rule r1 missing on ${got.missingCount} agents: ${got.missing.join(', ')}`);
    assert.equal(got.held, N);
    assert.ok(
      got.times.every((t) => t > sent),
      'every arrival after the send',
    );
    assert.ok(got.lastAt - sent < 30_000);

    const stats = await sim.stats();
    assert.equal(stats.agents, N);
    assert.equal(stats.withState, N);
    assert.ok(stats.snapshots >= N, `snapshots: ${stats.snapshots}`);
    assert.ok(stats.changeGroups >= N, `change groups: ${stats.changeGroups}`);
    assert.equal(stats.heartbeatFailures, 0);
    assert.deepEqual(stats.workerErrors, []);
  });

  it('a watch that never holds reports the agents it misses at its deadline', async () => {
    const w = await sim!.watchAll({ kind: 'rules', policy: T.policyKey, ruleIds: ['never'] });
    const r = await w.wait(300);
    assert.equal(r.ok, false);
    assert.equal(r.missingCount, N);
    assert.equal(r.missing.length, 10);
    assert.ok(Number.isNaN(r.lastAt));
  });

  it('one in-process agent: waitUntil resolves when its state holds the predicate', async () => {
    single = new SimulatedAgent({ host: simHostName(0, 'solo-'), addresses: cp!.grpcAddresses });
    const ep = await createEndpoint(rest!, T.tenant, T.network, T.group, single.host, 'solo');
    single.start();
    const at = await single.waitUntil((st) => st.endpoints.some((e) => e.id === ep.endpointID), 20_000, 'its endpoint');
    assert.ok(at >= single.startedAt);
    assert.equal(single.firstSnapshot?.kind, 'snapshot');
    const sent = crossProcessNow();
    const wait = single.waitUntil((st) => st.policies.some((p) => p.rules.some((x) => x.ruleId === 'r2')), 20_000, 'rule r2');
    await rest!.mustPost(rulePath(T, 'r2'), ruleBody(T, 'r2', 8081));
    assert.ok((await wait) > sent);
    assert.ok(single.updates.length >= 2);
  });
});
