/**
 * netmaster killed (SIGKILL) in the middle of concurrent creates leaves nothing half-made: every
 * allocation key belongs to an object and every object holds its allocations (consistency check
 * clean), and a new netmaster carries on allocating without reusing an address. Also: a group's
 * pool runs out with a clear 409.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { isAlive, stopProcess } from '../../../lib/process';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { call, startTestEtcd, type TestEtcd } from './support';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('netmaster killed mid-write', function () {
  this.timeout(60_000);
  let etcd: TestEtcd | undefined;
  let pid = 0;
  let nm: RunningNetmaster | undefined;

  before(async () => {
    etcd = await startTestEtcd();
  });

  after(async () => {
    if (pid && isAlive(pid)) await stopProcess(pid, 'netmaster');
    await nm?.stop();
    await etcd?.stop();
  });

  it('leaves allocations equal to objects, and a new netmaster carries on', async () => {
    assert.ok(etcd);
    const port = await freePort();
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const child = spawn(bin, ['--insecure', '--etcd', etcd.url, '--listen-url', `127.0.0.1:${port}`, '--log-level', 'error'], {
      stdio: 'ignore',
    });
    pid = child.pid ?? 0;
    const api = `http://127.0.0.1:${port}/api/v1`;
    await waitFor('netmaster', async () => (await call('GET', `${api}/tenants/`).catch(() => undefined))?.status === 200, {
      timeoutMs: 10_000,
    });
    assert.equal(
      (
        await call('POST', `${api}/networks/default:k/`, {
          tenantName: 'default',
          networkName: 'k',
          subnet: '10.44.0.0/16',
          gateway: '10.44.0.1',
        })
      ).status,
      200,
    );
    // 600 creates in flight from 16 clients; kill the server while they run
    let done = 0;
    const load = Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        for (let i = 0; i < 40; i++) {
          const r = await call('POST', `${api}/endpoints/`, { tenantName: 'default', networkName: 'k', containerID: `k${c}-${i}` }).catch(
            () => undefined,
          );
          if (!r) return;
          done++;
          if (i % 10 === 0)
            await call('POST', `${api}/networks/default:k${c}x${i}/`, {
              tenantName: 'default',
              networkName: `k${c}x${i}`,
              subnet: `10.45.${c * 16 + i / 10}.0/24`,
            }).catch(() => undefined);
        }
      }),
    );
    await waitFor('some creates', () => done >= 100, { timeoutMs: 20_000, intervalMs: 5 });
    process.kill(pid, 'SIGKILL');
    await load;
    await waitFor('netmaster gone', () => !isAlive(pid), { timeoutMs: 5000 });

    nm = await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('nm', { level: 'silent' }) });
    const report = await nm.service.checkConsistency();
    assert.equal(report.clean, true, JSON.stringify({ leaked: report.leaked.slice(0, 5), missing: report.missing.slice(0, 5) }));
    const before = await nm.service.listEndpoints({ network: 'default:k' });
    assert.ok(before.length >= 100, `${before.length} endpoints survived`);
    const r = await call('POST', `${nm.url}/api/v1/endpoints/`, { tenantName: 'default', networkName: 'k', containerID: 'after-crash' });
    assert.equal(r.status, 200, r.text);
    assert.ok(!before.some((e) => e.ipAddress === r.json.ipAddress), 'a fresh address after the crash');
  });

  it('answers 409 EXHAUSTED when a group pool has no address left', async () => {
    assert.ok(nm);
    const api = `${nm.url}/api/v1`;
    assert.equal(
      (
        await call('POST', `${api}/endpointGroups/default:small/`, {
          tenantName: 'default',
          groupName: 'small',
          networkName: 'k',
          ipPool: '10.44.200.1-10.44.200.3',
        })
      ).status,
      200,
    );
    const ips: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', `${api}/endpoints/`, {
        tenantName: 'default',
        networkName: 'k',
        groupName: 'small',
        containerID: `s${i}`,
      });
      assert.equal(r.status, 200, r.text);
      ips.push(r.json.ipAddress);
    }
    assert.deepEqual(ips.sort(), ['10.44.200.1', '10.44.200.2', '10.44.200.3']);
    const full = await call('POST', `${api}/endpoints/`, {
      tenantName: 'default',
      networkName: 'k',
      groupName: 'small',
      containerID: 's3',
    });
    assert.equal(full.status, 409);
    assert.equal(full.json.code, 'EXHAUSTED');
    assert.match(full.json.error, /no free address left in pool 10.44.200.1-10.44.200.3/);
  });
});
