/**
 * Prometheus metrics of one netmaster (its own registry, so several can live in one process):
 * request counts and latency by route and status, intent objects by type, allocations by kind,
 * commit retries caused by concurrent changes.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../lib/process-metrics';
import type { NetmasterService } from '../service/service';

export interface RestMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  latency: Histogram<'method' | 'route' | 'status'>;
}

export function createMetrics(svc: NetmasterService, opts: { defaultMetrics?: boolean } = {}): RestMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectProcessMetrics(registry);
  const requests = new Counter({
    name: 'netmaster_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'netmaster_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'netmaster_objects',
    help: 'Intent objects and endpoints in the store, by type',
    labelNames: ['type'] as const,
    registers: [registry],
    async collect() {
      for (const [type, n] of Object.entries(await svc.objectCounts())) this.set({ type }, n);
    },
  });
  new Gauge({
    name: 'netmaster_allocations',
    help: 'Allocated VLANs, VNIs, IPs, MACs and group ids',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      for (const [kind, n] of Object.entries(await svc.allocationCounts())) this.set({ kind }, n);
    },
  });
  new Gauge({
    name: 'netmaster_commit_retries',
    help: 'Commits retried because a concurrent change invalidated what they read (since start)',
    registers: [registry],
    collect() {
      this.set(svc.conflicts);
    },
  });
  new Gauge({
    name: 'netmaster_fast_commits',
    help: 'Creates committed in one round trip from the watch-fed intent copy (since start)',
    registers: [registry],
    collect() {
      this.set(svc.fastCommits);
    },
  });
  return { registry, requests, latency };
}
