/**
 * The agent server across an etcd restart (same data, same port): the server's cluster watch and
 * the agent's stream recover by themselves, and a change made after etcd is back reaches the
 * agent without a new snapshot. etcd on 26170/26171, data in /tmp/nl-grpc/etcd-restart.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startEtcdMember, stopEtcdMember, waitEtcdHealthy } from '../../../deploy/lab/etcd-cluster';
import { createLogger } from '../../../lib/logger';
import { NetmasterService } from '../../../netmaster/service/service';
import { EtcdKV } from '../../../netmaster/store/kv';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { startAgentServer } from '../../../netmaster/agent/server';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { until } from './support';

const DIR = '/tmp/nl-grpc/etcd-restart';
const MEMBER = { name: 'agentapi-restart', clientUrl: 'http://127.0.0.1:26170', peerUrl: 'http://127.0.0.1:26171', dataDir: `${DIR}/data` };

describe('agent API: etcd restart (real etcd)', function () {
  this.timeout(90_000);
  let pid: number | undefined;
  let kv: EtcdKV | undefined;
  let server: RunningAgentServer | undefined;
  let client: NetmasterClient | undefined;
  const startEtcd = async () => {
    pid = startEtcdMember(MEMBER, [MEMBER], 'agentapi-restart', `${DIR}/log`);
    await waitEtcdHealthy([MEMBER.clientUrl], 20_000);
  };

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    await startEtcd();
  });

  after(async () => {
    await client?.stop();
    await server?.stop();
    kv?.close();
    if (pid) await stopEtcdMember(pid);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('streams resume after etcd comes back, without a new snapshot', async () => {
    const logger = createLogger('t', { level: 'silent' });
    kv = new EtcdKV({ hosts: [MEMBER.clientUrl], dialTimeout: 5000 });
    const service = new NetmasterService({ kv, logger });
    await service.init();
    await service.upsert('network', { tenantName: 'default', networkName: 'n', subnet: '10.4.0.0/24', encap: 'vxlan', pktTag: 4 });
    await service.createEndpoint({ networkName: 'n', containerID: 'c0', homingHost: 'hr' });
    server = await startAgentServer({ service, logger, listen: '127.0.0.1:0' });
    client = new NetmasterClient({ address: server.address, host: 'hr', backoff: { initialMs: 50, maxMs: 500 } });
    client.start();
    await until('snapshot', () => client!.state.endpoints.length === 1, 10_000);
    await stopEtcdMember(pid!);
    pid = undefined;
    await new Promise((r) => setTimeout(r, 1000));
    await startEtcd();
    const t0 = Date.now();
    const e = await until(
      'create after restart',
      () => service.createEndpoint({ networkName: 'n', containerID: 'c1', homingHost: 'hr' }).catch(() => undefined),
      30_000,
    );
    // 3.6-11.5 s on a quiet machine (the etcd client's reconnect backoff); CI once took over 15 s under load
    await until('the agent sees it', () => client!.state.endpoints.some((x) => x.id === e.endpointID), 30_000);
    process.stdout.write(`      change after the etcd restart reached the agent in ${Date.now() - t0} ms\n`);
    assert.equal(client.stats.snapshots, 1, 'no new snapshot');
    assert.equal(client.state.endpoints.length, 2);
  });
});
