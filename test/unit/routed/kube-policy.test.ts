/**
 * Kubernetes NetworkPolicy on the nftables backend, pure: the upstream e2e scenarios
 * (test/support/netpol-scenarios.ts) with the nine pods as routed endpoints (a BGP network) on
 * three hosts. Each host's policy model comes from routedDesired (the agent's path:
 * compilePolicy of its desired state), and every ordered pod pair over TCP and UDP on ports 80 and
 * 81 is judged by the interpreter of the model on the source's host (egress chain) and the
 * destination's (ingress chain): the verdict must be the scenario's matrix where it has one, and
 * the compiled policy's reference semantics for the other probes.
 */
import assert from 'node:assert/strict';
import { compilePolicy } from '../../../lib/policy/compile';
import type { EndpointPolicy } from '../../../lib/policy/model';
import { routedPolicyModel, type RoutedPolicyModel } from '../../../netplugin/routed/policy-model';
import { routedDesired } from '../../../netplugin/routed/routed-desired';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';
import { expectedReachability, NETPOL_SCENARIOS, type NetpolStep } from '../../support/netpol-scenarios';
import {
  cellText,
  expectedCells,
  MERGED_EXPECT,
  MERGED_STEP,
  netpolKubeLists,
  netpolPodEndpoints,
  podEndpointId,
  PURE_PLACEMENT,
  withContivOnXa,
} from '../../support/netpol-state';
import { interpret, NEW } from './policy-interpreter';

const P = PURE_PLACEMENT;
const HOSTS = ['host1', 'host2', 'host3'];
const hostIf = (endpointId: string) => `r${endpointId.slice(4)}`;

function stepState(step: NetpolStep): HostState {
  return parseHostState({
    tenants: [{ name: P.tenant, ctZone: 96, vrfId: 96 }],
    networks: [
      {
        key: `${P.tenant}:${P.network}`,
        tenant: P.tenant,
        name: P.network,
        encap: 'bgp',
        pktTag: 96,
        subnet: '10.96.0.0/24',
        gateway: '',
        networkId: 1,
      },
    ],
    endpoints: netpolPodEndpoints(step, P).map((e, i) => ({
      ...e,
      mac: `02:00:00:96:00:${(i + 1).toString(16).padStart(2, '0')}`,
      containerId: e.id,
    })),
    ...netpolKubeLists(step, P.ipOf),
  });
}

function models(state: HostState): Map<string, RoutedPolicyModel> {
  return new Map(
    HOSTS.map((h) => {
      const records = state.endpoints
        .filter((e) => e.host === h)
        .map((e) => ({ endpointId: e.id, hostIf: hostIf(e.id), ip: e.ip, routed: true }));
      return [h, routedPolicyModel(routedDesired(state, h, records).policy)];
    }),
  );
}

describe('Kubernetes NetworkPolicy on the nftables model: the upstream scenarios, every pod pair judged on both hosts', () => {
  for (const sc of NETPOL_SCENARIOS) {
    it(sc.name, () => {
      const wrong: string[] = [];
      for (const [i, step] of sc.steps.entries()) {
        const state = stepState(step);
        const byHost = models(state);
        const compiled = new Map<string, EndpointPolicy>(HOSTS.flatMap((h) => compilePolicy(state, h)).map((p) => [p.endpoint, p]));
        const listed = new Map<string, boolean>();
        for (const check of step.expect)
          for (const c of expectedReachability(check).entries())
            listed.set(cellText({ ...c, port: check.port, protocol: check.protocol }), c.allowed);
        for (const cell of expectedCells((id) => compiled.get(id)!, P.ipOf)) {
          const want = listed.get(cellText(cell)) ?? cell.allowed;
          const [s, d] = [podEndpointId(cell.from), podEndpointId(cell.to)];
          const [hs, hd] = [P.hostOf(cell.from), P.hostOf(cell.to)];
          const pkt = {
            src: P.ipOf(cell.from),
            dst: P.ipOf(cell.to),
            protocol: cell.protocol === 'TCP' ? ('tcp' as const) : ('udp' as const),
            port: cell.port,
          };
          const g = { generation: 1, digest: '00000000' };
          const hops =
            hs === hd
              ? [interpret(byHost.get(hs)!, g, { ...pkt, iif: hostIf(s), oif: hostIf(d) }, NEW)]
              : [
                  interpret(byHost.get(hs)!, g, { ...pkt, iif: hostIf(s), oif: 'eth1' }, NEW),
                  interpret(byHost.get(hd)!, g, { ...pkt, iif: 'eth1', oif: hostIf(d) }, NEW),
                ];
          const got = hops.every((h) => h.verdict === 'accept');
          if (got !== want)
            wrong.push(
              `step ${i + 1} (${step.does}): ${cellText(cell)}: expected ${want ? 'pass' : 'deny'}, nftables ${got ? 'pass' : 'deny'}`,
            );
        }
      }
      assert.deepEqual(wrong, []);
    });
  }
});

describe("Kubernetes NetworkPolicy and Contiv's rules on one routed pod, through the nftables model", () => {
  it("a Contiv deny wins over a Kubernetes allow, a Contiv allow passes a Kubernetes isolation, the rest is Kubernetes'", () => {
    const state = parseHostState(withContivOnXa(stepState(MERGED_STEP), P));
    const byHost = models(state);
    const to = 'x/a';
    const got = MERGED_EXPECT.map(([from]) => {
      const [hs, hd] = [P.hostOf(from), P.hostOf(to)];
      const pkt = { src: P.ipOf(from), dst: P.ipOf(to), protocol: 'tcp' as const, port: 80 };
      const g = { generation: 1, digest: '00000000' };
      const [s, d] = [hostIf(podEndpointId(from)), hostIf(podEndpointId(to))];
      const hops =
        hs === hd
          ? [interpret(byHost.get(hs)!, g, { ...pkt, iif: s, oif: d }, NEW)]
          : [
              interpret(byHost.get(hs)!, g, { ...pkt, iif: s, oif: 'eth1' }, NEW),
              interpret(byHost.get(hd)!, g, { ...pkt, iif: 'eth1', oif: d }, NEW),
            ];
      return [from, hops.every((h) => h.verdict === 'accept')];
    });
    assert.deepEqual(got, MERGED_EXPECT);
    // the chain of x/a: Contiv's lines (priority 5, then 1), then Kubernetes' (0), then isolation
    const m = byHost.get(P.hostOf(to))!;
    const chain = m.chains.find((c) => c.name === m.ingress.find(([i]) => i === hostIf(podEndpointId(to)))![1])!;
    assert.deepEqual(
      chain.lines.map((l) => [l.action, l.rules]),
      [
        ['allow', [`${P.tenant}:p/xb`]],
        ['deny', [`${P.tenant}:p/no-ya`]],
        ['allow', ['k8s:x/from-y/ingress/0']],
      ],
    );
    assert.equal(chain.isolated, true);
  });
});
