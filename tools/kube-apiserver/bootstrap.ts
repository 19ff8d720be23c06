/**
 * What kube-apiserver makes by itself at start: the namespaces default, kube-system, kube-public
 * and kube-node-lease, and the `kubernetes` Service in default (the first address of the service
 * CIDR, port 443) with its EndpointSlice pointing at this server. Idempotent: what exists is kept.
 */
import type { Logger } from '../../lib/logger';
import type { JsonObject } from './json';
import { findResource, type ResourceDef } from './resources';
import type { Registry } from './registry';
import { ipRange, numberToIp, type ServiceRanges } from './service-ips';
import { ApiError } from './status';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(registry: Registry, r: ResourceDef, ns: string | undefined, obj: JsonObject): Promise<void> {
  try {
    await registry.create(r, ns, obj, { dryRun: false });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

export async function bootstrap(
  registry: Registry,
  o: { ranges: ServiceRanges; advertiseAddress: string; port: number; logger?: Logger },
): Promise<void> {
  const namespaces = findResource('', 'v1', 'namespaces') as ResourceDef;
  for (const name of SYSTEM_NAMESPACES) await ensure(registry, namespaces, undefined, { metadata: { name } });
  const services = findResource('', 'v1', 'services') as ResourceDef;
  await ensure(registry, services, 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: numberToIp(ipRange(o.ranges.cidr).first),
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.port }],
    },
  });
  const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices') as ResourceDef;
  await ensure(registry, slices, 'default', {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [o.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: o.port, protocol: 'TCP' }],
  });
  o.logger?.info({ namespaces: SYSTEM_NAMESPACES }, 'bootstrap objects in place');
}
