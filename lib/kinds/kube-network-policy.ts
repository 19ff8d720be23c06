/**
 * A Kubernetes NetworkPolicy (networking.k8s.io/v1) as netmaster's Kubernetes controller stores
 * it (issue 19; key `namespace:name`): normalized, with policyTypes already resolved into the two
 * isolation flags and every port's protocol defaulted, the form the agents compile
 * (lib/policy/kubernetes.ts). Read-only over REST: the Kubernetes API is where users write it.
 */
import { KUBE_LIMITS } from '../kube-syntax';
import { defineKind } from './kind';
import { kubeFieldsOf } from './kube-fields';

export const kubeNetworkPolicyKind = defineKind({
  type: 'kubeNetworkPolicy',
  collection: 'kubeNetworkPolicies',
  label: 'Kubernetes NetworkPolicy',
  key: ['namespace', 'name'],
  keyMax: KUBE_LIMITS.subdomain,
  scope: 'global',
  readOnlySource: 'the Kubernetes API (netmaster stores NetworkPolicies from it): change them with kubectl',
  schema: (z, f) => {
    const k = kubeFieldsOf(z, f);
    return z.object({
      ...f.placeholders,
      namespace: k.dnsLabel('namespace'),
      name: k.dnsSubdomain('name'),
      /** the pods of its namespace it applies to (empty: all of them) */
      podSelector: k.selector('podSelector').default({ matchLabels: {}, matchExpressions: [] }),
      /** policyTypes has Ingress: the selected pods accept only what `ingress` allows */
      ingressIsolation: z.boolean({ error: 'ingressIsolation must be a boolean' }).default(true),
      /** policyTypes has Egress: the selected pods send only what `egress` allows */
      egressIsolation: z.boolean({ error: 'egressIsolation must be a boolean' }).default(false),
      ingress: f.list('ingress', k.rule('ingress')).default([]),
      egress: f.list('egress', k.rule('egress')).default([]),
    });
  },
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
    columns: [
      { header: 'Namespace', underline: '---------', field: 'namespace' },
      { header: 'Name', underline: '----', field: 'name' },
      { header: 'Ingress', underline: '-------', field: 'ingressIsolation', format: 'bool' },
      { header: 'Egress', underline: '------', field: 'egressIsolation', format: 'bool' },
    ],
  },
});
