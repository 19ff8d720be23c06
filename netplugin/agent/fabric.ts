/**
 * What the agent needs from the control plane, as two small interfaces, so that the agent does not
 * depend on how netmaster is reached: a `DesiredStateSource` that delivers full `HostState`
 * snapshots (and resumes after a lost connection), and an `EndpointAllocator` that creates and
 * deletes endpoints (address, MAC, network) for container attachments. The real netmaster client
 * is adapted to these in `netmaster-adapter.ts`; tests use `file-fabric.ts` or `memory-fabric.ts`.
 */
import type { HostState } from '../state/host-state';

export interface DesiredStateSource {
  /**
   * Start following the desired state: `onState` gets every new full snapshot (the latest one
   * is the truth; intermediate ones may be skipped). Resolves once following has started (not
   * necessarily after the first snapshot). After a lost connection the source resumes by itself.
   */
  start(onState: (state: HostState) => void): Promise<void>;
  stop(): Promise<void>;
  /** whether the source is currently connected to its control plane */
  readonly connected: boolean;
}

/** One attachment to create: the same `idempotencyKey` always names the same endpoint. */
export interface EndpointRequest {
  idempotencyKey: string;
  host: string;
  tenant: string;
  network: string;
  group?: string;
  containerId: string;
  containerName?: string;
  ifName: string;
  requestedIp?: string;
  requestedMac?: string;
  labels: Record<string, string>;
}

/** What the control plane allocated for an attachment. */
export interface AllocatedEndpoint {
  id: string;
  /** tenant:network */
  networkKey: string;
  tenant: string;
  network: string;
  /** bare IPv4 address */
  ip: string;
  prefixLength: number;
  mac: string;
  /** bare gateway address, '' when the network has none */
  gateway: string;
}

export interface EndpointAllocator {
  /** Create (or return the existing) endpoint for `req.idempotencyKey`. */
  create(req: EndpointRequest): Promise<AllocatedEndpoint>;
  /** Delete an endpoint; an unknown endpoint is not an error. */
  delete(ref: { endpointId?: string; idempotencyKey: string }): Promise<void>;
  /** whether the allocator can currently reach its control plane */
  readonly connected: boolean;
}
