/**
 * Which tenant, network and group a Kubernetes pod belongs to, and what its endpoint carries
 * (labels, named ports), from the pod and its namespace as the API server has them (pure).
 * Precedence, per field: the pod's `netloom.io/tenant|network|group` annotations, then Contiv's
 * pod labels `io.contiv.tenant|network|net-group` (so that Contiv users' manifests keep working),
 * then the same annotations on the pod's namespace, then the same Contiv labels on the namespace
 * (Contiv itself read pod labels only; accepting them on a namespace costs nothing and lets a
 * migrating user label a whole namespace), then the configured default: the tenant is the pod's
 * namespace (`tenantPerNamespace`) or the one configured tenant, the network and group those of
 * the CNI configuration. The agent alone calls this, at ADD: netmaster takes a pod's tenant and
 * network from its endpoint record, so both agree, and a namespace changed later moves no
 * running pod. docs/kubernetes.md.
 */
import { NetloomError } from '../../lib/errors';
import { checkLabels } from '../../lib/labels';
import { LIMITS } from '../../lib/kinds/limits';
import { NAME_RE } from '../../lib/kinds/fields';
import { byKey, thenBy } from '../../lib/compare';

/** The parts of a v1 Pod this reads (structurally what @kubernetes/client-node's V1Pod has). */
export interface PodObject {
  metadata?: {
    namespace?: string;
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: ReadonlyArray<{ ports?: ReadonlyArray<{ name?: string; containerPort?: number; protocol?: string }> }>;
    initContainers?: ReadonlyArray<{ ports?: ReadonlyArray<{ name?: string; containerPort?: number; protocol?: string }> }>;
  };
}

/** The parts of a v1 Namespace this reads. */
export interface NamespaceObject {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

export interface NamedPort {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
}

export interface PodIdentity {
  tenant: string;
  network: string;
  /** '' when none */
  group: string;
  /** the pod's labels: the endpoint's labels (what NetworkPolicy and service selectors match) */
  labels: Record<string, string>;
  pod: { namespace: string; name: string; uid: string; namedPorts: NamedPort[] };
}

export interface IdentityDefaults {
  /** the tenant is the pod's namespace; else `tenant` */
  tenantPerNamespace: boolean;
  tenant: string;
  /** the CNI configuration's network and group */
  network: string;
  group: string;
}

export const ANNOTATION = { tenant: 'netloom.io/tenant', network: 'netloom.io/network', group: 'netloom.io/group' } as const;
export const CONTIV_LABEL = { tenant: 'io.contiv.tenant', network: 'io.contiv.network', group: 'io.contiv.net-group' } as const;

type Field = keyof typeof ANNOTATION;

/** Where a field's value may come from, most important first. */
interface Source {
  map: Record<string, string> | undefined;
  key: string;
  /** how an error names it: `pod x/a annotation`, `namespace x label` */
  where: string;
  /** the error's field: `pod.metadata.annotations`, `namespace.metadata.labels` */
  field: string;
}

function sources(pod: PodObject, ns: NamespaceObject, f: Field): Source[] {
  const md = pod.metadata ?? {};
  const podRef = `${md.namespace ?? ''}/${md.name ?? ''}`;
  const nsName = ns.metadata?.name ?? md.namespace ?? '';
  return [
    { map: md.annotations, key: ANNOTATION[f], where: `pod ${podRef} annotation`, field: 'pod.metadata.annotations' },
    { map: md.labels, key: CONTIV_LABEL[f], where: `pod ${podRef} label`, field: 'pod.metadata.labels' },
    { map: ns.metadata?.annotations, key: ANNOTATION[f], where: `namespace ${nsName} annotation`, field: 'namespace.metadata.annotations' },
    { map: ns.metadata?.labels, key: CONTIV_LABEL[f], where: `namespace ${nsName} label`, field: 'namespace.metadata.labels' },
  ];
}

/** The value of the first source that sets one, checked as a netloom name. */
function chosen(from: readonly Source[]): string | undefined {
  for (const { map, key, where, field } of from) {
    const v = map?.[key];
    if (v === undefined || v === '') continue;
    if (v.length > LIMITS.name || !NAME_RE.test(v))
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `${where} "${key}": "${v.slice(0, 64)}" is not a netloom name (letters, digits, '-', '.', at most ${LIMITS.name})`,
        { field: `${field}.${key}` },
      );
    return v;
  }
  return undefined;
}

function namedPorts(pod: PodObject): NamedPort[] {
  const out = new Map<string, NamedPort>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])])
    for (const p of c.ports ?? []) {
      if (!p.name || p.containerPort === undefined) continue;
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') continue;
      const key = `${p.name}/${protocol}`;
      // the API server refuses duplicate names in one container; across containers the first wins, as kube-proxy's lookup does
      if (!out.has(key)) out.set(key, { name: p.name, protocol, port: p.containerPort });
    }
  return [...out.values()].sort(
    thenBy(
      byKey((p) => p.name),
      byKey((p) => p.protocol),
    ),
  );
}

/** The identity of `pod` in `namespace`, or a NetloomError naming the annotation or label that cannot be used. */
export function podIdentity(pod: PodObject, namespace: NamespaceObject, defaults: IdentityDefaults): PodIdentity {
  const md = pod.metadata ?? {};
  const ns = md.namespace ?? '';
  const name = md.name ?? '';
  if (ns === '' || name === '')
    throw new NetloomError('INVALID_ARGUMENT', 'pod.metadata: namespace and name are required', { field: 'pod.metadata' });
  const labels = md.labels ?? {};
  const tenant = chosen(sources(pod, namespace, 'tenant')) ?? (defaults.tenantPerNamespace ? ns : defaults.tenant);
  if (!NAME_RE.test(tenant) || tenant.length > LIMITS.name)
    throw new NetloomError('INVALID_ARGUMENT', `namespace "${ns}" cannot be a tenant name`, { field: 'pod.metadata.namespace' });
  return {
    tenant,
    network: chosen(sources(pod, namespace, 'network')) ?? defaults.network,
    group: chosen(sources(pod, namespace, 'group')) ?? defaults.group,
    labels: checkLabels({ ...labels }, 'pod.metadata.labels'),
    pod: { namespace: ns, name, uid: md.uid ?? '', namedPorts: namedPorts(pod) },
  };
}
