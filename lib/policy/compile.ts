/**
 * The one policy compiler every consumer calls (pure): the OVS backend
 * (netplugin/pipeline/features/policy.ts), the nftables backend (netplugin/routed/) and netmaster's
 * inspect (netmaster/agent/inspect-realization.ts). For each local endpoint of `host`, Contiv's
 * rules (contiv.ts) and Kubernetes NetworkPolicy (kubernetes.ts), merged:
 *
 * - an endpoint with both gets both rule lists;
 * - a direction is isolated when either side isolates it (Kubernetes does once a policy selects
 *   the pod; Contiv never does);
 * - Kubernetes' allows are at priority 0 (KUBE_RULE_PRIORITY), below Contiv's 1..100, so a Contiv
 *   rule that matches decides first: a Contiv deny still wins, and a Contiv allow lets traffic
 *   through a Kubernetes isolation.
 *
 * An endpoint with one side only gets that side's policy object unchanged (rule objects stay
 * shared, so backends can still group endpoints by rule); results are memoised per state object.
 */
import { compileContiv, type PolicyState } from './contiv';
import { compileKubernetes, type KubePolicyState } from './kubernetes';
import type { DirectionPolicy, EndpointPolicy } from './model';
import { memoPerStateAndHost } from './memo';

/** What the compiler reads of a host's desired state (the agent's HostState and netmaster's view both fit). */
export type CompileState = PolicyState & KubePolicyState;

const isOpen = (d: DirectionPolicy): boolean => !d.isolated && d.rules.length === 0;

function mergeDirection(contiv: DirectionPolicy, kube: DirectionPolicy): DirectionPolicy {
  if (isOpen(kube)) return contiv;
  if (isOpen(contiv)) return kube;
  return { isolated: contiv.isolated || kube.isolated, rules: [...contiv.rules, ...kube.rules] };
}

/** The policy of every local endpoint of `host` (Contiv's and Kubernetes', merged as above). */
export const compilePolicy: (state: CompileState, host: string) => EndpointPolicy[] = memoPerStateAndHost((state, host) => {
  const kube = new Map(compileKubernetes(state, host).map((p) => [p.endpoint, p]));
  return compileContiv(state, host).map((p) => {
    const k = kube.get(p.endpoint);
    if (!k) return p;
    const ingress = mergeDirection(p.ingress, k.ingress);
    const egress = mergeDirection(p.egress, k.egress);
    return ingress === p.ingress && egress === p.egress ? p : { ...p, ingress, egress };
  });
});
