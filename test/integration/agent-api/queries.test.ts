/**
 * netmaster -> agent queries (netctl trace) across two netmaster replicas on one real etcd: each
 * agent keeps its query stream on the replica holding its registration; POST /api/v1/trace/ on
 * one replica reaches an agent held by the other (forwarded over REST to the replica its record
 * names) and one held by itself (directly), in that order, the second with the packet as the
 * first host's tunnel output left it. An agent's error comes back naming its field; a host with
 * no agent is 503 naming the host.
 */
import assert from 'node:assert/strict';
import { NetloomError } from '../../../lib/errors';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { QueryFollower } from '../../../netplugin/netmaster-client/queries';
import type { AgentQuery__Output } from '../../../proto/gen/netloom/v1/AgentQuery';
import type { TraceResult } from '../../../proto/gen/netloom/v1/TraceResult';
import { startEnv, stopEnv, until, type Env } from './support';

const AGENT_SIDE = { grpcListen: '127.0.0.1:0', agentLeaseTtlSeconds: 10, deadHostGraceMs: 600_000, leaderLeaseTtlSeconds: 10 };

describe('agent API: queries to agents routed across replicas (real etcd, two netmasters)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  const masters: RunningNetmaster[] = [];
  const clients: NetmasterClient[] = [];
  const followers: QueryFollower[] = [];
  const asked: Array<[string, AgentQuery__Output]> = [];
  const answers: Record<string, (q: AgentQuery__Output) => TraceResult> = {};
  /** endpoint id by host */
  const ids: Record<string, string> = {};

  function agent(host: string, master: RunningNetmaster): QueryFollower {
    const c = new NetmasterClient({ address: master.agent!.server.address, host, backoff: { initialMs: 50, maxMs: 300 } });
    clients.push(c);
    c.start();
    const f = new QueryFollower(
      c,
      async (q) => {
        asked.push([host, q]);
        const answer = answers[host];
        if (!answer)
          throw new NetloomError('NOT_FOUND', `endpoint '${q.trace?.srcEndpoint ?? ''}' is not plugged here`, { field: 'srcEndpoint' });
        return { trace: answer(q) };
      },
      { backoff: { initialMs: 50, maxMs: 300 } },
    );
    followers.push(f);
    f.start();
    return f;
  }

  before(async () => {
    env = await startEnv('agentapi-queries', 26610);
    for (let i = 0; i < 2; i++)
      masters.push(
        await startNetmaster({ etcdEndpoints: [env.etcd.endpoint], port: 0, agent: AGENT_SIDE, logger: env.logger, cache: false }),
      );
    await env.service.upsert('tenant', { tenantName: 'tq' });
    await env.service.upsert('network', { tenantName: 'tq', networkName: 'n', subnet: '10.66.0.0/24', encap: 'vxlan', pktTag: 66 });
    for (const [id, host] of [
      ['qa', 'qa'],
      ['qb', 'qb'],
      ['qz', 'qz'],
    ])
      await env.service.createEndpoint({ tenantName: 'tq', networkName: 'n', containerID: id, containerName: `c-${id}`, homingHost: host });
    for (const e of await env.service.listEndpoints()) ids[e.homingHost] = e.endpointID;
    agent('qa', masters[0]!);
    agent('qb', masters[1]!);
    await until(
      'both query streams open, each on its own replica',
      () => masters[0]!.agent!.server.queries.has('qa') && masters[1]!.agent!.server.queries.has('qb'),
      10_000,
    );
  });

  after(async () => {
    for (const f of followers) await f.stop();
    for (const c of clients) await c.stop().catch(() => undefined);
    for (const m of masters) await m.stop();
    await stopEnv(env);
  });

  const post = async (master: RunningNetmaster, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${master.url}/api/v1/trace/`, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const base = (host: string): TraceResult => ({
    host,
    flow: 'in_port=1',
    steps: [],
    decisions: [],
    outputs: [],
    dropped: false,
    raw: 'RAW',
  });

  it('reaches the agent held by the other replica (forwarded) and then the one held here, with the tunnelled packet', async () => {
    asked.length = 0;
    answers.qb = () => ({
      ...base('qb'),
      outputs: [{ port: 10, kind: 'tunnel', tunId: '66', tunDst: '10.213.66.1' }],
      dlSrc: '02:00:00:00:00:0b',
      dlDst: '02:00:00:00:00:0a',
      ttl: 64,
      tunSrc: '10.213.66.2',
    });
    answers.qa = (q) => ({
      ...base('qa'),
      outputs: [{ port: 3, kind: 'endpoint', endpoint: q.trace?.dstIp ? (ids.qa ?? '') : '' }],
      decisions: [
        {
          direction: 'ingress',
          table: 70,
          tableName: 'ingressPolicy',
          object: 'tq:p/r1',
          tenant: 'tq',
          policy: 'p',
          ruleId: 'r1',
          action: 'allow',
        },
      ],
    });
    const r = await post(masters[0]!, { tenant: 'tq', from: 'c-qb', to: 'c-qa', protocol: 'tcp', port: 80 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(
      asked.map(([h, q]) => [h, q.trace?.arrival]),
      [
        ['qb', 'endpoint'],
        ['qa', 'tunnel'],
      ],
    );
    const second = asked[1]![1].trace!;
    assert.deepEqual([second.tunId, second.tunSrc, second.tunDst, second.dstPort], ['66', '10.213.66.2', '10.213.66.1', 80]);
    assert.equal(r.json.verdict, 'allow');
    assert.deepEqual(r.json.decidedBy, {
      host: 'qa',
      direction: 'ingress',
      tenant: 'tq',
      policy: 'p',
      rule: 'r1',
      table: 70,
      tableName: 'ingressPolicy',
      action: 'allow',
      object: 'tq:p/r1',
    });
  });

  it("an agent's error comes back with its code and field; a host without an agent is 503 naming the host", async () => {
    delete answers.qb;
    const r = await post(masters[0]!, { tenant: 'tq', from: 'c-qb', to: 'c-qa', protocol: 'udp', port: 53 });
    assert.equal(r.status, 404, JSON.stringify(r.json));
    assert.equal(r.json.field, 'srcEndpoint');
    assert.match(String(r.json.error), /agent on qb: endpoint '.*' is not plugged here/);
    const z = await post(masters[1]!, { tenant: 'tq', from: 'c-qz', to: 'c-qa', protocol: 'icmp' });
    assert.equal(z.status, 503, JSON.stringify(z.json));
    assert.equal(z.json.field, 'host');
    assert.match(String(z.json.error), /host qz has no agent registered/);
  });

  it('bad input is a 400 naming the field before any agent is asked', async () => {
    asked.length = 0;
    const r = await post(masters[1]!, { tenant: 'tq', from: 'c-qb', to: 'c-qa', protocol: 'tcp' });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'port');
    assert.equal(asked.length, 0);
  });
});
