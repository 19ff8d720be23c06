/**
 * The typed contract between the CNI front end (the HTTP handler the `netloom-cni` shim talks to)
 * and whatever really plugs a container in (`CniBackend`). The handler validates and parses every
 * request fully before it calls the backend, so a backend only ever sees well-formed requests.
 */

/** CNI commands the agent serves (VERSION is answered by the shim itself, but also here). */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** Which tenant network an attachment belongs to (see docs/cni.md for where each value comes from). */
export interface NetworkRef {
  /** the `name` of the CNI network configuration */
  cniNetwork: string;
  tenant: string;
  network: string;
  /** endpoint group (policy group), when one was given */
  group?: string;
}

/** The Kubernetes pod the attachment is for, when the runtime said so in CNI_ARGS. */
export interface PodRef {
  name: string;
  /** absent when the runtime gave only K8S_POD_NAME (podman does) */
  namespace?: string;
  infraContainerId?: string;
  /** K8S_POD_UID: which pod of that name (one deleted and made again has another) */
  uid?: string;
}

/** An address the runtime asked for (runtimeConfig `ips`, args.cni.ips or CNI_ARGS `IP`). */
export interface RequestedIp {
  ip: string;
  prefixLength?: number;
}

/**
 * runtimeConfig `portMappings` capability argument (CNI conventions), validated: protocol lower
 * case (tcp by default), hostIP an IPv4 address when given (absent, '' and 0.0.0.0 mean any).
 */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** What identifies one attachment: (network, container, interface), as the spec says. */
export interface AttachmentKey {
  containerId: string;
  ifName: string;
}

interface AttachmentRequestBase extends AttachmentKey {
  network: NetworkRef;
  /** stable key for (network name, container ID, interface): retries of one ADD carry the same key */
  idempotencyKey: string;
  pod?: PodRef;
  labels: Record<string, string>;
  /** the cniVersion the runtime asked for (the result is converted to it by the handler) */
  cniVersion: string;
  /** the whole plugin configuration as received, for plugin-specific keys */
  netconf: Readonly<Record<string, unknown>>;
}

export interface CniAddRequest extends AttachmentRequestBase {
  /** path of the container's network namespace (CNI_NETNS) */
  netnsPath: string;
  requestedIps: RequestedIp[];
  requestedMac?: string;
  portMappings: PortMapping[];
  /** MTU from the network configuration (`mtu`), when set */
  mtu?: number;
  /**
   * netconf `defaultRoute`: whether this attachment installs the container's default route; absent:
   * only a container's first attachment does (a second one would clash with the first's)
   */
  defaultRoute?: boolean;
  /** result of earlier plugins in a chain, already in the 1.1.0 shape */
  prevResult?: CniResult;
}

export interface CniDelRequest extends AttachmentRequestBase {
  /** may be absent: the namespace can be gone already; DEL must still release what it can */
  netnsPath?: string;
  prevResult?: CniResult;
}

export interface CniCheckRequest extends AttachmentRequestBase {
  netnsPath: string;
  /** the result of the ADD being checked (required for CHECK) */
  prevResult: CniResult;
}

export interface CniGcRequest {
  network: NetworkRef;
  /** attachments that are still valid; everything else of this network may be released */
  validAttachments: AttachmentKey[];
  cniVersion: string;
  netconf: Readonly<Record<string, unknown>>;
}

export interface CniStatusRequest {
  network: NetworkRef;
  cniVersion: string;
  netconf: Readonly<Record<string, unknown>>;
}

// ---- results, always in the CNI 1.1.0 shape; the handler converts them for older versions ----

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** netns path for interfaces inside the container; absent for host interfaces */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface CniIpConfig {
  /** address with prefix, e.g. 10.1.0.5/24 */
  address: string;
  gateway?: string;
  /** index into `interfaces` */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface CniResult {
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
}

/** What CHECK found: an empty list means the attachment is as expected. */
export interface CniCheckReport {
  problems: string[];
}

export type CniStatus = { ready: true } | { ready: false; code: 50 | 51; message: string };

export interface CniGcReport {
  released: AttachmentKey[];
  /** failures while releasing; GC goes on after each and reports them all */
  errors: string[];
}

/**
 * The agent's side of a CNI attachment. Implementations throw NetloomError (lib/errors.ts) for
 * failures; the handler maps the codes to CNI error codes (netplugin/cni/errors.ts).
 * `del` must be idempotent: a missing attachment or namespace is not an error (NOT_FOUND thrown
 * from `del` is treated as success too).
 */
export interface CniBackend {
  add(req: CniAddRequest): Promise<CniResult>;
  del(req: CniDelRequest): Promise<void>;
  check(req: CniCheckRequest): Promise<CniCheckReport>;
  status(req: CniStatusRequest): Promise<CniStatus>;
  gc(req: CniGcRequest): Promise<CniGcReport>;
}
