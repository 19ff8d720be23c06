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
 * - its own Bgp object and the global settings.
 * A host with no endpoint gets the global settings (and its Bgp object) only.
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
import type { ClusterState, StoredIntent } from './cluster';
import { networkIdOf, networkMessage, VLAN_NETWORK_ID_BASE } from './network-lookup';

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

function byKey<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
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

function globalOf(cluster: ClusterState): Global {
  const g = configs<StoredGlobal>(cluster, 'global').get('global')?.config;
  if (!g) return { ...DEFAULT_GLOBAL };
  return {
    fwdMode: g.fwdMode ?? 'bridge',
    arpMode: g.arpMode ?? 'proxy',
    pvtSubnet: g.pvtSubnet ?? '',
    networkInfraType: g.networkInfraType ?? 'default',
  };
}

function bgpOf(cluster: ClusterState, host: string): BgpConfig | null {
  const b = configs<Bgp>(cluster, 'Bgp').get(host)?.config;
  if (!b) return null;
  return {
    hostname: b.hostname,
    routerIp: b.routerip ?? '',
    as: Number(b.as) || 0,
    neighbor: b.neighbor ?? '',
    neighborAs: Number(b['neighbor-as'] ?? '') || 0,
  };
}

/** The desired state of `host`. */
export function computeHostView(cluster: ClusterState, host: string): HostState {
  const global = globalOf(cluster);
  const bgp = bgpOf(cluster, host);
  const networks = configs<StoredNetwork>(cluster, 'network');
  const groups = configs<StoredGroup>(cluster, 'endpointGroup');
  const policies = configs<{ tenantName: string; policyName: string }>(cluster, 'policy');
  const rules = configs<StoredRule>(cluster, 'rule');
  const profiles = configs<Netprofile>(cluster, 'netprofile');
  const usable = (netKey: string): boolean => {
    const n = networks.get(netKey)?.config;
    return n !== undefined && cluster.tenantIds.has(n.tenantName) && n.pktTag > 0;
  };
  const usableGroup = (grpKey: string): boolean => {
    const g = groups.get(grpKey);
    return g !== undefined && Number(g.oper.groupId ?? 0) > 0 && usable(`${g.config.tenantName}:${g.config.networkName}`);
  };
  const eps = [...cluster.endpoints.values()].map((e) => e.ep);
  const vtepOf = (h: string, e?: StoredEndpoint): string => cluster.agents.get(h)?.vtepIp || e?.vtepIP || '';
  const groupKeyOf = (e: StoredEndpoint): string => (e.groupName ? `${e.tenantName}:${e.groupName}` : '');
  const local = eps.filter((e) => e.homingHost === host && usable(e.network));

  // networks: those of local endpoints, plus (routing) every gateway network of their routed tenants
  const netKeys = new Set(local.map((e) => e.network));
  if (global.fwdMode === 'routing') {
    const routedTenants = new Set(
      [...netKeys].filter((k) => networks.get(k)?.config.gateway).map((k) => networks.get(k)?.config.tenantName),
    );
    for (const [k, n] of networks) if (n.config.gateway && routedTenants.has(n.config.tenantName) && usable(k)) netKeys.add(k);
  }
  // groups of local endpoints, their policies and the groups those policies name
  const localGroups = new Set(local.map(groupKeyOf).filter((g) => g !== '' && usableGroup(g)));
  const policyKeys = new Set<string>();
  for (const gk of localGroups) {
    const g = groups.get(gk)?.config;
    for (const p of g?.policies ?? []) if (policies.has(`${g?.tenantName}:${p}`)) policyKeys.add(`${g?.tenantName}:${p}`);
  }
  const rulesOf = new Map<string, StoredRule[]>();
  for (const r of rules.values()) {
    const pk = `${r.config.tenantName}:${r.config.policyName}`;
    if (!policyKeys.has(pk)) continue;
    const list = rulesOf.get(pk) ?? [];
    list.push(r.config);
    rulesOf.set(pk, list);
  }
  const referencedGroups = new Set<string>();
  for (const [pk, list] of rulesOf) {
    const tenant = pk.slice(0, pk.indexOf(':'));
    for (const r of list)
      for (const g of [r.fromEndpointGroup, r.toEndpointGroup])
        if (g && usableGroup(`${tenant}:${g}`)) referencedGroups.add(`${tenant}:${g}`);
  }

  // endpoints: all of the view's networks and of the referenced groups (which bring their network)
  const inView = (e: StoredEndpoint): boolean => usable(e.network) && (netKeys.has(e.network) || referencedGroups.has(groupKeyOf(e)));
  // a remote VXLAN endpoint is reachable only through its host's VTEP: without one (its agent
  // never registered one), or with this host's own (two agents claiming one address), it is left
  // out rather than making this host's whole pipeline inconsistent
  const ownVtep = cluster.agents.get(host)?.vtepIp ?? '';
  const reachable = (e: StoredEndpoint): boolean => {
    if (e.homingHost === host || networks.get(e.network)?.config.encap !== 'vxlan') return true;
    const v = vtepOf(e.homingHost, e);
    return v !== '' && v !== ownVtep;
  };
  const viewEps = eps.filter(inView).filter((e) => (groupKeyOf(e) === '' || usableGroup(groupKeyOf(e))) && reachable(e));
  for (const e of viewEps) netKeys.add(e.network);
  for (const gk of referencedGroups) {
    const g = groups.get(gk)?.config;
    if (g) netKeys.add(`${g.tenantName}:${g.networkName}`);
  }
  const groupKeys = new Set([...localGroups, ...referencedGroups, ...viewEps.map(groupKeyOf).filter((g) => g !== '')]);

  const tenantNames = new Set<string>();
  const outNetworks: Network[] = [];
  for (const k of netKeys) {
    const n = networks.get(k)?.config;
    if (!n) continue;
    tenantNames.add(n.tenantName);
    outNetworks.push(networkMessage(k, n));
  }
  const outGroups: EndpointGroup[] = [];
  const profileKeys = new Set<string>();
  for (const k of groupKeys) {
    const g = groups.get(k);
    if (!g) continue;
    const c = g.config;
    tenantNames.add(c.tenantName);
    if (c.netProfile && localGroups.has(k)) profileKeys.add(`${c.tenantName}:${c.netProfile}`);
    outGroups.push({
      key: k,
      tenant: c.tenantName,
      name: c.groupName,
      network: `${c.tenantName}:${c.networkName}`,
      groupId: Number(g.oper.groupId ?? 0),
      policies: localGroups.has(k) ? [...(c.policies ?? [])].filter((p) => policyKeys.has(`${c.tenantName}:${p}`)) : [],
      netProfile: localGroups.has(k) ? (c.netProfile ?? '') : '',
    });
  }
  const outPolicies: Policy[] = [...policyKeys].map((pk) => {
    const p = policies.get(pk)?.config;
    const list = [...(rulesOf.get(pk) ?? [])].sort(byKey((r) => r.ruleId));
    const tenant = p?.tenantName ?? '';
    const grp = (name: string) => (name ? `${tenant}:${name}` : '');
    const net = (name: string) => (name ? `${tenant}:${name}` : '');
    return {
      key: pk,
      tenant,
      name: p?.policyName ?? '',
      rules: list.map(
        (r): Rule => ({
          ruleId: r.ruleId,
          direction: r.direction,
          priority: r.priority,
          action: r.action,
          protocol: r.protocol,
          port: r.port,
          fromGroup: grp(r.fromEndpointGroup),
          toGroup: grp(r.toEndpointGroup),
          fromNetwork: net(r.fromNetwork),
          toNetwork: net(r.toNetwork),
          fromIp: r.fromIpAddress,
          toIp: r.toIpAddress,
        }),
      ),
    };
  });
  const outProfiles: NetProfile[] = [];
  for (const k of profileKeys) {
    const p = profiles.get(k)?.config;
    if (!p) continue;
    outProfiles.push({
      key: k,
      tenant: p.tenantName,
      name: p.profileName,
      bandwidthKbps: String(bandwidthKbps(p.bandwidth ?? '')),
      burstKb: String(p.burst ?? 0),
      dscp: p.DSCP ?? 0,
    });
  }
  const outEndpoints: Endpoint[] = viewEps.map((e) => ({
    id: e.endpointID,
    network: e.network,
    group: groupKeyOf(e),
    host: e.homingHost,
    ip: e.ipAddress,
    ipv6: e.ipv6Address ?? '',
    mac: e.macAddress,
    intfName: e.intfName ?? '',
    vtepIp: vtepOf(e.homingHost, e),
    containerId: e.containerID ?? '',
    containerName: e.containerName ?? '',
    labels: { ...(e.labels ?? {}) },
    revision: cluster.endpoints.get(e.endpointID)?.modRevision ?? '0',
  }));
  const vteps = new Map<string, string>();
  for (const e of viewEps) {
    if (e.homingHost === host || e.homingHost === '') continue;
    const ip = vtepOf(e.homingHost, e);
    if (ip !== '') vteps.set(e.homingHost, ip);
  }
  const outVteps: Vtep[] = [...vteps].map(([h, ip]) => ({ host: h, vtepIp: ip }));
  const outTenants: Tenant[] = [...tenantNames].map((t) => {
    const id = cluster.tenantIds.get(t) ?? 0;
    return { name: t, ctZone: id, vrfId: id };
  });
  return {
    global,
    tenants: outTenants.sort(byKey((t) => t.name)),
    networks: outNetworks.sort(byKey((n) => n.key)),
    groups: outGroups.sort(byKey((g) => g.key)),
    policies: outPolicies.sort(byKey((p) => p.key)),
    profiles: outProfiles.sort(byKey((p) => p.key)),
    endpoints: outEndpoints.sort(byKey((e) => e.id)),
    vteps: outVteps.sort(byKey((v) => v.host)),
    bgp,
  };
}

/** The empty state (before anything was received). */
export function emptyHostView(): HostState {
  return { global: null, tenants: [], networks: [], groups: [], policies: [], profiles: [], endpoints: [], vteps: [], bgp: null };
}
