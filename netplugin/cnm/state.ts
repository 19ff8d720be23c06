/**
 * What the CNM plugin remembers between calls and across restarts: IPAM pools (with their
 * reference counts and the addresses handed out), Docker networks -> netloom bindings, and
 * Docker endpoints -> allocations. Plain JSON-able data; `validateState` checks a loaded file.
 */
import { z } from 'zod';
import { parseWith } from '../../lib/validation';
import { publishedPortSchema } from '../state/published-port';

export const STATE_VERSION = 1;

const bindingSchema = z.object({ tenant: z.string(), network: z.string(), group: z.string().optional() });

/**
 * endpoint addresses given back, the most recent last, with the MAC their endpoint had
 * (ipam-driver.ts: a restarted container gets its own back)
 */
const releasedSchema = z.array(z.object({ address: z.string(), mac: z.string().optional() }));

const poolSchema = z.object({
  poolId: z.string(),
  addressSpace: z.string(),
  /** canonical IPv4 CIDR */
  subnet: z.string(),
  /** --ip-range, canonical CIDR, or '' */
  subPool: z.string(),
  /** --ipam-opt tenant/network, as given */
  hint: z.object({ tenant: z.string().optional(), network: z.string().optional() }),
  /** the gateway the netloom network reported, if any */
  backendGateway: z.string().optional(),
  /** RequestPool calls not yet matched by ReleasePool */
  refs: z.number().int(),
  /** Docker network bound to this pool by CreateNetwork */
  dockerNetworkId: z.string().optional(),
  /**
   * the swarm network whose manager-side pool this is (AllocateNetwork: swarm.ts); its addresses
   * are swarm's bookkeeping, never netloom's
   */
  swarmNetworkId: z.string().optional(),
  /** address -> who holds it ('swarm': a task's address in swarm's own records, swarm.ts) */
  addresses: z.record(z.string(), z.enum(['gateway', 'aux', 'endpoint', 'swarm'])),
  released: releasedSchema.optional(),
});

const networkSchema = z.object({
  dockerNetworkId: z.string(),
  binding: bindingSchema,
  subnet: z.string().optional(),
  gateway: z.string().optional(),
  poolId: z.string().optional(),
  /** made by swarm on this node (AllocateNetwork's marker option): endpoint addresses are netloom's, not swarm's (swarm.ts) */
  swarm: z.boolean().optional(),
});

const endpointSchema = z.object({
  endpointId: z.string(),
  dockerNetworkId: z.string(),
  /** with prefix */
  address: z.string(),
  macAddress: z.string(),
  /** the Interface we answered CreateEndpoint with (replayed on a repeated call) */
  reply: z.object({ Address: z.string().optional(), MacAddress: z.string().optional() }),
  joined: z
    .object({
      sandboxKey: z.string(),
      srcName: z.string(),
      hostIfName: z.string().optional(),
      gateway: z.string().optional(),
      mtu: z.number().optional(),
      staticRoutes: z.array(z.object({ destination: z.string(), nextHop: z.string().optional() })).optional(),
    })
    .optional(),
  /** the ports ProgramExternalConnectivity published (until RevokeExternalConnectivity) */
  ports: z.array(publishedPortSchema).optional(),
});

export const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  pools: z.record(z.string(), poolSchema),
  networks: z.record(z.string(), networkSchema),
  endpoints: z.record(z.string(), endpointSchema),
  /**
   * the released lists of pools since removed, by the pool's base id (ipam-driver.ts poolIdFor):
   * a network made again (swarm makes a node's network per task and removes it after the last)
   * hands out its addresses again with the MACs peers still have in their ARP caches
   */
  releasedOfRemovedPools: z.record(z.string(), releasedSchema).optional(),
});

export type CnmState = z.infer<typeof stateSchema>;
export type PoolRecord = z.infer<typeof poolSchema>;
export type NetworkRecord = z.infer<typeof networkSchema>;
export type EndpointRecord = z.infer<typeof endpointSchema>;
export type AddressHolder = PoolRecord['addresses'][string];

export function emptyState(): CnmState {
  return { version: STATE_VERSION, pools: {}, networks: {}, endpoints: {} };
}

/** Check data read from the state file; the error names the bad field. */
export function validateState(data: unknown, source: string): CnmState {
  return parseWith(stateSchema, data, {
    what: source,
    code: 'DECODE_ERROR',
    rootField: '',
    message: ({ path, reason }) => `${source}: not a valid CNM state file at "${path}": ${reason}`,
  });
}

/**
 * `m[key]` when `key` is an own entry. Keys come from requests: `constructor` or `toString` must
 * not find Object's members.
 */
export function entry<T>(m: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(m, key) ? m[key] : undefined;
}
