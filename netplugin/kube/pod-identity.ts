/**
 * Which tenant, network and group a Kubernetes pod belongs to, and what its endpoint carries
 * (labels, named ports), from the pod as the API server has it (pure). Precedence, per field:
 * the pod's `netloom.io/tenant|network|group` annotations, then Contiv's pod labels
 * `io.contiv.tenant|network|net-group` (so that Contiv users' manifests keep working), then the
 * configured default: the tenant is the pod's namespace (`tenantPerNamespace`) or the one
 * configured tenant, the network and group those of the CNI configuration. docs/kubernetes.md.
 */
import { NetloomError } from '../../lib/errors';
import { checkLabels } from '../../lib/labels';
import { LIMITS } from '../../lib/kinds/limits';
import { NAME_RE } from '../../lib/kinds/fields';

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

/** The value of the first of `keys` set in `maps` (annotations before labels), checked as a netloom name. */
function chosen(sources: ReadonlyArray<[string, Record<string, string> | undefined, string]>): string | undefined {
  for (const [key, map, where] of sources) {
    const v = map?.[key];
    if (v === undefined || v === '') continue;
    if (v.length > LIMITS.name || !NAME_RE.test(v))
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `${where} "${key}": "${v.slice(0, 64)}" is not a netloom name (letters, digits, '-', '.', at most ${LIMITS.name})`,
        {
          field: `${where}.${key}`,
        },
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
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
}

/** The identity of `pod`, or a NetloomError naming the annotation or label that cannot be used. */
export function podIdentity(pod: PodObject, defaults: IdentityDefaults): PodIdentity {
  const md = pod.metadata ?? {};
  const namespace = md.namespace ?? '';
  const name = md.name ?? '';
  if (namespace === '' || name === '')
    throw new NetloomError('INVALID_ARGUMENT', 'pod.metadata: namespace and name are required', { field: 'pod.metadata' });
  const ann = md.annotations;
  const labels = md.labels ?? {};
  const tenant =
    chosen([
      [ANNOTATION.tenant, ann, 'annotation'],
      [CONTIV_LABEL.tenant, labels, 'label'],
    ]) ?? (defaults.tenantPerNamespace ? namespace : defaults.tenant);
  if (!NAME_RE.test(tenant) || tenant.length > LIMITS.name)
    throw new NetloomError('INVALID_ARGUMENT', `namespace "${namespace}" cannot be a tenant name`, { field: 'pod.metadata.namespace' });
  const network =
    chosen([
      [ANNOTATION.network, ann, 'annotation'],
      [CONTIV_LABEL.network, labels, 'label'],
    ]) ?? defaults.network;
  const group =
    chosen([
      [ANNOTATION.group, ann, 'annotation'],
      [CONTIV_LABEL.group, labels, 'label'],
    ]) ?? defaults.group;
  return {
    tenant,
    network,
    group,
    labels: checkLabels({ ...labels }, 'pod.metadata.labels'),
    pod: { namespace, name, uid: md.uid ?? '', namedPorts: namedPorts(pod) },
  };
}
