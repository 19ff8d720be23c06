/**
 * An in-memory CRI runtime (the calls of deploy/lab/cri/pods.ts's PodRuntime) for unit tests:
 * sandboxes with addresses from a counter, containers, every call recorded in order. `failNext`
 * makes the next call of one RPC fail, as a runtime whose CNI ADD failed does.
 */
import type { PodRuntime } from '../../deploy/lab/cri/pods';
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
} from '../../deploy/lab/cri/types';

interface FakeSandbox extends PodSandbox {
  ip: string;
}

export class FakeCri implements PodRuntime {
  readonly calls: string[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, Container>();
  private seq = 0;
  private readonly failures = new Map<string, string>();

  failNext(rpc: string, message: string): void {
    this.failures.set(rpc, message);
  }

  private record(rpc: string, arg = ''): void {
    this.calls.push(arg ? `${rpc} ${arg}` : rpc);
    const f = this.failures.get(rpc);
    if (f !== undefined) {
      this.failures.delete(rpc);
      throw new Error(f);
    }
  }

  /** A sandbox as a runtime holds one after a crash (nothing in the API asked for it). */
  addSandbox(uid: string, name: string, state: PodSandbox['state'] = 'SANDBOX_READY'): string {
    const id = `sb${++this.seq}`;
    this.sandboxes.set(id, {
      id,
      metadata: { name, uid, namespace: 'default', attempt: 0 },
      state,
      createdAt: String(this.seq),
      labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default' },
      annotations: {},
      runtimeHandler: '',
      ip: `10.0.0.${this.seq}`,
    });
    return id;
  }

  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    this.record('ListPodSandbox');
    const sel = filter?.labelSelector ?? {};
    return Promise.resolve(
      [...this.sandboxes.values()].filter((s) => Object.entries(sel).every(([k, v]) => s.labels[k] === v)).map((s) => ({ ...s })),
    );
  }

  podSandboxStatus(podSandboxId: string): ReturnType<PodRuntime['podSandboxStatus']> {
    this.record('PodSandboxStatus', podSandboxId);
    const s = this.sandboxes.get(podSandboxId);
    return Promise.resolve({
      status: s
        ? {
            ...s,
            network: s.state === 'SANDBOX_READY' ? { ip: s.ip, additionalIps: [] } : { ip: '', additionalIps: [] },
            linux: null,
          }
        : null,
      info: {},
    });
  }

  runPodSandbox(config: PodSandboxConfig): Promise<string> {
    this.record('RunPodSandbox', `${config.metadata?.namespace}/${config.metadata?.name}`);
    const id = `sb${++this.seq}`;
    this.sandboxes.set(id, {
      id,
      metadata: config.metadata ?? null,
      state: 'SANDBOX_READY',
      createdAt: String(this.seq),
      labels: { ...(config.labels ?? {}) },
      annotations: { ...(config.annotations ?? {}) },
      runtimeHandler: '',
      ip: `10.0.0.${this.seq}`,
    });
    return Promise.resolve(id);
  }

  stopPodSandbox(podSandboxId: string): Promise<void> {
    this.record('StopPodSandbox', podSandboxId);
    const s = this.sandboxes.get(podSandboxId);
    if (s) s.state = 'SANDBOX_NOTREADY';
    return Promise.resolve();
  }

  removePodSandbox(podSandboxId: string): Promise<void> {
    this.record('RemovePodSandbox', podSandboxId);
    this.sandboxes.delete(podSandboxId);
    return Promise.resolve();
  }

  imageStatus(image: string): ReturnType<PodRuntime['imageStatus']> {
    this.record('ImageStatus', image);
    return Promise.resolve(image.startsWith('missing') ? null : ({ id: image } as Awaited<ReturnType<PodRuntime['imageStatus']>>));
  }

  createContainer(podSandboxId: string, config: ContainerConfig): Promise<string> {
    this.record('CreateContainer', config.metadata?.name ?? '');
    const id = `c${++this.seq}`;
    this.containers.set(id, {
      id,
      podSandboxId,
      metadata: { name: config.metadata?.name ?? '', attempt: config.metadata?.attempt ?? 0 },
      image: { image: config.image?.image ?? '' },
      imageRef: '',
      state: 'CONTAINER_CREATED',
      createdAt: String(this.seq),
      labels: {},
      annotations: {},
    });
    return Promise.resolve(id);
  }

  startContainer(containerId: string): Promise<void> {
    this.record('StartContainer', containerId);
    const c = this.containers.get(containerId);
    if (c) c.state = 'CONTAINER_RUNNING';
    return Promise.resolve();
  }

  stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    this.record('StopContainer', `${containerId} ${timeoutSeconds}`);
    const c = this.containers.get(containerId);
    if (c) c.state = 'CONTAINER_EXITED';
    return Promise.resolve();
  }

  removeContainer(containerId: string): Promise<void> {
    this.record('RemoveContainer', containerId);
    this.containers.delete(containerId);
    return Promise.resolve();
  }

  listContainers(filter?: ContainerFilter): Promise<Container[]> {
    this.record('ListContainers');
    return Promise.resolve(
      [...this.containers.values()].filter((c) => !filter?.podSandboxId || c.podSandboxId === filter.podSandboxId).map((c) => ({ ...c })),
    );
  }

  execSync(): ReturnType<PodRuntime['execSync']> {
    return Promise.reject(new Error('FakeCri has no exec'));
  }
}
