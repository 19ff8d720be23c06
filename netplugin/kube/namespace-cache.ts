/**
 * The cluster's namespaces, kept from the Kubernetes API server (one list + watch:
 * lib/kube/resource-watch), so that a CNI ADD reads its pod's namespace (its `netloom.io/*`
 * annotations and Contiv labels, pod-identity.ts) from memory instead of asking the API server on
 * the hot path. A pod's namespace exists before the pod, but this watch may deliver it after the
 * pod cache delivers the pod: `namespace()` waits for it up to a bound. Imports
 * @kubernetes/client-node: loaded only when a kubeconfig is configured (kube-agent.ts).
 */
import { CoreV1Api, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { Arrivals } from '../../lib/kube/arrivals';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { watchResource, type ResourceWatch } from '../../lib/kube/resource-watch';

export interface NamespaceCacheOptions {
  kubeconfig: KubeConfig;
  logger: Logger;
  signal?: AbortSignal;
}

export class NamespaceCache {
  private readonly arrivals = new Arrivals<V1Namespace>();
  // set once the first list is in (start() resolves only then)
  private watch!: ResourceWatch<V1Namespace>;

  private constructor() {}

  static async start(opts: NamespaceCacheOptions): Promise<NamespaceCache> {
    const core = opts.kubeconfig.makeApiClient(CoreV1Api);
    // made before the watch starts, so that no event finds it missing
    const cache = new NamespaceCache();
    const seen = (ns: V1Namespace): void => cache.arrivals.arrived(ns.metadata?.name ?? '', ns);
    cache.watch = await watchResource<V1Namespace>({
      kubeconfig: opts.kubeconfig,
      path: '/api/v1/namespaces',
      list: () => core.listNamespace(),
      onAdd: seen,
      onUpdate: seen,
      logger: opts.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return cache;
  }

  /** The namespace, from the cache, waiting up to `timeoutMs` for it to arrive; UNAVAILABLE (retry later) when it does not. */
  async namespace(name: string, timeoutMs: number): Promise<V1Namespace> {
    const cached = this.watch.get(name);
    if (cached) return cached;
    return this.arrivals.wait(
      name,
      timeoutMs,
      () =>
        new NetloomError('UNAVAILABLE', `namespace ${name} is not in the Kubernetes API (waited ${timeoutMs} ms); the runtime may retry`, {
          field: 'K8S_POD_NAMESPACE',
        }),
    );
  }

  get synced(): boolean {
    return this.watch.synced;
  }

  async stop(): Promise<void> {
    await this.watch.stop();
  }
}
