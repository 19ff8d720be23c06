/**
 * The agent's Kubernetes part, started only when netplugin has a kubeconfig (it loads
 * @kubernetes/client-node, ~0.85 s): the node's pod cache and the namespace cache, the resolver
 * the CNI backend asks for a pod's identity, and the pods' label changes pushed to their endpoints.
 */
import { loadKubeconfig } from '../../lib/kube/kubeconfig';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { EndpointAllocator } from '../agent/fabric';
import type { EndpointStore } from '../agent/endpoint-store';
import { followPodLabels, PodAttachments, type PodResolver } from './pod-attachments';
import { NamespaceCache } from './namespace-cache';
import { PodCache } from './pod-cache';

export interface KubeAgentOptions {
  kubeconfigPath: string;
  nodeName: string;
  tenantPerNamespace: boolean;
  podWaitMs: number;
  store: EndpointStore;
  allocator: EndpointAllocator;
  logger: Logger;
}

export interface KubeAgent {
  resolver: PodResolver;
  /** resolves once the pod cache has its first list */
  cache: Promise<PodCache>;
  /** resolves once the namespace cache has its first list */
  namespaces: Promise<NamespaceCache>;
  stop(): Promise<void>;
}

/** Starts following the node's pods; does not wait for the API server (an ADD does, up to its bound). */
export function startKubeAgent(opts: KubeAgentOptions): KubeAgent {
  const kubeconfig = loadKubeconfig(opts.kubeconfigPath);
  const logger = opts.logger.child({ part: 'kube' });
  const setLabels = opts.allocator.setLabels?.bind(opts.allocator);
  const stopping = new AbortController();
  const cache = PodCache.start({
    kubeconfig,
    nodeName: opts.nodeName,
    logger,
    onLabels: (pod) => {
      if (!setLabels) return;
      const endpoints = opts.store
        .list()
        .flatMap((r) => (r.pod ? [{ endpointId: r.endpointId, podNamespace: r.pod.namespace, podName: r.pod.name }] : []));
      void followPodLabels(pod, endpoints, setLabels, logger);
    },
    signal: stopping.signal,
  });
  const namespaces = NamespaceCache.start({ kubeconfig, logger, signal: stopping.signal });
  cache.then(
    (c) => logger.info({ node: opts.nodeName, pods: c.pods().length }, "following this node's pods in the Kubernetes API"),
    () => undefined,
  );
  // a rejection (stopped before the first list) is each waiting ADD's, not the process's
  namespaces.catch(() => undefined);
  // an ADD before a cache's first list waits for it within its own bound
  const listed = <T>(c: Promise<T>, timeoutMs: number): Promise<T> =>
    Promise.race([c, rejectAfter(timeoutMs, `the Kubernetes API server was not reached within ${timeoutMs} ms`)]);
  const pods = {
    async pod(namespace: string, name: string, timeoutMs: number, uid?: string) {
      const started = Date.now();
      const c = await listed(cache, timeoutMs);
      return c.pod(namespace, name, Math.max(0, timeoutMs - (Date.now() - started)), uid);
    },
    async namespace(name: string, timeoutMs: number) {
      const started = Date.now();
      const c = await listed(namespaces, timeoutMs);
      return c.namespace(name, Math.max(0, timeoutMs - (Date.now() - started)));
    },
  };
  return {
    resolver: new PodAttachments({ pods, tenantPerNamespace: opts.tenantPerNamespace, waitMs: opts.podWaitMs }),
    cache,
    namespaces,
    async stop() {
      stopping.abort();
      await Promise.all([cache.then((c) => c.stop()).catch(() => undefined), namespaces.then((c) => c.stop()).catch(() => undefined)]);
    },
  };
}

function rejectAfter(ms: number, why: string): Promise<never> {
  return new Promise((_, reject) => {
    const t = setTimeout(() => reject(new NetloomError('UNAVAILABLE', why, { field: 'kubeconfig' })), ms);
    t.unref();
  });
}
