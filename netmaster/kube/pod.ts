/**
 * A pod's identity between the agent API's KubePod message and the endpoint record (issue 19):
 * what an agent sends (CreateEndpoint, SyncEndpoints) becomes the record's `pod` (checked there
 * with the endpoint schema), and the record's `pod` goes out in every Endpoint message.
 */
import type { KubePod, KubePod__Output } from '../../proto/gen/netloom/v1/KubePod';
import type { StoredPod } from '../model/schemas';

/** The request body's `pod` for a received KubePod (undefined: the endpoint is no pod). */
export function podBodyOf(pod: KubePod__Output | null | undefined): Record<string, unknown> | undefined {
  if (!pod) return undefined;
  return {
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    namedPorts: (pod.namedPorts ?? []).map((p) => ({ name: p.name, protocol: p.protocol || 'TCP', port: p.port })),
  };
}

/** The KubePod message of a stored pod, every field set (as a client receives it). */
export function podMessage(pod: StoredPod): KubePod__Output {
  return {
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    namedPorts: pod.namedPorts.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
  };
}

export type { KubePod };
