/**
 * The upstream NetworkPolicy e2e scenarios (test/support/netpol-scenarios.ts) in pure form: each
 * step's state goes through the agent's own checks (parseHostState), each pod's policy is
 * compiled on its own host (compilePolicy, as the backends call it), and every cell of every
 * expected matrix (ordered pod pairs over the step's probes) must be what lib/policy/evaluate.ts
 * decides from the compiled policies.
 */
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../../lib/policy/compile';
import { passes } from '../../../../lib/policy/evaluate';
import type { EndpointPolicy } from '../../../../lib/policy/model';
import { parseHostState, type HostState } from '../../../../netplugin/state/host-state';
import { expectedReachability, NETPOL_SCENARIOS, type NetpolStep } from '../../../support/netpol-scenarios';
import { netpolKubeLists, netpolPodEndpoints, podEndpointId, PURE_PLACEMENT } from '../../../support/netpol-state';

const P = PURE_PLACEMENT;

/** The step as the agent's desired state (every host gets the same here: the pods all carry their host). */
export function stepState(step: NetpolStep): HostState {
  const endpoints = netpolPodEndpoints(step, P).map((e, i) => ({
    ...e,
    mac: `02:00:00:96:00:${(i + 1).toString(16).padStart(2, '0')}`,
    intfName: `v${i}`,
    containerId: e.id,
  }));
  return parseHostState({
    tenants: [{ name: P.tenant, ctZone: 96, vrfId: 96 }],
    networks: [
      {
        key: `${P.tenant}:${P.network}`,
        tenant: P.tenant,
        name: P.network,
        encap: 'vxlan',
        pktTag: 9600,
        subnet: '10.96.0.0/24',
        gateway: '10.96.0.1',
        networkId: 1,
      },
    ],
    endpoints,
    ...netpolKubeLists(step, P.ipOf),
  });
}

function compiledOf(state: HostState): Map<string, EndpointPolicy> {
  const hosts = [...new Set(state.endpoints.map((e) => e.host))];
  return new Map(hosts.flatMap((h) => compilePolicy(state, h)).map((p) => [p.endpoint, p]));
}

describe('policy: the upstream NetworkPolicy e2e scenarios, compiled and evaluated (x, y, z x a, b, c)', () => {
  it(`has the scenarios (${NETPOL_SCENARIOS.length}, at least 25) with checks over TCP and UDP`, () => {
    assert.ok(NETPOL_SCENARIOS.length >= 25);
    const checks = NETPOL_SCENARIOS.flatMap((s) => s.steps.flatMap((st) => st.expect));
    assert.ok(checks.some((c) => c.protocol === 'UDP') && checks.some((c) => c.protocol === 'TCP'));
    assert.equal(new Set(NETPOL_SCENARIOS.map((s) => s.name)).size, NETPOL_SCENARIOS.length, 'names are unique');
  });

  for (const sc of NETPOL_SCENARIOS) {
    it(sc.name, () => {
      for (const [i, step] of sc.steps.entries()) {
        const state = stepState(step);
        assert.equal(state.kubePolicies?.length ?? 0, step.policies(P.ipOf).length, 'every policy passed the agent checks');
        const compiled = compiledOf(state);
        const wrong: string[] = [];
        for (const check of step.expect) {
          const want = expectedReachability(check);
          for (const { from, to, allowed } of want.entries()) {
            const pkt = {
              src: P.ipOf(from),
              dst: P.ipOf(to),
              protocol: check.protocol === 'TCP' ? ('tcp' as const) : ('udp' as const),
              port: check.port,
            };
            const got = passes(pkt, compiled.get(podEndpointId(from))!.egress, compiled.get(podEndpointId(to))!.ingress);
            if ((got.verdict === 'allow') !== allowed)
              wrong.push(
                `step ${i + 1} (${step.does}): ${from} -> ${to} ${check.protocol}/${check.port}: expected ${allowed ? 'allow' : 'deny'}, compiled ${got.verdict}${got.decidedBy ? ` by ${got.decidedBy.id}` : ''}`,
              );
          }
        }
        assert.deepEqual(wrong, []);
      }
    });
  }
});
