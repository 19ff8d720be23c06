/**
 * The agent contract's KubeNetworkPolicy and KubeNamespace messages (what the Kubernetes
 * controller hands over: netmaster/kube/from-api.ts) as the bodies the intent store checks and
 * stores (lib/kinds/kube-*.ts): a message's "unset" values (a null selector or ipBlock, port 0,
 * named port '', endPort 0) become absent fields, and its `key` must be the one its names make.
 * Pure; the store's checks name the field, with the same paths as in the message.
 */
import { NetloomError } from '../../lib/errors';
import type { KubeLabelSelector } from '../../proto/gen/netloom/v1/KubeLabelSelector';
import type { KubeNamespace } from '../../proto/gen/netloom/v1/KubeNamespace';
import type { KubeNetworkPolicy } from '../../proto/gen/netloom/v1/KubeNetworkPolicy';
import type { KubePolicyRule } from '../../proto/gen/netloom/v1/KubePolicyRule';

/** The key of a policy message: its `key`, else `namespace/name`. */
export const policyMessageKey = (p: KubeNetworkPolicy): string => p.key || `${p.namespace ?? ''}/${p.name ?? ''}`;

/** The key of a namespace message: its name. */
export const namespaceMessageKey = (n: KubeNamespace): string => n.key ?? '';

function selectorBody(s: KubeLabelSelector): Record<string, unknown> {
  return { matchLabels: s.matchLabels ?? {}, matchExpressions: s.matchExpressions ?? [] };
}

function ruleBody(r: KubePolicyRule): Record<string, unknown> {
  return {
    peers: (r.peers ?? []).map((p) => ({
      ...(p.podSelector ? { podSelector: selectorBody(p.podSelector) } : {}),
      ...(p.namespaceSelector ? { namespaceSelector: selectorBody(p.namespaceSelector) } : {}),
      ...(p.ipBlock ? { ipBlock: { cidr: p.ipBlock.cidr ?? '', except: p.ipBlock.except ?? [] } } : {}),
    })),
    ports: (r.ports ?? []).map((p) => ({
      protocol: p.protocol || 'TCP',
      ...(p.port ? { port: p.port } : {}),
      ...(p.namedPort ? { namedPort: p.namedPort } : {}),
      ...(p.endPort ? { endPort: p.endPort } : {}),
    })),
  };
}

/** The body of a policy message; INVALID_ARGUMENT (field `key`) when its key is not `namespace/name`. */
export function policyBody(p: KubeNetworkPolicy): Record<string, unknown> {
  if (p.key && p.key !== `${p.namespace ?? ''}/${p.name ?? ''}`)
    throw new NetloomError('INVALID_ARGUMENT', `key ${p.key.slice(0, 128)} is not namespace/name (${p.namespace}/${p.name})`, {
      field: 'key',
    });
  return {
    namespace: p.namespace,
    name: p.name,
    podSelector: selectorBody(p.podSelector ?? {}),
    ingressIsolation: p.ingressIsolation ?? true,
    egressIsolation: p.egressIsolation ?? false,
    ingress: (p.ingress ?? []).map(ruleBody),
    egress: (p.egress ?? []).map(ruleBody),
  };
}

/** The body of a namespace message (its key is its name). */
export function namespaceBody(n: KubeNamespace): Record<string, unknown> {
  return { name: n.key, labels: n.labels ?? {} };
}
