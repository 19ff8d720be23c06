/**
 * What the agent needs from the control plane, as two small interfaces, so that the agent does not
 * depend on how netmaster is reached: a `DesiredStateSource` that delivers full `HostState`
 * snapshots (and resumes after a lost connection), and an `EndpointAllocator` that creates and
 * deletes endpoints (address, MAC, network) for container attachments and looks up a network the
 * host does not carry yet. The real netmaster client is adapted to these in
 * `netmaster-adapter.ts`; tests use `file-fabric.ts` or fakes.
 */
import type { RuleCounter } from '../reconcile/rule-counters';
import type { ServiceCounter } from '../reconcile/service-counters';
import type { SyncRequest, SyncResponse } from '../ipam/registration';
import type { AddressBlock, HostState, Network } from '../state/host-state';
import type { KubePodInfo } from '../kube/pod-attachments';

export interface DesiredStateSource {
  /**
   * Start following the desired state: `onState` gets every new full snapshot (the latest one
   * is the truth; intermediate ones may be skipped). Resolves once following has started (not
   * necessarily after the first snapshot). After a lost connection the source resumes by itself.
   */
  start(onState: (state: HostState) => void): Promise<void>;
  stop(): Promise<void>;
  /**
   * The agent has realized `state` (one `onState` was given: its reconcile with it succeeded), so
   * that the control plane can tell what this host has applied. Optional: a file has nobody to
   * tell.
   */
  realized?(state: HostState): void;
  /**
   * The latest per-rule counters of this host's policy decision flows (every rule in place,
   * zeros included), for the control plane to sum over hosts. Optional, like `realized`.
   */
  ruleCounters?(counters: readonly RuleCounter[]): void;
  /** The latest per-provider counters of the services' flows on this host. Optional, like `ruleCounters`. */
  serviceCounters?(counters: readonly ServiceCounter[]): void;
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
  /** the Kubernetes pod this attachment is (netplugin/kube/pod-attachments.ts) */
  pod?: KubePodInfo;
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

/**
 * An endpoint whose address is chosen but whose record may not be on disk yet (address blocks:
 * the address is picked in memory, then saved): the plumbing can use the address at once, and
 * the ADD must not answer before `durable` resolves (it rejects when the record could not be
 * saved; the allocation is then undone).
 */
export interface EarlyAllocation extends AllocatedEndpoint {
  durable: Promise<void>;
}

/** Which network to look up: by tenant and name, or by tenant and subnet (IPv4 CIDR). */
export interface NetworkLookup {
  tenant: string;
  network?: string;
  subnet?: string;
}

/** Every network of the control plane (for --docker-networks: any host may use any network). */
export interface NetworkCatalog {
  /** sorted by key */
  listNetworks(): Promise<Network[]>;
}

export interface EndpointAllocator {
  /** Create (or return the existing) endpoint for `req.idempotencyKey`. */
  create(req: EndpointRequest): Promise<AllocatedEndpoint>;
  /** `create`, answered as soon as the address is chosen (absent: only `create`). */
  createEarly?(req: EndpointRequest): Promise<EarlyAllocation>;
  /** Delete an endpoint; an unknown endpoint is not an error. */
  delete(ref: { endpointId?: string; idempotencyKey: string }): Promise<void>;
  /**
   * A network of the control plane, whether or not this host's desired state carries it (for
   * `docker network create` on a host with no endpoint in it yet). NOT_FOUND naming the tenant
   * and network (or subnet) when there is none; with both a name and a subnet, CONFLICT when they
   * do not match.
   */
  lookupNetwork(ref: NetworkLookup): Promise<Network>;
  /** Replace an endpoint's labels (absent: this control plane cannot; the labels stay as created). */
  setLabels?(endpointId: string, labels: Record<string, string>): Promise<void>;
  /** whether the allocator can currently reach its control plane */
  readonly connected: boolean;
}

/**
 * The control plane's address-block calls (issue 15; agent.proto ClaimBlock, ReleaseBlock,
 * SyncEndpoints), for the agent's block allocator.
 */
export interface BlockRpc {
  /** One more block of `networkKey` for this host; the same `claimId` after a lost answer gets the same block. */
  claimBlock(networkKey: string, claimId: string): Promise<AddressBlock>;
  /** false: there was no such block of this host */
  releaseBlock(networkKey: string, cidr: string): Promise<boolean>;
  syncEndpoints(req: SyncRequest): Promise<SyncResponse>;
  /** `listener` runs each time the connection to the control plane is (re)established; returns the unsubscribe */
  onConnected(listener: () => void): () => void;
}
