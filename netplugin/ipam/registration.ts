/**
 * What netmaster needs to record an endpoint this host allocated from its own block (agent.proto's
 * EndpointRegistration, same field names): kept with the allocation in the IPAM store, so that an
 * agent restarted before the registration went through can still send it.
 */
import { z } from 'zod';

export const registrationSchema = z.object({
  id: z.string().min(1),
  idempotencyKey: z.string(),
  tenant: z.string().min(1),
  /** the network's name within the tenant */
  network: z.string().min(1),
  /** the group's name within the tenant, '' for none */
  group: z.string(),
  containerId: z.string(),
  containerName: z.string(),
  intfName: z.string(),
  ip: z.string().min(1),
  mac: z.string().min(1),
  labels: z.record(z.string(), z.string()),
  /** the Kubernetes pod the endpoint is (issue 19); absent: not a pod */
  pod: z
    .object({
      namespace: z.string(),
      name: z.string(),
      uid: z.string(),
      namedPorts: z.array(z.object({ name: z.string(), protocol: z.string(), port: z.number().int() })),
    })
    .optional(),
});

export type Registration = z.infer<typeof registrationSchema>;

/** SyncResult.Outcome of agent.proto. */
export type SyncOutcome = 'OK' | 'CONFLICT' | 'NOT_OWNER' | 'NOT_FOUND' | 'INVALID';

export interface SyncResult {
  endpointId: string;
  outcome: SyncOutcome;
  message: string;
  conflictingEndpoint: string;
}

export interface SyncRequest {
  deregister: string[];
  register: Registration[];
}

export interface SyncResponse {
  deregistered: SyncResult[];
  registered: SyncResult[];
}
