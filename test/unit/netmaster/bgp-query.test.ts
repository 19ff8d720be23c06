/**
 * netctl bgp inspect's way to an agent (issue 16): AgentQueries.bgp writes a `bgp` query on the
 * host's stream and resolves with the agent's answer (its error answers throw, an answer without
 * BGP from an old agent is UNAVAILABLE); bgpOnAgent asks here when the stream is open here, else
 * forwards `{host, bgp: {}}` to the replica holding the agent, and names a host without agent.
 */
import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { systemClock } from '../../../lib/clock';
import { AgentQueries } from '../../../netmaster/agent/agent-queries';
import { bgpOnAgent, FORWARDED_HEADER } from '../../../netmaster/agent/query-router';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import type { AgentQuery } from '../../../proto/gen/netloom/v1/AgentQuery';
import type { QueryAnswer__Output } from '../../../proto/gen/netloom/v1/QueryAnswer';

/** A query stream as AgentQueries sees it: records what it writes. */
class FakeCall extends EventEmitter {
  readonly written: AgentQuery[] = [];
  write(q: AgentQuery): boolean {
    this.written.push(q);
    return true;
  }
  sendMetadata(): void {}
  end(): void {}
}

const result = {
  host: 'h1',
  running: true,
  error: '',
  pid: 9,
  as: 65000,
  routerId: '10.0.0.1',
  neighbors: [],
  announced: [],
  installed: [],
};

function answer(id: string, over: Partial<QueryAnswer__Output>): QueryAnswer__Output {
  return { host: 'h1', id, trace: null, bgp: null, errorCode: '', errorMessage: '', errorField: '', ...over };
}

describe('netmaster: BGP inspect queries to agents', () => {
  let queries: AgentQueries;
  let call: FakeCall;
  beforeEach(() => {
    queries = new AgentQueries(systemClock);
    call = new FakeCall();
    queries.attach('h1', call as unknown as grpc.ServerWritableStream<never, AgentQuery>);
  });
  afterEach(() => queries.stop());

  it("asks the agent's stream for bgp and returns its answer", async () => {
    const p = queries.bgp('h1', 2000);
    const q = call.written[0]!;
    assert.deepEqual(q.bgp, {});
    assert.equal(q.trace, undefined);
    queries.answer(answer(q.id!, { bgp: result }));
    assert.deepEqual(await p, result);
  });

  it("an agent's error answer throws its code and field; an answer without bgp (old agent) is UNAVAILABLE", async () => {
    const p1 = queries.bgp('h1', 2000);
    queries.answer(answer(call.written[0]!.id!, { errorCode: 'UNAVAILABLE', errorMessage: 'runs --no-bgp', errorField: 'host' }));
    await assert.rejects(p1, { code: 'UNAVAILABLE', field: 'host', message: /agent on h1: runs --no-bgp/ });
    const p2 = queries.bgp('h1', 2000);
    queries.answer(answer(call.written[1]!.id!, {}));
    await assert.rejects(p2, { code: 'UNAVAILABLE', message: /does not report BGP/ });
  });

  it('routes: here when the stream is here, forwarded to the holding replica otherwise, an error for a host without agent', async () => {
    const kv = new Map<string, string>([
      [agentLayout.host('h2'), JSON.stringify({ replica: 'r2' })],
      [agentLayout.replica('r2'), JSON.stringify({ replica: 'r2', restUrl: 'https://r2:9999/' })],
    ]);
    const sent: Array<{ url: string; body: unknown; headers: Record<string, string> }> = [];
    const deps = {
      queries,
      replicaId: 'r1',
      kv: { get: async (k: string) => (kv.has(k) ? { key: k, value: kv.get(k)!, modRevision: '1', createRevision: '1' } : undefined) },
      request: (async (url: string, o: { body?: string; headers?: Record<string, string> }) => {
        sent.push({ url, body: JSON.parse(o.body ?? '{}'), headers: o.headers ?? {} });
        return { status: 200, ok: true, text: JSON.stringify({ ...result, host: 'h2' }) };
      }) as never,
    };
    const here = bgpOnAgent(deps, 'h1');
    queries.answer(answer(call.written[0]!.id!, { bgp: result }));
    assert.equal((await here).host, 'h1');
    assert.equal(sent.length, 0);

    assert.equal((await bgpOnAgent(deps, 'h2')).host, 'h2');
    assert.equal(sent[0]?.url, 'https://r2:9999/api/v1/internal/agent-query/');
    assert.deepEqual(sent[0]?.body, { host: 'h2', bgp: {} });
    assert.equal(sent[0]?.headers[FORWARDED_HEADER], 'r1');

    await assert.rejects(bgpOnAgent(deps, 'nohost'), {
      code: 'UNAVAILABLE',
      field: 'host',
      message: /host nohost has no agent registered/,
    });
  });
});
