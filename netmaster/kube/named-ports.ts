/**
 * Which named ports of a NetworkPolicy resolve on no pod (pure). Kubernetes resolves a named port
 * on the pods the rule's traffic goes to: for an ingress rule the pods the policy selects, for an
 * egress rule the rule's peer pods. One that no such pod has selects nothing for that port (the
 * compiler leaves it out, lib/policy/kubernetes.ts); the controller says so in a Warning Event
 * (named-port-events.ts), since the user probably misspelt a port's name.
 */
import type { V1Namespace, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort, V1Pod } from '@kubernetes/client-node';
import { NAMESPACE_NAME_LABEL } from '../../lib/kube-syntax';
import { selects } from '../../lib/policy/label-selector';
import { selectorFromApi } from './from-api';

export interface UnresolvedPort {
  direction: 'ingress' | 'egress';
  /** the rule's index in its direction */
  rule: number;
  name: string;
  protocol: string;
}

/** `http/TCP (ingress rule 0)`: how an Event names one. */
export const unresolvedText = (u: UnresolvedPort): string => `${u.name}/${u.protocol} (${u.direction} rule ${u.rule})`;

const portNames = (pod: V1Pod): Set<string> =>
  new Set(
    [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].flatMap((c) =>
      (c.ports ?? []).filter((p) => p.name).map((p) => `${p.name}/${(p.protocol ?? 'TCP').toUpperCase()}`),
    ),
  );

function namedOf(ports: readonly V1NetworkPolicyPort[] | undefined): Array<{ name: string; protocol: string }> {
  return (ports ?? [])
    .filter((p): p is V1NetworkPolicyPort & { port: string } => typeof p.port === 'string')
    .map((p) => ({ name: p.port, protocol: (p.protocol ?? 'TCP').toUpperCase() }));
}

/** The pods of `np`'s egress peers (ipBlocks name no pod). */
function peerPods(
  peers: readonly V1NetworkPolicyPeer[],
  policyNs: string,
  pods: readonly V1Pod[],
  nsLabels: (ns: string) => Record<string, string>,
): V1Pod[] {
  if (peers.length === 0) return [...pods];
  return pods.filter((pod) =>
    peers.some((peer) => {
      if (!peer.podSelector && !peer.namespaceSelector) return false;
      const ns = pod.metadata?.namespace ?? '';
      const nsOk = peer.namespaceSelector ? selects(selectorFromApi(peer.namespaceSelector), nsLabels(ns)) : ns === policyNs;
      return nsOk && (!peer.podSelector || selects(selectorFromApi(peer.podSelector), pod.metadata?.labels ?? {}));
    }),
  );
}

/** Every named port of `np` that resolves on none of the pods its rule concerns, in rule order. */
export function unresolvedNamedPorts(np: V1NetworkPolicy, pods: readonly V1Pod[], namespaces: readonly V1Namespace[]): UnresolvedPort[] {
  const policyNs = np.metadata?.namespace ?? 'default';
  const labelsByNs = new Map(
    namespaces.map((n) => [n.metadata?.name ?? '', { ...(n.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: n.metadata?.name ?? '' }]),
  );
  const nsLabels = (ns: string) => labelsByNs.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns };
  const out: UnresolvedPort[] = [];
  const check = (direction: UnresolvedPort['direction'], rule: number, named: Array<{ name: string; protocol: string }>, on: V1Pod[]) => {
    if (named.length === 0) return;
    const have = new Set(on.flatMap((p) => [...portNames(p)]));
    for (const n of named) if (!have.has(`${n.name}/${n.protocol}`)) out.push({ direction, rule, ...n });
  };
  const selected = pods.filter(
    (p) => p.metadata?.namespace === policyNs && selects(selectorFromApi(np.spec?.podSelector ?? {}), p.metadata?.labels ?? {}),
  );
  (np.spec?.ingress ?? []).forEach((r, i) => check('ingress', i, namedOf(r.ports), selected));
  (np.spec?.egress ?? []).forEach((r, i) => check('egress', i, namedOf(r.ports), peerPods(r.to ?? [], policyNs, pods, nsLabels)));
  return out;
}
