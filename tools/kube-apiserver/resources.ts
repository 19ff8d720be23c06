/**
 * The resources the stand-in serves, described once: where each lives in the API (group,
 * version, plural, scope), in discovery (kind, short names, categories, verbs), in etcd (the key
 * segment kube-apiserver uses), its model (schema/models.ts), whether it has a status subresource
 * and tracks metadata.generation, and which fields a fieldSelector may name.
 */
import type { JsonObject } from './json';

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** the @kubernetes/client-node model of one object */
  model: string;
  /** status is written only through the status subresource (the main resource keeps the old one) */
  statusSubresource: boolean;
  /** metadata.generation counts spec changes */
  generation: boolean;
  /** the etcd key segment after the prefix (default: the plural) */
  etcdResource?: string;
  /** fieldSelector fields besides metadata.name and metadata.namespace, and how to read them */
  fields?: Record<string, (o: JsonObject) => unknown>;
}

const at =
  (...path: string[]) =>
  (o: JsonObject): unknown => {
    let cur: unknown = o;
    for (const p of path) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[p] : undefined;
    return cur;
  };

const ALL = ['all'];

export const RESOURCES: readonly ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    model: 'V1Namespace',
    statusSubresource: true,
    generation: false,
    fields: { 'status.phase': at('status', 'phase') },
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ALL,
    model: 'V1Pod',
    statusSubresource: true,
    generation: false,
    fields: {
      'spec.nodeName': at('spec', 'nodeName'),
      'spec.restartPolicy': at('spec', 'restartPolicy'),
      'spec.schedulerName': at('spec', 'schedulerName'),
      'spec.serviceAccountName': at('spec', 'serviceAccountName'),
      'spec.hostNetwork': (o) => String(at('spec', 'hostNetwork')(o) === true),
      'status.phase': at('status', 'phase'),
      'status.podIP': at('status', 'podIP'),
      'status.nominatedNodeName': at('status', 'nominatedNodeName'),
    },
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ALL,
    model: 'V1Service',
    statusSubresource: true,
    generation: false,
    etcdResource: 'services/specs',
    fields: { 'spec.clusterIP': at('spec', 'clusterIP'), 'spec.type': at('spec', 'type') },
  },
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    model: 'CoreV1Event',
    statusSubresource: false,
    generation: false,
    fields: {
      'involvedObject.kind': at('involvedObject', 'kind'),
      'involvedObject.namespace': at('involvedObject', 'namespace'),
      'involvedObject.name': at('involvedObject', 'name'),
      'involvedObject.uid': at('involvedObject', 'uid'),
      'involvedObject.apiVersion': at('involvedObject', 'apiVersion'),
      'involvedObject.resourceVersion': at('involvedObject', 'resourceVersion'),
      'involvedObject.fieldPath': at('involvedObject', 'fieldPath'),
      reason: at('reason'),
      reportingComponent: at('reportingComponent'),
      source: at('source', 'component'),
      type: at('type'),
    },
  },
  {
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    model: 'V1Node',
    statusSubresource: true,
    generation: false,
    etcdResource: 'minions',
    fields: { 'spec.unschedulable': (o) => String(at('spec', 'unschedulable')(o) === true) },
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    model: 'V1ConfigMap',
    statusSubresource: false,
    generation: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    model: 'V1ServiceAccount',
    statusSubresource: false,
    generation: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    singular: 'secret',
    namespaced: true,
    model: 'V1Secret',
    statusSubresource: false,
    generation: false,
    fields: { type: at('type') },
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    singular: 'endpointslice',
    namespaced: true,
    model: 'V1EndpointSlice',
    statusSubresource: false,
    generation: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    singular: 'networkpolicy',
    namespaced: true,
    shortNames: ['netpol'],
    model: 'V1NetworkPolicy',
    statusSubresource: false,
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ALL,
    model: 'V1DaemonSet',
    statusSubresource: true,
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ALL,
    model: 'V1Deployment',
    statusSubresource: true,
    generation: true,
  },
  ...(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'] as const).map(
    (kind): ResourceDef => ({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      namespaced: !kind.startsWith('Cluster'),
      model: `V1${kind}`,
      statusSubresource: false,
      generation: false,
    }),
  ),
];

/** `v1` or `group/version`, as apiVersion fields say it. */
export const apiVersionOf = (r: Pick<ResourceDef, 'group' | 'version'>): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** The resource at group/version/plural, if served. */
export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** Every served group/version, core first. */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of RESOURCES) seen.set(apiVersionOf(r), { group: r.group, version: r.version });
  return [...seen.values()];
}

/** The field values a fieldSelector can test on `o`. */
export function selectableFields(r: ResourceDef, o: JsonObject): Record<string, string> {
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = { 'metadata.name': String(meta.name ?? '') };
  if (r.namespaced) out['metadata.namespace'] = String(meta.namespace ?? '');
  for (const [f, read] of Object.entries(r.fields ?? {})) {
    const v = read(o);
    out[f] = v === undefined || v === null ? '' : String(v);
  }
  return out;
}
