/**
 * The kubelet stand-in's pod sync, one node: each pod bound to the node (spec.nodeName) is
 * realized on the node's CRI runtime with the kubelet's calls (deploy/lab/cri/pods.ts: RunPodSandbox
 * with the pod's metadata, labels, annotations and ports, then its containers) and its status
 * written back as the kubelet writes it (pod-status.ts). A pod being deleted (deletionTimestamp
 * set) has its containers stopped, its sandbox stopped (the runtime's CNI DEL) and removed, and
 * is then deleted with gracePeriodSeconds 0; a pod already gone from the API loses its sandboxes
 * too. At start, `reconcile` removes the sandboxes of pods the API no longer has and keeps the
 * rest (restart-safe). One sync at a time per pod (in event order); a failed sync is retried
 * after a backoff, as the kubelet's pod workers do. Knows nothing of the API client (main.ts
 * wires the watch and the writes) so that unit tests drive it with fakes.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { POD_UID_LABEL, type NodeConfig } from '../../deploy/lab/cri/kubelet';
import { killSandbox, podSandboxes, removeSandbox, runPod, type PodRuntime } from '../../deploy/lab/cri/pods';
import { podRefOf, podSpecFromApi } from './pod-spec';
import { failedSandboxStatus, runningStatus, sameStatus, type RuntimeContainer } from './pod-status';

/** The API writes the kubelet makes. */
export interface KubeletApi {
  /** a merge patch of the pod's status subresource */
  patchPodStatus(namespace: string, name: string, status: V1PodStatus): Promise<void>;
  /** delete with gracePeriodSeconds 0 and the pod's UID as precondition; a pod already gone is no error */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
}

export interface KubeletOptions {
  nodeName: string;
  /** the node's address (status.hostIP) */
  hostIp: string;
  node: NodeConfig;
  cri: PodRuntime;
  api: KubeletApi;
  logger: Logger;
  /** the backoff of a failed sync's retries */
  retry?: BackoffPolicy;
  clock?: Clock;
}

export interface KubeletCounts {
  /** pods whose sandbox this kubelet made */
  started: number;
  /** pods whose sandboxes this kubelet stopped and removed */
  stopped: number;
  /** syncs that failed (retried) */
  failures: number;
}

const DEFAULT_RETRY: BackoffPolicy = { initialMs: 500, maxMs: 10_000, jitter: 0.2 };

interface PodEntry {
  /** the newest object seen; undefined once the API deleted it */
  pod: V1Pod | undefined;
  backoff: Backoff;
  retry?: Timer;
}

export class Kubelet {
  readonly counts: KubeletCounts = { started: 0, stopped: 0, failures: 0 };
  private readonly entries = new Map<string, PodEntry>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: KubeletOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ node: o.nodeName });
  }

  /** A pod added or changed in the API (pods of other nodes are ignored). */
  podUpdated(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid || pod.spec?.nodeName !== this.o.nodeName) return;
    this.entry(uid).pod = pod;
    this.enqueue(uid);
  }

  /** A pod removed from the API: its sandboxes go too. */
  podDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.entry(uid).pod = undefined;
    this.enqueue(uid);
  }

  /**
   * The node's pods as the API lists them (a start, a relist): sandboxes of pods not among them
   * are stopped and removed; each listed pod is synced. Resolves when the removals are done.
   */
  async reconcile(pods: readonly V1Pod[]): Promise<string[]> {
    const mine = pods.filter((p) => p.spec?.nodeName === this.o.nodeName);
    const live = new Set(mine.map((p) => p.metadata?.uid ?? ''));
    const orphans = new Set<string>();
    for (const s of await this.o.cri.listPodSandbox()) {
      const uid = s.labels[POD_UID_LABEL];
      if (uid !== undefined && !live.has(uid)) orphans.add(uid);
    }
    for (const uid of orphans) {
      this.entry(uid).pod = undefined;
      this.enqueue(uid);
    }
    for (const p of mine) this.podUpdated(p);
    await Promise.all([...orphans].map((uid) => this.queues.get(uid)));
    return [...orphans];
  }

  /** Resolves when every queued sync has run (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  /** No new syncs, no retries; waits for the running ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) e.retry?.cancel();
    await this.idle();
  }

  private entry(uid: string): PodEntry {
    let e = this.entries.get(uid);
    if (!e) {
      e = { pod: undefined, backoff: new Backoff(this.o.retry ?? DEFAULT_RETRY, { clock: this.clock }) };
      this.entries.set(uid, e);
    }
    return e;
  }

  /** One sync after the pod's previous one (they read the newest object when they run). */
  private enqueue(uid: string): void {
    if (this.stopped) return;
    const e = this.entry(uid);
    e.retry?.cancel();
    const prev = this.queues.get(uid) ?? Promise.resolve();
    const next = prev.then(() => this.syncSafely(uid));
    this.queues.set(uid, next);
    void next.then(() => {
      if (this.queues.get(uid) === next) this.queues.delete(uid);
    });
  }

  private async syncSafely(uid: string): Promise<void> {
    const e = this.entries.get(uid);
    if (!e) return;
    try {
      await this.sync(uid, e);
      e.backoff.reset();
    } catch (err) {
      this.counts.failures++;
      const delay = e.backoff.next();
      this.log.warn({ uid, pod: e.pod ? podRefOf(e.pod) : undefined, err: errorMessage(err), retryInMs: delay }, 'pod sync failed');
      if (e.pod) await this.reportFailure(e.pod, errorMessage(err));
      if (!this.stopped) e.retry = this.clock.after(delay, () => this.enqueue(uid), { unref: true });
    }
  }

  private async sync(uid: string, e: PodEntry): Promise<void> {
    const pod = e.pod;
    if (!pod) {
      await this.teardown(uid, 0);
      this.entries.delete(uid);
      return;
    }
    const md = pod.metadata!;
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (md.deletionTimestamp) {
      // the kubelet's part of a graceful delete: stop, remove, then the object goes with grace 0
      await this.teardown(uid, Math.min(grace, pod.metadata?.deletionGracePeriodSeconds ?? grace));
      await this.o.api.deletePod(md.namespace!, md.name!, uid);
      this.log.info({ pod: podRefOf(pod), uid }, 'pod deleted');
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    const sandboxes = await podSandboxes(this.o.cri, uid);
    const ready = sandboxes.find((s) => s.state === 'SANDBOX_READY');
    let sandboxId: string;
    let podIp: string;
    if (ready) {
      sandboxId = ready.id;
      podIp = (await this.o.cri.podSandboxStatus(ready.id)).status?.network?.ip ?? '';
    } else {
      // a sandbox that died or failed: stopped (CNI DEL) and removed before a new one, as the kubelet does
      for (const s of sandboxes) {
        await killSandbox(this.o.cri, s.id, 0);
        await removeSandbox(this.o.cri, s.id);
      }
      const t0 = this.clock.monotonic();
      const r = await runPod(this.o.cri, podSpecFromApi(pod), this.o.node);
      this.counts.started++;
      this.log.info(
        {
          pod: podRefOf(pod),
          uid,
          sandbox: r.sandboxId,
          ip: r.ip,
          sandboxReadyMs: Math.round(r.sandboxReadyMs),
          ms: Math.round(this.clock.monotonic() - t0),
        },
        'pod started',
      );
      sandboxId = r.sandboxId;
      podIp = r.ip;
    }
    const containers: RuntimeContainer[] = (await this.o.cri.listContainers({ podSandboxId: sandboxId })).map((c) => ({
      name: c.metadata?.name ?? '',
      id: c.id,
      image: c.image?.image ?? '',
      running: c.state === 'CONTAINER_RUNNING',
    }));
    const status = runningStatus(pod.status, { podIp, hostIp: this.o.hostIp, containers, nowMs: this.clock.now() });
    if (sameStatus(pod.status, status)) return;
    await this.o.api.patchPodStatus(md.namespace!, md.name!, status);
  }

  /** Every sandbox of the pod: containers stopped, sandbox stopped (CNI DEL), removed. */
  private async teardown(uid: string, graceSeconds: number): Promise<void> {
    const sandboxes = await podSandboxes(this.o.cri, uid);
    for (const s of sandboxes) {
      await killSandbox(this.o.cri, s.id, graceSeconds);
      await removeSandbox(this.o.cri, s.id);
    }
    if (sandboxes.length > 0) {
      this.counts.stopped++;
      this.log.info({ uid, sandboxes: sandboxes.map((s) => s.id) }, 'pod sandboxes stopped and removed');
    }
  }

  /** Best effort: the pod says why it is not running (the next retry writes it again). */
  private async reportFailure(pod: V1Pod, message: string): Promise<void> {
    const md = pod.metadata!;
    if (md.deletionTimestamp) return;
    const status = failedSandboxStatus(pod.status, { hostIp: this.o.hostIp, message, nowMs: this.clock.now() });
    if (sameStatus(pod.status, status)) return;
    await this.o.api.patchPodStatus(md.namespace!, md.name!, status).catch((err: unknown) => {
      this.log.warn({ pod: podRefOf(pod), err: errorMessage(err) }, 'writing the pod status failed');
    });
  }
}
