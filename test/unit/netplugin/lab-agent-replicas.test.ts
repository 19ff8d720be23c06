/**
 * The lab gives every agent every netmaster replica, its own first and the rest in round-robin
 * order, so that load is spread while each agent can fail over (pure: the plan and the agent's
 * command line).
 */
import { strict as assert } from 'node:assert';
import { planLab } from '../../../deploy/lab/plan';
import { agentArgs, agentNetmaster, agentNetmasters } from '../../../deploy/lab/agents';
import { parseNetmasterAddresses } from '../../../netplugin/netmaster-client/addresses';

describe('lab: netmaster replicas for each agent', () => {
  it("lists every replica, the host's own first, then round-robin", () => {
    const plan = planLab({ name: 'tfx', hosts: 4, etcdMembers: 1, netmasters: 3 }, '/r');
    const g = plan.netmasters.map((n) => n.grpcListen);
    assert.deepEqual(
      plan.hosts.map((h) => agentNetmasters(plan, h.name)),
      [
        [g[0], g[1], g[2]],
        [g[1], g[2], g[0]],
        [g[2], g[0], g[1]],
        [g[0], g[1], g[2]],
      ],
    );
    assert.deepEqual(
      plan.hosts.map((h) => agentNetmaster(plan, h.name)),
      [g[0], g[1], g[2], g[0]],
      'the own replica',
    );
  });

  it('puts the list on the agent command line, in a form netplugin accepts', () => {
    const plan = planLab({ name: 'tfx', hosts: 3, etcdMembers: 1, netmasters: 2 }, '/r');
    const a = agentArgs(plan, plan.hosts[1]!);
    const list = a[a.indexOf('--netmaster-grpc') + 1] ?? '';
    assert.equal(list, `${plan.netmasters[1]!.grpcListen},${plan.netmasters[0]!.grpcListen}`);
    assert.deepEqual(parseNetmasterAddresses(list), [plan.netmasters[1]!.grpcListen, plan.netmasters[0]!.grpcListen]);
    const one = planLab({ name: 'tfx', hosts: 2, etcdMembers: 1, netmasters: 1 }, '/r');
    assert.deepEqual(agentNetmasters(one, 'host2'), [one.netmasters[0]!.grpcListen]);
  });
});
