/**
 * Queries from netmaster to agents over the agents' own gRPC connections (agents listen on no
 * port): each agent keeps a Queries stream open on the replica that holds its registration, and
 * answers every query it reads with AnswerQuery. This is one replica's table of those streams
 * (host -> the newest stream; an older one of the same host is ended) and of the queries waiting
 * for their answer (by id, with a deadline). Routing a query to the replica that has the stream
 * is query-router.ts's work.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { isErrorCode, NetloomError, type ErrorCode } from '../../lib/errors';
import type { Clock, Timer } from '../../lib/clock';
import type { AgentQuery } from '../../proto/gen/netloom/v1/AgentQuery';
import type { QueriesRequest__Output } from '../../proto/gen/netloom/v1/QueriesRequest';
import type { QueryAnswer__Output } from '../../proto/gen/netloom/v1/QueryAnswer';
import type { TraceRequest } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { BgpInspectResult__Output } from '../../proto/gen/netloom/v1/BgpInspectResult';

export const DEFAULT_QUERY_TIMEOUT_MS = 15_000;

type QueryCall = grpc.ServerWritableStream<QueriesRequest__Output, AgentQuery>;

interface Pending {
  host: string;
  resolve(a: QueryAnswer__Output): void;
  reject(e: Error): void;
  timer: Timer;
}

export class AgentQueries {
  private readonly streams = new Map<string, QueryCall>();
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private readonly prefix = randomBytes(4).toString('hex');

  constructor(private readonly clock: Clock) {}

  /** Hosts whose query stream is open on this replica. */
  get hosts(): string[] {
    return [...this.streams.keys()];
  }

  has(host: string): boolean {
    return this.streams.has(host);
  }

  /** An agent opened its query stream (already authorized for `host`). */
  attach(host: string, call: QueryCall): void {
    const old = this.streams.get(host);
    this.streams.set(host, call);
    // headers at once: the agent counts the stream open before any query comes
    call.sendMetadata(new grpc.Metadata());
    old?.end();
    const gone = (): void => {
      if (this.streams.get(host) === call) this.streams.delete(host);
    };
    call.on('cancelled', gone);
    call.on('close', gone);
    call.on('error', gone);
  }

  /** An agent's answer (AnswerQuery): settles the waiting query; answers nobody waits for are dropped. */
  answer(a: QueryAnswer__Output): boolean {
    const p = this.pending.get(a.id);
    if (!p || p.host !== a.host) return false;
    this.pending.delete(a.id);
    p.timer.cancel();
    p.resolve(a);
    return true;
  }

  /** Ask the agent of `host` (its stream must be open here) to trace; its error answers throw. */
  async trace(host: string, trace: TraceRequest, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<TraceResult__Output> {
    const a = answered(host, await this.ask(host, { trace }, timeoutMs));
    if (!a.trace) throw new NetloomError('INTERNAL', `agent on ${host} answered without a trace`);
    return a.trace;
  }

  /** Ask the agent of `host` (its stream must be open here) for its BGP sessions and routes (netctl bgp inspect). */
  async bgp(host: string, timeoutMs = DEFAULT_QUERY_TIMEOUT_MS): Promise<BgpInspectResult__Output> {
    const a = answered(host, await this.ask(host, { bgp: {} }, timeoutMs));
    // an agent from before issue 16 does not know the query and answers with neither
    if (!a.bgp)
      throw new NetloomError('UNAVAILABLE', `the agent of host ${host} does not report BGP (an agent too old?)`, { field: 'host' });
    return a.bgp;
  }

  private ask(host: string, q: Omit<AgentQuery, 'id'>, timeoutMs: number): Promise<QueryAnswer__Output> {
    const call = this.streams.get(host);
    if (!call)
      throw new NetloomError('UNAVAILABLE', `the agent of host ${host} has no query stream open on this replica`, { field: 'host' });
    const id = `${this.prefix}-${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(timeoutMs, () => {
        this.pending.delete(id);
        reject(new NetloomError('TIMEOUT', `the agent of host ${host} did not answer within ${timeoutMs} ms`));
      });
      this.pending.set(id, { host, resolve, reject, timer });
      call.write({ ...q, id });
    });
  }

  /** End every stream and fail every waiting query. */
  stop(): void {
    for (const call of this.streams.values()) call.end();
    this.streams.clear();
    for (const [id, p] of this.pending) {
      p.timer.cancel();
      p.reject(new NetloomError('UNAVAILABLE', 'netmaster is stopping'));
      this.pending.delete(id);
    }
  }
}

/** An agent's error answer as the error it names. */
function answered(host: string, a: QueryAnswer__Output): QueryAnswer__Output {
  if (a.errorCode === '') return a;
  const code: ErrorCode = isErrorCode(a.errorCode) ? a.errorCode : 'INTERNAL';
  throw new NetloomError(code, `agent on ${host}: ${a.errorMessage}`, a.errorField ? { field: a.errorField } : {});
}
