/**
 * Docker `--label`s as endpoint labels. The CNM protocol carries no container labels, and the
 * address (so the netloom endpoint) is allocated before Docker says which container joins; dockerd
 * also holds the container's lock during Join, so it cannot be inspected then. So after Join the
 * agent looks, in its dockerd's container list (not blocked by that lock), for the container whose
 * network settings name this Docker endpoint, and sets its labels on the netloom endpoint.
 * Labels netloom cannot carry (lib/labels.ts) are left out, each named in a warning.
 */
import { waitFor } from '../../lib/clock';
import { labelKeyProblem, labelValueProblem } from '../../lib/labels';
import { LIMITS } from '../../lib/kinds/limits';
import type { DockerContainerSummary, DockerEngineClient } from './engine-client';

export type ContainerListApi = Pick<DockerEngineClient, 'containersOnNetwork'>;

/** The container of Docker endpoint `endpointId` in `containers`, if listed (pure). */
export function containerOfEndpoint(containers: readonly DockerContainerSummary[], endpointId: string): DockerContainerSummary | undefined {
  return containers.find((c) => Object.values(c.NetworkSettings?.Networks ?? {}).some((n) => n?.EndpointID === endpointId));
}

/**
 * The labels netloom keeps of a container's (pure): valid ones, at most LIMITS.labels in key
 * order; `dropped` names each left out with why (field `Labels.<key>`).
 */
export function endpointLabelsOf(labels: Record<string, string> | null | undefined): {
  labels: Record<string, string>;
  dropped: Array<{ field: string; why: string }>;
} {
  const out: Record<string, string> = {};
  const dropped: Array<{ field: string; why: string }> = [];
  for (const key of Object.keys(labels ?? {}).sort()) {
    const value = labels?.[key] ?? '';
    const why =
      labelKeyProblem(key) ??
      labelValueProblem(value) ??
      (Object.keys(out).length >= LIMITS.labels ? `at most ${LIMITS.labels} labels` : undefined);
    if (why !== undefined) dropped.push({ field: `Labels.${key.slice(0, 64)}`, why });
    else out[key] = value;
  }
  return { labels: out, dropped };
}

/** Wait (up to `timeoutMs`) until dockerd lists the container of `endpointId` on `dockerNetworkId`. */
export async function findEndpointContainer(
  docker: ContainerListApi,
  dockerNetworkId: string,
  endpointId: string,
  timeoutMs = 30_000,
): Promise<DockerContainerSummary> {
  return waitFor(
    `the container of Docker endpoint ${endpointId.slice(0, 12)}`,
    async () => containerOfEndpoint(await docker.containersOnNetwork(dockerNetworkId), endpointId),
    { timeoutMs, intervalMs: 200 },
  );
}
