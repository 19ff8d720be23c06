/**
 * The Kubernetes side of a CNI attachment: a request that names a pod (K8S_POD_NAMESPACE and
 * K8S_POD_NAME in CNI_ARGS, as containerd and CRI-O send them) takes its tenant, network, group
 * and labels from the pod and its namespace (pod-identity.ts) read from the agent's pod and
 * namespace caches, and carries the pod
 * itself to netmaster (NetworkPolicy selects pods by namespace and labels and resolves named
 * ports on them). When the pod's labels change, the endpoints of the pod follow.
 * An attachment without a pod (podman, a plain CNI runtime on the same host) is left as it is.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { NetworkRef, PodRef } from '../cni/types';
import { podIdentity, type NamedPort, type NamespaceObject, type PodObject } from './pod-identity';

export interface KubePodInfo {
  namespace: string;
  name: string;
  uid: string;
  namedPorts: NamedPort[];
}

/** What the CNI backend needs: a pod's identity, or nothing for a request without a pod. */
export interface PodResolver {
  resolve(
    pod: PodRef | undefined,
    network: NetworkRef,
  ): Promise<{ network: NetworkRef; labels: Record<string, string>; pod: KubePodInfo } | undefined>;
}

/** The pods and namespaces as the API server has them; each call waits up to `timeoutMs` for its object. */
export interface PodSource {
  /** `uid` (K8S_POD_UID) set: that pod, not an older one of the same name the cache may still hold */
  pod(namespace: string, name: string, timeoutMs: number, uid?: string): Promise<PodObject>;
  namespace(name: string, timeoutMs: number): Promise<NamespaceObject>;
}

export interface PodAttachmentsOptions {
  pods: PodSource;
  /** each pod's namespace is its tenant; else the CNI configuration's tenant */
  tenantPerNamespace: boolean;
  /** how long an ADD waits for its pod and its namespace to reach the caches */
  waitMs: number;
}

export class PodAttachments implements PodResolver {
  constructor(private readonly opts: PodAttachmentsOptions) {}

  async resolve(
    ref: PodRef | undefined,
    network: NetworkRef,
  ): Promise<{ network: NetworkRef; labels: Record<string, string>; pod: KubePodInfo } | undefined> {
    if (!ref?.namespace) return undefined;
    const [pod, namespace] = await Promise.all([
      this.opts.pods.pod(ref.namespace, ref.name, this.opts.waitMs, ref.uid),
      this.opts.pods.namespace(ref.namespace, this.opts.waitMs),
    ]);
    const id = podIdentity(pod, namespace, {
      tenantPerNamespace: this.opts.tenantPerNamespace,
      tenant: network.tenant,
      network: network.network,
      group: network.group ?? '',
    });
    return {
      network: { cniNetwork: network.cniNetwork, tenant: id.tenant, network: id.network, ...(id.group ? { group: id.group } : {}) },
      // a pod's endpoint carries the pod's labels only (what NetworkPolicy and Services select on),
      // and follows them when they change (followPodLabels)
      labels: id.labels,
      pod: id.pod,
    };
  }
}

/** An endpoint of this host that is a pod (the agent's record of it). */
export interface PodEndpoint {
  endpointId: string;
  podNamespace: string;
  podName: string;
}

/** Push a pod's new labels to its endpoints (netmaster's SetEndpointLabels), logging what fails. */
export async function followPodLabels(
  pod: V1Pod,
  endpoints: readonly PodEndpoint[],
  setLabels: (endpointId: string, labels: Record<string, string>) => Promise<void>,
  logger: Logger,
): Promise<void> {
  const ns = pod.metadata?.namespace;
  const name = pod.metadata?.name;
  for (const e of endpoints) {
    if (e.podNamespace !== ns || e.podName !== name) continue;
    try {
      await setLabels(e.endpointId, { ...(pod.metadata?.labels ?? {}) });
    } catch (err) {
      logger.warn({ endpoint: e.endpointId, pod: `${ns}/${name}`, err: errorMessage(err) }, 'pod labels not applied to its endpoint');
    }
  }
}
