/**
 * Kubernetes API objects as netloom intent (pure): a networking.k8s.io/v1 NetworkPolicy as the
 * normalized KubeNetworkPolicy the agents compile (proto/netloom/agent.proto), a v1 Namespace as
 * its labels. What the API server defaults is applied here too, so that an object read from any
 * server means the same: policyTypes (Ingress always unless only Egress is listed; Egress when
 * listed or when egress rules exist), protocol TCP, the namespace's kubernetes.io/metadata.name
 * label. Validation is the intent store's (netmaster/kube/intent.ts); this only reshapes.
 */
import type { V1LabelSelector, V1Namespace, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import type { KubeLabelSelector__Output as KubeLabelSelector } from '../../proto/gen/netloom/v1/KubeLabelSelector';
import type { KubeNamespace__Output as KubeNamespace } from '../../proto/gen/netloom/v1/KubeNamespace';
import type { KubeNetworkPolicy__Output as KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
import type { KubePolicyPeer__Output as KubePolicyPeer } from '../../proto/gen/netloom/v1/KubePolicyPeer';
import type { KubePolicyPort__Output as KubePolicyPort } from '../../proto/gen/netloom/v1/KubePolicyPort';
import type { KubePolicyRule__Output as KubePolicyRule } from '../../proto/gen/netloom/v1/KubePolicyRule';

/** The label every namespace carries, set by the API server (Kubernetes 1.21+; added here for older servers). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export function selectorFromApi(s: V1LabelSelector): KubeLabelSelector {
  return {
    matchLabels: { ...(s.matchLabels ?? {}) },
    matchExpressions: (s.matchExpressions ?? []).map((e) => ({ key: e.key, operator: e.operator, values: [...(e.values ?? [])] })),
  };
}

function peerFromApi(p: V1NetworkPolicyPeer): KubePolicyPeer {
  return {
    podSelector: p.podSelector ? selectorFromApi(p.podSelector) : null,
    namespaceSelector: p.namespaceSelector ? selectorFromApi(p.namespaceSelector) : null,
    ipBlock: p.ipBlock ? { cidr: p.ipBlock.cidr, except: [...(p.ipBlock.except ?? [])] } : null,
  };
}

function portFromApi(p: V1NetworkPolicyPort): KubePolicyPort {
  const protocol = (p.protocol ?? 'TCP').toUpperCase();
  // IntOrString: a number is a port, a string a port's name (the API refuses a numeric string)
  const port = typeof p.port === 'number' ? p.port : 0;
  const namedPort = typeof p.port === 'string' ? p.port : '';
  return { protocol, port, namedPort, endPort: p.endPort ?? 0 };
}

const rule = (peers: V1NetworkPolicyPeer[] | undefined, ports: V1NetworkPolicyPort[] | undefined): KubePolicyRule => ({
  peers: (peers ?? []).map(peerFromApi),
  ports: (ports ?? []).map(portFromApi),
});

/** The policy as intent, keyed `namespace/name`. */
export function policyFromApi(np: V1NetworkPolicy): KubeNetworkPolicy {
  const namespace = np.metadata?.namespace ?? 'default';
  const name = np.metadata?.name ?? '';
  const spec = np.spec;
  // `from` is `_from` in client-node's typed models (a list), `from` in raw JSON (watch events carry raw JSON)
  const ingress = (spec?.ingress ?? []).map((r) => rule(r._from ?? (r as { from?: V1NetworkPolicyPeer[] }).from, r.ports));
  const egress = (spec?.egress ?? []).map((r) => rule(r.to, r.ports));
  const types = spec?.policyTypes;
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    podSelector: selectorFromApi(spec?.podSelector ?? {}),
    ingressIsolation: types && types.length > 0 ? types.includes('Ingress') : true,
    egressIsolation: types && types.length > 0 ? types.includes('Egress') : egress.length > 0,
    ingress,
    egress,
  };
}

/** The namespace as intent: its labels, with the automatic name label. */
export function namespaceFromApi(ns: V1Namespace): KubeNamespace {
  const name = ns.metadata?.name ?? '';
  return { key: name, labels: { ...(ns.metadata?.labels ?? {}), [NAMESPACE_NAME_LABEL]: name } };
}
