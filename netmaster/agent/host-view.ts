/**
 * A host's desired state, computed from the cluster (pure). A host sees only what its endpoints
 * need:
 * - the networks of its endpoints; in routing mode also every network with a gateway of a tenant
 *   in which it has an endpoint on a network with a gateway;
 * - the groups its endpoints use, their policies (with rules) and profiles, and the groups those
 *   policies name (with the endpoints and networks of those groups, so rules can be resolved);
 * - every endpoint (local and remote) of those networks and groups, with the groups they carry
 *   (a remote VXLAN endpoint only when its host's VTEP is known and is not this host's own);
 * - the tenants of all of that, with their vrfId/ctZone;
 * - the VTEPs of the other hosts that have an endpoint in the view (never its own);
 * - its effective BGP settings (its Bgp object, else the default on the global object: bgp-view.ts) and the global settings;
 * - the services (serviceLB) of every tenant it has an endpoint in, each with its network as a
 *   source (so the providers' endpoints are in the view: service-view.ts).
 * - address blocks (issue 15): its own blocks (every network) and every block of the networks it
 *   carries, each with its owner's VTEP; a host owning a block of a network carries that network
 *   (and its endpoints, as if it had one there), so its agent can allocate there alone. A network
 *   carries its effective block prefix (service/block-prefix.ts).
 * - Kubernetes (issue 19): a host with a local pod endpoint gets every NetworkPolicy and namespace
 *   (kube-view.ts) and every pod endpoint of the tenants of its pods, with their networks (a
 *   policy's peers may name pods of any network of the tenant), and the Services of those tenants
 *   among its services (kube-service-view.ts; read key `kubeservices`). Every host, whatever its
 *   endpoints, gets every Kubernetes Service with a node port (read key `kubenodeports`), and
 *   nothing else of its tenant: kube-proxy answers node ports on every node, and a host without
 *   the tenant forwards them to the providers' hosts (their addresses are in the message).
 * A host with no endpoint and no block gets the global settings (and its Bgp object) and the
 * Kubernetes NodePort Services only.
 *
 * Ids: networkId is the VNI for VXLAN and 0x1000000|VLAN for VLAN (tags are unique per encap, so
 * ids are unique and stable); groupId is the store's allocation (oper.groupId); a tenant's vrfId
 * and ctZone are its allocated tenant id. Objects whose id is not allocated yet (a tenant whose id
 * the server is still claiming) are left out with everything that depends on them.
 */
import type {
  Bgp,
  Endpoint as StoredEndpoint,
  EndpointGroup as StoredGroup,
  Global as StoredGlobal,
  Netprofile,
  Network as StoredNetwork,
  Rule as StoredRule,
  ServiceLB as StoredService,
} from '../model/schemas';
import type { HostState__Output as HostState } from '../../proto/gen/netloom/v1/HostState';
import type { Network__Output as Network } from '../../proto/gen/netloom/v1/Network';
import type { EndpointGroup__Output as EndpointGroup } from '../../proto/gen/netloom/v1/EndpointGroup';
import type { Endpoint__Output as Endpoint } from '../../proto/gen/netloom/v1/Endpoint';
import type { Policy__Output as Policy } from '../../proto/gen/netloom/v1/Policy';
import type { Rule__Output as Rule } from '../../proto/gen/netloom/v1/Rule';
import type { NetProfile__Output as NetProfile } from '../../proto/gen/netloom/v1/NetProfile';
import type { Tenant__Output as Tenant } from '../../proto/gen/netloom/v1/Tenant';
import type { Vtep__Output as Vtep } from '../../proto/gen/netloom/v1/Vtep';
import type { Global__Output as Global } from '../../proto/gen/netloom/v1/Global';
import type { BgpConfig__Output as BgpConfig } from '../../proto/gen/netloom/v1/BgpConfig';
import type { AddressBlock__Output as AddressBlock } from '../../proto/gen/netloom/v1/AddressBlock';
import { blockIdOf, type ClusterBlock, type ClusterState, type StoredIntent } from './cluster';
import { effectiveBlockPrefix } from '../service/block-prefix';
import { membersOf } from './cluster-index';
import { networkIdOf, networkMessage, VLAN_NETWORK_ID_BASE } from './network-lookup';
import { serviceMessage } from './service-view';
import { effectiveBgp } from './bgp-view';
import { isRoutedNetwork } from '../../lib/bgp/settings';
import { podMessage } from '../kube/pod';
import { kubeLists } from './kube-view';
import { kubeNodePortKeys, kubeServiceKey, kubeServiceMessage, storedKubeServices } from './kube-service-view';
import { tagInUse } from '../model/network-tag';
import { byKey, thenBy } from '../../lib/compare';

export type { HostState };

export { VLAN_NETWORK_ID_BASE, networkIdOf };

const DEFAULT_GLOBAL: Global = { fwdMode: 'bridge', arpMode: 'proxy', pvtSubnet: '172.19.0.0/16', networkInfraType: 'default' };

/** Contiv's bandwidth text ("10Mbps", "500 kbps", "1gbps", "2000") in kbit/s; 0 when empty or unreadable. */
export function bandwidthKbps(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:bps|b|bit|bits)?\s*$/i.exec(text);
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const kbps = unit === 'g' ? n * 1e6 : unit === 'm' ? n * 1e3 : unit === 'k' ? n : n / 1000;
  return Math.round(kbps);
}

function configs<C>(
  cluster: ClusterState,
  type: Parameters<ClusterState['objects']['get']>[0],
): Map<string, { config: C; oper: Record<string, unknown> }> {
  return (cluster.objects.get(type) ?? new Map<string, StoredIntent>()) as unknown as Map<
    string,
    { config: C; oper: Record<string, unknown> }
  >;
}

/**
 * Messages are built once per stored object (stored objects are replaced, never changed, on every
 * write) and shared by every view that holds them: an unchanged object is the same object in the
 * next computation, so views compare by identity and serialize nothing that did not change.
 */
const messages = new WeakMap<object, object>();

function memo<M extends object>(stored: object, build: () => M): M {
  let m = messages.get(stored) as M | undefined;
  if (!m) messages.set(stored, (m = build()));
  return m;
}

const DEFAULT_GLOBAL_MESSAGE: Global = { ...DEFAULT_GLOBAL };

function globalOf(cluster: ClusterState): Global {
  const stored = configs<StoredGlobal>(cluster, 'global').get('global');
  if (!stored) return DEFAULT_GLOBAL_MESSAGE;
  return memo(stored, () => {
    const g = stored.config;
    return {
      fwdMode: g.fwdMode ?? 'bridge',
      arpMode: g.arpMode ?? 'proxy',
      pvtSubnet: g.pvtSubnet ?? '',
      networkInfraType: g.networkInfraType ?? 'default',
    };
  });
}

/** Effective BGP messages, memoized by the stored Bgp object (or NO_BGP) and the stored global (or NO_GLOBAL), then host. */
const bgpMessages = new WeakMap<object, WeakMap<object, Map<string, BgpConfig | null>>>();
const NO_BGP = {};
const NO_GLOBAL = {};

function bgpOf(cluster: ClusterState, host: string): BgpConfig | null {
  const stored = configs<Bgp>(cluster, 'Bgp').get(host);
  const g = configs<StoredGlobal>(cluster, 'global').get('global');
  // the default matters only without an object, its timers with one: key by both
  const outer = stored ?? NO_BGP;
  let byGlobal = bgpMessages.get(outer);
  if (!byGlobal) bgpMessages.set(outer, (byGlobal = new WeakMap()));
  let byHost = byGlobal.get(g ?? NO_GLOBAL);
  if (!byHost) byGlobal.set(g ?? NO_GLOBAL, (byHost = new Map()));
  let m = byHost.get(host);
  if (m === undefined) byHost.set(host, (m = effectiveBgp(host, stored?.config, g?.config)));
  return m;
}

/** Tenant messages by name and id (a handful; kept). */
const tenantMessages = new Map<string, Tenant>();

function tenantMessage(name: string, id: number): Tenant {
  const k = `${id}:${name}`;
  let m = tenantMessages.get(k);
  if (!m) tenantMessages.set(k, (m = { name, ctZone: id, vrfId: id }));
  return m;
}

/** A policy's message, rebuilt only when the policy or one of its rules was written. */
const policyMessages = new WeakMap<object, { rules: StoredIntent[]; msg: Policy }>();

function policyMessage(pk: string, stored: StoredIntent | undefined, rules: StoredIntent[]): Policy {
  const hit = stored ? policyMessages.get(stored) : undefined;
  if (hit && hit.rules.length === rules.length && hit.rules.every((r, i) => r === rules[i])) return hit.msg;
  const p = stored?.config as { tenantName: string; policyName: string } | undefined;
  const list = rules.map((r) => r.config as unknown as StoredRule).sort(byKey((x) => x.ruleId));
  const tenant = p?.tenantName ?? '';
  const grp = (name: string) => (name ? `${tenant}:${name}` : '');
  const net = (name: string) => (name ? `${tenant}:${name}` : '');
  const msg: Policy = {
    key: pk,
    tenant,
    name: p?.policyName ?? '',
    rules: list.map(
      (x): Rule => ({
        ruleId: x.ruleId,
        direction: x.direction,
        priority: x.priority,
        action: x.action,
        protocol: x.protocol,
        port: x.port,
        fromGroup: grp(x.fromEndpointGroup),
        toGroup: grp(x.toEndpointGroup),
        fromNetwork: net(x.fromNetwork),
        toNetwork: net(x.toNetwork),
        fromIp: x.fromIpAddress,
        toIp: x.toIpAddress,
      }),
    ),
  };
  if (stored) policyMessages.set(stored, { rules, msg });
  return msg;
}

/** Records the keys a view computation read (`dep` keys, see view-engine.ts); absent keys too. */
export interface ReadSet {
  add(key: string): unknown;
}

const NO_READS: ReadSet = { add: () => undefined };

/** The part of a host's view that does not come from remote endpoints, and where its endpoints come from. */
export interface HostParts {
  global: Global;
  bgp: BgpConfig | null;
  tenants: Tenant[];
  networks: Network[];
  /** the groups of its local endpoints and the groups their policies name */
  groups: EndpointGroup[];
  policies: Policy[];
  profiles: NetProfile[];
  /**
   * endpoints of these networks and groups, and the pod endpoints of these tenants, enter the view
   * (when usable and reachable)
   */
  sources: { nets: Set<string>; groups: Set<string>; podTenants: Set<string> };
  /** it has a local pod endpoint: the view holds every Kubernetes NetworkPolicy and namespace */
  kube: boolean;
  /** the keys of the services in the view, sorted (their messages follow their providers: service-view.ts) */
  services: string[];
  /** address blocks: its own and those of the networks it carries, by network then cidr */
  blocks: AddressBlock[];
}

export const groupKeyOf = (e: { tenantName: string; groupName?: string }): string => (e.groupName ? `${e.tenantName}:${e.groupName}` : '');

/**
 * Whether a network can be used on a host (its tenant has an id, it has a tag). Routed (`bgp`)
 * networks are in host views like the others (issue 16): the agent routes them in its kernel and
 * leaves them out of its OVS pipeline.
 */
function usableNet(cluster: ClusterState, netKey: string, r: ReadSet): boolean {
  r.add(`network:${netKey}`);
  const s = configs<StoredNetwork>(cluster, 'network').get(netKey);
  if (!s) return false;
  r.add(`tenantid:${s.config.tenantName}`);
  return cluster.tenantIds.has(s.config.tenantName) && tagInUse(s.config, s.oper) > 0;
}

function usableGroup(cluster: ClusterState, grpKey: string, r: ReadSet): boolean {
  r.add(`group:${grpKey}`);
  const g = configs<StoredGroup>(cluster, 'endpointGroup').get(grpKey);
  return g !== undefined && Number(g.oper.groupId ?? 0) > 0 && usableNet(cluster, `${g.config.tenantName}:${g.config.networkName}`, r);
}

/** A remote host's VTEP: its agent's, else the one its endpoints recorded at creation (lowest endpoint id). */
export function vtepOfHost(cluster: ClusterState, host: string): string {
  const own = cluster.agents.get(host)?.vtepIp;
  if (own) return own;
  let best: string | undefined;
  let ip = '';
  for (const id of membersOf(cluster.index.epsByHost, host)) {
    const v = cluster.endpoints.get(id)?.ep.vtepIP;
    if (v && (best === undefined || id < best)) {
      best = id;
      ip = v;
    }
  }
  return ip;
}

/** The VTEP message of each host (its latest address), shared by every view. */
const vtepMessages = new Map<string, Vtep>();

export function vtepMessage(host: string, vtepIp: string): Vtep {
  let m = vtepMessages.get(host);
  if (m?.vtepIp !== vtepIp) {
    if (!m && vtepMessages.size >= 1_000_000) vtepMessages.clear(); // hosts come and go: stay bounded
    vtepMessages.set(host, (m = { host, vtepIp }));
  }
  return m;
}

const vtepOfEndpoint = (cluster: ClusterState, e: StoredEndpoint): string => cluster.agents.get(e.homingHost)?.vtepIp || e.vtepIP || '';

/**
 * The host-specific part of `host`'s view (pure); every key it reads is added to `reads`:
 * `global`, `bgp:<host>`, `network:<k>`, `group:<k>`, `policy:<k>`, `rules:<policy>`,
 * `profile:<k>`, `tenantid:<tenant>`, `tenantnets:<tenant>` (routing mode), `services:<tenant>`,
 * `service:<k>`, `routednets` (a host with a routed network: any network's change), `kubeservices`
 * (a host with pods), `kubenodeports` (every host).
 */
export function computeHostParts(cluster: ClusterState, host: string, reads: ReadSet = NO_READS): HostParts {
  const r = reads;
  r.add('global');
  const global = globalOf(cluster);
  r.add(`bgp:${host}`);
  const bgp = bgpOf(cluster, host);
  const networks = configs<StoredNetwork>(cluster, 'network');
  const groups = configs<StoredGroup>(cluster, 'endpointGroup');
  const policies = configs<{ tenantName: string; policyName: string }>(cluster, 'policy');
  const rules = configs<StoredRule>(cluster, 'rule');
  const profiles = configs<Netprofile>(cluster, 'netprofile');
  const ix = cluster.index;
  const usable = (k: string): boolean => usableNet(cluster, k, r);
  const usableGrp = (k: string): boolean => usableGroup(cluster, k, r);
  const local: StoredEndpoint[] = [];
  for (const id of membersOf(ix.epsByHost, host)) {
    const e = cluster.endpoints.get(id)?.ep;
    if (e && usable(e.network)) local.push(e);
  }

  // networks: those of local endpoints and of its own address blocks, plus (routing) every gateway
  // network of their routed tenants
  const netKeys = new Set(local.map((e) => e.network));
  r.add(`ownblocks:${host}`);
  const own = membersOf(ix.blocksByHost, host);
  for (const id of own) {
    const k = id.slice(0, id.indexOf('/'));
    if (usable(k)) netKeys.add(k);
  }
  if (global.fwdMode === 'routing') {
    const routedTenants = new Set<string>();
    for (const k of netKeys) {
      const n = networks.get(k)?.config;
      if (n?.gateway) routedTenants.add(n.tenantName);
    }
    for (const t of routedTenants) {
      r.add(`tenantnets:${t}`);
      for (const k of membersOf(ix.netsByTenant, t)) if (networks.get(k)?.config.gateway && usable(k)) netKeys.add(k);
    }
  }
  // the services of the tenants of local endpoints, with their networks (where their providers are)
  const services = configs<StoredService>(cluster, 'serviceLB');
  const serviceKeys: string[] = [];
  for (const t of new Set(local.map((e) => e.tenantName))) {
    r.add(`services:${t}`);
    for (const k of membersOf(ix.servicesByTenant, t)) {
      r.add(`service:${k}`);
      const s = services.get(k)?.config;
      if (!s?.ipAddress || !s.networkName || !usable(`${t}:${s.networkName}`)) continue;
      serviceKeys.push(k);
      netKeys.add(`${t}:${s.networkName}`);
    }
  }
  // groups of local endpoints, their policies and the groups those policies name
  const localGroups = new Set(local.map(groupKeyOf).filter((g) => g !== '' && usableGrp(g)));
  const policyKeys = new Set<string>();
  for (const gk of localGroups) {
    const g = groups.get(gk)?.config;
    for (const p of g?.policies ?? []) {
      const pk = `${g?.tenantName}:${p}`;
      r.add(`policy:${pk}`);
      if (policies.has(pk)) policyKeys.add(pk);
    }
  }
  const rulesOf = new Map<string, StoredIntent[]>();
  for (const pk of policyKeys) {
    r.add(`rules:${pk}`);
    const list: StoredIntent[] = [];
    for (const rk of membersOf(ix.rulesByPolicy, pk)) {
      const rule = rules.get(rk);
      if (rule) list.push(rule as unknown as StoredIntent);
    }
    if (list.length > 0) rulesOf.set(pk, list);
  }
  const referencedGroups = new Set<string>();
  for (const [pk, list] of rulesOf) {
    const tenant = pk.slice(0, pk.indexOf(':'));
    for (const stored of list) {
      const rule = stored.config as unknown as StoredRule;
      for (const g of [rule.fromEndpointGroup, rule.toEndpointGroup])
        if (g && usableGrp(`${tenant}:${g}`)) referencedGroups.add(`${tenant}:${g}`);
    }
  }
  // pods (issue 19): every pod endpoint of the tenants of its local pods enters, with its network
  const podTenants = new Set(local.filter((e) => e.pod !== undefined).map((e) => e.tenantName));
  // Kubernetes Services (kube-service-view.ts): those of the tenants of its pods, whose providers
  // are among the tenant's pod endpoints the view holds
  if (podTenants.size > 0) {
    r.add('kubeservices');
    for (const k of storedKubeServices(cluster).keys()) {
      const key = kubeServiceKey(k);
      const t = kubeServiceMessage(cluster, key)?.tenant;
      if (t !== undefined && podTenants.has(t)) serviceKeys.push(key);
    }
  }
  // and every one with a node port, whether or not it has pods of the tenant (a Service whose
  // endpoints resolve to no tenant has no message: it is in no view)
  r.add('kubenodeports');
  for (const key of kubeNodePortKeys(cluster)) serviceKeys.push(key);
  const sources = { nets: new Set(netKeys), groups: new Set(referencedGroups), podTenants };
  // routed networks (BGP mode): every tenant's routed subnets, without their endpoints, so that the
  // agent's nftables keeps tenants apart (traffic from another tenant's routed subnet is dropped)
  const routed = (k: string): boolean => {
    const n = networks.get(k)?.config;
    return n !== undefined && isRoutedNetwork(n.encap, global.fwdMode, bgp !== null);
  };
  if ([...netKeys].some(routed)) {
    r.add('routednets');
    for (const k of networks.keys()) if (!netKeys.has(k) && routed(k) && usable(k)) netKeys.add(k);
  }
  for (const gk of referencedGroups) {
    const g = groups.get(gk)?.config;
    if (g) netKeys.add(`${g.tenantName}:${g.networkName}`);
  }
  for (const t of podTenants) {
    r.add(`podnets:${t}`);
    for (const k of membersOf(ix.podNetsByTenant, t)) if (usable(k)) netKeys.add(k);
  }
  // the networks rules name (their subnets resolve the rules), without their endpoints
  for (const [pk, list] of rulesOf) {
    const tenant = pk.slice(0, pk.indexOf(':'));
    for (const stored of list) {
      const rule = stored.config as unknown as StoredRule;
      for (const n of [rule.fromNetwork, rule.toNetwork]) if (n && usable(`${tenant}:${n}`)) netKeys.add(`${tenant}:${n}`);
    }
  }

  const tenantNames = new Set<string>();
  const outNetworks: Network[] = [];
  for (const k of netKeys) {
    const stored = networks.get(k);
    if (!stored) continue;
    tenantNames.add(stored.config.tenantName);
    outNetworks.push(networkMessageOf(k, stored, effectiveBlockPrefix(stored.config, storedGlobal(cluster))));
  }
  const outBlocks = new Map<string, AddressBlock>();
  const addBlock = (b: ClusterBlock) => {
    r.add(`blockvtep:${b.host}`);
    outBlocks.set(blockIdOf(b), blockMessage(cluster, b));
  };
  for (const n of outNetworks) {
    r.add(`blocks:${n.key}`);
    for (const b of cluster.blocks.get(n.key)?.values() ?? []) addBlock(b);
  }
  for (const id of own) {
    const slash = id.indexOf('/');
    const b = cluster.blocks.get(id.slice(0, slash))?.get(id.slice(slash + 1));
    if (b) addBlock(b);
  }
  const outGroups: EndpointGroup[] = [];
  const profileKeys = new Set<string>();
  for (const k of new Set([...localGroups, ...referencedGroups])) {
    const g = groups.get(k);
    if (!g) continue;
    const c = g.config;
    tenantNames.add(c.tenantName);
    if (c.netProfile && localGroups.has(k)) profileKeys.add(`${c.tenantName}:${c.netProfile}`);
    outGroups.push(localGroups.has(k) ? localGroupMessage(k, g, policyKeys) : memo(g, () => groupMessage(k, g)));
  }
  const outPolicies: Policy[] = [...policyKeys].map((pk) =>
    policyMessage(pk, policies.get(pk) as StoredIntent | undefined, rulesOf.get(pk) ?? []),
  );
  const outProfiles: NetProfile[] = [];
  for (const k of profileKeys) {
    r.add(`profile:${k}`);
    const stored = profiles.get(k);
    if (!stored) continue;
    const p = stored.config;
    outProfiles.push(
      memo(stored, () => ({
        key: k,
        tenant: p.tenantName,
        name: p.profileName,
        bandwidthKbps: String(bandwidthKbps(p.bandwidth ?? '')),
        burstKb: String(p.burst ?? 0),
        dscp: p.DSCP ?? 0,
      })),
    );
  }
  const outTenants: Tenant[] = [...tenantNames].map((t) => tenantMessage(t, cluster.tenantIds.get(t) ?? 0));
  return {
    global,
    bgp,
    tenants: outTenants.sort(byKey((t) => t.name)),
    networks: outNetworks.sort(byKey((n) => n.key)),
    groups: outGroups.sort(byKey((g) => g.key)),
    policies: outPolicies.sort(byKey((p) => p.key)),
    profiles: outProfiles.sort(byKey((p) => p.key)),
    sources,
    kube: podTenants.size > 0,
    services: [...new Set(serviceKeys)].sort(),
    blocks: [...outBlocks.values()].sort(
      thenBy(
        byKey((b) => b.network),
        byKey((b) => b.cidr),
      ),
    ),
  };
}

function storedGlobal(cluster: ClusterState): { blockPrefix?: number | undefined } | undefined {
  return configs<StoredGlobal>(cluster, 'global').get('global')?.config;
}

/** Network messages by stored network and effective block prefix (the global default may change). */
const networkMessages = new WeakMap<object, { blockPrefix: number; msg: Network }>();

function networkMessageOf(key: string, stored: { config: StoredNetwork; oper: Record<string, unknown> }, blockPrefix: number): Network {
  const hit = networkMessages.get(stored);
  if (hit?.blockPrefix === blockPrefix) return hit.msg;
  const msg = networkMessage(key, stored, blockPrefix);
  networkMessages.set(stored, { blockPrefix, msg });
  return msg;
}

/** A block's message, once per stored block and owner VTEP (shared by every view). */
const blockMessages = new WeakMap<ClusterBlock, AddressBlock>();

function blockMessage(cluster: ClusterState, b: ClusterBlock): AddressBlock {
  const vtepIp = cluster.agents.get(b.host)?.vtepIp ?? '';
  let m = blockMessages.get(b);
  if (m?.vtepIp !== vtepIp) blockMessages.set(b, (m = { network: b.network, cidr: b.cidr, host: b.host, vtepIp }));
  return m;
}

/**
 * A group as the view carries it; `localPolicies` (the host's policy keys) only for a group of the
 * host's own endpoints, which alone carries its policies and profile.
 */
function groupMessage(key: string, g: { config: StoredGroup }, localPolicies?: ReadonlySet<string>): EndpointGroup {
  const c = g.config;
  return {
    key,
    tenant: c.tenantName,
    name: c.groupName,
    network: `${c.tenantName}:${c.networkName}`,
    groupId: Number((g as { oper?: Record<string, unknown> }).oper?.groupId ?? 0),
    // only ACI mode gives a group a VLAN of its own (none yet: 0 means the network's tag)
    pktTag: Number((g as { oper?: Record<string, unknown> }).oper?.pktTag ?? 0),
    policies: localPolicies ? [...(c.policies ?? [])].filter((p) => localPolicies.has(`${c.tenantName}:${p}`)) : [],
    netProfile: localPolicies ? (c.netProfile ?? '') : '',
  };
}

/** Messages of groups of a host's own endpoints, by the policies the host has (usually the same for all). */
const localGroupMessages = new WeakMap<object, Map<string, EndpointGroup>>();

function localGroupMessage(key: string, g: { config: StoredGroup }, localPolicies: ReadonlySet<string>): EndpointGroup {
  const c = g.config;
  const policies = [...(c.policies ?? [])].filter((p) => localPolicies.has(`${c.tenantName}:${p}`));
  const sig = policies.join('\n');
  let byPolicies = localGroupMessages.get(g);
  if (!byPolicies) localGroupMessages.set(g, (byPolicies = new Map()));
  let m = byPolicies.get(sig);
  if (!m) byPolicies.set(sig, (m = groupMessage(key, g, localPolicies)));
  return m;
}

/** The message of a group that a view carries because some of its endpoints are in it (undefined when gone). */
export function carriedGroupMessage(cluster: ClusterState, key: string): EndpointGroup | undefined {
  const g = configs<StoredGroup>(cluster, 'endpointGroup').get(key);
  if (!g) return undefined;
  return memo(g, () => groupMessage(key, g));
}

/**
 * Which endpoints are in the view of `host` whose parts name `sources` (one per computation: it
 * remembers, per network and group, whether they are usable): from one of the sources, usable,
 * its group usable, and reachable (a remote VXLAN endpoint only through its host's VTEP when that
 * is known and is not this host's own: two agents claiming one address would make this host's
 * whole pipeline inconsistent). Works on the endpoint's message, whose fields are derived once.
 */
export class ViewMembership {
  private readonly nets = new Map<string, boolean>();
  private readonly groups = new Map<string, boolean>();
  private readonly ownVtep: string;

  constructor(
    private readonly cluster: ClusterState,
    private readonly host: string,
    private readonly sources: HostParts['sources'],
  ) {
    this.ownVtep = cluster.agents.get(host)?.vtepIp ?? '';
  }

  /** whether the network is usable (remembered per network) */
  private net(key: string): boolean {
    let u = this.nets.get(key);
    if (u === undefined) this.nets.set(key, (u = usableNet(this.cluster, key, NO_READS)));
    return u;
  }

  private group(key: string): boolean {
    let u = this.groups.get(key);
    if (u === undefined) this.groups.set(key, (u = usableGroup(this.cluster, key, NO_READS)));
    return u;
  }

  has(e: Endpoint): boolean {
    if (
      !this.sources.nets.has(e.network) &&
      !(e.group !== '' && this.sources.groups.has(e.group)) &&
      !(e.pod !== null && this.sources.podTenants.has(tenantOfNetwork(e.network)))
    )
      return false;
    if (!this.net(e.network)) return false;
    if (e.group !== '' && !this.group(e.group)) return false;
    if (e.host === this.host || configs<StoredNetwork>(this.cluster, 'network').get(e.network)?.config.encap !== 'vxlan') return true;
    return e.vtepIp !== '' && e.vtepIp !== this.ownVtep;
  }
}

/** The tenant of a network key (`tenant:network`). */
const tenantOfNetwork = (netKey: string): string => netKey.slice(0, netKey.indexOf(':'));

/** Endpoint messages: the same for every host, built once per stored endpoint and VTEP. */
const endpointMessages = new WeakMap<object, { vtep: string; msg: Endpoint }>();

/** The message of a stored endpoint (undefined when it is gone). */
export function endpointMessage(cluster: ClusterState, id: string): Endpoint | undefined {
  const entry = cluster.endpoints.get(id);
  if (!entry) return undefined;
  const e = entry.ep;
  const vtep = vtepOfEndpoint(cluster, e);
  const cached = endpointMessages.get(entry);
  if (cached && cached.vtep === vtep) return cached.msg;
  const msg: Endpoint = {
    id: e.endpointID,
    network: e.network,
    group: groupKeyOf(e),
    host: e.homingHost,
    ip: e.ipAddress,
    ipv6: e.ipv6Address ?? '',
    mac: e.macAddress,
    intfName: e.intfName ?? '',
    vtepIp: vtep,
    containerId: e.containerID ?? '',
    containerName: e.containerName ?? '',
    labels: { ...(e.labels ?? {}) },
    revision: entry.modRevision,
    external: e.external === true,
    pod: e.pod ? podMessage(e.pod) : null,
  };
  endpointMessages.set(entry, { vtep, msg });
  return msg;
}

/** The endpoint ids a host's sources bring (before the membership check). */
export function sourceEndpointIds(cluster: ClusterState, sources: HostParts['sources']): Set<string> {
  const ids = new Set<string>();
  for (const n of sources.nets) for (const id of membersOf(cluster.index.epsByNet, n)) ids.add(id);
  for (const g of sources.groups) for (const id of membersOf(cluster.index.epsByGroup, g)) ids.add(id);
  for (const t of sources.podTenants) for (const id of membersOf(cluster.index.podsByTenant, t)) ids.add(id);
  return ids;
}

/** The desired state of `host` (the whole view at once; view-engine.ts keeps the same incrementally). */
export function computeHostView(cluster: ClusterState, host: string): HostState {
  const parts = computeHostParts(cluster, host);
  const endpoints: Endpoint[] = [];
  const vteps = new Map<string, string>();
  const groups = new Map(parts.groups.map((g) => [g.key, g]));
  const member = new ViewMembership(cluster, host, parts.sources);
  for (const id of sourceEndpointIds(cluster, parts.sources)) {
    const msg = endpointMessage(cluster, id);
    if (!msg || !member.has(msg)) continue;
    endpoints.push(msg);
    if (msg.host !== host && msg.host !== '' && msg.vtepIp !== '') vteps.set(msg.host, vtepOfHost(cluster, msg.host));
    const gk = msg.group;
    if (gk !== '' && !groups.has(gk)) {
      const g = carriedGroupMessage(cluster, gk);
      if (g) groups.set(gk, g);
    }
  }
  return {
    global: parts.global,
    tenants: parts.tenants,
    networks: parts.networks,
    groups: [...groups.values()].sort(byKey((g) => g.key)),
    policies: parts.policies,
    profiles: parts.profiles,
    endpoints: endpoints.sort(byKey((e) => e.id)),
    vteps: [...vteps].map(([h, ip]) => vtepMessage(h, ip)).sort(byKey((v) => v.host)),
    bgp: parts.bgp,
    services: parts.services.flatMap((k) => serviceMessage(cluster, k) ?? []),
    blocks: parts.blocks,
    ...(parts.kube ? kubeListsOf(cluster) : { kubePolicies: [], kubeNamespaces: [] }),
  };
}

function kubeListsOf(cluster: ClusterState): Pick<HostState, 'kubePolicies' | 'kubeNamespaces'> {
  const l = kubeLists(cluster);
  return { kubePolicies: l.policies, kubeNamespaces: l.namespaces };
}

/** The empty state (before anything was received). */
export function emptyHostView(): HostState {
  return {
    global: null,
    tenants: [],
    networks: [],
    groups: [],
    policies: [],
    profiles: [],
    endpoints: [],
    vteps: [],
    bgp: null,
    services: [],
    blocks: [],
    kubePolicies: [],
    kubeNamespaces: [],
  };
}
