/**
 * Address blocks in the desired state and the dead-host cleanup on a real etcd (issue 15): a host
 * that claims a block of a network it has no endpoint in gets the network (with its effective
 * block prefix) and the block in its view; a host carrying the network gets the other host's block
 * with its VTEP; a host of an unrelated network gets nothing; the leader's liveness task releases a
 * dead host's blocks with its endpoints. Private etcd on 24862.
 */
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';
import type { AddressBlock__Output } from '../../../proto/gen/netloom/v1/AddressBlock';
import type { Change__Output } from '../../../proto/gen/netloom/v1/Change';
import { createLivenessMetrics, runLiveness } from '../../../netmaster/agent/liveness';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { agentLayout } from '../../../netmaster/store/agent-layout';
import { rawClient, startEnv, startServer, stopEnv, StreamRecorder, until, type Env } from '../agent-api/support';

function rpc<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

/** The changes a stream received so far (snapshot lists count as puts). */
function seen(rec: StreamRecorder): Map<string, Change__Output> {
  const out = new Map<string, Change__Output>();
  for (const u of rec.updates) {
    if (u.snapshot?.state) {
      for (const n of u.snapshot.state.networks)
        out.set(`network/${n.key}`, { deleted: false, key: `network/${n.key}`, network: n } as Change__Output);
      for (const b of u.snapshot.state.blocks)
        out.set(`block/${b.network}/${b.cidr}`, { deleted: false, key: `block/${b.network}/${b.cidr}`, block: b } as Change__Output);
    }
    if (u.change?.key) out.set(u.change.key, u.change);
  }
  return out;
}

describe('netmaster address blocks in host views and the dead-host cleanup (real etcd)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let server: RunningAgentServer | undefined;
  let client: AgentClient;
  const recorders: StreamRecorder[] = [];

  before(async () => {
    env = await startEnv('nm-block-views', 24862);
    const svc = env.service;
    await svc.upsert('tenant', { tenantName: 'bv' });
    await svc.upsert('network', {
      tenantName: 'bv',
      networkName: 'web',
      subnet: '10.80.0.0/22',
      gateway: '10.80.0.1',
      encap: 'vxlan',
      blockPrefix: 27,
    });
    await svc.upsert('network', { tenantName: 'bv', networkName: 'far', subnet: '10.81.0.0/24', encap: 'vxlan' });
    server = await startServer(env, { leaseTtlSeconds: 2 });
    client = rawClient(server.address);
    for (const [host, vtep] of [
      ['hostV', '192.168.7.1'],
      ['hostW', '192.168.7.2'],
      ['hostX', '192.168.7.3'],
    ] as const)
      await rpc(client.register.bind(client), { host, vtepIp: vtep, mgmtIp: '', capabilities: ['vxlan'], agentVersion: 't' });
    await svc.createEndpoint({ tenantName: 'bv', networkName: 'web', containerID: 'w1', homingHost: 'hostW' });
    await svc.createEndpoint({ tenantName: 'bv', networkName: 'far', containerID: 'x1', homingHost: 'hostX' });
  });

  after(async () => {
    for (const r of recorders) r.cancel();
    client?.close();
    await server?.stop();
    await stopEnv(env);
  });

  it("a claim puts the block in its owner's view (with the network it carries now) and in the views of the network's carriers only", async () => {
    const [v, w, x] = ['hostV', 'hostW', 'hostX'].map((h) => {
      const r = new StreamRecorder(client, h);
      recorders.push(r);
      return r;
    });
    for (const r of [v, w, x]) await r!.nextGroup(0);
    assert.equal(seen(v!).has('network/bv:web'), false, 'hostV carries nothing yet');
    const block = await rpc<object, AddressBlock__Output>(client.claimBlock.bind(client), {
      host: 'hostV',
      network: 'bv:web',
      claimId: 'k1',
    });
    // the first /27 holds hostW's endpoint (given by netmaster): the next one
    assert.equal(block.cidr, '10.80.0.32/27', 'the network asks for /27 blocks');
    const key = `block/bv:web/${block.cidr}`;
    await until('hostV sees its block and the network', () => seen(v!).has(key) && seen(v!).has('network/bv:web'));
    assert.equal(seen(v!).get('network/bv:web')?.network?.blockPrefix, 27, 'the effective block prefix');
    assert.deepEqual(seen(v!).get(key)?.block, { network: 'bv:web', cidr: '10.80.0.32/27', host: 'hostV', vtepIp: '192.168.7.1' });
    await until("hostW (carries bv:web) sees hostV's block", () => seen(w!).get(key)?.block?.host === 'hostV');
    // a change hostX would get comes after the ones above; a network it carries changes now as a marker
    await env!.service.createEndpoint({ tenantName: 'bv', networkName: 'far', containerID: 'x2', homingHost: 'hostX' });
    await until('hostX saw its own change', () => [...seen(x!).keys()].filter((k) => k.startsWith('endpoint/')).length === 2);
    assert.equal(
      [...seen(x!).keys()].some((k) => k.startsWith('block/')),
      false,
      'hostX does not carry bv:web',
    );
  });

  it("the leader releases a dead host's blocks with its endpoints after the grace period, and its view drops them", async () => {
    const svc = env!.service;
    assert.equal((await svc.blocks.list('bv:web')).filter((b) => b.host === 'hostV').length, 1);
    const ac = new AbortController();
    const task = runLiveness({ service: svc, logger: env!.logger, graceMs: 300, tickMs: 50, metrics: createLivenessMetrics() }, ac.signal);
    try {
      await until('liveness task knows the hosts', async () => Boolean(await env!.kv.get(agentLayout.known('hostV'))));
      await env!.kv.commit([], [{ kind: 'delete', key: agentLayout.host('hostV') }]);
      await until('blocks released', async () => (await svc.blocks.list('bv:web')).every((b) => b.host !== 'hostV'), 10_000);
      const w = recorders[1]!;
      await until("hostW's view drops hostV's block", () => seen(w).get('block/bv:web/10.80.0.32/27')?.deleted === true);
    } finally {
      ac.abort();
      await task;
    }
  });
});
