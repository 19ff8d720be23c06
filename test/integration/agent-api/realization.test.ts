/**
 * Realization you can see, end to end on a real etcd: two netmaster processes' worth of
 * startNetmaster (REST + agent API) as replicas, one agent client homed on each (its flows stood
 * in for by the counters the test hands it, as the agent's flow-stats read would). REST inspect
 * and netctl on either replica count both hosts (one reported from memory, the other through the
 * other replica's reports in etcd), sum the rules' counters over both, show a new rule pending
 * until the agents applied it, and list an endpoint's effective rules.
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { allowTcp80Rule } from '../../unit/netmaster/world';
import { runCli } from '../../unit/netctl/run-cli';
import { until } from './support';

type Inspect = { Config: Record<string, unknown>; Oper: Record<string, unknown> };

async function inspect(nm: RunningNetmaster, path: string): Promise<Inspect> {
  const res = await fetch(`${nm.url}/api/v1/inspect/${path}/`);
  assert.equal(res.status, 200, path);
  return (await res.json()) as Inspect;
}

describe('agent API: realization and rule counters over two replicas (real etcd)', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture | undefined;
  const masters: RunningNetmaster[] = [];
  const clients: NetmasterClient[] = [];
  const logger = createLogger('realization-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  before(async () => {
    etcd = await startTestEtcd('agentapi-realization', 26470);
    for (let i = 0; i < 2; i++) {
      masters.push(
        await startNetmaster({
          etcdEndpoints: [etcd.endpoint],
          logger,
          agent: {
            grpcListen: '127.0.0.1:0',
            agentLeaseTtlSeconds: 10,
            deadHostGraceMs: 60_000,
            leaderLeaseTtlSeconds: 10,
            replicaId: `realization-r${i}`,
          },
        }),
      );
    }
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    for (const m of masters) await m.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it("counts both replicas' hosts, sums their counters, shows a new rule pending until applied, and an endpoint's effective rules", async () => {
    const [a, b] = masters as [RunningNetmaster, RunningNetmaster];
    const svc = a.service;
    await svc.upsert('tenant', { tenantName: 'rz' });
    await svc.upsert('network', { tenantName: 'rz', networkName: 'n', subnet: '10.47.0.0/24', encap: 'vxlan', pktTag: 4747 });
    await svc.upsert('policy', { tenantName: 'rz', policyName: 'pw' });
    await svc.upsert('rule', allowTcp80Rule('rz', 'pw', 'r1'));
    await svc.upsert('endpointGroup', { tenantName: 'rz', groupName: 'web', networkName: 'n', policies: ['pw'] });
    const ep1 = await svc.createEndpoint({ tenantName: 'rz', networkName: 'n', groupName: 'web', containerID: 'c1', homingHost: 'rz-h1' });
    await svc.createEndpoint({ tenantName: 'rz', networkName: 'n', groupName: 'web', containerID: 'c2', homingHost: 'rz-h2' });
    const addresses = masters.map((m) => m.agent!.server.address);
    // one agent homed on each replica; each acknowledges every revision it applies
    for (const [i, host] of ['rz-h1', 'rz-h2'].entries()) {
      const c = new NetmasterClient({ address: addresses, host, vtepIp: `192.168.47.${i + 1}`, homeReplica: i, heartbeatMs: 200 });
      clients.push(c);
      c.start();
    }
    const [c1, c2] = clients as [NetmasterClient, NetmasterClient];
    c1.setRuleCounters([{ ruleId: 'rz:pw/r1', packets: 3n, bytes: 300n }]);
    c2.setRuleCounters([{ ruleId: 'rz:pw/r1', packets: 2n, bytes: 150n }]);

    const settled = (nm: RunningNetmaster, packets: number) => async () => {
      const o = (await inspect(nm, 'policys/rz:pw')).Oper;
      const r = o.realization as { hostsConcerned: number; hostsRealized: number } | undefined;
      const counters = o.ruleCounters as Array<{ ruleId: string; packets: number }> | undefined;
      return r?.hostsConcerned === 2 && r.hostsRealized === 2 && counters?.[0]?.packets === packets ? o : undefined;
    };
    for (const nm of masters) {
      const oper = await until(`both hosts realized and counted at ${nm.url}`, settled(nm, 5), 20_000);
      assert.deepEqual(oper.ruleCounters, [{ ruleId: 'r1', packets: 5, bytes: 450, hosts: 2 }]);
      assert.deepEqual(oper.endpointGroups, ['web'], "Contiv's oper is still there");
    }

    // a new rule: the policy's version moves on; realized once both agents applied it
    await svc.upsert('rule', { ...allowTcp80Rule('rz', 'pw', 'r2'), direction: 'out', action: 'deny', priority: 5 });
    const moved = (await inspect(b, 'policys/rz:pw')).Oper.realization as { revision: number };
    const current = Number(await svc.currentRevision());
    assert.equal(moved.revision, current, "the policy's version is the rule's write");
    c1.setRuleCounters([
      { ruleId: 'rz:pw/r1', packets: 4n, bytes: 400n },
      { ruleId: 'rz:pw/r2', packets: 1n, bytes: 60n },
    ]);
    const oper = await until('the new rule realized on both hosts', settled(b, 6), 20_000);
    assert.equal((oper.realization as { revision: number }).revision, current);
    assert.deepEqual(oper.ruleCounters, [
      { ruleId: 'r1', packets: 6, bytes: 550, hosts: 2 },
      { ruleId: 'r2', packets: 1, bytes: 60, hosts: 1 },
    ]);

    // the other replica sees rz-h2's progress once its replica published it (every 2 s)
    await until('the new rule realized on both hosts, as the other replica sees it', settled(a, 6), 20_000);

    const group = (await inspect(a, 'endpointGroups/rz:web')).Oper.realization as { hostsConcerned: number; hostsRealized: number };
    assert.deepEqual([group.hostsConcerned, group.hostsRealized], [2, 2]);

    const eff = (await inspect(a, `endpoints/${ep1.endpointID}`)).Oper.effectiveRules as {
      host: string;
      ingress: { rules: Array<{ id: string }> };
      egress: { rules: Array<{ id: string; action: string }> };
    };
    assert.equal(eff.host, 'rz-h1');
    assert.deepEqual(
      eff.ingress.rules.map((r) => r.id),
      ['rz:pw/r1'],
    );
    assert.deepEqual(
      eff.egress.rules.map((r) => [r.id, r.action]),
      [['rz:pw/r2', 'deny']],
    );

    const cli = await runCli(['--netmaster', a.url, 'policy', 'inspect', '-t', 'rz', 'pw', '-o', 'table']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^Policy rz:pw: realized on 2\/2 hosts at revision \d+\n/);
    assert.match(cli.stdout, /\nr1 +6 +550 +2\nr2 +1 +60 +1\n$/);
    const epCli = await runCli(['--netmaster', b.url, 'endpoint', 'inspect', ep1.endpointID, '-o', 'table']);
    assert.equal(epCli.code, 0, epCli.stderr);
    assert.match(epCli.stdout, /\ningress +1 +allow +any +tcp\/80 +rz:pw\/r1\n/);
  });
});
