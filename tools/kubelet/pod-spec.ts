/**
 * A v1.Pod from the API server as the CRI calls need it (deploy/lab/cri/kubelet.ts's PodSpec),
 * pure: the kubelet stand-in reads the pod's metadata, containers (image, command, args, literal
 * env values, ports) and grace period; everything else of the spec is not realized (docs/kubernetes.md).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { NetloomError } from '../../lib/errors';
import type { ContainerPort, PodSpec } from '../../deploy/lab/cri/kubelet';
import type { Protocol } from '../../deploy/lab/cri/types';

const PROTOCOLS: ReadonlySet<string> = new Set(['TCP', 'UDP', 'SCTP']);

/** `ns/name` of a pod (for logs and errors). */
export function podRefOf(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The CRI view of `pod`; a NetloomError naming the field when the pod lacks what a sandbox needs. */
export function podSpecFromApi(pod: V1Pod): PodSpec {
  const md = pod.metadata ?? {};
  const bad = (field: string, why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `pod ${podRefOf(pod)}: ${field} ${why}`, { field });
  };
  if (!md.name) bad('metadata.name', 'is missing');
  if (!md.namespace) bad('metadata.namespace', 'is missing');
  if (!md.uid) bad('metadata.uid', 'is missing');
  const containers = pod.spec?.containers ?? [];
  return {
    name: md.name!,
    namespace: md.namespace!,
    uid: md.uid!,
    labels: { ...(md.labels ?? {}) },
    annotations: { ...(md.annotations ?? {}) },
    ...(pod.spec?.hostname ? { hostname: pod.spec.hostname } : {}),
    ...(pod.spec?.terminationGracePeriodSeconds !== undefined
      ? { terminationGracePeriodSeconds: pod.spec.terminationGracePeriodSeconds }
      : {}),
    containers: containers.map((c, i) => {
      if (!c.image) bad(`spec.containers[${i}].image`, 'is missing');
      const env: Record<string, string> = {};
      // valueFrom (secrets, the downward API) is not realized: only literal values
      for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      const ports = (c.ports ?? []).map((p, j): ContainerPort => {
        const protocol = (p.protocol ?? 'TCP').toUpperCase();
        if (!PROTOCOLS.has(protocol)) bad(`spec.containers[${i}].ports[${j}].protocol`, `"${p.protocol}" is not TCP, UDP or SCTP`);
        return {
          ...(p.name ? { name: p.name } : {}),
          containerPort: p.containerPort,
          ...(p.hostPort ? { hostPort: p.hostPort } : {}),
          ...(p.hostIP ? { hostIP: p.hostIP } : {}),
          protocol: protocol as Protocol,
        };
      });
      return {
        name: c.name,
        image: c.image!,
        ...(c.command ? { command: c.command } : {}),
        ...(c.args ? { args: c.args } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ports,
      };
    }),
  };
}
