/**
 * A small CRI client (runtime.v1, the API containerd 1.6 serves) over a runtime's unix socket,
 * with @grpc/grpc-js and @grpc/proto-loader on runtime-v1.proto: what crictl would do, for the
 * calls the lab and the tests make. Replies come decoded by protobuf (defaults filled), so their
 * shape is the proto's.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { grpcCallError } from '../../../lib/grpc-call-error';
import { NetloomError } from '../../../lib/errors';
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStatus,
  ExecSyncResponse,
  Image,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatusResponse,
  StatusResponse,
  VersionResponse,
} from './types';

/** The CRI API version this client speaks (VersionRequest.version). */
export const CRI_API_VERSION = 'v1';

/** runtime-v1.proto, found from the source tree or from dist/. */
export function criProtoPath(): string {
  for (const p of [resolve(__dirname, 'runtime-v1.proto'), resolve(__dirname, '../../../../deploy/lab/cri/runtime-v1.proto')])
    if (existsSync(p)) return p;
  throw new NetloomError('INTERNAL', 'deploy/lab/cri/runtime-v1.proto not found');
}

const LOADER_OPTIONS: protoLoader.Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true };

type ServiceCtor = grpc.ServiceClientConstructor;
let services: { runtime: ServiceCtor; image: ServiceCtor } | undefined;
function serviceCtors(): { runtime: ServiceCtor; image: ServiceCtor } {
  if (!services) {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(criProtoPath(), LOADER_OPTIONS)) as unknown as {
      runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } };
    };
    services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  }
  return services;
}

/** A CRI call's failure as a NetloomError naming the call and quoting the runtime. */
export const criError = (rpc: string, e: unknown): NetloomError => grpcCallError('CRI', rpc, e);

type UnaryFn = (
  req: unknown,
  meta: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => void;

export interface CriClientOptions {
  /** deadline of each call, ms (default 120 s: RunPodSandbox waits on the CNI ADD) */
  timeoutMs?: number;
}

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly timeoutMs: number;

  /** `socket`: the runtime's unix socket path (containerd's grpc.address). */
  constructor(
    readonly socket: string,
    opts: CriClientOptions = {},
  ) {
    const ctors = serviceCtors();
    const target = `unix://${socket}`;
    // one channel for both services: grpc-js shares subchannels with equal options
    this.runtime = new ctors.runtime(target, grpc.credentials.createInsecure());
    this.image = new ctors.image(target, grpc.credentials.createInsecure());
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }

  private call<T>(client: grpc.Client, rpc: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const m = (client as unknown as Record<string, unknown>)[rpc];
    if (typeof m !== 'function') throw new NetloomError('INTERNAL', `the CRI client has no method ${rpc}`);
    const fn = (m as (...a: unknown[]) => unknown).bind(client) as UnaryFn;
    return new Promise((resolveCall, reject) =>
      fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(criError(rpc, err)) : resolveCall(res as T),
      ),
    );
  }

  private rt<T>(rpc: string, req: unknown, timeoutMs?: number): Promise<T> {
    return this.call<T>(this.runtime, rpc, req, timeoutMs);
  }

  /** Waits until the runtime's socket accepts the channel (or the deadline passes: UNAVAILABLE). */
  waitReady(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolveReady, reject) =>
      this.runtime.waitForReady(Date.now() + timeoutMs, (e) =>
        e ? reject(new NetloomError('UNAVAILABLE', `CRI at ${this.socket} not ready: ${e.message}`, { cause: e })) : resolveReady(),
      ),
    );
  }

  version(timeoutMs = 5_000): Promise<VersionResponse> {
    return this.rt('Version', { version: CRI_API_VERSION }, timeoutMs);
  }

  /** The runtime's conditions (RuntimeReady, NetworkReady: whether its CNI config loaded). */
  status(verbose = false, timeoutMs = 5_000): Promise<StatusResponse> {
    return this.rt('Status', { verbose }, timeoutMs);
  }

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    return (await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler })).podSandboxId;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId });
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId });
  }

  podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose });
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return (await this.rt<{ items: PodSandbox[] }>('ListPodSandbox', filter ? { filter } : {})).items;
  }

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    return (await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config, sandboxConfig })).containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.rt('StartContainer', { containerId });
  }

  /** Stop with a grace period (seconds) before SIGKILL, as the kubelet's terminationGracePeriodSeconds. */
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.rt('StopContainer', { containerId, timeout: String(timeoutSeconds) });
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.rt('RemoveContainer', { containerId });
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    return (await this.rt<{ containers: Container[] }>('ListContainers', filter ? { filter } : {})).containers;
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | null> {
    return (await this.rt<{ status: ContainerStatus | null }>('ContainerStatus', { containerId })).status;
  }

  /** Run `cmd` in a running container and wait for it (at most `timeoutSeconds`; 0: the runtime's default). */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0): Promise<ExecSyncResponse> {
    return this.rt(
      'ExecSync',
      { containerId, cmd, timeout: String(timeoutSeconds) },
      timeoutSeconds > 0 ? timeoutSeconds * 1000 + 5000 : this.timeoutMs,
    );
  }

  /** The image as the CRI knows it, or null when it has none of that name. */
  async imageStatus(image: string): Promise<Image | null> {
    return (await this.call<{ image: Image | null }>(this.image, 'ImageStatus', { image: { image } })).image;
  }

  async listImages(): Promise<Image[]> {
    return (await this.call<{ images: Image[] }>(this.image, 'ListImages', {})).images;
  }
}
