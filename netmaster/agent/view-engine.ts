/**
 * The desired state of every host this server streams to, kept incrementally (the whole view at
 * once is host-view.ts's computeHostView; a property test holds the two equal).
 *
 * A view is two layers: its host part (computeHostParts: global, bgp, tenants, networks, the
 * groups of its endpoints and the groups their policies name, policies, profiles) and its
 * endpoint layer (the endpoints its sources bring, with the VTEPs and groups they carry). Indexes
 * go from what a view depends on to the hosts whose view depends on it:
 * - `deps`: every key a host part read (`network:<k>`, `policy:<k>`, `rules:<policy>`, ...);
 * - `srcNet` / `srcGrp`: the networks and groups whose endpoints enter a view;
 * - `carriedViewers`: hosts whose view holds a group only through its endpoints;
 * - `svcViewers`: the hosts whose view holds a service (its providers follow endpoints: an
 *   endpoint that is or was a provider refreshes the service in exactly those views);
 * - `srcPod`: the tenants whose pod endpoints enter a view (issue 19: its host has a pod there);
 * - `kubeViewers`: the hosts with a local pod, whose views hold every Kubernetes NetworkPolicy and
 *   namespace (kube-view.ts): a changed one is one key marked in each of those views, no host
 *   part is recomputed.
 * - Kubernetes Services (kube-service-view.ts) are held by the views with pods of their tenant,
 *   which read `kubeservices`: a changed Service, or a pod with the address of a Service's
 *   endpoint, recomputes the host parts of the views with pods. A changed EndpointSlice, or a
 *   host's new VTEP (its providers' `hostIp`), only puts its Service's new message (built once) in
 *   the views that hold it, unless that changes which views hold it (its tenant, or its first or
 *   last resolved endpoint): then those host parts.
 * - Kubernetes Services with a node port are in every view (every view reads `kubenodeports`): a
 *   Service that gains or loses its node ports (or comes or goes with one) recomputes every host
 *   part, as kube-proxy on every node sees every Service; one that keeps them, a pod with the
 *   address of one of its endpoints, or a host's new VTEP (its providers' `hostIp`) only puts its
 *   new message in every view (built once for all of them).
 * (A VTEP is needed by the views that hold its host's endpoints: those come from the sources.)
 * A change of the cluster (`apply`, one etcd batch) looks its keys up there and touches only the
 * hosts concerned: a rule recomputes the host parts of the hosts whose groups use its policy; an
 * endpoint is checked in the views of the hosts whose sources bring it and recomputes its own
 * host's part; a network, group or tenant id recomputes the views that use it. Nothing scans the
 * cluster and nothing is serialized unless it changed.
 *
 * Each subscriber of a host (one desired-state stream) gets the keys that changed in a set of its
 * own; fan-out.ts sends their current values (coalesced: a key changed twice is sent once).
 */
import type { Endpoint as StoredEndpoint, Network as StoredNetwork, EndpointGroup as StoredGroup } from '../model/schemas';
import type { ClusterState, KeyChange } from './cluster';
import { addTo, membersOf, removeFrom } from './cluster-index';
import {
  carriedGroupMessage,
  computeHostParts,
  ViewMembership,
  endpointMessage,
  groupKeyOf,
  sourceEndpointIds,
  vtepOfHost,
  vtepMessage,
  type HostParts,
  type HostState,
} from './host-view';
import { memoJson } from './view-diff';
import { serviceMessage, servicesTouchedBy, type ServiceLB } from './service-view';
import {
  hasNodePort,
  kubeNodePortAddresses,
  kubeServiceAddresses,
  kubeServiceKey,
  kubeServiceStoreKey,
  storedKubeServices,
} from './kube-service-view';
import type { KubeService as StoredKubeService, KubeServiceSlice as StoredKubeServiceSlice } from '../model/schemas';
import { kubeLists, kubeNamespaceViewKey, kubePolicyViewKey, kubeValueOf, kubeViewKeys } from './kube-view';
import type { Change } from '../../proto/gen/netloom/v1/Change';
import type { Endpoint__Output as Endpoint } from '../../proto/gen/netloom/v1/Endpoint';
import type { EndpointGroup__Output as EndpointGroup } from '../../proto/gen/netloom/v1/EndpointGroup';
import type { Vtep__Output as Vtep } from '../../proto/gen/netloom/v1/Vtep';
import { byKey } from '../../lib/compare';

export type ViewKind =
  | 'global'
  | 'tenant'
  | 'network'
  | 'group'
  | 'policy'
  | 'profile'
  | 'vtep'
  | 'block'
  | 'endpoint'
  | 'service'
  | 'bgp'
  | 'kubeNamespace'
  | 'kubePolicy';

/** Dependency order: puts go in this order, deletes in the reverse one. */
const KIND_ORDER: Record<ViewKind, number> = {
  global: 0,
  tenant: 1,
  network: 2,
  group: 3,
  policy: 4,
  profile: 5,
  vtep: 6,
  block: 7,
  endpoint: 8,
  service: 9,
  bgp: 10,
  kubeNamespace: 11,
  kubePolicy: 12,
};

export function kindOfKey(key: string): ViewKind {
  if (key === 'global' || key === 'bgp') return key;
  return key.slice(0, key.indexOf('/')) as ViewKind;
}

/** One stream's interest in a host's view: the keys changed since it last sent. */
export interface ViewSubscriber {
  readonly dirty: Set<string>;
  /** called (synchronously, often) when `dirty` grew */
  notify(): void;
}

/** The remote host whose VTEP an endpoint of `host`'s view needs ('' when none). */
const remoteOf = (host: string, e: Endpoint): string => (e.host !== host && e.host !== '' && e.vtepIp !== '' ? e.host : '');

class HostView {
  parts: HostParts | undefined;
  /** the host part's objects by view key */
  struct = new Map<string, object>();
  /** endpoint id -> its (shared) message; everything else about it derives from the message */
  eps = new Map<string, Endpoint>();
  vtepRefs = new Map<string, number>();
  vteps = new Map<string, Vtep>();
  groupRefs = new Map<string, number>();
  carried = new Map<string, EndpointGroup>();
  /** the services of the view by key */
  services = new Map<string, ServiceLB>();
  /** it has a local pod: it holds every Kubernetes NetworkPolicy and namespace */
  kube = false;
  deps = new Set<string>();
  readonly subs = new Set<ViewSubscriber>();
  constructor(readonly host: string) {}
}

function structItems(p: HostParts): Map<string, object> {
  const m = new Map<string, object>();
  m.set('global', p.global);
  for (const t of p.tenants) m.set(`tenant/${t.name}`, t);
  for (const n of p.networks) m.set(`network/${n.key}`, n);
  for (const g of p.groups) m.set(`group/${g.key}`, g);
  for (const x of p.policies) m.set(`policy/${x.key}`, x);
  for (const x of p.profiles) m.set(`profile/${x.key}`, x);
  for (const b of p.blocks) m.set(`block/${b.network}/${b.cidr}`, b);
  if (p.bgp) m.set('bgp', p.bgp);
  return m;
}

/**
 * The put of each view object, built once per object and shared by every stream that sends it, so
 * that its encoding is made once too (update-encoder.ts keeps encodings by object).
 */
const puts = new WeakMap<object, Change>();

function putOf(kind: ViewKind, key: string, value: object): Change {
  let c = puts.get(value);
  if (!c || c.key !== key) {
    c = { deleted: false, key, [kind]: value } as Change;
    puts.set(value, c);
  }
  return c;
}

function addAll(to: Set<string>, hosts: Iterable<string>): void {
  for (const h of hosts) to.add(h);
}

const sameSet = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));

export interface EngineStats {
  /** host parts recomputed */
  hostParts: number;
  /** endpoint layers rebuilt from their sources */
  endpointLayers: number;
  /** single endpoints checked in a view */
  endpointChecks: number;
  /** times changes were applied */
  batches: number;
  /** etcd batches that were applied together with an earlier one (coalesced under load) */
  merged: number;
}

export class ViewEngine {
  private readonly views = new Map<string, HostView>();
  private readonly depIndex = new Map<string, Set<string>>();
  private readonly srcNet = new Map<string, Set<string>>();
  private readonly srcGrp = new Map<string, Set<string>>();
  private readonly carriedViewers = new Map<string, Set<string>>();
  private readonly svcViewers = new Map<string, Set<string>>();
  private readonly srcPod = new Map<string, Set<string>>();
  private readonly kubeViewers = new Set<string>();
  /** the Kubernetes lists every view with pods shares, until a policy or namespace changes */
  private kubeCache: ReturnType<typeof kubeLists> | undefined;
  /** the endpoint addresses of every Kubernetes Service (until one changes) */
  private kubeSvcAddrs: Set<string> | undefined;
  /** the Services with a node port by the address of each of their endpoints (until one changes) */
  private kubeNpAddrs: Map<string, string[]> | undefined;
  readonly stats: EngineStats = { hostParts: 0, endpointLayers: 0, endpointChecks: 0, batches: 0, merged: 0 };
  /** changes handed over by `enqueue`, not applied yet */
  private pending: KeyChange[] = [];
  private settleScheduled = false;

  /** `cluster` returns the current state (it is replaced when the cache reloads). */
  constructor(private readonly cluster: () => ClusterState) {}

  /** Hosts whose view is kept. */
  get hosts(): number {
    return this.views.size;
  }

  /** Entries of the indexes (all zero once every stream closed: nothing outlives its views). */
  indexSizes(): {
    deps: number;
    srcNet: number;
    srcGrp: number;
    srcPod: number;
    carried: number;
    services: number;
    kube: number;
    pending: number;
  } {
    const size = (m: Map<string, Set<string>>) => [...m.values()].reduce((n, s) => n + s.size, 0);
    return {
      deps: size(this.depIndex),
      srcNet: size(this.srcNet),
      srcGrp: size(this.srcGrp),
      srcPod: size(this.srcPod),
      carried: size(this.carriedViewers),
      services: size(this.svcViewers),
      kube: this.kubeViewers.size,
      pending: this.pending.length,
    };
  }

  /**
   * Apply `changes` soon (before the next read of any view): etcd batches that arrive while the
   * engine is busy are applied together, so under a burst each host part is recomputed once for
   * all of them instead of once per change.
   */
  enqueue(changes: readonly KeyChange[]): void {
    if (this.pending.length > 0) this.stats.merged++;
    for (const c of changes) this.pending.push(c);
    if (this.settleScheduled) return;
    this.settleScheduled = true;
    setImmediate(() => {
      this.settleScheduled = false;
      this.settle();
    });
  }

  /** Apply what `enqueue` holds (every read does this first). */
  settle(): void {
    if (this.pending.length === 0) return;
    const changes = this.pending;
    this.pending = [];
    this.apply(changes);
  }

  /** Keep `host`'s view while `sub` follows it; returns the function that stops following. */
  track(host: string, sub: ViewSubscriber): () => void {
    this.settle();
    let v = this.views.get(host);
    if (!v) {
      v = new HostView(host);
      this.views.set(host, v);
      this.recompute(v, true);
    }
    v.subs.add(sub);
    const view = v;
    return () => {
      view.subs.delete(sub);
      if (view.subs.size === 0 && this.views.get(host) === view) this.drop(view);
    };
  }

  private drop(v: HostView): void {
    this.views.delete(v.host);
    for (const d of v.deps) removeFrom(this.depIndex, d, v.host);
    for (const n of v.parts?.sources.nets ?? []) removeFrom(this.srcNet, n, v.host);
    for (const g of v.parts?.sources.groups ?? []) removeFrom(this.srcGrp, g, v.host);
    for (const t of v.parts?.sources.podTenants ?? []) removeFrom(this.srcPod, t, v.host);
    this.kubeViewers.delete(v.host);
    for (const g of v.carried.keys()) removeFrom(this.carriedViewers, g, v.host);
    for (const k of v.services.keys()) removeFrom(this.svcViewers, k, v.host);
  }

  /** The whole view of a tracked host (undefined when not tracked). */
  stateOf(host: string): HostState | undefined {
    this.settle();
    const v = this.views.get(host);
    const p = v?.parts;
    if (!v || !p) return undefined;
    const groups = new Map(p.groups.map((g) => [g.key, g]));
    for (const [k, g] of v.carried) if (!groups.has(k)) groups.set(k, g);
    return {
      global: p.global,
      tenants: p.tenants,
      networks: p.networks,
      groups: [...groups.values()].sort(byKey((g) => g.key)),
      policies: p.policies,
      profiles: p.profiles,
      endpoints: [...v.eps.values()].sort(byKey((e) => e.id)),
      vteps: [...v.vteps.values()].sort(byKey((x) => x.host)),
      bgp: p.bgp,
      services: [...v.services.values()].sort(byKey((s) => s.key)),
      blocks: p.blocks,
      ...(v.kube ? this.kubeState() : { kubePolicies: [], kubeNamespaces: [] }),
    };
  }

  /** Every Kubernetes NetworkPolicy and namespace, sorted (shared until one changes). */
  private kubeState(): Pick<HostState, 'kubePolicies' | 'kubeNamespaces'> {
    if (!this.kubeCache) this.kubeCache = kubeLists(this.cluster());
    return { kubePolicies: this.kubeCache.policies, kubeNamespaces: this.kubeCache.namespaces };
  }

  /** The current value of one key of a tracked host's view (undefined: not in it). */
  valueOf(host: string, key: string): object | undefined {
    this.settle();
    const v = this.views.get(host);
    if (!v) return undefined;
    const s = v.struct.get(key);
    if (s) return s;
    const kind = kindOfKey(key);
    const rest = key.slice(key.indexOf('/') + 1);
    if (kind === 'endpoint') return v.eps.get(rest);
    if (kind === 'vtep') return v.vteps.get(rest);
    if (kind === 'group') return v.carried.get(rest);
    if (kind === 'service') return v.services.get(rest);
    if (kind === 'kubePolicy' || kind === 'kubeNamespace') return v.kube ? kubeValueOf(this.cluster(), key) : undefined;
    return undefined;
  }

  /** `keys` of `host`'s view as changes: puts in dependency order, then deletes in the reverse order. */
  changesFor(host: string, keys: Iterable<string>): Change[] {
    this.settle();
    const putList: Array<[number, string, Change]> = [];
    const deletes: Array<[number, string, Change]> = [];
    for (const key of keys) {
      const kind = kindOfKey(key);
      const value = this.valueOf(host, key);
      if (value) putList.push([KIND_ORDER[kind], key, putOf(kind, key, value)]);
      else deletes.push([KIND_ORDER[kind], key, { deleted: true, key }]);
    }
    const order = (a: [number, string, Change], b: [number, string, Change]) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    putList.sort(order);
    deletes.sort((a, b) => order(b, a));
    return [...putList.map((p) => p[2]), ...deletes.map((d) => d[2])];
  }

  /** Every tracked view again from scratch (the cache reloaded the whole cluster). */
  reload(): void {
    this.pending = [];
    this.kubeCache = undefined;
    this.kubeSvcAddrs = undefined;
    this.kubeNpAddrs = undefined;
    for (const v of this.views.values()) this.recompute(v, true);
  }

  /** React to applied etcd batches, now. */
  apply(changes: readonly KeyChange[]): void {
    this.stats.batches++;
    const full = new Set<string>();
    const parts = new Set<string>();
    const epChecks = new Map<string, Set<string>>();
    const vtepRefresh = new Map<string, Set<string>>();
    const carriedRefresh = new Map<string, Set<string>>();
    const svcRefresh = new Set<string>();
    /** Kubernetes Services with a node port whose message may have changed (in every view) */
    const nodePortRefresh = new Set<string>();
    /** Kubernetes Services one of whose slices changed (view keys) */
    const sliceRefresh = new Set<string>();
    const check = (hosts: Iterable<string>, id: string) => {
      for (const h of hosts) addTo(epChecks, h, id);
    };
    /**
     * the views an endpoint may enter or leave: its host's (a local endpoint changes the host
     * part) and those whose sources bring it; those also hold its host's VTEP, which may follow
     * the endpoint (without an agent record a host's VTEP comes from its endpoints)
     */
    const endpointTouches = (e: StoredEndpoint, id: string, vtepToo: boolean) => {
      if (this.views.has(e.homingHost)) parts.add(e.homingHost);
      const g = groupKeyOf(e);
      for (const hosts of [
        membersOf(this.srcNet, e.network),
        g !== '' ? membersOf(this.srcGrp, g) : undefined,
        e.pod !== undefined ? membersOf(this.srcPod, e.tenantName) : undefined,
      ]) {
        if (!hosts) continue;
        check(hosts, id);
        if (vtepToo) for (const h of hosts) addTo(vtepRefresh, h, e.homingHost);
      }
    };
    for (const ch of changes) {
      switch (ch.kind) {
        case 'endpoint': {
          const host = ch.after?.homingHost ?? ch.before?.homingHost ?? '';
          const vtepToo = !this.cluster().agents.get(host)?.vtepIp;
          if (ch.before) endpointTouches(ch.before, ch.id, vtepToo);
          if (ch.after) endpointTouches(ch.after, ch.id, vtepToo);
          for (const k of servicesTouchedBy(this.cluster(), ch.before, ch.after)) svcRefresh.add(k);
          // a pod that has (or had) the address of a Kubernetes Service's endpoint: the views of pods
          // recompute which of those services they hold, and their providers
          if ([ch.before, ch.after].some((e) => e?.pod !== undefined && this.kubeServiceAddresses().has(e.ipAddress)))
            addAll(parts, this.deps('kubeservices'));
          for (const e of [ch.before, ch.after])
            if (e?.pod !== undefined) for (const k of this.kubeNodePortAddresses().get(e.ipAddress) ?? []) nodePortRefresh.add(k);
          // a tenant's first pod in a network, or its last one gone: the views of its pods carry the network
          if (ch.podNets) for (const e of [ch.before, ch.after]) if (e?.pod) addAll(parts, this.deps(`podnets:${e.tenantName}`));
          break;
        }
        case 'tenantId':
          addAll(full, this.deps(`tenantid:${ch.tenant}`));
          break;
        case 'block':
          // the views of its network's carriers and of its owners (before and after): a block
          // of a network a host does not carry yet makes it carry it
          addAll(parts, this.deps(`blocks:${ch.network}`));
          for (const b of [ch.before, ch.after]) if (b) addAll(parts, this.deps(`ownblocks:${b.host}`));
          break;
        case 'agent': {
          const before = ch.before?.vtepIp ?? '';
          const after = ch.after?.vtepIp ?? '';
          if (before === after) break;
          // the blocks it owns carry its VTEP
          addAll(parts, this.deps(`blockvtep:${ch.host}`));
          // every Kubernetes Service's providers carry their host's address: the node port ones
          // are in every view, the others in the views holding them (as a changed slice is)
          for (const [k, stored] of storedKubeServices(this.cluster()))
            (hasNodePort(stored.config as unknown as StoredKubeService) ? nodePortRefresh : sliceRefresh).add(kubeServiceKey(k));
          // its own view: which remote VTEPs count as its own
          if (this.views.has(ch.host)) full.add(ch.host);
          // the others only see its endpoints' VTEP, the agent's or else the one each endpoint
          // recorded: an agent that expires or registers again with the same address changes nothing
          const cluster = this.cluster();
          for (const id of membersOf(cluster.index.epsByHost, ch.host)) {
            const e = cluster.endpoints.get(id)?.ep;
            if (e && (before || e.vtepIP) !== (after || e.vtepIP)) endpointTouches(e, id, true);
          }
          break;
        }
        case 'object':
          this.objectTouches(ch, full, parts, carriedRefresh, nodePortRefresh, sliceRefresh);
          break;
      }
    }
    // a slice's Service: the host parts whose holding of it changes; the others get its message below
    const sliceMsgs = new Map<string, ServiceLB | undefined>();
    for (const k of sliceRefresh) {
      const cluster = this.cluster();
      const msg = serviceMessage(cluster, k);
      sliceMsgs.set(k, msg);
      const stored = storedKubeServices(cluster).get(kubeServiceStoreKey(k))?.config as unknown as StoredKubeService | undefined;
      const everywhere = stored !== undefined && hasNodePort(stored);
      for (const h of this.deps('kubeservices')) {
        const v = this.views.get(h);
        if (!v?.parts || full.has(h) || parts.has(h)) continue;
        const holds = v.parts.services.includes(k);
        const should = everywhere || (msg !== undefined && v.parts.sources.podTenants.has(msg.tenant));
        if (holds !== should) parts.add(h);
      }
    }
    for (const h of full) {
      const v = this.views.get(h);
      if (v) this.recompute(v, true);
    }
    for (const h of parts) {
      const v = this.views.get(h);
      if (v && !full.has(h)) this.recompute(v, false);
    }
    const cluster = this.cluster();
    for (const [h, ids] of epChecks) {
      const v = this.views.get(h);
      if (!v || full.has(h)) continue;
      const member = this.membership(cluster, v);
      for (const id of ids) this.checkEndpoint(cluster, v, id, member);
    }
    for (const [h, xs] of vtepRefresh) {
      const v = this.views.get(h);
      if (v && !full.has(h)) for (const x of xs) this.refreshVtep(cluster, v, x);
    }
    for (const [h, gs] of carriedRefresh) {
      const v = this.views.get(h);
      if (v && !full.has(h)) for (const g of gs) this.refreshCarried(cluster, v, g);
    }
    // providers that came or went: the views holding the service (recomputed ones are current)
    for (const k of svcRefresh) {
      for (const h of membersOf(this.svcViewers, k)) {
        const v = this.views.get(h);
        if (v && !full.has(h) && !parts.has(h)) this.setService(v, k, serviceMessage(cluster, k));
      }
    }
    for (const [k, msg] of sliceMsgs) {
      for (const h of this.deps('kubeservices')) {
        const v = this.views.get(h);
        if (v && !full.has(h) && !parts.has(h) && v.parts?.services.includes(k)) this.setService(v, k, msg);
      }
    }
    // every view names the Services with a node port: their message, built once, in each
    for (const k of nodePortRefresh) {
      const msg = serviceMessage(cluster, k);
      for (const h of this.deps('kubenodeports')) {
        const v = this.views.get(h);
        if (v && !full.has(h) && !parts.has(h) && v.parts?.services.includes(k)) this.setService(v, k, msg);
      }
    }
  }

  private kubeNodePortAddresses(): Map<string, string[]> {
    if (!this.kubeNpAddrs) this.kubeNpAddrs = kubeNodePortAddresses(this.cluster());
    return this.kubeNpAddrs;
  }

  private kubeServiceAddresses(): Set<string> {
    if (!this.kubeSvcAddrs) this.kubeSvcAddrs = kubeServiceAddresses(this.cluster());
    return this.kubeSvcAddrs;
  }

  /** The hosts whose view read dependency `key`. */
  private deps(key: string): ReadonlySet<string> {
    return membersOf(this.depIndex, key);
  }

  private objectTouches(
    ch: Extract<KeyChange, { kind: 'object' }>,
    full: Set<string>,
    parts: Set<string>,
    carriedRefresh: Map<string, Set<string>>,
    nodePortRefresh: Set<string>,
    sliceRefresh: Set<string>,
  ): void {
    const configs = [ch.before?.config, ch.after?.config].filter((c): c is Record<string, unknown> => c !== undefined);
    switch (ch.type) {
      case 'global':
        addAll(full, this.views.keys());
        break;
      case 'Bgp':
        addAll(parts, this.deps(`bgp:${ch.key}`));
        break;
      case 'network':
        // usable, encap (reachability) and gateway (routing) decide which endpoints enter
        addAll(full, this.deps(`network:${ch.key}`));
        addAll(full, membersOf(this.srcNet, ch.key));
        for (const c of configs) addAll(full, this.deps(`tenantnets:${(c as unknown as StoredNetwork).tenantName}`));
        // hosts with routed networks carry every routed network (tenants apart: host-view.ts)
        addAll(full, this.deps('routednets'));
        break;
      case 'endpointGroup':
        // usable (its id) decides whether its endpoints enter the views of their network
        addAll(full, this.deps(`group:${ch.key}`));
        addAll(full, membersOf(this.srcGrp, ch.key));
        for (const c of configs) {
          const g = c as unknown as StoredGroup;
          addAll(full, membersOf(this.srcNet, `${g.tenantName}:${g.networkName}`));
          // pods of the group enter the views of the tenant's pods only while it is usable
          addAll(full, membersOf(this.srcPod, g.tenantName));
        }
        for (const h of membersOf(this.carriedViewers, ch.key)) addTo(carriedRefresh, h, ch.key);
        break;
      case 'policy':
        addAll(parts, this.deps(`policy:${ch.key}`));
        break;
      case 'rule':
        for (const c of configs) addAll(parts, this.deps(`rules:${String(c.tenantName)}:${String(c.policyName)}`));
        break;
      case 'netprofile':
        addAll(parts, this.deps(`profile:${ch.key}`));
        break;
      case 'serviceLB':
        // whether a view holds it (tenant, address, network) is the host part's; its message too
        addAll(parts, this.deps(`service:${ch.key}`));
        for (const c of configs) addAll(parts, this.deps(`services:${String(c.tenantName)}`));
        break;
      case 'kubeService':
        // which views hold it follows its endpoints' tenant (kube-service-view.ts): the views with pods
        this.kubeSvcAddrs = undefined;
        this.kubeNpAddrs = undefined;
        addAll(parts, this.deps('kubeservices'));
        {
          const [before, after] = [ch.before, ch.after].map(
            (x) => x !== undefined && hasNodePort(x.config as unknown as StoredKubeService),
          );
          // whether every view names it changes: every host part; else its message, in every view
          if (before !== after) addAll(parts, this.deps('kubenodeports'));
          else if (after) nodePortRefresh.add(kubeServiceKey(ch.key));
        }
        break;
      case 'kubeServiceSlice': {
        // one slice's endpoints: its Service's message (apply decides which host parts change)
        this.kubeSvcAddrs = undefined;
        this.kubeNpAddrs = undefined;
        const slice = configs[0] as unknown as StoredKubeServiceSlice | undefined;
        if (!slice) break;
        const key = kubeServiceKey(`${slice.namespace}:${slice.service}`);
        sliceRefresh.add(key);
        const stored = storedKubeServices(this.cluster()).get(`${slice.namespace}:${slice.service}`)?.config;
        if (stored && hasNodePort(stored as unknown as StoredKubeService)) nodePortRefresh.add(key);
        break;
      }
      case 'kubeNetworkPolicy':
      case 'kubeNamespace': {
        // every view with pods holds it: one key each, nothing recomputed
        this.kubeCache = undefined;
        const key = ch.type === 'kubeNetworkPolicy' ? kubePolicyViewKey(ch.key) : kubeNamespaceViewKey(ch.key);
        for (const h of this.kubeViewers) {
          const v = this.views.get(h);
          if (v) this.markDirty(v, key);
        }
        break;
      }
      default:
        break;
    }
  }

  private markDirty(v: HostView, key: string): void {
    if (v.subs.size === 0) return;
    for (const s of v.subs) {
      s.dirty.add(key);
      s.notify();
    }
  }

  /** The host part again; the endpoint layer too when `all` or when the part's sources changed. */
  private recompute(v: HostView, all: boolean): void {
    const cluster = this.cluster();
    const reads = new Set<string>();
    const p = computeHostParts(cluster, v.host, reads);
    this.stats.hostParts++;
    const next = structItems(p);
    for (const [k, val] of next) {
      const old = v.struct.get(k);
      if (old === undefined) this.markDirty(v, k);
      else if (old !== val && memoJson(old) !== memoJson(val)) this.markDirty(v, k);
      else next.set(k, old);
    }
    for (const k of v.struct.keys()) if (!next.has(k)) this.markDirty(v, k);
    v.struct = next;
    for (const d of v.deps) if (!reads.has(d)) removeFrom(this.depIndex, d, v.host);
    for (const d of reads) if (!v.deps.has(d)) addTo(this.depIndex, d, v.host);
    v.deps = reads;
    const prev = v.parts?.sources;
    v.parts = p;
    const changed =
      !prev ||
      !sameSet(prev.nets, p.sources.nets) ||
      !sameSet(prev.groups, p.sources.groups) ||
      !sameSet(prev.podTenants, p.sources.podTenants);
    if (changed) {
      for (const n of prev?.nets ?? []) if (!p.sources.nets.has(n)) removeFrom(this.srcNet, n, v.host);
      for (const n of p.sources.nets) addTo(this.srcNet, n, v.host);
      for (const g of prev?.groups ?? []) if (!p.sources.groups.has(g)) removeFrom(this.srcGrp, g, v.host);
      for (const g of p.sources.groups) addTo(this.srcGrp, g, v.host);
      for (const t of prev?.podTenants ?? []) if (!p.sources.podTenants.has(t)) removeFrom(this.srcPod, t, v.host);
      for (const t of p.sources.podTenants) addTo(this.srcPod, t, v.host);
    }
    if (all || changed) this.rebuildEndpoints(cluster, v, all);
    this.syncServices(cluster, v, p.services);
    this.setKube(cluster, v, p.kube);
  }

  /** Whether the view holds the Kubernetes objects: a change puts (or deletes) every one of them. */
  private setKube(cluster: ClusterState, v: HostView, kube: boolean): void {
    if (v.kube === kube) return;
    v.kube = kube;
    if (kube) this.kubeViewers.add(v.host);
    else this.kubeViewers.delete(v.host);
    for (const k of kubeViewKeys(cluster)) this.markDirty(v, k);
  }

  /** The view's services as its host part names them, each with its current message. */
  private syncServices(cluster: ClusterState, v: HostView, keys: readonly string[]): void {
    const next = new Set(keys);
    for (const k of [...v.services.keys()]) if (!next.has(k)) this.setService(v, k, undefined);
    for (const k of keys) this.setService(v, k, serviceMessage(cluster, k));
  }

  private setService(v: HostView, key: string, next: ServiceLB | undefined): void {
    const old = v.services.get(key);
    if (old === next) return;
    if (next) {
      if (!old) addTo(this.svcViewers, key, v.host);
      v.services.set(key, next);
    } else {
      v.services.delete(key);
      removeFrom(this.svcViewers, key, v.host);
    }
    if (!old || !next || memoJson(old) !== memoJson(next)) this.markDirty(v, `service/${key}`);
  }

  private rebuildEndpoints(cluster: ClusterState, v: HostView, refreshCarried: boolean): void {
    this.stats.endpointLayers++;
    const sources = v.parts?.sources;
    if (!sources) return;
    const ids = sourceEndpointIds(cluster, sources);
    for (const id of [...v.eps.keys()]) if (!ids.has(id)) this.setEndpoint(cluster, v, id, undefined);
    const member = this.membership(cluster, v);
    for (const id of ids) this.checkEndpoint(cluster, v, id, member);
    if (refreshCarried) {
      for (const x of [...v.vteps.keys()]) this.refreshVtep(cluster, v, x);
      for (const g of [...v.carried.keys()]) this.refreshCarried(cluster, v, g);
    }
  }

  /** The membership test of `v` for the current state (one per batch and view: it caches usability). */
  private membership(cluster: ClusterState, v: HostView): ViewMembership | undefined {
    const sources = v.parts?.sources;
    return sources ? new ViewMembership(cluster, v.host, sources) : undefined;
  }

  private checkEndpoint(cluster: ClusterState, v: HostView, id: string, member: ViewMembership | undefined): void {
    this.stats.endpointChecks++;
    const msg = endpointMessage(cluster, id);
    this.setEndpoint(cluster, v, id, msg && member?.has(msg) ? msg : undefined);
  }

  private setEndpoint(cluster: ClusterState, v: HostView, id: string, next: Endpoint | undefined): void {
    const old = v.eps.get(id);
    if (old === next) return;
    if (old) {
      v.eps.delete(id);
      this.unref(v, old);
    }
    if (next) {
      v.eps.set(id, next);
      this.ref(cluster, v, next);
    }
    if (v.subs.size > 0) this.markDirty(v, `endpoint/${id}`);
  }

  private ref(cluster: ClusterState, v: HostView, e: Endpoint): void {
    const remote = remoteOf(v.host, e);
    if (remote !== '') {
      const n = (v.vtepRefs.get(remote) ?? 0) + 1;
      v.vtepRefs.set(remote, n);
      if (n === 1) {
        v.vteps.set(remote, vtepMessage(remote, vtepOfHost(cluster, remote)));
        if (v.subs.size > 0) this.markDirty(v, `vtep/${remote}`);
      }
    }
    if (e.group !== '') {
      const n = (v.groupRefs.get(e.group) ?? 0) + 1;
      v.groupRefs.set(e.group, n);
      if (n === 1) {
        const g = carriedGroupMessage(cluster, e.group);
        if (g) v.carried.set(e.group, g);
        addTo(this.carriedViewers, e.group, v.host);
        this.markDirty(v, `group/${e.group}`);
      }
    }
  }

  private unref(v: HostView, e: Endpoint): void {
    const remote = remoteOf(v.host, e);
    if (remote !== '') {
      const n = (v.vtepRefs.get(remote) ?? 1) - 1;
      if (n > 0) v.vtepRefs.set(remote, n);
      else {
        v.vtepRefs.delete(remote);
        v.vteps.delete(remote);
        if (v.subs.size > 0) this.markDirty(v, `vtep/${remote}`);
      }
    }
    if (e.group !== '') {
      const n = (v.groupRefs.get(e.group) ?? 1) - 1;
      if (n > 0) v.groupRefs.set(e.group, n);
      else {
        v.groupRefs.delete(e.group);
        v.carried.delete(e.group);
        removeFrom(this.carriedViewers, e.group, v.host);
        this.markDirty(v, `group/${e.group}`);
      }
    }
  }

  private refreshVtep(cluster: ClusterState, v: HostView, x: string): void {
    const old = v.vteps.get(x);
    if (!old) return;
    const ip = vtepOfHost(cluster, x);
    if (ip === old.vtepIp) {
      v.vteps.set(x, vtepMessage(x, ip));
      return;
    }
    v.vteps.set(x, vtepMessage(x, ip));
    this.markDirty(v, `vtep/${x}`);
  }

  private refreshCarried(cluster: ClusterState, v: HostView, g: string): void {
    if (!v.groupRefs.has(g)) return;
    const old = v.carried.get(g);
    const next = carriedGroupMessage(cluster, g);
    if (old === next) return;
    if (next) v.carried.set(g, next);
    else v.carried.delete(g);
    if (!old || !next || memoJson(old) !== memoJson(next)) this.markDirty(v, `group/${g}`);
  }
}
