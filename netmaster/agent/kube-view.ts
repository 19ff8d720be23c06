/**
 * Kubernetes NetworkPolicies and namespaces in host views (issue 19): every host that has a local
 * pod endpoint gets all of them, sorted by key, as the agent contract's messages (their keys:
 * `namespace/name` and the namespace's name; view keys `kubePolicy/<namespace>/<name>` and
 * `kubeNamespace/<name>`). Messages are built once per stored object and shared by every view,
 * like the other view objects (host-view.ts), so an unchanged object is never encoded twice.
 */
import { NAMESPACE_NAME_LABEL } from '../../lib/kube-syntax';
import type { KubeNamespace as StoredNamespace, KubeNetworkPolicy as StoredPolicy } from '../model/schemas';
import type { KubeNetworkPolicy__Output as KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
import type { KubeNamespace__Output as KubeNamespace } from '../../proto/gen/netloom/v1/KubeNamespace';
import type { KubeLabelSelector__Output as KubeLabelSelector } from '../../proto/gen/netloom/v1/KubeLabelSelector';
import type { KubePolicyRule__Output as KubePolicyRule } from '../../proto/gen/netloom/v1/KubePolicyRule';
import type { ClusterState, StoredIntent } from './cluster';
import { byKey } from '../../lib/compare';

export type { KubeNetworkPolicy, KubeNamespace };

type StoredSelector = StoredPolicy['podSelector'];
type StoredRule = StoredPolicy['ingress'][number];

/** The view key of a stored policy (store key `namespace:name`). */
export const kubePolicyViewKey = (storeKey: string): string => `kubePolicy/${storeKey.replace(':', '/')}`;
/** The view key of a stored namespace (store key: its name). */
export const kubeNamespaceViewKey = (name: string): string => `kubeNamespace/${name}`;
/** The store key of a policy's view key rest (`namespace/name`). */
export const kubePolicyStoreKey = (rest: string): string => rest.replace('/', ':');

function selectorMessage(s: Partial<StoredSelector> | undefined): KubeLabelSelector {
  return {
    matchLabels: { ...(s?.matchLabels ?? {}) },
    matchExpressions: (s?.matchExpressions ?? []).map((r) => ({ key: r.key, operator: r.operator, values: [...(r.values ?? [])] })),
  };
}

function ruleMessage(r: StoredRule): KubePolicyRule {
  return {
    peers: (r.peers ?? []).map((p) => ({
      podSelector: p.podSelector ? selectorMessage(p.podSelector) : null,
      namespaceSelector: p.namespaceSelector ? selectorMessage(p.namespaceSelector) : null,
      ipBlock: p.ipBlock ? { cidr: p.ipBlock.cidr, except: [...(p.ipBlock.except ?? [])] } : null,
    })),
    ports: (r.ports ?? []).map((p) => ({
      protocol: p.protocol ?? 'TCP',
      port: p.port ?? 0,
      namedPort: p.namedPort ?? '',
      endPort: p.endPort ?? 0,
    })),
  };
}

/** Messages by stored object (stored objects are replaced, never changed, on every write). */
const policyMessages = new WeakMap<object, KubeNetworkPolicy>();
const namespaceMessages = new WeakMap<object, KubeNamespace>();

export function policyMessageOf(stored: { config: unknown }): KubeNetworkPolicy {
  let m = policyMessages.get(stored);
  if (!m) {
    const c = stored.config as StoredPolicy;
    m = {
      key: `${c.namespace}/${c.name}`,
      namespace: c.namespace,
      name: c.name,
      podSelector: selectorMessage(c.podSelector),
      ingressIsolation: c.ingressIsolation !== false,
      egressIsolation: c.egressIsolation === true,
      ingress: (c.ingress ?? []).map(ruleMessage),
      egress: (c.egress ?? []).map(ruleMessage),
    };
    policyMessages.set(stored, m);
  }
  return m;
}

export function namespaceMessageOf(stored: { config: unknown }): KubeNamespace {
  let m = namespaceMessages.get(stored);
  if (!m) {
    const c = stored.config as StoredNamespace;
    // the API server's automatic label, whether or not the stored labels repeat it
    m = { key: c.name, labels: { ...(c.labels ?? {}), [NAMESPACE_NAME_LABEL]: c.name } };
    namespaceMessages.set(stored, m);
  }
  return m;
}

const stored = (cluster: ClusterState, type: 'kubeNetworkPolicy' | 'kubeNamespace'): Map<string, StoredIntent> =>
  cluster.objects.get(type) ?? new Map<string, StoredIntent>();

/** The message of the view key's policy or namespace (undefined: not stored, or another kind of key). */
export function kubeValueOf(cluster: ClusterState, viewKey: string): KubeNetworkPolicy | KubeNamespace | undefined {
  const slash = viewKey.indexOf('/');
  const kind = viewKey.slice(0, slash);
  const rest = viewKey.slice(slash + 1);
  if (kind === 'kubePolicy') {
    const s = stored(cluster, 'kubeNetworkPolicy').get(kubePolicyStoreKey(rest));
    return s ? policyMessageOf(s) : undefined;
  }
  if (kind === 'kubeNamespace') {
    const s = stored(cluster, 'kubeNamespace').get(rest);
    return s ? namespaceMessageOf(s) : undefined;
  }
  return undefined;
}

/** Every stored policy and namespace as messages, sorted by key (what a view with pods holds). */
export function kubeLists(cluster: ClusterState): { policies: KubeNetworkPolicy[]; namespaces: KubeNamespace[] } {
  return {
    policies: [...stored(cluster, 'kubeNetworkPolicy').values()].map(policyMessageOf).sort(byKey((x) => x.key)),
    namespaces: [...stored(cluster, 'kubeNamespace').values()].map(namespaceMessageOf).sort(byKey((x) => x.key)),
  };
}

/** The view keys of every stored policy and namespace. */
export function kubeViewKeys(cluster: ClusterState): string[] {
  return [
    ...[...stored(cluster, 'kubeNetworkPolicy').keys()].map(kubePolicyViewKey),
    ...[...stored(cluster, 'kubeNamespace').keys()].map(kubeNamespaceViewKey),
  ];
}
