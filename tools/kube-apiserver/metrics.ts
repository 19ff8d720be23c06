/** Prometheus metrics of the stand-in, named as kube-apiserver names its own: requests by verb, resource and code; open watches. */
import { Counter, Gauge, Registry } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'verb' | 'resource' | 'code'>;
  watches: Gauge<'resource'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: 'apiserver_request_total',
      help: 'API requests by verb, resource and HTTP code',
      labelNames: ['verb', 'resource', 'code'] as const,
      registers: [registry],
    }),
    watches: new Gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Open watch streams by resource',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
  };
}
