/**
 * bin/netmaster against an etcd that only speaks TLS and demands client certificates: the
 * `--etcd-cacert/--etcd-cert/--etcd-key` options reach the etcd client. etcd runs on the ports
 * assigned to netmaster (24012 client, 24013 peer) and is stopped by PID.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { spawnDaemon } from '../../../lib/exec';
import { isAlive, stopProcess } from '../../../lib/process';
import { call } from './support';
import { makeSelfSigned, makeLeaf } from '../../support/test-certs';

const DIR = '/tmp/nl-netmaster/etcd-tls';

describe('netmaster with etcd over mutual TLS', function () {
  this.timeout(60_000);
  let etcdPid = 0;
  let nmPid = 0;

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await makeSelfSigned(DIR, 'ca', 'nl-netmaster-test-ca');
    await makeLeaf(DIR, 'ca', 'server', { cn: '127.0.0.1', ext: 'subjectAltName=IP:127.0.0.1\n' });
    await makeLeaf(DIR, 'ca', 'client', { cn: 'netmaster' });
    const log = openSync(`${DIR}/etcd.log`, 'a');
    try {
      etcdPid = spawnDaemon(
        'etcd',
        [
          '--name',
          'nmtls',
          '--data-dir',
          `${DIR}/data`,
          '--listen-client-urls',
          'https://127.0.0.1:24012',
          '--advertise-client-urls',
          'https://127.0.0.1:24012',
          '--listen-peer-urls',
          'http://127.0.0.1:24013',
          '--initial-advertise-peer-urls',
          'http://127.0.0.1:24013',
          '--initial-cluster',
          'nmtls=http://127.0.0.1:24013',
          '--initial-cluster-token',
          'nl-netmaster-tls',
          '--cert-file',
          `${DIR}/server.crt`,
          '--key-file',
          `${DIR}/server.key`,
          '--trusted-ca-file',
          `${DIR}/ca.crt`,
          '--client-cert-auth',
          '--log-level',
          'warn',
          '--logger',
          'zap',
        ],
        { logFd: log },
      );
    } finally {
      closeSync(log);
    }
  });

  after(async () => {
    if (nmPid && isAlive(nmPid)) await stopProcess(nmPid, 'netmaster');
    if (etcdPid) await stopProcess(etcdPid, 'etcd');
  });

  it('serves the API with its state in a TLS-only etcd', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const args = [
      // REST and the agent API stay plaintext here: only etcd's TLS is under test
      '--insecure',
      '--etcd',
      'https://127.0.0.1:24012',
      '--etcd-cacert',
      `${DIR}/ca.crt`,
      '--etcd-cert',
      `${DIR}/client.crt`,
      '--etcd-key',
      `${DIR}/client.key`,
      '--listen-url',
      `127.0.0.1:${port}`,
      '--log-level',
      'error',
    ];
    // etcd may need a moment: netmaster exits when it cannot reach etcd, so start it until it serves
    let stderr = '';
    await waitFor(
      'netmaster on TLS etcd',
      async () => {
        if (!nmPid || !isAlive(nmPid)) {
          const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          nmPid = child.pid ?? 0;
        }
        return (await call('GET', `http://127.0.0.1:${port}/api/v1/tenants/`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; netmaster stderr: ${stderr.slice(-500)}`);
    });
    const r = await call('POST', `http://127.0.0.1:${port}/api/v1/tenants/secure/`, { tenantName: 'secure' });
    assert.equal(r.status, 200, r.text);
    assert.equal((await call('GET', `http://127.0.0.1:${port}/api/v1/tenants/secure/`)).json.tenantName, 'secure');
  });
});
