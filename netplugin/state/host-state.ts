/**
 * The agent's view of the world: `HostState` as netmaster sends it (proto/netloom/agent.proto,
 * field names in camelCase as @grpc/proto-loader gives them with keepCase:false), plus the facts
 * only the agent knows (which OpenFlow port each local endpoint and the uplink/VXLAN port got,
 * this host's name and VTEP address). `parseHostState` / `parseLocalFacts` check the shape of
 * what arrives and turn it into these types, or throw a NetloomError naming the bad field.
 *
 * Loader options the agent must use: keepCase:false, longs:String or Number (64-bit integers
 * arrive as decimal strings or numbers), enums:String, defaults:true (missing fields may also
 * be absent: they default to '' / 0 / [] here).
 */
import type { ContivRule } from '../../lib/policy/contiv';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { parseWith } from '../../lib/validation';
import {
  kubeNamespaceSchema,
  kubePodSchema,
  kubePolicySchema,
  type KubeNamespace,
  type KubeNetworkPolicy,
  type KubePod,
} from './kube-state';

export type * from './kube-state';

export type FwdMode = 'bridge' | 'routing';
export type ArpMode = 'proxy' | 'flood';
/** `bgp`: a routed network (issue 16), served by the kernel, not by OVS (netplugin/routed/). */
export type Encap = 'vlan' | 'vxlan' | 'bgp';

export interface Global {
  fwdMode: FwdMode;
  arpMode: ArpMode;
  pvtSubnet: string;
  networkInfraType: string;
}

export interface Tenant {
  name: string;
  /** conntrack zone of the tenant (1..65535) */
  ctZone: number;
  /** routing domain id carried in reg3 (non-zero, unique) */
  vrfId: number;
}

export interface Network {
  /** tenant:network */
  key: string;
  tenant: string;
  name: string;
  encap: Encap;
  /** VLAN id (1..4094), VNI (1..16777215), or a routed network's id (1..16777215) */
  pktTag: number;
  subnet: string;
  gateway: string;
  ipv6Subnet: string;
  ipv6Gateway: string;
  nwType: string;
  /** the network's id in reg0 (non-zero, unique on the host) */
  networkId: number;
  gatewayMac: string;
  mtu: number;
  /** masquerade what leaves the host from this network to the host's address (absent: true) */
  nat?: boolean;
  /** prefix length of the address blocks hosts claim here (issue 15); 0 or absent: netmaster allocates every address */
  blockPrefix?: number;
}

/** A block of a network's subnet that belongs to one host (issue 15): that host's agent gives its addresses. */
export interface AddressBlock {
  /** tenant:network */
  network: string;
  cidr: string;
  host: string;
  vtepIp: string;
}

export interface EndpointGroup {
  key: string;
  tenant: string;
  name: string;
  network: string;
  groupId: number;
  policies: string[];
  netProfile: string;
  /** ACI mode: the group's own VLAN on the uplink (its EPG's encap); 0: the network's VLAN */
  pktTag: number;
}

/** A rule as the desired state carries it: the shape the one policy compiler (lib/policy) reads. */
export type Rule = ContivRule;

export interface Policy {
  key: string;
  tenant: string;
  name: string;
  rules: Rule[];
}

export interface NetProfile {
  key: string;
  tenant: string;
  name: string;
  bandwidthKbps: number;
  burstKb: number;
  dscp: number;
}

export interface Endpoint {
  id: string;
  /** tenant:network */
  network: string;
  /** tenant:group, '' when none */
  group: string;
  host: string;
  ip: string;
  ipv6: string;
  mac: string;
  intfName: string;
  vtepIp: string;
  containerId: string;
  containerName: string;
  labels: Record<string, string>;
  revision: number;
  /** a registered workload that is not a container (host ''), reached through the VLAN uplink */
  external?: boolean;
  /** the Kubernetes pod this endpoint is (issue 19; absent: not a pod); its labels are the pod's */
  pod?: KubePod;
}

export interface Vtep {
  host: string;
  vtepIp: string;
}

export interface BgpNeighbor {
  address: string;
  as: number;
}

export interface BgpConfig {
  hostname: string;
  /** Contiv's router IP (CIDR); '' from the default: the agent uses its VTEP address */
  routerIp: string;
  as: number;
  neighbor: string;
  neighborAs: number;
  /** every neighbor, Contiv's one first (issue 16; absent from an older netmaster: `neighbor` alone) */
  neighbors?: BgpNeighbor[];
  /** session timers in seconds (0 or absent: the agent's defaults, 9 and 3) */
  holdTime?: number;
  keepaliveTime?: number;
}

/** One port of a service: connections to the service IP on `port` go to a provider's `targetPort`. */
export interface ServicePort {
  port: number;
  targetPort: number;
  protocol: 'tcp' | 'udp';
  /** a Kubernetes Service port's name ('' when none) */
  name?: string;
  /** a Kubernetes NodePort: connections to any host address on it reach a provider (0 or absent: none) */
  nodePort?: number;
}

/** An endpoint behind a service (providers arrive sorted by endpoint id). */
export interface ServiceProvider {
  endpointId: string;
  ip: string;
  /** its port for each of the service's ports, in their order (absent or 0: the port's targetPort) */
  targetPorts?: number[];
  /** its host's address (VTEP), where a host without the tenant forwards a Kubernetes node port (absent or '': unknown) */
  hostIp?: string;
}

/**
 * A load-balanced service (Contiv's serviceLB) of a tenant: its IP in a network, ports, providers.
 * A Kubernetes Service with a node port comes to every host, also one that does not know its
 * tenant: that host serves its node ports only (pipeline/services.ts leaves it out).
 */
export interface ServiceLB {
  /** tenant:service */
  key: string;
  tenant: string;
  /** the network the service IP belongs to (tenant:network, or the bare network name); '' for a Kubernetes cluster IP */
  network: string;
  ip: string;
  ports: ServicePort[];
  providers: ServiceProvider[];
  /** a Kubernetes Service (key `kube:<namespace>/<name>`): its cluster IP is outside every network */
  kube?: boolean;
  /** its node ports are externalTrafficPolicy Local (absent or false: Cluster) */
  externalTrafficLocal?: boolean;
}

export interface HostState {
  global: Global;
  tenants: Tenant[];
  networks: Network[];
  groups: EndpointGroup[];
  policies: Policy[];
  profiles: NetProfile[];
  /** local and remote endpoints */
  endpoints: Endpoint[];
  /** other hosts that share a network with this one */
  vteps: Vtep[];
  bgp?: BgpConfig;
  /** load-balanced services of the tenants this host has endpoints in */
  services: ServiceLB[];
  /** the address blocks of the networks this host carries, every host's, sorted by network then cidr */
  blocks?: AddressBlock[];
  /** Kubernetes NetworkPolicies and namespaces (issue 19; absent when there are none), sorted by key */
  kubePolicies?: KubeNetworkPolicy[];
  kubeNamespaces?: KubeNamespace[];
}

/** Where a local endpoint is plugged into the integration bridge. */
export interface LocalPort {
  ofport: number;
  intfName: string;
}

/** endpoint id -> its port; endpoints of this host without an entry are not plugged yet */
export type LocalPorts = Readonly<Record<string, LocalPort>>;

/** The bridge's own ports. */
export interface BridgePorts {
  /** the uplink carrying VLAN networks (absent: no VLAN networks can leave the host) */
  uplink?: number;
  /** the ONE flow-based VXLAN port (options:key=flow, remote_ip=flow) */
  vxlan?: number;
  /** the tenants' gateway ports to the host's kernel: port name (`nlgw<vrfId>`) -> ofport */
  gateways?: Readonly<Record<string, number>>;
  /**
   * the uplink is a port of this bridge (no physical bridge): the bridge's local port holds the
   * VTEP address and the pipeline passes the host's untagged underlay traffic (`--one-bridge`)
   */
  oneBridge?: boolean;
}

/** What only the agent knows about its host. */
export interface LocalFacts {
  hostName: string;
  vtepIp: string;
  ports: LocalPorts;
  bridge: BridgePorts;
}

// ---------- schemas ----------

const str = z.string().default('');
const u32 = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be an integer` })
    .min(0, { error: `${what} must not be negative` })
    .max(0xffffffff, { error: `${what} does not fit 32 bits` })
    .default(0);
/** 64-bit integers: proto-loader gives strings (longs:String) or numbers (longs:Number). */
const u64 = (what: string) =>
  z
    .union([z.number().int().min(0), z.string().regex(/^\d+$/, { error: `${what} must be a non-negative integer` })])
    .default(0)
    .transform((v, ctx) => {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) {
        ctx.addIssue({ code: 'custom', message: `${what} is too large` });
        return z.NEVER;
      }
      return n;
    });

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const mac = (what: string) => z.string().regex(MAC_RE, { error: `${what} must be a MAC address like 02:00:00:00:00:01` });
const optMac = (what: string) => z.union([z.literal(''), mac(what)]).default('');
const ipv4 = (what: string) =>
  z.string().refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), { error: `${what} must be a dotted-quad IPv4 address` });
const optIpv4 = (what: string) => z.union([z.literal(''), ipv4(what)]).default('');
const cidr4 = (what: string) =>
  z
    .union([
      z.literal(''),
      z.string().refine(
        (s) => {
          try {
            const [addr] = ipaddr.parseCIDR(s);
            return addr.kind() === 'ipv4';
          } catch {
            return false;
          }
        },
        { error: `${what} must be an IPv4 CIDR like 10.1.0.0/24` },
      ),
    ])
    .default('');

const globalSchema = z.object({
  fwdMode: z
    .union([z.literal(''), z.enum(['bridge', 'routing'])])
    .default('')
    .transform((v): FwdMode => (v === '' ? 'bridge' : v)),
  arpMode: z
    .union([z.literal(''), z.enum(['proxy', 'flood'])])
    .default('')
    .transform((v): ArpMode => (v === '' ? 'proxy' : v)),
  pvtSubnet: str,
  networkInfraType: str,
});

const tenantSchema = z.object({
  name: z.string().min(1, { error: 'tenant name is required' }),
  ctZone: u32('ctZone').pipe(z.number().min(1, { error: 'ctZone must be 1..65535' }).max(65535, { error: 'ctZone must be 1..65535' })),
  vrfId: u32('vrfId').pipe(z.number().min(1, { error: 'vrfId must be non-zero' })),
});

const networkSchema = z
  .object({
    key: z.string().min(1, { error: 'network key is required' }),
    tenant: z.string().min(1, { error: 'network tenant is required' }),
    name: z.string().min(1, { error: 'network name is required' }),
    encap: z.enum(['vlan', 'vxlan', 'bgp'], { error: "encap must be 'vlan', 'vxlan' or 'bgp'" }),
    pktTag: u32('pktTag'),
    subnet: cidr4('subnet'),
    gateway: optIpv4('gateway'),
    ipv6Subnet: str,
    ipv6Gateway: str,
    nwType: str,
    networkId: u32('networkId').pipe(z.number().min(1, { error: 'networkId must be non-zero' })),
    gatewayMac: optMac('gatewayMac'),
    mtu: u32('mtu'),
    nat: z.boolean({ error: 'nat must be true or false' }).default(true),
    blockPrefix: u32('blockPrefix').pipe(z.number().max(32, { error: 'blockPrefix must be 0..32' })),
  })
  .superRefine((n, ctx) => {
    const max = n.encap === 'vlan' ? 4094 : 0xffffff;
    if (n.pktTag < 1 || n.pktTag > max)
      ctx.addIssue({ code: 'custom', path: ['pktTag'], message: `pktTag of a ${n.encap} network must be 1..${max}` });
    if (n.key !== `${n.tenant}:${n.name}`)
      ctx.addIssue({ code: 'custom', path: ['key'], message: `key must be tenant:name ('${n.tenant}:${n.name}')` });
    if (n.gateway !== '' && n.subnet !== '' && !ipaddr.IPv4.parse(n.gateway).match(ipaddr.parseCIDR(n.subnet))) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `gateway ${n.gateway} is not inside subnet ${n.subnet}` });
    }
  });

const groupSchema = z.object({
  key: z.string().min(1, { error: 'group key is required' }),
  tenant: z.string().min(1, { error: 'group tenant is required' }),
  name: z.string().min(1, { error: 'group name is required' }),
  network: z.string().min(1, { error: 'group network is required' }),
  groupId: u32('groupId').pipe(z.number().min(1, { error: 'groupId must be non-zero' })),
  policies: z.array(z.string()).default([]),
  netProfile: str,
  pktTag: u32('pktTag').pipe(z.number().max(4094, { error: "pktTag of a group must be 0..4094 (a VLAN id, 0: the network's)" })),
});

const ruleSchema = z.object({
  ruleId: str,
  direction: str,
  priority: u32('priority'),
  action: str,
  protocol: str,
  port: u32('port'),
  fromGroup: str,
  toGroup: str,
  fromNetwork: str,
  toNetwork: str,
  fromIp: str,
  toIp: str,
});

const policySchema = z.object({ key: z.string().min(1), tenant: str, name: str, rules: z.array(ruleSchema).default([]) });
const profileSchema = z.object({
  key: z.string().min(1),
  tenant: str,
  name: str,
  bandwidthKbps: u64('bandwidthKbps'),
  burstKb: u64('burstKb'),
  dscp: u32('dscp'),
});

const endpointSchema = z
  .object({
    id: z.string().min(1, { error: 'endpoint id is required' }),
    network: z.string().min(1, { error: 'endpoint network is required' }),
    group: str,
    host: str,
    ip: ipv4('endpoint ip'),
    ipv6: str,
    mac: mac('endpoint mac').refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, { error: 'endpoint mac must be unicast' }),
    intfName: str,
    vtepIp: optIpv4('vtepIp'),
    containerId: str,
    containerName: str,
    labels: z.record(z.string(), z.string()).default({}),
    revision: u64('revision'),
    external: z.boolean({ error: 'endpoint external must be a boolean' }).default(false),
    pod: kubePodSchema.nullish().transform((p) => p ?? undefined),
  })
  // only an external endpoint is on no host
  .refine((e) => e.external || e.host !== '', { error: 'endpoint host is required', path: ['host'] });

const l4Port = (what: string) =>
  u32(what).pipe(
    z
      .number()
      .min(1, { error: `${what} must be 1..65535` })
      .max(65535, { error: `${what} must be 1..65535` }),
  );

const servicePortSchema = z.object({
  port: l4Port('port'),
  targetPort: l4Port('targetPort'),
  protocol: z.enum(['tcp', 'udp'], { error: "protocol must be 'tcp' or 'udp'" }),
  name: z.string().optional(),
  // 0 (the message's unset value): no nodePort
  nodePort: z.number({ error: 'nodePort must be a number' }).int().min(0).max(65535, { error: 'nodePort must be 0..65535' }).optional(),
});

const serviceProviderSchema = z.object({
  endpointId: z.string().min(1, { error: 'provider endpointId is required' }),
  ip: ipv4('provider ip'),
  // 0 for a port (or no list): the port's targetPort
  targetPorts: z
    .array(z.number({ error: 'targetPorts must be numbers' }).int().min(0).max(65535, { error: 'targetPorts must be 0..65535' }))
    .optional(),
  hostIp: z.union([z.literal(''), ipv4('provider hostIp')]).optional(),
});

const serviceSchema = z
  .object({
    key: z.string().min(1, { error: 'service key is required' }),
    tenant: z.string().min(1, { error: 'service tenant is required' }),
    network: z.string().default(''),
    ip: ipv4('service ip'),
    ports: z.array(servicePortSchema).default([]),
    providers: z.array(serviceProviderSchema).default([]),
    kube: z.boolean().optional(),
    externalTrafficLocal: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    // a Contiv service's address is in its network; a Kubernetes cluster IP is outside every one
    if (!s.kube && s.network === '') ctx.addIssue({ code: 'custom', path: ['network'], message: 'service network is required' });
    const seen = new Set<string>();
    s.ports.forEach((p, i) => {
      const k = `${p.protocol}/${p.port}`;
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${k} is listed twice` });
      seen.add(k);
    });
    const ids = new Set<string>();
    s.providers.forEach((p, i) => {
      if (ids.has(p.endpointId))
        ctx.addIssue({ code: 'custom', path: ['providers', i, 'endpointId'], message: `provider ${p.endpointId} is listed twice` });
      ids.add(p.endpointId);
      if ((p.targetPorts?.length ?? 0) > s.ports.length)
        ctx.addIssue({
          code: 'custom',
          path: ['providers', i, 'targetPorts'],
          message: `provider ${p.endpointId} has ${p.targetPorts?.length} targetPorts for ${s.ports.length} ports`,
        });
    });
    const nodePorts = new Set<string>();
    s.ports.forEach((p, i) => {
      if (!p.nodePort) return;
      const k = `${p.protocol}/${p.nodePort}`;
      if (nodePorts.has(k)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'nodePort'], message: `nodePort ${k} is listed twice` });
      nodePorts.add(k);
    });
  });

const blockSchema = z.object({
  network: z.string().min(1, { error: 'block network is required' }),
  cidr: cidr4('block cidr').pipe(z.string().min(1, { error: 'block cidr is required' })),
  host: z.string().min(1, { error: 'block host is required' }),
  vtepIp: optIpv4('block vtepIp'),
});

const vtepSchema = z.object({ host: z.string().min(1, { error: 'vtep host is required' }), vtepIp: ipv4('vtepIp') });
const bgpSchema = z.object({
  hostname: str,
  routerIp: str,
  as: u32('as'),
  neighbor: str,
  neighborAs: u32('neighborAs'),
  neighbors: z.array(z.object({ address: str, as: u32('as') })).optional(),
  holdTime: u32('holdTime').optional(),
  keepaliveTime: u32('keepaliveTime').optional(),
});

export const hostStateSchema = z.object({
  global: z.preprocess((v) => v ?? {}, globalSchema),
  tenants: z.array(tenantSchema).default([]),
  networks: z.array(networkSchema).default([]),
  groups: z.array(groupSchema).default([]),
  policies: z.array(policySchema).default([]),
  profiles: z.array(profileSchema).default([]),
  endpoints: z.array(endpointSchema).default([]),
  vteps: z.array(vtepSchema).default([]),
  bgp: bgpSchema
    .optional()
    .nullable()
    .transform((v) => v ?? undefined),
  services: z.array(serviceSchema).default([]),
  blocks: z.array(blockSchema).default([]),
  kubePolicies: z.array(kubePolicySchema).default([]),
  kubeNamespaces: z.array(kubeNamespaceSchema).default([]),
});

const portNo = (what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be an integer` })
    .min(1, { error: `${what} must be an OpenFlow port number 1..65279` })
    .max(0xfeff, { error: `${what} must be an OpenFlow port number 1..65279` });

export const localFactsSchema = z
  .object({
    hostName: z.string().min(1, { error: 'hostName is required' }),
    vtepIp: optIpv4('vtepIp'),
    ports: z
      .record(z.string(), z.object({ ofport: portNo('ofport'), intfName: z.string().min(1, { error: 'intfName is required' }) }))
      .default({}),
    bridge: z
      .object({
        uplink: portNo('uplink').optional(),
        vxlan: portNo('vxlan').optional(),
        gateways: z
          .record(z.string().regex(/^nlgw\d+$/, { error: 'gateway port names are nlgw<vrfId>' }), portNo('gateway ofport'))
          .optional(),
        oneBridge: z.boolean().optional(),
      })
      .default({}),
  })
  .superRefine((f, ctx) => {
    if (f.bridge.oneBridge && f.bridge.uplink === undefined)
      ctx.addIssue({ code: 'custom', path: ['bridge', 'oneBridge'], message: 'oneBridge needs the uplink on the bridge (bridge.uplink)' });
    const owner = new Map<number, string>();
    const claim = (p: number | undefined, who: string, path: (string | number)[]) => {
      if (p === undefined) return;
      const prev = owner.get(p);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', path, message: `ofport ${p} is used by both ${prev} and ${who}` });
      else owner.set(p, who);
    };
    claim(f.bridge.uplink, 'the uplink', ['bridge', 'uplink']);
    claim(f.bridge.vxlan, 'the VXLAN port', ['bridge', 'vxlan']);
    for (const name of Object.keys(f.bridge.gateways ?? {}).sort())
      claim(f.bridge.gateways![name], `gateway port ${name}`, ['bridge', 'gateways', name]);
    for (const id of Object.keys(f.ports).sort()) claim(f.ports[id]!.ofport, `endpoint ${id}`, ['ports', id, 'ofport']);
  });

/** Check and normalise a HostState as it came off the wire (throws INVALID_ARGUMENT naming the field). */
export function parseHostState(raw: unknown): HostState {
  const out = parseWith(hostStateSchema, raw, { what: 'host state' }) as HostState;
  if (out.bgp === undefined) delete out.bgp;
  // without blocks (a network served whole, a netmaster from before issue 15) the state looks as before
  if (out.blocks?.length === 0) delete out.blocks;
  for (const n of out.networks) if (n.blockPrefix === 0) delete n.blockPrefix;
  // without Kubernetes objects (and for endpoints that are not pods) the state looks as before issue 19
  if (out.kubePolicies?.length === 0) delete out.kubePolicies;
  if (out.kubeNamespaces?.length === 0) delete out.kubeNamespaces;
  for (const e of out.endpoints) if (e.pod === undefined) delete e.pod;
  return out;
}

/** Check the agent's local facts (ports, host name, VTEP). */
export function parseLocalFacts(raw: unknown): LocalFacts {
  return parseWith(localFactsSchema, raw, { what: 'local facts' }) as LocalFacts;
}

// compile-time check that the schemas produce the declared types
type Assignable<T, U extends T> = U;
export type _HostStateCheck = Assignable<HostState, z.output<typeof hostStateSchema>>;
export type _LocalFactsCheck = Assignable<LocalFacts, z.output<typeof localFactsSchema>>;
