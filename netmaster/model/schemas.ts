/**
 * The intent object model: one zod schema per object, built from the kind descriptors in
 * lib/kinds (Contiv's field names and defaults), plus the endpoint schemas that are netmaster's own.
 * Schemas check shape and per-field ranges; checks that need other objects live in validate.ts.
 * Contiv's link placeholders (`links`, `link-sets`) and `key` are accepted on input and dropped:
 * the REST layer fills them on output. Unknown fields are dropped, as Contiv's Go decoder did.
 */
import { z } from 'zod';
import { fieldsOf, NAME_RE } from '../../lib/kinds/fields';
import { KINDS } from '../../lib/kinds';

export { NAME_RE };

const f = fieldsOf(z);
/** Contiv's name rule, as a schema with messages naming `what`. */
export const name = f.name;
const optName = f.optName;

export const tenantSchema = KINDS.tenant.schema(z, f);
export const networkSchema = KINDS.network.schema(z, f);
export const endpointGroupSchema = KINDS.endpointGroup.schema(z, f);
export const policySchema = KINDS.policy.schema(z, f);
export const ruleSchema = KINDS.rule.schema(z, f);
export const netprofileSchema = KINDS.netprofile.schema(z, f);
export const appProfileSchema = KINDS.appProfile.schema(z, f);
export const globalSchema = KINDS.global.schema(z, f);
export const bgpSchema = KINDS.Bgp.schema(z, f);
export const aciGwSchema = KINDS.aciGw.schema(z, f);
export const serviceLBSchema = KINDS.serviceLB.schema(z, f);
export const extContractsGroupSchema = KINDS.extContractsGroup.schema(z, f);

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

/** Every kind's schema, by kind name (the order of lib/kinds/index.ts). */
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
