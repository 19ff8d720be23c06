/**
 * A Kubernetes Service and its EndpointSlices (discovery.k8s.io/v1) as netloom intent (pure): the
 * kubeService and kubeServiceSlices the intent store checks (lib/kinds/kube-service*.ts). Only
 * Services with a cluster IP are load-balanced: headless ones (clusterIP None) and ExternalName
 * ones are not netloom's (kube-dns answers for them), so they become no intent. A LoadBalancer
 * Service is stored as NodePort (its cluster IP and node ports are what netloom realizes; the
 * external balancer is not). Its `externalTrafficPolicy` is kept (Cluster unless Local: the API's
 * default).
 *
 * A slice is stored on its own (so that a Service of thousands of endpoints fits, and a change of
 * one slice writes that slice only): its ports as the API lists them (name, protocol, number: a
 * named targetPort resolves per pod, so two slices may say different numbers) and the IPv4
 * addresses of its ready endpoints (`conditions.ready` unset counts as ready, as the API says). An
 * address listed twice in a slice keeps its first listing; the views merge the slices
 * (agent/kube-service-view.ts).
 */
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/** The label an EndpointSlice names its Service by. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface KubeServiceIntent {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort';
  clusterIP: string;
  /** who answers on the node ports: every host (Cluster, the default) or those with a ready local endpoint (Local) */
  externalTrafficPolicy: 'Cluster' | 'Local';
  ports: Array<{ name: string; protocol: string; port: number; nodePort: number }>;
}

export interface KubeServiceSliceIntent {
  namespace: string;
  /** the Service's name */
  service: string;
  /** the EndpointSlice's name */
  slice: string;
  ports: Array<{ name: string; protocol: string; port: number }>;
  endpoints: Array<{ ip: string; pod?: { namespace: string; name: string } }>;
}

/** `namespace/name` of a Service. */
export const serviceKeyOf = (s: V1Service): string => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;

/** `namespace/name` of the Service an EndpointSlice belongs to ('' when it names none). */
export function sliceServiceKey(es: V1EndpointSlice): string {
  const svc = es.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${es.metadata?.namespace ?? 'default'}/${svc}` : '';
}

/** Whether netloom load-balances this Service (it has a cluster IP and is no ExternalName). */
export function isBalanced(s: V1Service): boolean {
  const ip = s.spec?.clusterIP ?? '';
  return s.spec?.type !== 'ExternalName' && ip !== '' && ip !== 'None';
}

/** The Service (undefined: netloom does not balance it). */
export function serviceFromApi(s: V1Service): KubeServiceIntent | undefined {
  if (!isBalanced(s)) return undefined;
  const type = s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer' ? 'NodePort' : 'ClusterIP';
  return {
    namespace: s.metadata?.namespace ?? 'default',
    name: s.metadata?.name ?? '',
    type,
    clusterIP: s.spec?.clusterIP ?? '',
    externalTrafficPolicy: s.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    ports: (s.spec?.ports ?? []).map((p) => ({
      name: p.name ?? '',
      protocol: (p.protocol ?? 'TCP').toUpperCase(),
      port: p.port,
      nodePort: type === 'NodePort' ? (p.nodePort ?? 0) : 0,
    })),
  };
}

/** An EndpointSlice with its ready endpoints (undefined: it names no Service, or is not IPv4). */
export function sliceFromApi(es: V1EndpointSlice): KubeServiceSliceIntent | undefined {
  const service = es.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service || es.addressType !== 'IPv4') return undefined;
  const namespace = es.metadata?.namespace ?? 'default';
  const endpoints: KubeServiceSliceIntent['endpoints'] = [];
  const seen = new Set<string>();
  for (const e of es.endpoints ?? []) {
    if (e.conditions?.ready === false) continue;
    const ref = e.targetRef;
    const pod = ref?.kind === 'Pod' && ref.name ? { namespace: ref.namespace ?? namespace, name: ref.name } : undefined;
    for (const ip of e.addresses ?? []) {
      if (seen.has(ip)) continue;
      seen.add(ip);
      endpoints.push({ ip, ...(pod ? { pod } : {}) });
    }
  }
  endpoints.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return {
    namespace,
    service,
    slice: es.metadata?.name ?? '',
    // a port without a number means all ports (unused for Services with ports): none to translate to
    ports: (es.ports ?? []).flatMap((p) =>
      p.port === undefined || p.port === null ? [] : [{ name: p.name ?? '', protocol: (p.protocol ?? 'TCP').toUpperCase(), port: p.port }],
    ),
    endpoints,
  };
}
