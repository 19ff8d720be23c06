/**
 * Semantic checks of a create or update, as pure functions over (object, current state):
 * references exist, subnets do not overlap inside a tenant, tags lie in the global ranges and are
 * unused, pools and gateways lie in the subnet, rule field rules, bandwidth units, name clashes,
 * and which updates are safe. Each failure is a NetloomError naming the field.
 * `needsForUpsert` lists what the check reads, so the store can load and then guard exactly that.
 */
import { NetloomError } from '../../lib/errors';
import { MAX_BANDWIDTH_KBPS } from '../../lib/kinds/netprofile';
import { keyOf, kindOf } from './keys';
import {
  blocksOverlap,
  formatV4,
  inRanges,
  isV4AddressOrCidr,
  parseBandwidth,
  parseTagRanges,
  parseV4,
  parseV4Cidr,
  parseV4Range,
  parseV4Subnet,
  parseV6,
  parseV6Cidr,
} from './net';
import type { ObjectOf, ObjectType, Network, EndpointGroup, ExternalEndpoint, Rule, Global } from './schemas';
import { emptyNeeds, type IntentState, type Needs } from './state';
import { MAX_VLAN, tagInUse } from './network-tag';
import { groupTagOf } from './group-tag';
import { isRoutedNetwork } from '../../lib/bgp/settings';
import { aciNeeds, checkAciUpsert } from './aci-checks';
import { bgpConfigured, checkBgpDefault, checkBgpObject, checkRoutedOverlap, checkRoutedOverlaps, mayBeRouted } from './bgp-checks';

const invalid = (field: string, msg: string) => new NetloomError('INVALID_ARGUMENT', msg, { field });
const missing = (field: string, msg: string) => new NetloomError('NOT_FOUND', msg, { field });
const conflict = (field: string, msg: string) => new NetloomError('CONFLICT', msg, { field });

export { MAX_VLAN };
export const MAX_VXLAN = 16777215;

/**
 * The tags a new network of `encap` may take: the global VLAN or VXLAN ranges; a routed (`bgp`)
 * network's tag is netmaster's own id for it (1..MAX_VXLAN, never given: see checkNetwork), so
 * that every network has a unique non-zero id in the host views.
 */
export function tagSpace(encap: 'vlan' | 'vxlan' | 'bgp', g: Global): { ranges: Array<[number, number]>; text: string } {
  if (encap === 'bgp') return { ranges: [[1, MAX_VXLAN]], text: `1-${MAX_VXLAN}` };
  const text = encap === 'vlan' ? g.vlans : g.vxlans;
  return { ranges: parseTagRanges(text, encap === 'vlan' ? MAX_VLAN : MAX_VXLAN) ?? [], text };
}

/**
 * What checking an upsert of `obj` reads. References and name clashes are single keys (their
 * revision is guarded, absence included), so unrelated creates in one tenant never conflict;
 * only checks that must see every object of a kind (subnet overlap, global ranges) load a range.
 */
export function needsForUpsert<T extends ObjectType>(type: T, obj: ObjectOf[T]): Needs {
  const n = emptyNeeds();
  const o = obj as unknown as Record<string, unknown>;
  const t = String(o.tenantName ?? '');
  const key = (kt: ObjectType, k: string) => n.keys.push({ type: kt, key: k });
  const own = () => key(type, keyOf(type, obj));
  const tenantKey = () => key('tenant', t);
  switch (type) {
    case 'network': {
      const nw = obj as ObjectOf['network'];
      tenantKey();
      key('global', 'global');
      if (mayBeRouted(nw.encap)) {
        // a routed network may not overlap another tenant's routed one: read them all (and whether
        // BGP is configured, which makes a routing-mode VLAN network routed)
        n.ranges.push({ type: 'network', prefix: '' }, { type: 'Bgp', prefix: '' });
      } else n.ranges.push({ type: 'network', prefix: `${t}:` });
      key('endpointGroup', `${t}:${nw.networkName}`);
      if (nw.pktTag > 0) n.tags.push({ encap: nw.encap, tag: nw.pktTag });
      break;
    }
    case 'endpointGroup': {
      const g = obj as ObjectOf['endpointGroup'];
      own();
      tenantKey();
      key('network', `${t}:${g.networkName}`);
      // whether the group takes a VLAN of its own (ACI mode: model/group-tag.ts)
      key('global', 'global');
      if (g.groupName !== g.networkName) key('network', `${t}:${g.groupName}`);
      for (const p of new Set(g.policies)) key('policy', `${t}:${p}`);
      if (g.netProfile) key('netprofile', `${t}:${g.netProfile}`);
      for (const c of new Set(g.extContractsGrps)) key('extContractsGroup', `${t}:${c}`);
      break;
    }
    case 'rule': {
      const r = obj as ObjectOf['rule'];
      own();
      tenantKey();
      key('policy', `${t}:${r.policyName}`);
      for (const g of new Set([r.fromEndpointGroup, r.toEndpointGroup])) if (g) key('endpointGroup', `${t}:${g}`);
      for (const nw of new Set([r.fromNetwork, r.toNetwork])) if (nw) key('network', `${t}:${nw}`);
      break;
    }
    case 'global':
      own();
      // the VLAN range must keep every network's and group's VLAN
      n.ranges.push({ type: 'network', prefix: '' }, { type: 'Bgp', prefix: '' }, { type: 'endpointGroup', prefix: '' });
      break;
    case 'Bgp':
      // the first BGP settings can make routing-mode VLAN networks routed: the overlap rule reads them all
      own();
      key('global', 'global');
      n.ranges.push({ type: 'network', prefix: '' }, { type: 'Bgp', prefix: '' });
      break;
    case 'serviceLB': {
      own();
      tenantKey();
      const s = obj as ObjectOf['serviceLB'];
      if (s.networkName) key('network', `${t}:${s.networkName}`);
      break;
    }
    default: {
      // a kind without its own checks: itself, its tenant and what its declared references name
      own();
      const kind = kindOf(type);
      if (kind.scope === 'tenant' && type !== 'tenant') tenantKey();
      for (const r of kind.references) for (const v of new Set(namesIn(o[r.field]))) key(r.kind as ObjectType, `${t}:${v}`);
    }
  }
  for (const k of aciNeeds(type)) if (!n.keys.some((x) => x.type === k.type && x.key === k.key)) key(k.type, k.key);
  return n;
}

function namesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value !== '' ? [value] : [];
}

/** The checks of a kind without its own: its tenant and the objects its references name exist. */
function checkDeclared(type: ObjectType, obj: object, state: IntentState): void {
  const kind = kindOf(type);
  const o = obj as Record<string, unknown>;
  const t = String(o.tenantName ?? '');
  if (kind.scope === 'tenant' && type !== 'tenant') requireTenant(state, t);
  for (const r of kind.references) {
    const target = kindOf(r.kind as ObjectType);
    for (const v of namesIn(o[r.field])) {
      if (!state.get(r.kind as ObjectType, `${t}:${v}`)) throw missing(r.field, `${target.label} ${t}:${v} does not exist`);
    }
  }
}

/** The tag a loaded network uses (its config's, or the allocated one in its oper). */
function tagOf(state: IntentState, nw: Network): number {
  return tagInUse(nw, state.operOf('network', `${nw.tenantName}:${nw.networkName}`));
}

function requireTenant(state: IntentState, t: string): void {
  if (!state.get('tenant', t)) throw missing('tenantName', `tenant ${t} does not exist`);
}

/**
 * Check an upsert of `obj` against `state`. Returns the object to store (a network update that
 * leaves pktTag 0 keeps the pktTag its config had: the tag in use stays in its oper) and the
 * previous version, if any.
 */
export function checkUpsert<T extends ObjectType>(
  type: T,
  obj: ObjectOf[T],
  state: IntentState,
): { obj: ObjectOf[T]; prev: ObjectOf[T] | undefined } {
  const key = keyOf(type, obj);
  const prev = state.get(type, key);
  checkAciUpsert(type, obj, state);
  switch (type) {
    case 'network':
      return { obj: checkNetwork(obj as Network, prev as Network | undefined, state) as ObjectOf[T], prev };
    case 'endpointGroup':
      checkGroup(obj as EndpointGroup, prev as EndpointGroup | undefined, state);
      return { obj, prev };
    case 'rule':
      checkRule(obj as Rule, state);
      return { obj, prev };
    case 'netprofile': {
      const p = obj as ObjectOf['netprofile'];
      requireTenant(state, p.tenantName);
      if (p.bandwidth !== '') checkBandwidth(p.bandwidth);
      return { obj, prev };
    }
    case 'global':
      checkGlobal(obj as Global, prev as Global | undefined, state);
      return { obj, prev };
    case 'Bgp': {
      const b = obj as ObjectOf['Bgp'];
      checkBgpObject(b);
      const g = state.global();
      // the first BGP settings can make routing-mode VLAN networks routed (Contiv's L3 mode)
      const before = g.bgpAs !== undefined || state.list('Bgp', '').some((o) => o.hostname !== b.hostname);
      if (!before)
        checkRoutedOverlaps(state.list('network', ''), g.fwdMode, true, 'hostname', `the first BGP settings (Bgp ${b.hostname})`);
      return { obj, prev };
    }
    case 'serviceLB': {
      const s = obj as ObjectOf['serviceLB'];
      requireTenant(state, s.tenantName);
      checkServiceFields(s);
      // the service's address comes from its network
      if (s.networkName === '') throw invalid('networkName', `service ${s.tenantName}:${s.serviceName} needs a network (networkName)`);
      const nw = state.get('network', `${s.tenantName}:${s.networkName}`);
      if (!nw) throw missing('networkName', `network ${s.tenantName}:${s.networkName} does not exist`);
      if (s.ipAddress !== '') {
        const ip = parseV4(s.ipAddress);
        if (ip === undefined) throw invalid('ipAddress', `ipAddress '${s.ipAddress}' must be an IPv4 address`);
        const sub = parseV4Subnet(nw.subnet);
        if (sub && (ip < sub.first || ip > sub.last)) throw invalid('ipAddress', `ipAddress ${s.ipAddress} is outside subnet ${nw.subnet}`);
        if (nw.gateway !== '' && parseV4(nw.gateway) === ip)
          throw invalid('ipAddress', `ipAddress ${s.ipAddress} is the gateway of network ${s.tenantName}:${s.networkName}`);
      }
      return { obj, prev };
    }
    case 'externalEndpoint':
      checkDeclared(type, obj, state);
      checkExternalEndpoint(obj as ExternalEndpoint, prev as ExternalEndpoint | undefined, state);
      return { obj, prev };
    default:
      checkDeclared(type, obj, state);
      return { obj, prev };
  }
}

/**
 * An external endpoint (its tenant, network and group exist: checkDeclared): a VLAN network (the
 * hosts reach it through their uplink; a VXLAN network has no wire it could be on), an address
 * inside the subnet that is not the gateway, a unicast MAC, a group of that network. Its
 * addresses, network and group are fixed while it exists (they are its endpoint's allocation).
 */
function checkExternalEndpoint(x: ExternalEndpoint, prev: ExternalEndpoint | undefined, state: IntentState): void {
  const t = x.tenantName;
  const nw = state.get('network', `${t}:${x.networkName}`)!;
  if (nw.encap !== 'vlan')
    throw invalid('networkName', `network ${t}:${x.networkName} is a ${nw.encap} network: external endpoints need a VLAN network`);
  const ip = parseV4(x.ipAddress);
  if (ip === undefined) throw invalid('ipAddress', `ipAddress '${x.ipAddress}' must be an IPv4 address`);
  const sub = parseV4Subnet(nw.subnet);
  if (sub && (ip < sub.first || ip > sub.last))
    throw invalid('ipAddress', `ipAddress ${x.ipAddress} is not an address of network ${t}:${x.networkName} (subnet ${nw.subnet})`);
  if (nw.gateway !== '' && parseV4(nw.gateway) === ip)
    throw conflict('ipAddress', `ipAddress ${x.ipAddress} is the gateway of network ${t}:${x.networkName}`);
  if ((parseInt(x.macAddress.slice(0, 2), 16) & 1) !== 0 || /^(00:){5}00$/.test(x.macAddress))
    throw invalid('macAddress', `macAddress ${x.macAddress} must be a unicast MAC (not multicast, not all zero)`);
  if (x.groupName !== '') {
    const g = state.get('endpointGroup', `${t}:${x.groupName}`)!;
    if (g.networkName !== x.networkName)
      throw invalid('groupName', `endpoint group ${t}:${x.groupName} belongs to network ${g.networkName}, not ${x.networkName}`);
  }
  if (prev) {
    for (const f of ['networkName', 'groupName', 'ipAddress', 'macAddress'] as const) {
      if (x[f] !== prev[f])
        throw conflict(
          f,
          `cannot change ${f} of external endpoint ${t}:${x.endpointName} from '${prev[f]}' to '${x[f]}': delete and register it again`,
        );
    }
  }
}

/** One value per selector label and one mapping per service port and protocol (else which applies is unclear). */
function checkServiceFields(s: ObjectOf['serviceLB']): void {
  const labels = new Set<string>();
  for (const sel of s.selectors) {
    const k = sel.slice(0, sel.indexOf('='));
    if (labels.has(k)) throw invalid('selectors', `selectors name label '${k}' twice`);
    labels.add(k);
  }
  const ports = new Set<string>();
  for (const p of s.ports) {
    const [port, , proto] = p.split(':');
    const k = `${Number(port)}/${proto}`;
    if (ports.has(k)) throw invalid('ports', `ports map ${k} twice`);
    ports.add(k);
  }
}

function checkNetwork(nw: Network, prev: Network | undefined, state: IntentState): Network {
  requireTenant(state, nw.tenantName);
  if (nw.encap === 'bgp' && nw.pktTag > 0 && !prev) {
    throw invalid('pktTag', `a bgp network is routed, it has no VLAN or VNI: leave pktTag out (got ${nw.pktTag})`);
  }
  const sub = parseV4Subnet(nw.subnet);
  if (!sub) throw invalid('subnet', `subnet '${nw.subnet}' must be an IPv4 CIDR (10.1.1.0/24) or range (10.1.1.10-10.1.1.20/24)`);
  if (sub.prefix > 30 && !nw.subnet.includes('-')) throw invalid('subnet', `subnet ${nw.subnet} is too small: use /30 or larger`);
  if (nw.gateway !== '') {
    const gw = parseV4(nw.gateway);
    if (gw === undefined) throw invalid('gateway', `gateway '${nw.gateway}' must be an IPv4 address`);
    const size = 2 ** (32 - sub.prefix);
    if (gw <= sub.base || gw >= sub.base + size - 1)
      throw invalid('gateway', `gateway ${nw.gateway} is not a host address inside subnet ${nw.subnet}`);
  }
  if (nw.ipv6Subnet !== '') {
    const s6 = parseV6Cidr(nw.ipv6Subnet);
    if (!s6) throw invalid('ipv6Subnet', `ipv6Subnet '${nw.ipv6Subnet}' must be an IPv6 CIDR (2001:db8::/64)`);
    if (128 - s6.prefix < 32 - sub.prefix)
      throw invalid('ipv6Subnet', `ipv6Subnet ${nw.ipv6Subnet} has fewer host addresses than subnet ${nw.subnet}`);
    if (nw.ipv6Gateway !== '') {
      const g6 = parseV6(nw.ipv6Gateway);
      if (!g6) throw invalid('ipv6Gateway', `ipv6Gateway '${nw.ipv6Gateway}' must be an IPv6 address`);
      if (!g6.match(s6.addr, s6.prefix))
        throw invalid('ipv6Gateway', `ipv6Gateway ${nw.ipv6Gateway} is outside ipv6Subnet ${nw.ipv6Subnet}`);
      // an endpoint whose IPv6 address would be the gateway's gets another (model/endpoint-v6.ts)
    }
  } else if (nw.ipv6Gateway !== '') {
    throw invalid('ipv6Gateway', 'ipv6Gateway needs ipv6Subnet');
  }
  let out = nw;
  if (prev) {
    // the tag in use (network-tag.ts): 0 keeps it, naming another is refused
    const inUse = tagOf(state, prev);
    const tag = nw.pktTag === 0 ? inUse : nw.pktTag;
    for (const f of ['subnet', 'encap', 'gateway', 'ipv6Subnet', 'ipv6Gateway', 'nwType'] as const) {
      if (nw[f] !== prev[f]) {
        throw conflict(
          f,
          `cannot change ${f} of network ${nw.tenantName}:${nw.networkName} from '${prev[f]}' to '${nw[f]}' while it exists: delete and re-create it`,
        );
      }
    }
    if (tag !== inUse) {
      throw conflict(
        'pktTag',
        `cannot change pktTag of network ${nw.tenantName}:${nw.networkName} from ${inUse} to ${tag} while it exists: delete and re-create it`,
      );
    }
    // the config keeps what its user gave: 0 (allocated) stays 0, a tag named here is kept
    out = { ...nw, pktTag: nw.pktTag === 0 ? prev.pktTag : nw.pktTag };
  } else if (nw.pktTag > 0) {
    const space = tagSpace(nw.encap, state.global());
    if (!inRanges(nw.pktTag, space.ranges)) {
      throw invalid('pktTag', `pktTag ${nw.pktTag} is outside the global ${nw.encap} range ${space.text}`);
    }
    const owner = state.tagOwner(nw.encap, nw.pktTag);
    // the VLAN pool is shared with groups in ACI mode (model/group-tag.ts): a VLAN's owner may be either
    if (owner !== undefined) {
      const what = nw.encap === 'vlan' ? 'network or endpoint group' : 'network';
      throw conflict('pktTag', `${nw.encap} ${nw.pktTag} is already used by ${what} ${owner}`);
    }
  }
  if (mayBeRouted(nw.encap)) {
    const g = state.global();
    const configured = bgpConfigured(g, state);
    if (isRoutedNetwork(nw.encap, g.fwdMode, configured)) checkRoutedOverlap(nw, state.list('network', ''), g.fwdMode, configured);
  }
  const others = state.list('network', `${nw.tenantName}:`).filter((o) => o.networkName !== nw.networkName);
  for (const o of others) {
    const os = parseV4Subnet(o.subnet);
    if (os && blocksOverlap(os, sub)) {
      throw conflict('subnet', `subnet ${nw.subnet} overlaps subnet ${o.subnet} of network ${o.tenantName}:${o.networkName}`);
    }
    if (nw.ipv6Subnet !== '' && o.ipv6Subnet !== '') {
      const a = parseV6Cidr(nw.ipv6Subnet);
      const b = parseV6Cidr(o.ipv6Subnet);
      if (a && b && (a.addr.match(b.addr, b.prefix) || b.addr.match(a.addr, a.prefix))) {
        throw conflict(
          'ipv6Subnet',
          `ipv6Subnet ${nw.ipv6Subnet} overlaps ipv6Subnet ${o.ipv6Subnet} of network ${o.tenantName}:${o.networkName}`,
        );
      }
    }
  }
  if (state.get('endpointGroup', `${nw.tenantName}:${nw.networkName}`)) {
    throw conflict(
      'networkName',
      `an endpoint group named ${nw.networkName} exists in tenant ${nw.tenantName}; a network may not share its name`,
    );
  }
  return out;
}

function checkGroup(g: EndpointGroup, prev: EndpointGroup | undefined, state: IntentState): void {
  requireTenant(state, g.tenantName);
  const t = g.tenantName;
  const nw = state.get('network', `${t}:${g.networkName}`);
  if (!nw) throw missing('networkName', `network ${t}:${g.networkName} does not exist`);
  if (state.get('network', `${t}:${g.groupName}`)) {
    throw conflict('groupName', `a network named ${g.groupName} exists in tenant ${t}; a group may not share its name`);
  }
  if (prev) {
    for (const f of ['networkName', 'ipPool'] as const) {
      if (g[f] !== prev[f])
        throw conflict(f, `cannot change ${f} of endpoint group ${t}:${g.groupName} from '${prev[f]}' to '${g[f]}' while it exists`);
    }
  }
  if (g.ipPool !== '') {
    const pool = parseV4Range(g.ipPool);
    if (!pool) throw invalid('ipPool', `ipPool '${g.ipPool}' must be a range like 10.1.1.10-10.1.1.20`);
    const sub = parseV4Subnet(nw.subnet);
    if (sub && (pool.first < sub.first || pool.last > sub.last)) {
      throw invalid(
        'ipPool',
        `ipPool ${g.ipPool} is outside the addresses of subnet ${nw.subnet} (${formatV4(sub.first)}-${formatV4(sub.last)})`,
      );
    }
  }
  for (const p of g.policies) {
    if (!state.get('policy', `${t}:${p}`)) throw missing('policies', `policy ${t}:${p} does not exist`);
  }
  if (g.netProfile !== '' && !state.get('netprofile', `${t}:${g.netProfile}`)) {
    throw missing('netProfile', `netprofile ${t}:${g.netProfile} does not exist`);
  }
  for (const c of g.extContractsGrps) {
    if (!state.get('extContractsGroup', `${t}:${c}`))
      throw missing('extContractsGrps', `external contracts group ${t}:${c} does not exist`);
  }
}

function checkRule(r: Rule, state: IntentState): void {
  const t = r.tenantName;
  requireTenant(state, t);
  if (!state.get('policy', `${t}:${r.policyName}`)) throw missing('policyName', `policy ${t}:${r.policyName} does not exist`);
  const side = r.direction === 'in' ? 'from' : 'to';
  const other = r.direction === 'in' ? 'to' : 'from';
  for (const f of ['EndpointGroup', 'Network', 'IpAddress'] as const) {
    if (r[`${other}${f}`] !== '') {
      throw invalid(
        `${other}${f}`,
        `an '${r.direction}' rule matches on ${side}EndpointGroup, ${side}Network or ${side}IpAddress; ${other}${f} is not allowed`,
      );
    }
  }
  // a network goes alone; a group with an address is the group's members inside it (as Contiv took it)
  if (r[`${side}Network`] !== '') {
    const with_ = (['EndpointGroup', 'IpAddress'] as const).find((f) => r[`${side}${f}`] !== '');
    if (with_) {
      throw invalid(
        with_ === 'EndpointGroup' ? `${side}Network` : `${side}IpAddress`,
        `${side}Network and ${side}${with_} are mutually exclusive (a group with an address is allowed: the group's members inside it)`,
      );
    }
  }
  const ip = r[`${side}IpAddress`];
  if (ip !== '' && !isV4AddressOrCidr(ip)) throw invalid(`${side}IpAddress`, `${side}IpAddress '${ip}' must be an IPv4 address or CIDR`);
  const grp = r[`${side}EndpointGroup`];
  if (grp !== '' && !state.get('endpointGroup', `${t}:${grp}`))
    throw missing(`${side}EndpointGroup`, `endpoint group ${t}:${grp} does not exist`);
  const net = r[`${side}Network`];
  if (net !== '' && !state.get('network', `${t}:${net}`)) throw missing(`${side}Network`, `network ${t}:${net} does not exist`);
  if (r.port !== 0 && !['tcp', 'udp', '6', '17'].includes(r.protocol)) {
    // Contiv took a port without protocol and ignored the port, widening the rule to every protocol
    const got = r.protocol === '' ? 'no protocol given; Contiv ignored such a port and matched every protocol' : `got '${r.protocol}'`;
    throw invalid('port', `port ${r.port} needs protocol tcp or udp (${got})`);
  }
}

/** Bandwidth text the agent can use: it parses and comes to a whole 32-bit number of kbit/s. */
function checkBandwidth(text: string): void {
  const bps = parseBandwidth(text);
  if (bps === undefined) {
    throw invalid('bandwidth', `bandwidth '${text}' must be a number with a unit: kbps, mbps or gbps (e.g. 10mbps)`);
  }
  const kbps = bps / 1000;
  if (kbps > MAX_BANDWIDTH_KBPS) {
    throw invalid(
      'bandwidth',
      `bandwidth '${text}' is too large: the agent's rate is at most ${MAX_BANDWIDTH_KBPS}kbps (about 4.29 Tbit/s)`,
    );
  }
  if (!Number.isInteger(kbps)) throw invalid('bandwidth', `bandwidth '${text}' must be a whole number of kbps, at least 1kbps`);
}

function checkGlobal(g: Global, prev: Global | undefined, state: IntentState): void {
  const vlans = parseTagRanges(g.vlans, MAX_VLAN);
  if (!vlans) throw invalid('vlans', `vlans '${g.vlans}' must be a range N-M inside 1-${MAX_VLAN}`);
  const vxlans = parseTagRanges(g.vxlans, MAX_VXLAN);
  if (!vxlans) throw invalid('vxlans', `vxlans '${g.vxlans}' must be a range N-M inside 1-${MAX_VXLAN}`);
  if (parseV4Cidr(g.pvtSubnet) === undefined) throw invalid('pvtSubnet', `pvtSubnet '${g.pvtSubnet}' must be an IPv4 CIDR`);
  checkBgpDefault(g);
  const networks = state.list('network', '');
  // a first BGP default can make routing-mode VLAN networks routed (the fwdMode cannot change under networks)
  if (g.bgpAs !== undefined && prev?.bgpAs === undefined && state.list('Bgp', '').length === 0)
    checkRoutedOverlaps(networks, g.fwdMode, true, 'bgpAs', 'the first BGP settings (the BGP default)');
  if (prev && networks.length > 0) {
    for (const f of ['fwdMode', 'pvtSubnet'] as const) {
      if (g[f] !== prev[f])
        throw conflict(f, `cannot change ${f} from '${prev[f]}' to '${g[f]}' while ${networks.length} network(s) exist`);
    }
  }
  for (const nw of networks) {
    const tag = tagOf(state, nw);
    if (tag === 0 || nw.encap === 'bgp') continue;
    const ranges = nw.encap === 'vlan' ? vlans : vxlans;
    if (!inRanges(tag, ranges)) {
      const f = nw.encap === 'vlan' ? 'vlans' : 'vxlans';
      throw conflict(f, `${f} '${g[f]}' leaves out ${nw.encap} ${tag} used by network ${nw.tenantName}:${nw.networkName}`);
    }
  }
  for (const grp of state.list('endpointGroup', '')) {
    const key = `${grp.tenantName}:${grp.groupName}`;
    const tag = groupTagOf(state.operOf('endpointGroup', key));
    if (tag !== undefined && !inRanges(tag, vlans))
      throw conflict('vlans', `vlans '${g.vlans}' leaves out vlan ${tag} used by endpoint group ${key}`);
  }
}
