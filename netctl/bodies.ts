/**
 * The request bodies Contiv's netctl sent, as pure functions. Contiv serialized its generated Go
 * structs: fields in struct order, empty strings, zero numbers and empty lists omitted
 * (`omitempty`), and the `link-sets` / `links` structs always present as empty placeholders.
 * Key order is kept here so the JSON text matches Contiv's byte for byte.
 */
import { KINDS, type KindDescriptor } from '../lib/kinds';
import type { JsonObject, Json } from './client';

type Field = [key: string, value: string | number | string[] | undefined];

/** The fields in order, without Go's omitempty zero values. */
function omitEmpty(fields: Field[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of fields) {
    if (v === undefined || v === '' || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

function placeholders(linkSets: boolean, links: string[] | undefined): JsonObject {
  const out: JsonObject = {};
  if (linkSets) out['link-sets'] = {};
  if (links) {
    const l: JsonObject = {};
    for (const name of links) l[name] = {};
    out['links'] = l;
  }
  return out;
}

/**
 * The body of a create for `kind`: the given fields in Contiv's struct order (its generated
 * structs sorted the fields by name, upper case first) without zero values, then the
 * placeholders the kind declares.
 */
export function contivBody(kind: KindDescriptor, values: Record<string, Field[1]>): JsonObject {
  const fields = Object.keys(values)
    .sort()
    .map((k): Field => [k, values[k]]);
  const n = kind.netctl;
  return { ...omitEmpty(fields), ...placeholders(n.linkSets, n.links ? Object.keys(kind.links ?? {}) : undefined) };
}

export function tenantBody(tenantName: string): JsonObject {
  return contivBody(KINDS.tenant, { tenantName });
}

export interface NetworkSpec {
  tenantName: string;
  networkName: string;
  nwType: string;
  encap: string;
  pktTag: number;
  subnet: string;
  gateway: string;
  ipv6Subnet: string;
  ipv6Gateway: string;
  cfgdTag: string;
}

export function networkBody(n: NetworkSpec): JsonObject {
  return contivBody(KINDS.network, { ...n });
}

export interface GroupSpec {
  tenantName: string;
  networkName: string;
  groupName: string;
  netProfile: string;
  ipPool: string;
  policies: string[];
  extContractsGrps: string[];
  cfgdTag: string;
}

export function groupBody(g: GroupSpec): JsonObject {
  return contivBody(KINDS.endpointGroup, { ...g });
}

export function policyBody(tenantName: string, policyName: string): JsonObject {
  return contivBody(KINDS.policy, { tenantName, policyName });
}

export interface RuleSpec {
  tenantName: string;
  policyName: string;
  ruleId: string;
  priority: number;
  direction: string;
  fromEndpointGroup: string;
  toEndpointGroup: string;
  fromNetwork: string;
  toNetwork: string;
  fromIpAddress: string;
  toIpAddress: string;
  protocol: string;
  port: number;
  action: string;
}

export function ruleBody(r: RuleSpec): JsonObject {
  return contivBody(KINDS.rule, { ...r });
}

export interface NetprofileSpec {
  tenantName: string;
  profileName: string;
  bandwidth: string;
  dscp: number;
  burst: number;
}

export function netprofileBody(p: NetprofileSpec): JsonObject {
  return contivBody(KINDS.netprofile, {
    DSCP: p.dscp,
    bandwidth: p.bandwidth,
    burst: p.burst,
    profileName: p.profileName,
    tenantName: p.tenantName,
  });
}

export interface BgpSpec {
  hostname: string;
  routerip: string;
  as: string;
  neighbor: string;
  neighborAs: string;
  /** netloom's additions, sent only when given (Contiv's body otherwise) */
  neighbors?: string[] | undefined;
  holdTime?: number | undefined;
  keepaliveTime?: number | undefined;
}

export function bgpBody(b: BgpSpec): JsonObject {
  const body = contivBody(KINDS.Bgp, {
    as: b.as,
    hostname: b.hostname,
    neighbor: b.neighbor,
    'neighbor-as': b.neighborAs,
    routerip: b.routerip,
  });
  if (b.neighbors !== undefined && b.neighbors.length > 0) body['neighbors'] = b.neighbors;
  if (b.holdTime !== undefined) body['holdTime'] = b.holdTime;
  if (b.keepaliveTime !== undefined) body['keepaliveTime'] = b.keepaliveTime;
  return body;
}

export function appProfileBody(tenantName: string, appProfileName: string, endpointGroups: string[]): JsonObject {
  return contivBody(KINDS.appProfile, { tenantName, appProfileName, endpointGroups });
}

export function extContractsBody(tenantName: string, contractsGroupName: string, contractsType: string, contracts: string[]): JsonObject {
  return contivBody(KINDS.extContractsGroup, { tenantName, contractsGroupName, contractsType, contracts });
}

export interface ServiceSpec {
  tenantName: string;
  serviceName: string;
  networkName: string;
  ipAddress: string;
  selectors: string[];
  ports: string[];
}

export function serviceBody(s: ServiceSpec): JsonObject {
  return contivBody(KINDS.serviceLB, { ...s });
}

const GLOBAL_FIELDS = ['key', 'arpMode', 'fwdMode', 'name', 'networkInfraType', 'pvtSubnet', 'vlans', 'vxlans'] as const;

export interface GlobalChanges {
  /** the default prefix length of address blocks (issue 15) */
  blockPrefix?: number | undefined;
  networkInfraType?: string;
  vlans?: string;
  vxlans?: string;
  fwdMode?: string;
  arpMode?: string;
  pvtSubnet?: string;
  /** the cluster-wide BGP default (docs/bgp.md) */
  bgpAs?: string | undefined;
  bgpNeighbors?: string[] | undefined;
  bgpHoldTime?: number | undefined;
  bgpKeepaliveTime?: number | undefined;
}

/**
 * The global object `global set` POSTs back: the object it just read with the given fields
 * replaced. Contiv's fields come first in its struct order (empty ones omitted); any further
 * fields the server returned are kept after them so that nothing is lost on the round trip.
 */
export function globalBody(current: JsonObject, changes: GlobalChanges): JsonObject {
  const merged: JsonObject = { ...current };
  for (const [k, v] of Object.entries(changes)) if (v !== undefined && v !== '') merged[k] = v;
  const out: JsonObject = {};
  for (const k of GLOBAL_FIELDS) {
    const v = merged[k];
    if (v !== undefined && v !== '' && v !== 0 && v !== null) out[k] = v;
  }
  for (const [k, v] of Object.entries(merged)) if (!(k in out) && !(GLOBAL_FIELDS as readonly string[]).includes(k)) out[k] = v as Json;
  return out;
}

export interface AciGwSettings {
  enforcePolicies: string;
  includeCommonTenant: string;
  nodeBindings: string;
  pathBindings: string;
  physicalDomain: string;
}

/** Contiv's `aci-gw set`: every setting is overwritten (unset ones become empty and are omitted). */
export function aciGwBody(current: JsonObject | undefined, s: AciGwSettings): JsonObject {
  const base = current ?? { name: 'aciGw' };
  const merged: JsonObject = { ...base, ...s };
  return omitEmpty(
    (['key', 'enforcePolicies', 'includeCommonTenant', 'name', 'nodeBindings', 'pathBindings', 'physicalDomain'] as const).map(
      (k): Field => {
        const v = merged[k];
        return [k, typeof v === 'string' || typeof v === 'number' ? v : undefined];
      },
    ),
  );
}
