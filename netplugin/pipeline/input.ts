/**
 * What every pipeline feature is computed from (`PipelineInput`: the host state from netmaster
 * and the agent's local facts), and one checked, indexed and sorted view of it that features
 * share. Building the view checks what the schemas cannot (references between objects, ids that
 * must be unique on the host, overlapping addresses) and throws a NetloomError naming the field.
 * The view is memoised per input object, so features can all ask for it cheaply: treat an input
 * as immutable (build a new one for every change).
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import type { Endpoint, EndpointGroup, HostState, LocalFacts, NetProfile, Network, Tenant } from '../state/host-state';
import { byKey } from '../../lib/compare';

export interface PipelineInput {
  state: HostState;
  local: LocalFacts;
}

/** The gateway MAC used when netmaster sends a gateway without one (locally administered). */
export const DEFAULT_GATEWAY_MAC = '02:6e:6c:00:00:01';

export interface EndpointView {
  ep: Endpoint;
  /** normalised (lower case) MAC */
  mac: string;
  net: NetworkView;
  group: EndpointGroup | undefined;
  /**
   * its group's netprofile (bandwidth, burst, DSCP); undefined without a group, when the group has
   * none, or when the profile is not (yet) in the state: no QoS rather than no pipeline
   */
  profile: NetProfile | undefined;
  /** set for plugged local endpoints */
  ofport: number | undefined;
  /** set for remote endpoints: the VTEP of their host (VXLAN networks), or '' */
  vtepIp: string;
  local: boolean;
  /** a registered workload that is not a container (bare metal, a VM): on the VLAN, behind the uplink */
  external: boolean;
  /**
   * its group, when that group has a VLAN of its own on the uplink (ACI mode: its EPG's encap;
   * VLAN networks only); undefined: the endpoint uses the network's VLAN
   */
  vlanGroup: EndpointGroup | undefined;
}

export interface NetworkView {
  net: Network;
  tenant: Tenant;
  /** the gateway MAC, when the network has a gateway */
  gatewayMac: string | undefined;
  /** endpoints of the network, local and remote, sorted by id */
  endpoints: EndpointView[];
  /** local endpoints plugged into the bridge, sorted by ofport */
  localPorts: number[];
  /** VTEP addresses of the other hosts that have endpoints in this network, sorted */
  vteps: string[];
  /** this host has an endpoint (plugged or not) in the network */
  hasLocal: boolean;
  /**
   * traffic of this host can reach the network: it has a local endpoint there or, when fwdMode
   * is routing, in another network with a gateway of the same tenant (and this one has a
   * gateway too). Only reachable networks get flows towards other hosts, so tunnels go only to
   * hosts that share a network (or, routing, a tenant) with this one.
   */
  reachable: boolean;
  /** its external endpoints (VLAN networks only), sorted by id */
  externals: EndpointView[];
  /**
   * this host answers the network's gateway (ARP) for stations on the VLAN that are not
   * netloom's: exactly one host does, the first by name of those with an endpoint in the network
   * (every host that has the network knows all its endpoints, so all pick the same one). Only
   * for VLAN networks with a gateway and an external endpoint.
   */
  uplinkGateway: boolean;
  /**
   * ACI mode: the network's groups that have a VLAN of their own on the uplink (VLAN networks
   * only), sorted by groupId; empty for every other network, whose flows stay as without groups
   */
  vlanGroups: EndpointGroup[];
}

export interface PipelineView {
  input: PipelineInput;
  /** sorted by vrfId */
  tenants: Tenant[];
  /** sorted by networkId */
  networks: NetworkView[];
  /** sorted by id */
  endpoints: EndpointView[];
}

function bad(field: string, msg: string, code: 'INVALID_ARGUMENT' | 'CONFLICT' = 'INVALID_ARGUMENT'): never {
  throw new NetloomError(code, `pipeline input: ${field}: ${msg}`, { field });
}

function unique<T>(items: readonly T[], keyOf: (t: T) => string, what: (i: number) => string, label: string): void {
  const seen = new Map<string, number>();
  items.forEach((t, i) => {
    const k = keyOf(t);
    const prev = seen.get(k);
    if (prev !== undefined) bad(what(i), `${label} ${k} is also used by ${what(prev)}`, 'CONFLICT');
    seen.set(k, i);
  });
}

function ipSortKey(ip: string): string {
  return ip
    .split('.')
    .map((p) => p.padStart(3, '0'))
    .join('.');
}

function buildView(input: PipelineInput): PipelineView {
  const { state, local } = input;
  unique(
    state.tenants,
    (t) => t.name,
    (i) => `tenants[${i}].name`,
    'tenant',
  );
  unique(
    state.tenants,
    (t) => String(t.vrfId),
    (i) => `tenants[${i}].vrfId`,
    'vrfId',
  );
  unique(
    state.tenants,
    (t) => String(t.ctZone),
    (i) => `tenants[${i}].ctZone`,
    'ctZone',
  );
  unique(
    state.networks,
    (n) => n.key,
    (i) => `networks[${i}].key`,
    'network',
  );
  unique(
    state.networks,
    (n) => String(n.networkId),
    (i) => `networks[${i}].networkId`,
    'networkId',
  );
  unique(
    state.networks,
    (n) => `${n.encap} ${n.pktTag}`,
    (i) => `networks[${i}].pktTag`,
    'tag',
  );
  unique(
    state.groups,
    (g) => g.key,
    (i) => `groups[${i}].key`,
    'group',
  );
  unique(
    state.groups,
    (g) => String(g.groupId),
    (i) => `groups[${i}].groupId`,
    'groupId',
  );
  unique(
    state.endpoints,
    (e) => e.id,
    (i) => `endpoints[${i}].id`,
    'endpoint',
  );
  unique(
    state.profiles,
    (p) => p.key,
    (i) => `profiles[${i}].key`,
    'profile',
  );
  state.profiles.forEach((p, i) => {
    // meters carry kbit/s and kbit (the burst is in kbytes: 8 times it) in 32 bits; DSCP is 6 bits
    if (p.bandwidthKbps > 0xffffffff) bad(`profiles[${i}].bandwidthKbps`, `${p.bandwidthKbps} does not fit 32 bits`);
    if (p.burstKb * 8 > 0xffffffff) bad(`profiles[${i}].burstKb`, `${p.burstKb} kbytes is more kbit than 32 bits hold`);
    if (p.dscp > 63) bad(`profiles[${i}].dscp`, `${p.dscp} is not a DSCP value (0..63)`);
  });
  unique(
    state.vteps,
    (v) => v.host,
    (i) => `vteps[${i}].host`,
    'vtep host',
  );

  const tenants = new Map(state.tenants.map((t) => [t.name, t]));
  const netViews = new Map<string, NetworkView>();
  state.networks.forEach((n, i) => {
    const tenant = tenants.get(n.tenant);
    if (!tenant) bad(`networks[${i}].tenant`, `unknown tenant '${n.tenant}'`);
    netViews.set(n.key, {
      net: n,
      tenant,
      gatewayMac: n.gateway === '' ? undefined : (n.gatewayMac || DEFAULT_GATEWAY_MAC).toLowerCase(),
      endpoints: [],
      localPorts: [],
      vteps: [],
      hasLocal: false,
      reachable: false,
      externals: [],
      uplinkGateway: false,
      vlanGroups: [],
    });
  });
  const groups = new Map<string, EndpointGroup>();
  // a group's VLAN names it on the uplink: no other group and no VLAN network may use it
  const vlanOwners = new Map(state.networks.filter((n) => n.encap === 'vlan').map((n) => [n.pktTag, `network ${n.key}`]));
  state.groups.forEach((g, i) => {
    const nv = netViews.get(g.network) ?? netViews.get(`${g.tenant}:${g.network}`);
    if (!nv) bad(`groups[${i}].network`, `unknown network '${g.network}'`);
    if (nv.net.tenant !== g.tenant) bad(`groups[${i}].tenant`, `group of tenant '${g.tenant}' on network ${nv.net.key} of another tenant`);
    groups.set(g.key, g);
    if (g.pktTag === 0 || nv.net.encap !== 'vlan') return; // a group VLAN means something only on a VLAN network
    const owner = vlanOwners.get(g.pktTag);
    if (owner !== undefined) bad(`groups[${i}].pktTag`, `VLAN ${g.pktTag} of group ${g.key} is also used by ${owner}`, 'CONFLICT');
    vlanOwners.set(g.pktTag, `group ${g.key}`);
    nv.vlanGroups.push(g);
  });
  for (const nv of netViews.values()) nv.vlanGroups.sort((a, b) => a.groupId - b.groupId);
  const subnets = new Map<string, [ipaddr.IPv4, number] | undefined>();
  const subnetOf = (n: Network): [ipaddr.IPv4, number] | undefined => {
    if (!subnets.has(n.key)) subnets.set(n.key, n.subnet === '' ? undefined : ipaddr.IPv4.parseCIDR(n.subnet));
    return subnets.get(n.key);
  };
  const profiles = new Map(state.profiles.map((p) => [p.key, p]));
  const vtepOfHost = new Map(state.vteps.map((v) => [v.host, v.vtepIp]));
  const endpoints: EndpointView[] = [];
  state.endpoints.forEach((e, i) => {
    const nv = netViews.get(e.network);
    if (!nv) bad(`endpoints[${i}].network`, `unknown network '${e.network}'`);
    const external = e.external === true;
    if (external && nv.net.encap !== 'vlan')
      bad(
        `endpoints[${i}].external`,
        `external endpoint ${e.id} is in ${nv.net.encap} network ${nv.net.key}: only a VLAN network reaches it`,
      );
    let group: EndpointGroup | undefined;
    if (e.group !== '') {
      group = groups.get(e.group);
      if (!group) bad(`endpoints[${i}].group`, `unknown group '${e.group}'`);
      const gnet = netViews.get(group.network) ?? netViews.get(`${group.tenant}:${group.network}`);
      if (gnet !== nv) bad(`endpoints[${i}].group`, `group ${group.key} belongs to another network than ${e.network}`);
    }
    const n = nv.net;
    const range = subnetOf(n);
    if (range && !ipaddr.IPv4.parse(e.ip).match(range)) bad(`endpoints[${i}].ip`, `${e.ip} is not inside ${n.key}'s subnet ${n.subnet}`);
    if (n.gateway !== '' && e.ip === n.gateway) bad(`endpoints[${i}].ip`, `${e.ip} is the gateway of ${n.key}`, 'CONFLICT');
    const isLocal = !external && e.host === local.hostName;
    let vtepIp = '';
    if (!isLocal && n.encap === 'vxlan') {
      vtepIp = vtepOfHost.get(e.host) ?? e.vtepIp;
      if (vtepIp === '')
        bad(`endpoints[${i}].vtepIp`, `remote endpoint ${e.id} on host ${e.host} has no VTEP (neither in vteps nor on the endpoint)`);
      if (vtepIp === local.vtepIp) bad(`endpoints[${i}].vtepIp`, `remote endpoint ${e.id} has this host's own VTEP ${vtepIp}`, 'CONFLICT');
    }
    const port = isLocal ? local.ports[e.id] : undefined;
    const profile = group && group.netProfile !== '' ? profiles.get(`${group.tenant}:${group.netProfile}`) : undefined;
    const ev: EndpointView = {
      ep: e,
      mac: e.mac.toLowerCase(),
      net: nv,
      group,
      profile,
      ofport: port?.ofport,
      vtepIp,
      local: isLocal,
      external,
      vlanGroup: group && nv.vlanGroups.includes(group) ? group : undefined,
    };
    endpoints.push(ev);
    nv.endpoints.push(ev);
  });
  // addresses: a MAC once per network, an IPv4 once per tenant (subnets do not overlap inside a tenant)
  unique(
    endpoints,
    (e) => `${e.mac} in ${e.net.net.key}`,
    (i) => `endpoints[${i}].mac`,
    'MAC',
  );
  unique(
    endpoints,
    (e) => `${e.ep.ip} in tenant ${e.net.tenant.name}`,
    (i) => `endpoints[${i}].ip`,
    'IP',
  );

  for (const nv of netViews.values()) {
    nv.endpoints.sort(byKey((e) => e.ep.id));
    nv.localPorts = nv.endpoints.flatMap((e) => (e.ofport === undefined ? [] : [e.ofport])).sort((a, b) => a - b);
    nv.hasLocal = nv.endpoints.some((e) => e.local);
    nv.externals = nv.endpoints.filter((e) => e.external);
    if (nv.externals.length > 0 && nv.gatewayMac !== undefined) {
      const hosts = nv.endpoints.filter((e) => !e.external).map((e) => e.ep.host);
      nv.uplinkGateway = nv.hasLocal && hosts.every((h) => h >= local.hostName);
    }
    nv.vteps = [...new Set(nv.endpoints.filter((e) => !e.local && e.vtepIp !== '').map((e) => e.vtepIp))].sort(byKey(ipSortKey));
  }
  const routing = state.global.fwdMode === 'routing';
  const routedTenants = new Set(
    [...netViews.values()].filter((nv) => nv.hasLocal && nv.gatewayMac !== undefined).map((nv) => nv.tenant.name),
  );
  for (const nv of netViews.values())
    nv.reachable = nv.hasLocal || (routing && nv.gatewayMac !== undefined && routedTenants.has(nv.tenant.name));
  return {
    input,
    tenants: [...state.tenants].sort((a, b) => a.vrfId - b.vrfId),
    networks: [...netViews.values()].sort((a, b) => a.net.networkId - b.net.networkId),
    endpoints: [...endpoints].sort((a, b) => (a.ep.id < b.ep.id ? -1 : a.ep.id > b.ep.id ? 1 : 0)),
  };
}

/**
 * Whether this host takes a VLAN network's packets from the uplink: it has an endpoint there, or
 * (routing) it routes for the network and a station that is not netloom's lives on it (which
 * may send to the gateway MAC wherever the VLAN learnt it, i.e. on any host that routes there).
 */
export function takesUplink(nv: NetworkView): boolean {
  return nv.net.encap === 'vlan' && (nv.hasLocal || (nv.reachable && nv.externals.length > 0));
}

const views = new WeakMap<PipelineInput, PipelineView>();

/** The checked view of an input (throws NetloomError on inconsistent state). */
export function pipelineView(input: PipelineInput): PipelineView {
  let v = views.get(input);
  if (!v) {
    v = buildView(input);
    views.set(input, v);
  }
  return v;
}
