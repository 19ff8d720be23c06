/**
 * bin/netmaster with the agent API wired in: `--grpc-listen`, `--agent-lease-ttl` and
 * `--dead-host-grace` take effect (an agent registers with the configured TTL, gets its state, and
 * the elected netmaster releases its endpoint after it stops heartbeating), and SIGTERM still
 * stops it cleanly (exit 0). Real etcd on 26150/26151, REST on 26161, gRPC on 26162.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { isAlive, stopProcess } from '../../../lib/process';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { until } from './support';

describe('agent API: bin/netmaster --grpc-listen (real etcd, real process)', function () {
  this.timeout(30_000);
  let etcd: EtcdFixture | undefined;
  let child: ChildProcess | undefined;
  const clients: NetmasterClient[] = [];

  before(async () => {
    etcd = await startTestEtcd('agentapi-bin', 26150);
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    const pid = child?.pid;
    if (pid && isAlive(pid)) await stopProcess(pid, 'netmaster');
    await etcd?.stop();
  });

  it('serves agents with the configured lease and grace, and stops cleanly on SIGTERM', async () => {
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const args = [
      '--insecure',
      '--etcd',
      etcd!.endpoint,
      '--listen-url',
      '127.0.0.1:26161',
      '--grpc-listen',
      '127.0.0.1:26162',
      '--agent-lease-ttl',
      '1',
      '--dead-host-grace',
      '1',
      '--leader-lease-ttl',
      '2',
      '--log-level',
      'warn',
    ];
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const live = new NetmasterClient({ address: '127.0.0.1:26162', host: 'binhost', vtepIp: '192.168.7.1', callTimeoutMs: 2000 });
    clients.push(live);
    const reg = await until('registered', () => live.register().catch(() => undefined), 10_000);
    assert.equal(reg.ttlSeconds, 1);
    const r = await fetch('http://127.0.0.1:26161/api/v1/networks/default:n/', {
      method: 'POST',
      body: JSON.stringify({ tenantName: 'default', networkName: 'n', subnet: '10.8.0.0/24', encap: 'vxlan', pktTag: 8 }),
    });
    assert.equal(r.status, 200, await r.text());
    const ep = await live.createEndpoint({ idempotencyKey: 'c1', network: 'n' });
    live.start();
    await until('state with the endpoint', () => live.state.endpoints.some((e) => e.id === ep.id), 5000);
    // stop heartbeating: the 1 s lease expires, the 1 s grace passes, the endpoint is released
    await live.stop();
    const gone = async () => (await fetch(`http://127.0.0.1:26161/api/v1/endpoints/${ep.id}/`).catch(() => undefined))?.status === 404;
    await until('endpoint released by the leader', gone, 15_000);
    proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 5000))]);
    assert.equal(code, 0, `exit code after SIGTERM (stderr: ${stderr})`);
  });
});
