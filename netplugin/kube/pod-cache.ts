/**
 * The pods of this node, kept from the Kubernetes API server (one list + watch filtered by
 * spec.nodeName: lib/kube/resource-watch), so that a CNI ADD finds its pod in memory instead of
 * asking the API server on the hot path. The kubelet makes a pod's sandbox only after the pod is
 * bound to the node, but the watch may deliver the binding a little after the sandbox starts:
 * `pod()` waits for it up to a bound. A pod deleted and made again under the same name is another
 * pod (another UID, maybe other named ports and labels): an ADD that says its UID waits for that
 * one while the cache still holds the old. Label changes are reported so the endpoints follow them.
 * Imports @kubernetes/client-node (~0.85 s to load): the agent loads this module only when a
 * kubeconfig is configured.
 */
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Arrivals } from '../../lib/kube/arrivals';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { watchResource, type ResourceWatch } from '../../lib/kube/resource-watch';

export interface PodCacheOptions {
  kubeconfig: KubeConfig;
  /** this node's name as the API server knows it (spec.nodeName of its pods) */
  nodeName: string;
  logger: Logger;
  /** told when a pod's labels changed (not on add or delete) */
  onLabels?: (pod: V1Pod) => void;
  signal?: AbortSignal;
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const x = a ?? {};
  const y = b ?? {};
  const kx = Object.keys(x);
  return kx.length === Object.keys(y).length && kx.every((k) => y[k] === x[k]);
};

export class PodCache {
  private readonly arrivals = new Arrivals<V1Pod>();
  private readonly labelsOf = new Map<string, Record<string, string> | undefined>();
  // set once the first list is in (start() resolves only then)
  private watch!: ResourceWatch<V1Pod>;

  private constructor(private readonly nodeName: string) {}

  static async start(opts: PodCacheOptions): Promise<PodCache> {
    const core = opts.kubeconfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${opts.nodeName}`;
    // made before the watch starts, so that no event finds it missing
    const cache = new PodCache(opts.nodeName);
    const seen = (p: V1Pod): void => cache.seen(p, opts.onLabels);
    cache.watch = await watchResource<V1Pod>({
      kubeconfig: opts.kubeconfig,
      path: '/api/v1/pods',
      list: () => core.listPodForAllNamespaces({ fieldSelector }),
      fieldSelector,
      onAdd: seen,
      onUpdate: seen,
      onDelete: (p) => cache.labelsOf.delete(podKey(p.metadata?.namespace, p.metadata?.name)),
      logger: opts.logger,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return cache;
  }

  private seen(p: V1Pod, onLabels?: (pod: V1Pod) => void): void {
    const key = podKey(p.metadata?.namespace, p.metadata?.name);
    const had = this.labelsOf.has(key);
    const before = this.labelsOf.get(key);
    this.labelsOf.set(key, p.metadata?.labels);
    if (had && !sameLabels(before, p.metadata?.labels)) onLabels?.(p);
    this.arrivals.arrived(key, p);
    if (p.metadata?.uid) this.arrivals.arrived(uidKey(p.metadata.uid), p);
  }

  /**
   * The pod (the one of `uid` when given), from the cache, waiting up to `timeoutMs` for it to
   * arrive; UNAVAILABLE (retry later) when it does not.
   */
  async pod(namespace: string, name: string, timeoutMs: number, uid?: string): Promise<V1Pod> {
    const cached = this.watch.get(name, namespace);
    if (cached && (uid === undefined || cached.metadata?.uid === uid)) return cached;
    const which = uid === undefined ? '' : ` with UID ${uid}`;
    return this.arrivals.wait(
      uid === undefined ? podKey(namespace, name) : uidKey(uid),
      timeoutMs,
      () =>
        new NetloomError(
          'UNAVAILABLE',
          `pod ${namespace}/${name}${which} is not bound to node "${this.nodeName}" in the Kubernetes API (waited ${timeoutMs} ms${cached ? `; the cache has another pod of that name, UID ${cached.metadata?.uid ?? ''}` : ''}); the runtime may retry`,
          { field: uid === undefined ? 'K8S_POD_NAME' : 'K8S_POD_UID' },
        ),
    );
  }

  /** Every cached pod of this node. */
  pods(): readonly V1Pod[] {
    return this.watch.list();
  }

  get synced(): boolean {
    return this.watch.synced;
  }

  async stop(): Promise<void> {
    await this.watch.stop();
  }
}

const podKey = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;
// a pod key has a '/', a UID none: the two never meet in one Arrivals
const uidKey = (uid: string): string => `uid:${uid}`;
