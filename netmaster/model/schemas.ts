/**
 * The intent object model: one zod schema per object, built from the kind descriptors in
 * lib/kinds (Contiv's field names and defaults), plus the endpoint schemas that are netmaster's own.
 * Schemas check shape and per-field ranges; checks that need other objects live in validate.ts.
 * Contiv's link placeholders (`links`, `link-sets`) and `key` are accepted on input and dropped:
 * the REST layer fills them on output. Unknown fields are dropped, as Contiv's Go decoder did.
 */
import { z } from 'zod';
import { fieldsOf, NAME_RE } from '../../lib/kinds/fields';
import { kubeFieldsOf } from '../../lib/kinds/kube-fields';
import { LIMITS } from '../../lib/kinds/limits';
import { parseV4 } from './net';
import { KINDS, KIND_NAMES, type KindName } from '../../lib/kinds';

export { NAME_RE };

const f = fieldsOf(z);
/** Contiv's name rule, as a schema with messages naming `what`. */
export const name = f.name;
const optName = f.optName;
const kube = kubeFieldsOf(z, f);

type KindSchema<N extends KindName> = ReturnType<(typeof KINDS)[N]['schema']>;

/** Every kind's schema, by kind name (the order of lib/kinds/index.ts). */
export const schemas = Object.fromEntries(KIND_NAMES.map((n) => [n, KINDS[n].schema(z, f)])) as {
  readonly [N in KindName]: KindSchema<N>;
};

/** A host name as the agent API accepts it (letters, digits, '.', '-', '_'; 1..128 characters). */
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;
/** A unicast MAC in colon form; the all-zero address is no station's. */
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const isUsableMac = (m: string) => MAC_RE.test(m) && (parseInt(m.slice(0, 2), 16) & 1) === 0 && !/^(00:){5}00$/.test(m);

/** Endpoint fields an agent sends; bounded, and the ones used as names free of `..` path parts. */
const endpointFields = {
  homingHost: f
    .text('homingHost', 128)
    .refine((h) => h === '' || HOST_RE.test(h), { error: "homingHost must be a host name (letters, digits, '.', '-', '_')" })
    .default(''),
  intfName: f.pathSafe('intfName', 64).default(''),
  vtepIP: f
    .text('vtepIP', 64)
    .refine((v) => v === '' || parseV4(v) !== undefined, { error: 'vtepIP must be an IPv4 address' })
    .default(''),
  // counted before each entry is checked: a body of 100,000 labels costs no more than one of 65
  labels: z
    .unknown()
    .refine((l) => typeof l !== 'object' || l === null || Object.keys(l).length <= LIMITS.labels, {
      error: `labels must have at most ${LIMITS.labels} entries`,
      abort: true,
    })
    .pipe(
      z.record(
        f.text('labels key', LIMITS.labelKey).min(1, { error: 'labels key must not be empty' }),
        f.text('labels value', LIMITS.labelValue),
        {
          error: 'labels must be an object of strings',
        },
      ),
    )
    .default({}),
  containerID: f.pathSafe('containerID').default(''),
  containerName: f.pathSafe('containerName').default(''),
  /** the Kubernetes pod this endpoint is (issue 19): NetworkPolicy selects it by namespace and labels */
  pod: kube.pod.optional(),
};

/** Read-only: written by the service when an agent (CNI/CNM) asks for an endpoint. */
export const endpointSchema = z.object({
  endpointID: f.pathSafe('endpointID', 64).min(1, { error: 'endpointID is required' }),
  tenantName: name('tenantName'),
  networkName: name('networkName'),
  /** `tenant:network` */
  network: f.text('network', 2 * LIMITS.name + 1),
  groupName: optName('groupName'),
  ipAddress: f.text('ipAddress', 64),
  ipv6Address: f.text('ipv6Address', 64).default(''),
  macAddress: f.text('macAddress', 17).refine(isUsableMac, { error: 'macAddress must be a unicast MAC' }),
  ...endpointFields,
  idempotencyKey: f.text('idempotencyKey', 256).default(''),
  createdAt: f.text('createdAt', 64).default(''),
  /** not a container: a registered external endpoint (kind externalEndpoint), on no host */
  external: z.boolean({ error: 'external must be a boolean' }).optional(),
});

/** The body of an endpoint create (the agent's request). */
export const endpointRequestSchema = z.object({
  tenantName: name('tenantName').default('default'),
  networkName: name('networkName'),
  groupName: optName('groupName'),
  ...endpointFields,
  /** a retry with the same key returns the same allocation; defaults to the container id */
  idempotencyKey: f.text('idempotencyKey', 256).default(''),
  /** ask for this address (must be free and inside the network or pool) */
  ipAddress: f.text('ipAddress', 64).default(''),
  /** ask for this MAC (unicast, not all-zero, lowercase or uppercase hex; must be free); '' lets netmaster choose */
  macAddress: f
    .text('macAddress', 17)
    .default('')
    .refine((m) => m === '' || isUsableMac(m), { message: 'macAddress must be a unicast MAC like 02:00:00:00:00:01 (not all zero)' })
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
export type ExternalEndpoint = ObjectOf['externalEndpoint'];
export type KubeNetworkPolicy = ObjectOf['kubeNetworkPolicy'];
export type KubeNamespace = ObjectOf['kubeNamespace'];
export type KubeService = ObjectOf['kubeService'];
export type KubeServiceSlice = ObjectOf['kubeServiceSlice'];
export type Endpoint = z.output<typeof endpointSchema>;
export type EndpointRequest = z.output<typeof endpointRequestSchema>;
export type StoredPod = NonNullable<Endpoint['pod']>;

export type AnyObject = ObjectOf[ObjectType];
