/**
 * The etcd keys of the agent API, all under `/netloom/v1/agent/` (outside `alloc/` and `idx/`, so
 * the store's consistency check neither reads nor repairs them; they have their own owners):
 * - `agent/host/<host>`: the agent record, written by the netmaster replica the agent registered at
 *   and attached to that replica's session lease (gone when the replica dies, or deleted by the
 *   replica when the agent stops heartbeating);
 * - `agent/replica/<replica id>`: one per running agent server, on its session lease (its writes
 *   give the replica the etcd revisions its registration ids are made from);
 * - `agent/known/<host>`: no lease; says the host once registered, so that the liveness task only
 *   releases endpoints of hosts that were run by an agent (not of hosts only named in REST calls);
 * - `agent/applied/<replica id>`: on the replica's session lease, the applied revision of each
 *   agent registered there (realization.ts; written at a low rate, only when it changed);
 * - `agent/counters/<host>`: on the session lease of the host's replica, the policy rules' and services'
 *   counters its agent last reported (written when they changed, deleted when the host leaves);
 * - `agent/tenantid/<8-digit id>` -> tenant name and `agent/tenantid-of/<tenant>` -> id: the
 *   tenant's vrfId/ctZone (1..65535), claimed by compare-and-create, released when the tenant is gone.
 */
import { ROOT, pad } from './layout';

export const AGENT_ROOT = `${ROOT}agent/`;

export const agentLayout = {
  root: AGENT_ROOT,
  hostPrefix: `${AGENT_ROOT}host/`,
  host: (host: string) => `${AGENT_ROOT}host/${host}`,
  knownPrefix: `${AGENT_ROOT}known/`,
  replicaPrefix: `${AGENT_ROOT}replica/`,
  replica: (id: string) => `${AGENT_ROOT}replica/${id}`,
  known: (host: string) => `${AGENT_ROOT}known/${host}`,
  appliedPrefix: `${AGENT_ROOT}applied/`,
  applied: (replica: string) => `${AGENT_ROOT}applied/${replica}`,
  countersPrefix: `${AGENT_ROOT}counters/`,
  counters: (host: string) => `${AGENT_ROOT}counters/${host}`,
  tenantIdPrefix: `${AGENT_ROOT}tenantid/`,
  tenantId: (id: number) => `${AGENT_ROOT}tenantid/${pad(id, 8)}`,
  tenantIdOfPrefix: `${AGENT_ROOT}tenantid-of/`,
  tenantIdOf: (tenant: string) => `${AGENT_ROOT}tenantid-of/${tenant}`,
};

/** Tenant ids are conntrack zones too: 16 bits, never 0. */
export const TENANT_ID_RANGE: [number, number] = [1, 65535];

/** The agent record stored under `agent/host/<host>`. */
export interface AgentRecord {
  host: string;
  vtepIp: string;
  mgmtIp: string;
  capabilities: string[];
  agentVersion: string;
  registeredAt: string;
  /** the registration id (named lease_id in the proto): unique cluster-wide, echoed by heartbeats */
  leaseId: string;
  /** the id of the netmaster replica that holds the registration (absent in records of older versions) */
  replica?: string;
}
