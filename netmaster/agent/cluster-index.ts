/**
 * Indexes over a ClusterState, kept up to date by `applyKey` (cluster.ts), so that a host's view
 * reads only the endpoints of its own networks and groups and the rules of its own policies:
 * the cost of a view follows its size, never the cluster's.
 */
export interface ClusterIndex {
  /** network key (tenant:network) -> endpoint ids */
  epsByNet: Map<string, Set<string>>;
  /** group key (tenant:group) -> endpoint ids */
  epsByGroup: Map<string, Set<string>>;
  /** homing host -> endpoint ids */
  epsByHost: Map<string, Set<string>>;
  /** tenant -> the ids of its pod endpoints (issue 19: the views of its pods' hosts hold them all) */
  podsByTenant: Map<string, Set<string>>;
  /** network key -> the ids of its pod endpoints */
  podsByNet: Map<string, Set<string>>;
  /** tenant -> the networks that have a pod endpoint (those views carry these networks) */
  podNetsByTenant: Map<string, Set<string>>;
  /** IPv4 address -> the ids of the pod endpoints that have it (a Kubernetes Service's endpoints are addresses) */
  podsByAddress: Map<string, Set<string>>;
  /** owning host -> block ids (`<tenant:network>/<cidr>`, cluster.ts blockIdOf) */
  blocksByHost: Map<string, Set<string>>;
  /** policy key (tenant:policy) -> rule object keys */
  rulesByPolicy: Map<string, Set<string>>;
  /** tenant -> network keys */
  netsByTenant: Map<string, Set<string>>;
  /** tenant -> serviceLB keys */
  servicesByTenant: Map<string, Set<string>>;
  /** network key (tenant:network) -> serviceLB keys (the services whose providers are its endpoints) */
  servicesByNet: Map<string, Set<string>>;
  /** Kubernetes Service (`namespace:name`) -> the keys of its stored EndpointSlices (`namespace:name:slice`) */
  slicesByKubeService: Map<string, Set<string>>;
  /**
   * policy key -> the newest revision that put or deleted one of its rules (seen since the last
   * full read: a rule deleted before it is not remembered); part of the policy's version
   */
  rulesChangedAt: Map<string, string>;
}

export function emptyIndex(): ClusterIndex {
  return {
    epsByNet: new Map(),
    epsByGroup: new Map(),
    epsByHost: new Map(),
    podsByTenant: new Map(),
    podsByNet: new Map(),
    podNetsByTenant: new Map(),
    podsByAddress: new Map(),
    blocksByHost: new Map(),
    rulesByPolicy: new Map(),
    netsByTenant: new Map(),
    servicesByTenant: new Map(),
    servicesByNet: new Map(),
    slicesByKubeService: new Map(),
    rulesChangedAt: new Map(),
  };
}

const NONE: ReadonlySet<string> = new Set();

/** The members of `key` in `m` (an empty set when none). */
export function membersOf(m: Map<string, Set<string>>, key: string): ReadonlySet<string> {
  return m.get(key) ?? NONE;
}

export function addTo(m: Map<string, Set<string>>, key: string, member: string): void {
  let s = m.get(key);
  if (!s) m.set(key, (s = new Set()));
  s.add(member);
}

export function removeFrom(m: Map<string, Set<string>>, key: string, member: string): void {
  const s = m.get(key);
  if (!s) return;
  s.delete(member);
  if (s.size === 0) m.delete(key);
}

/** What an endpoint contributes to the index. */
export interface IndexedEndpoint {
  network: string;
  tenantName: string;
  groupName?: string;
  homingHost: string;
  ipAddress?: string;
  /** set on the endpoint of a Kubernetes pod */
  pod?: object | undefined;
}

export function indexEndpoint(ix: ClusterIndex, id: string, e: IndexedEndpoint, add: boolean): void {
  const op = add ? addTo : removeFrom;
  op(ix.epsByNet, e.network, id);
  if (e.groupName) op(ix.epsByGroup, `${e.tenantName}:${e.groupName}`, id);
  op(ix.epsByHost, e.homingHost, id);
  if (e.pod) {
    op(ix.podsByTenant, e.tenantName, id);
    op(ix.podsByNet, e.network, id);
    if (e.ipAddress) op(ix.podsByAddress, e.ipAddress, id);
    // a network is a pod network while it has a pod endpoint
    const has = ix.podsByNet.has(e.network);
    if (has) addTo(ix.podNetsByTenant, e.tenantName, e.network);
    else removeFrom(ix.podNetsByTenant, e.tenantName, e.network);
  }
}

/** The networks of `tenant` that have a pod endpoint, as one comparable text. */
export function podNetsText(ix: ClusterIndex, tenant: string): string {
  return [...membersOf(ix.podNetsByTenant, tenant)].sort().join(' ');
}
