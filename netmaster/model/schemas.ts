/**
 * The intent object model: one zod schema per object, built from the kind descriptors in
 * lib/kinds (Contiv's field names and defaults), plus the endpoint schemas that are netmaster's own.
 * Schemas check shape and per-field ranges; checks that need other objects live in validate.ts.
 * Contiv's link placeholders (`links`, `link-sets`) and `key` are accepted on input and dropped:
 * the REST layer fills them on output. Unknown fields are dropped, as Contiv's Go decoder did.
 */
import { z } from 'zod';
import { fieldsOf, NAME_RE } from '../../lib/kinds/fields';
import { KINDS, KIND_NAMES, type KindName } from '../../lib/kinds';

export { NAME_RE };

const f = fieldsOf(z);
/** Contiv's name rule, as a schema with messages naming `what`. */
export const name = f.name;
const optName = f.optName;

type KindSchema<N extends KindName> = ReturnType<(typeof KINDS)[N]['schema']>;

/** Every kind's schema, by kind name (the order of lib/kinds/index.ts). */
export const schemas = Object.fromEntries(KIND_NAMES.map((n) => [n, KINDS[n].schema(z, f)])) as {
  readonly [N in KindName]: KindSchema<N>;
};

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

export type ObjectType = KindName;
export const OBJECT_TYPES = Object.keys(schemas) as ObjectType[];

type Stripped<T> = Omit<T, 'key' | 'links' | 'link-sets'>;
/** The stored config of each kind: its schema's output without Contiv's placeholders. */
export type ObjectOf = { [N in KindName]: Stripped<z.output<KindSchema<N>>> };
export type Tenant = ObjectOf['tenant'];
export type Network = ObjectOf['network'];
export type EndpointGroup = ObjectOf['endpointGroup'];
export type Policy = ObjectOf['policy'];
export type Rule = ObjectOf['rule'];
export type Netprofile = ObjectOf['netprofile'];
export type AppProfile = ObjectOf['appProfile'];
export type Global = ObjectOf['global'];
export type Bgp = ObjectOf['Bgp'];
export type AciGw = ObjectOf['aciGw'];
export type ServiceLB = ObjectOf['serviceLB'];
export type ExtContractsGroup = ObjectOf['extContractsGroup'];
export type Endpoint = z.output<typeof endpointSchema>;
export type EndpointRequest = z.output<typeof endpointRequestSchema>;

export type AnyObject = ObjectOf[ObjectType];
