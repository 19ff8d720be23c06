/**
 * The status the kubelet writes for a pod (pure), from what the runtime reports: phase, the
 * sandbox's address (podIP/podIPs from PodSandboxStatus), the node's (hostIP/hostIPs), the four
 * conditions (PodScheduled, Initialized, ContainersReady, Ready) and one containerStatus per
 * container. A condition keeps its lastTransitionTime while its status stays the same, as the
 * kubelet's status manager does.
 */
import type { V1ContainerStatus, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';

/** A container as the runtime reports it. */
export interface RuntimeContainer {
  name: string;
  id: string;
  image: string;
  running: boolean;
}

/** RFC 3339 in whole seconds, as the API server writes times. */
export function apiTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A time of a stored status as RFC 3339 text: objects from a list come with Date objects
 * (@kubernetes/client-node's deserializer), from a watch with the text; `fallback` when absent.
 * The API's types say Date; the wire carries the text, so the status is built with text.
 */
function keptTime(v: unknown, fallback: string): Date {
  const text = v instanceof Date ? apiTime(v.getTime()) : typeof v === 'string' && v !== '' ? v : fallback;
  return text as unknown as Date;
}

function conditions(
  previous: readonly V1PodCondition[] | undefined,
  wanted: Array<{ type: string; ok: boolean; reason?: string; message?: string }>,
  now: string,
): V1PodCondition[] {
  return wanted.map((w) => {
    const status = w.ok ? 'True' : 'False';
    const old = previous?.find((c) => c.type === w.type);
    const since = old && old.status === status ? keptTime(old.lastTransitionTime, now) : keptTime(undefined, now);
    return {
      type: w.type,
      status,
      lastTransitionTime: since,
      ...(w.reason ? { reason: w.reason } : {}),
      ...(w.message ? { message: w.message } : {}),
    };
  });
}

/** A pod whose sandbox runs at `podIp` with `containers` (Running when every container runs). */
export function runningStatus(
  previous: V1PodStatus | undefined,
  o: { podIp: string; hostIp: string; containers: readonly RuntimeContainer[]; nowMs: number },
): V1PodStatus {
  const now = apiTime(o.nowMs);
  const allRunning = o.containers.length > 0 && o.containers.every((c) => c.running);
  const notReady = o.containers.filter((c) => !c.running).map((c) => c.name);
  const why = allRunning ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` };
  const containerStatuses: V1ContainerStatus[] = o.containers.map((c) => ({
    name: c.name,
    image: c.image,
    imageID: c.image,
    containerID: `containerd://${c.id}`,
    ready: c.running,
    started: c.running,
    restartCount: 0,
    state: c.running ? { running: { startedAt: keptTime(previous?.startTime, now) } } : { waiting: { reason: 'ContainerCreating' } },
  }));
  return {
    phase: allRunning ? 'Running' : 'Pending',
    hostIP: o.hostIp,
    hostIPs: [{ ip: o.hostIp }],
    ...(o.podIp ? { podIP: o.podIp, podIPs: [{ ip: o.podIp }] } : {}),
    startTime: keptTime(previous?.startTime, now),
    qosClass: 'BestEffort',
    conditions: conditions(
      previous?.conditions,
      [
        { type: 'PodScheduled', ok: true },
        { type: 'Initialized', ok: true },
        { type: 'ContainersReady', ok: allRunning, ...why },
        { type: 'Ready', ok: allRunning, ...why },
      ],
      now,
    ),
    containerStatuses,
  };
}

/** A pod whose sandbox could not be made (yet): Pending, not ready, saying why. */
export function failedSandboxStatus(previous: V1PodStatus | undefined, o: { hostIp: string; message: string; nowMs: number }): V1PodStatus {
  const now = apiTime(o.nowMs);
  const why = { reason: 'SandboxNotReady', message: o.message.slice(0, 1000) };
  return {
    phase: 'Pending',
    hostIP: o.hostIp,
    hostIPs: [{ ip: o.hostIp }],
    startTime: keptTime(previous?.startTime, now),
    qosClass: 'BestEffort',
    conditions: conditions(
      previous?.conditions,
      [
        { type: 'PodScheduled', ok: true },
        { type: 'Initialized', ok: true },
        { type: 'ContainersReady', ok: false, ...why },
        { type: 'Ready', ok: false, ...why },
      ],
      now,
    ),
  };
}

/** Whether the stored status already says what `next` says (no write needed; times aside). */
export function sameStatus(stored: V1PodStatus | undefined, next: V1PodStatus): boolean {
  if (!stored) return false;
  const view = (s: V1PodStatus) =>
    JSON.stringify([
      s.phase,
      s.podIP ?? '',
      s.hostIP ?? '',
      (s.conditions ?? []).map((c) => [c.type, c.status, c.reason ?? '']),
      (s.containerStatuses ?? []).map((c) => [c.name, c.containerID ?? '', c.ready]),
    ]);
  return view(stored) === view(next);
}
