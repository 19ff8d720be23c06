/**
 * A Kubernetes namespace's labels as netmaster's Kubernetes controller stores them (issue 19; key:
 * the namespace's name): what a NetworkPolicy's namespaceSelector matches, the API server's
 * automatic `kubernetes.io/metadata.name` label included (always equal to the name). Read-only
 * over REST: the Kubernetes API is where users write it.
 */
import { NAMESPACE_NAME_LABEL } from '../kube-syntax';
import { defineKind } from './kind';
import { kubeFieldsOf } from './kube-fields';

export const kubeNamespaceKind = defineKind({
  type: 'kubeNamespace',
  collection: 'kubeNamespaces',
  label: 'Kubernetes namespace',
  key: ['name'],
  scope: 'global',
  readOnlySource: 'the Kubernetes API (netmaster stores namespaces from it): change them with kubectl',
  schema: (z, f) => {
    const k = kubeFieldsOf(z, f);
    return z
      .object({
        ...f.placeholders,
        name: k.dnsLabel('name'),
        labels: k.labelMap('labels').default({}),
      })
      .superRefine((ns, ctx) => {
        const auto = ns.labels[NAMESPACE_NAME_LABEL];
        if (auto !== undefined && auto !== ns.name)
          ctx.addIssue({
            code: 'custom',
            message: `labels: ${NAMESPACE_NAME_LABEL} is the namespace's name (${ns.name}), not ${auto.slice(0, 64)}`,
            path: ['labels', NAMESPACE_NAME_LABEL],
          });
      });
  },
  references: [],
  netctl: {
    nameField: 'name',
    linkSets: false,
    links: false,
    columns: [
      { header: 'Name', underline: '----', field: 'name' },
      { header: 'Labels', underline: '------', field: 'labels', format: 'labels' },
    ],
  },
});
