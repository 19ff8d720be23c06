/**
 * A Kubernetes Service and its EndpointSlices (discovery.k8s.io/v1) as netloom intent (pure): the
 * kubeService the intent store checks (lib/kinds/kube-service.ts). Only Services with a cluster IP
 * are load-balanced: headless ones (clusterIP None) and ExternalName ones are not netloom's (kube-dns
 * answers for them), so they become no intent. A LoadBalancer Service is stored as NodePort (its
 * cluster IP and node ports are what netloom realizes; the external balancer is not). Its
 * `externalTrafficPolicy` is kept (Cluster unless Local: the API's default).
 *
 * Endpoints: the IPv4 addresses of the slices' ready endpoints (`conditions.ready` unset counts as
 * ready, as the API says), each with its port for every service port, found in its slice's ports
 * by port name and protocol (a named targetPort resolves per pod, so two slices may say different
 * numbers; 0 when its slice has no such port). An address listed twice keeps its first listing.
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
  endpoints: Array<{ ip: string; pod?: { namespace: string; name: string }; ports: number[] }>;
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

/** The Service with the endpoints of its slices (undefined: netloom does not balance it). */
export function serviceFromApi(s: V1Service, slices: readonly V1EndpointSlice[]): KubeServiceIntent | undefined {
  if (!isBalanced(s)) return undefined;
  const type = s.spec?.type === 'NodePort' || s.spec?.type === 'LoadBalancer' ? 'NodePort' : 'ClusterIP';
  const ports = (s.spec?.ports ?? []).map((p) => ({
    name: p.name ?? '',
    protocol: (p.protocol ?? 'TCP').toUpperCase(),
    port: p.port,
    nodePort: type === 'NodePort' ? (p.nodePort ?? 0) : 0,
  }));
  const endpoints: KubeServiceIntent['endpoints'] = [];
  const seen = new Set<string>();
  for (const es of slices) {
    if (es.addressType !== 'IPv4') continue;
    const portOf = (name: string, protocol: string): number =>
      (es.ports ?? []).find((sp) => (sp.name ?? '') === name && (sp.protocol ?? 'TCP').toUpperCase() === protocol)?.port ?? 0;
    const slicePorts = ports.map((p) => portOf(p.name, p.protocol));
    for (const e of es.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const ref = e.targetRef;
      const pod =
        ref?.kind === 'Pod' && ref.name ? { namespace: ref.namespace ?? es.metadata?.namespace ?? 'default', name: ref.name } : undefined;
      for (const ip of e.addresses ?? []) {
        if (seen.has(ip)) continue;
        seen.add(ip);
        endpoints.push({ ip, ...(pod ? { pod } : {}), ports: slicePorts });
      }
    }
  }
  endpoints.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return {
    namespace: s.metadata?.namespace ?? 'default',
    name: s.metadata?.name ?? '',
    type,
    clusterIP: s.spec?.clusterIP ?? '',
    externalTrafficPolicy: s.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    ports,
    endpoints,
  };
}
