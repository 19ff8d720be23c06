/**
 * Where a query to an agent goes. An agent's query stream is open on the replica that holds its
 * registration, and the agent record in etcd (`agent/host/<host>`) names that replica; each
 * replica's marker (`agent/replica/<id>`) carries its REST URL. So a replica asks an agent whose
 * stream it has directly, and forwards any other query to the holding replica's REST API
 * (`POST /api/v1/internal/agent-query/`), which answers from its own streams only (a forwarded
 * query is never forwarded again: no loops while a registration moves).
 */
import { NetloomError, errorMessage, type ErrorCode } from '../../lib/errors';
import type { TraceRequest } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { BgpInspectResult__Output } from '../../proto/gen/netloom/v1/BgpInspectResult';
import { agentLayout, type AgentRecord } from '../store/agent-layout';
import type { KeyValue } from '../store/kv';
import type { AgentQueries } from './agent-queries';
import { restRequest, type RestAnswer } from '../../lib/rest-request';
import type { RestCredentials } from '../../lib/rest-credentials';

/** The header that marks a query forwarded by another replica. */
export const FORWARDED_HEADER = 'x-netloom-forwarded';
export const AGENT_QUERY_PATH = '/api/v1/internal/agent-query/';

export interface QueryRouterDeps {
  queries: AgentQueries;
  kv: { get(key: string): Promise<KeyValue | undefined> };
  replicaId: string;
  /** how this replica authenticates to the others' REST APIs (its certificate, a token) */
  credentials?: RestCredentials;
  /** the HTTP(S) request (tests hand in their own) */
  request?: typeof restRequest;
}

/** The marker a replica writes under agent/replica/<id>. */
export interface ReplicaMarker {
  replica: string;
  startedAt: string;
  /** the REST URL other replicas forward agent queries to ('' when unknown) */
  restUrl?: string;
}

function parse<T>(kv: KeyValue | undefined): Partial<T> | undefined {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as Partial<T>;
  } catch {
    return undefined;
  }
}

/** Trace on the agent of `host`, wherever its query stream is. */
export function traceOnAgent(deps: QueryRouterDeps, host: string, trace: TraceRequest): Promise<TraceResult__Output> {
  return routeQuery(deps, host, () => deps.queries.trace(host, trace), { trace }) as Promise<TraceResult__Output>;
}

/** The BGP sessions and routes of the agent of `host` (netctl bgp inspect), wherever its query stream is. */
export function bgpOnAgent(deps: QueryRouterDeps, host: string): Promise<BgpInspectResult__Output> {
  return routeQuery(deps, host, () => deps.queries.bgp(host), { bgp: {} }) as Promise<BgpInspectResult__Output>;
}

/** Ask here when the agent's stream is open here, else forward `query` to the replica holding it. */
async function routeQuery(deps: QueryRouterDeps, host: string, here: () => Promise<unknown>, query: object): Promise<unknown> {
  if (deps.queries.has(host)) return here();
  const rec = parse<AgentRecord>(await deps.kv.get(agentLayout.host(host)));
  if (!rec) throw new NetloomError('UNAVAILABLE', `host ${host} has no agent registered`, { field: 'host' });
  if (!rec.replica || rec.replica === deps.replicaId)
    throw new NetloomError('UNAVAILABLE', `the agent of host ${host} has no query stream open (an agent too old, or reconnecting)`, {
      field: 'host',
    });
  const marker = parse<ReplicaMarker>(await deps.kv.get(agentLayout.replica(rec.replica)));
  if (!marker?.restUrl)
    throw new NetloomError('UNAVAILABLE', `replica ${rec.replica}, which holds host ${host}, has no REST URL recorded`, { field: 'host' });
  return forward(deps, marker.restUrl, host, query);
}

async function forward(deps: QueryRouterDeps, restUrl: string, host: string, query: object): Promise<unknown> {
  const send = deps.request ?? restRequest;
  let res: RestAnswer;
  try {
    res = await send(`${restUrl.replace(/\/$/, '')}${AGENT_QUERY_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [FORWARDED_HEADER]: deps.replicaId },
      body: JSON.stringify({ host, ...query }),
      ...(deps.credentials ? { credentials: deps.credentials } : {}),
      timeoutMs: 20_000,
    });
  } catch (e) {
    throw new NetloomError('UNAVAILABLE', `replica at ${restUrl} (holding host ${host}) cannot be reached: ${errorMessage(e)}`);
  }
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(res.text);
    if (parsed !== null && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON: the status says what happened
  }
  if (!res.ok) {
    const code = typeof body.code === 'string' ? (body.code as ErrorCode) : 'INTERNAL';
    const msg = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new NetloomError(code, msg, typeof body.field === 'string' ? { field: body.field } : {});
  }
  return body;
}
