/**
 * The agent simulator over mutual TLS, as a lab's netmaster serves the agent API: a real netmaster
 * (ControlPlane with agentTls: its own CA, the agent API taking only certificates it signed) on a
 * real etcd (client port 28470, peer 28471). Simulated agents with their own host certificates
 * (certs.ts) register and get their stream; one presenting another host's certificate is refused
 * (netmaster enforces host identity) and gets nothing.
 */
import { strict as assert } from 'node:assert';
import { SimulatedAgent } from '../../../tools/agent-sim/agent';
import { makeSimAgentCerts } from '../../../tools/agent-sim/certs';
import { ControlPlane, RestClient } from '../../../tools/agent-sim/cluster';
import { crossProcessNow } from '../../../tools/agent-sim/conditions';
import { simAgentTls } from '../../../tools/agent-sim/group';
import { AgentSimulator, simHostName } from '../../../tools/agent-sim/simulator';
import { createEndpoint, createTopology, DEFAULT_TOPOLOGY as T, ruleBody, rulePath } from '../../../tools/agent-sim/topology';

describe('agent simulator over mutual TLS (real netmaster and etcd)', function () {
  this.timeout(120_000);
  let cp: ControlPlane | undefined;
  let rest: RestClient | undefined;
  let sim: AgentSimulator | undefined;
  let impostor: SimulatedAgent | undefined;
  const N = 4;
  const hosts = Array.from({ length: N }, (_, i) => simHostName(i, 'tls-'));

  before(async () => {
    cp = await ControlPlane.start({
      name: 'nl-agentsim-tls',
      etcdBasePort: 28470,
      etcdMembers: 1,
      replicas: 1,
      dataDir: '/tmp/nl-scale/agent-sim-tls-test',
      agentTls: true,
    });
    rest = new RestClient(cp.netmasters[0]!.rest);
    await createTopology(rest);
    for (const [i, h] of hosts.entries()) await createEndpoint(rest, T.tenant, T.network, T.group, h, `t${i}`);
  });

  after(async () => {
    await impostor?.stop();
    await sim?.stop();
    rest?.close();
    await cp?.stop();
  });

  it('agents with their own host certificates (in a worker) get their snapshot and then a rule change', async () => {
    const tls = await makeSimAgentCerts(cp!.agentPki!, hosts);
    sim = new AgentSimulator({ addresses: cp!.grpcAddresses, agents: N, hostPrefix: 'tls-', workers: 1, tls });
    const snap = await sim.watchAll({ kind: 'endpointCount', network: T.networkKey, atLeast: N });
    await sim.start();
    const s = await snap.wait(30_000);
    assert.ok(s.ok, `no snapshot with the ${N} endpoints on ${s.missingCount} agents: ${s.missing.join(', ')}`);

    const w = await sim.watchAll({ kind: 'rules', policy: T.policyKey, ruleIds: ['r1'] });
    const sent = crossProcessNow();
    await rest!.mustPost(rulePath(T, 'r1'), ruleBody(T, 'r1', 8080));
    const got = await w.wait(30_000);
    assert.ok(got.ok, `rule r1 missing on ${got.missingCount} agents: ${got.missing.join(', ')}`);
    assert.ok(got.times.every((t) => t > sent));
    const stats = await sim.stats();
    assert.equal(stats.registrations >= N, true, `registrations: ${stats.registrations}`);
    assert.equal(stats.heartbeatFailures, 0);
    assert.deepEqual(stats.workerErrors, []);
  });

  it("an agent presenting another host's certificate is refused and gets no state", async () => {
    // host tls-99999 with tls-00000's certificate and key
    impostor = new SimulatedAgent({
      host: simHostName(99_999, 'tls-'),
      addresses: cp!.grpcAddresses,
      tls: simAgentTls({ ca: cp!.agentPki!.ca.cert, pkiDir: cp!.agentPki!.dir }, hosts[0]!),
      callTimeoutMs: 2000,
    });
    impostor.start();
    await assert.rejects(
      impostor.waitUntil(() => true, 3000, 'any state'),
      /any state did not hold/,
    );
    assert.equal(impostor.latest, undefined);
    assert.equal(impostor.counters().registrations ?? 0, 0);
  });

  it('a missing host certificate is an error naming the option', () => {
    assert.throws(
      () => simAgentTls({ ca: cp!.agentPki!.ca.cert, pkiDir: cp!.agentPki!.dir }, 'tls-nocert'),
      (e: Error & { field?: string }) => e.field === 'tls.pkiDir' && /tls-nocert\.crt/.test(e.message),
    );
  });
});
