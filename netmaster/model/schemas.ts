/**
 * The intent object model, one zod schema per object, with Contiv's field names and defaults.
 * Schemas check shape and per-field ranges; checks that need other objects live in validate.ts.
 * Contiv's link placeholders (`links`, `link-sets`) and `key` are accepted on input and dropped:
 * the REST layer fills them on output. Unknown fields are dropped, as Contiv's Go decoder did.
 */
import { z } from 'zod';

/** Contiv's name rule: DNS-style labels, at most 64 characters. */
export const NAME_RE = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$/;

export const name = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .max(64, { error: `${what} must be at most 64 characters` })
    .regex(NAME_RE, { error: `${what} must be a DNS label (letters, digits, '-', '.'), at most 64 characters` });

const optName = (what: string) => z.union([z.literal(''), name(what)]).default('');

const placeholders = {
  key: z.string().optional(),
  links: z.record(z.string(), z.unknown()).optional(),
  'link-sets': z.record(z.string(), z.unknown()).optional(),
};

const int = (what: string, min: number, max: number) =>
  z
    .number({ error: `${what} must be a number` })
    .int({ error: `${what} must be an integer` })
    .min(min, { error: `${what} must be between ${min} and ${max}` })
    .max(max, { error: `${what} must be between ${min} and ${max}` });

export const tenantSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  defaultNetwork: optName('defaultNetwork'),
});

export const networkSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  networkName: name('networkName'),
  nwType: z.enum(['infra', 'data'], { error: "nwType must be 'infra' or 'data'" }).default('data'),
  encap: z.enum(['vlan', 'vxlan'], { error: "encap must be 'vlan' or 'vxlan'" }).default('vxlan'),
  pktTag: int('pktTag', 0, 16777215).default(0),
  subnet: z.string({ error: 'subnet is required' }).min(1, { error: 'subnet is required' }),
  gateway: z.string().default(''),
  ipv6Subnet: z.string().default(''),
  ipv6Gateway: z.string().default(''),
  cfgdTag: z.string().default(''),
});

export const endpointGroupSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  groupName: name('groupName'),
  networkName: name('networkName'),
  ipPool: z.string().default(''),
  policies: z.array(name('policies[]')).default([]),
  netProfile: optName('netProfile'),
  extContractsGrps: z.array(name('extContractsGrps[]')).default([]),
  cfgdTag: z.string().default(''),
});

export const policySchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  policyName: name('policyName'),
});

export const ruleSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  policyName: name('policyName'),
  ruleId: z
    .string({ error: 'ruleId is required' })
    .max(64, { error: 'ruleId must be at most 64 characters' })
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, { error: 'ruleId must be letters, digits, - or _' }),
  direction: z.enum(['in', 'out'], { error: "direction must be 'in' or 'out'" }),
  priority: int('priority', 1, 100).default(1),
  fromEndpointGroup: optName('fromEndpointGroup'),
  toEndpointGroup: optName('toEndpointGroup'),
  fromNetwork: optName('fromNetwork'),
  toNetwork: optName('toNetwork'),
  fromIpAddress: z.string().default(''),
  toIpAddress: z.string().default(''),
  protocol: z
    .string()
    .regex(/^(tcp|udp|icmp|\d{1,3})?$/, { error: "protocol must be 'tcp', 'udp', 'icmp' or an IP protocol number" })
    .refine((p) => !/^\d+$/.test(p) || Number(p) <= 255, { error: 'protocol number must be between 0 and 255' })
    .default(''),
  port: int('port', 0, 65535).default(0),
  action: z.enum(['allow', 'deny'], { error: "action must be 'allow' or 'deny'" }).default('allow'),
});

export const netprofileSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  profileName: name('profileName'),
  bandwidth: z.string().default(''),
  burst: int('burst', 0, 2 ** 31 - 1).default(0),
  DSCP: int('DSCP', 0, 63).default(0),
});

export const appProfileSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  appProfileName: name('appProfileName'),
  endpointGroups: z.array(name('endpointGroups[]')).default([]),
});

export const globalSchema = z.object({
  ...placeholders,
  name: z.literal('global', { error: "name must be 'global'" }).default('global'),
  networkInfraType: z
    .enum(['default', 'aci', 'aci-opflex'], { error: "networkInfraType must be 'default', 'aci' or 'aci-opflex'" })
    .default('default'),
  vlans: z.string().default('1-4094'),
  vxlans: z.string().default('1-10000'),
  fwdMode: z.enum(['bridge', 'routing'], { error: "fwdMode must be 'bridge' or 'routing'" }).default('bridge'),
  arpMode: z.enum(['proxy', 'flood'], { error: "arpMode must be 'proxy' or 'flood'" }).default('proxy'),
  pvtSubnet: z.string().default('172.19.0.0/16'),
});

export const bgpSchema = z.object({
  ...placeholders,
  hostname: name('hostname'),
  routerip: z.string({ error: 'routerip is required' }),
  as: z.string().regex(/^\d{1,10}$/, { error: 'as must be an AS number' }),
  neighbor: z.string().default(''),
  'neighbor-as': z.union([z.literal(''), z.string().regex(/^\d{1,10}$/, { error: 'neighbor-as must be an AS number' })]).default(''),
});

const yesNo = (what: string) => z.enum(['yes', 'no', ''], { error: `${what} must be 'yes' or 'no'` }).default('no');

export const aciGwSchema = z.object({
  ...placeholders,
  name: z.literal('aciGw', { error: "name must be 'aciGw'" }).default('aciGw'),
  pathBindings: z.string().default(''),
  nodeBindings: z.string().default(''),
  physicalDomain: z.string().default(''),
  enforcePolicies: yesNo('enforcePolicies'),
  includeCommonTenant: yesNo('includeCommonTenant'),
});

export const serviceLBSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  serviceName: name('serviceName'),
  networkName: optName('networkName'),
  ipAddress: z.string().default(''),
  selectors: z.array(z.string().regex(/^[^=\s]+=[^=\s]*$/, { error: "selectors must be 'key=value'" })).default([]),
  ports: z.array(z.string().regex(/^\d{1,5}:\d{1,5}:(TCP|UDP)$/, { error: "ports must be 'svcPort:provPort:TCP|UDP'" })).default([]),
});

export const extContractsGroupSchema = z.object({
  ...placeholders,
  tenantName: name('tenantName'),
  contractsGroupName: name('contractsGroupName'),
  contractsType: z.enum(['provided', 'consumed'], { error: "contractsType must be 'provided' or 'consumed'" }),
  contracts: z.array(z.string().min(1)).default([]),
});

/** Read-only: written by the service when an agent (CNI/CNM) asks for an endpoint. */
export const endpointSchema = z.object({
  endpointID: z.string(),
  tenantName: z.string(),
  networkName: z.string(),
  /** `tenant:network` */
  network: z.string(),
  groupName: z.string().default(''),
  ipAddress: z.string(),
  ipv6Address: z.string().default(''),
  macAddress: z.string(),
  homingHost: z.string().default(''),
  intfName: z.string().default(''),
  vtepIP: z.string().default(''),
  labels: z.record(z.string(), z.string()).default({}),
  containerID: z.string().default(''),
  containerName: z.string().default(''),
  idempotencyKey: z.string().default(''),
  createdAt: z.string().default(''),
});

/** The body of an endpoint create (the agent's request). */
export const endpointRequestSchema = z.object({
  tenantName: name('tenantName').default('default'),
  networkName: name('networkName'),
  groupName: optName('groupName'),
  homingHost: z.string().default(''),
  intfName: z.string().default(''),
  vtepIP: z.string().default(''),
  labels: z.record(z.string(), z.string()).default({}),
  containerID: z.string().default(''),
  containerName: z.string().default(''),
  /** a retry with the same key returns the same allocation; defaults to the container id */
  idempotencyKey: z.string().max(256).default(''),
  /** ask for this address (must be free and inside the network or pool) */
  ipAddress: z.string().default(''),
  /** ask for this MAC (unicast, lowercase or uppercase hex; must be free); '' lets netmaster choose */
  macAddress: z
    .string()
    .default('')
    .refine((m) => m === '' || (/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(m) && (parseInt(m.slice(0, 2), 16) & 1) === 0), {
      message: 'macAddress must be a unicast MAC like 02:00:00:00:00:01',
    })
    .transform((m) => m.toLowerCase()),
});

export const schemas = {
  tenant: tenantSchema,
  network: networkSchema,
  endpointGroup: endpointGroupSchema,
  policy: policySchema,
  rule: ruleSchema,
  netprofile: netprofileSchema,
  appProfile: appProfileSchema,
  global: globalSchema,
  Bgp: bgpSchema,
  aciGw: aciGwSchema,
  serviceLB: serviceLBSchema,
  extContractsGroup: extContractsGroupSchema,
} as const;

export type ObjectType = keyof typeof schemas;
export const OBJECT_TYPES = Object.keys(schemas) as ObjectType[];

type Stripped<T> = Omit<T, 'key' | 'links' | 'link-sets'>;
export type Tenant = Stripped<z.output<typeof tenantSchema>>;
export type Network = Stripped<z.output<typeof networkSchema>>;
export type EndpointGroup = Stripped<z.output<typeof endpointGroupSchema>>;
export type Policy = Stripped<z.output<typeof policySchema>>;
export type Rule = Stripped<z.output<typeof ruleSchema>>;
export type Netprofile = Stripped<z.output<typeof netprofileSchema>>;
export type AppProfile = Stripped<z.output<typeof appProfileSchema>>;
export type Global = Stripped<z.output<typeof globalSchema>>;
export type Bgp = Stripped<z.output<typeof bgpSchema>>;
export type AciGw = Stripped<z.output<typeof aciGwSchema>>;
export type ServiceLB = Stripped<z.output<typeof serviceLBSchema>>;
export type ExtContractsGroup = Stripped<z.output<typeof extContractsGroupSchema>>;
export type Endpoint = z.output<typeof endpointSchema>;
export type EndpointRequest = z.output<typeof endpointRequestSchema>;

export interface ObjectOf {
  tenant: Tenant;
  network: Network;
  endpointGroup: EndpointGroup;
  policy: Policy;
  rule: Rule;
  netprofile: Netprofile;
  appProfile: AppProfile;
  global: Global;
  Bgp: Bgp;
  aciGw: AciGw;
  serviceLB: ServiceLB;
  extContractsGroup: ExtContractsGroup;
}
export type AnyObject = ObjectOf[ObjectType];
