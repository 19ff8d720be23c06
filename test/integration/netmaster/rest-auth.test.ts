/**
 * REST authentication over HTTPS with client certificates (real etcd, in-process netmaster):
 * the admin certificate reads and writes, the read-only one only reads, a host's certificate, one
 * of another CA and none get 401 on every route, reads included; a token still works beside the
 * certificates; netmaster's own certificate (a replica) reaches only the internal agent-query
 * route. netctl talks to it with --cacert/--cert/--key. And bin/netmaster refuses to start
 * without TLS and authentication unless given --insecure. etcd on 25810 (tests' own port).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger } from '../../../lib/logger';
import { run } from '../../../lib/exec';
import { restRequest } from '../../../lib/rest-request';
import { loadCredentials, type RestCredentials } from '../../../lib/rest-credentials';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { makeLeaf, makeSelfSigned } from '../../support/test-certs';

const DIR = '/tmp/nl-rest-auth';
const NETCTL = resolve(__dirname, '../../../../bin/netctl');

describe('REST authentication with client certificates and tokens (real etcd)', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture | undefined;
  let nm: RunningNetmaster | undefined;
  const creds = (name?: string, token?: string): RestCredentials =>
    loadCredentials({
      cacert: `${DIR}/ca.crt`,
      ...(name ? { cert: `${DIR}/${name}.crt`, key: `${DIR}/${name}.key` } : {}),
      ...(token ? { token } : {}),
    });
  const status = async (method: string, path: string, c: RestCredentials, body?: unknown): Promise<number> =>
    (await restRequest(`${nm!.url}${path}`, { method, credentials: c, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }))
      .status;

  before(async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await Promise.all([makeSelfSigned(DIR, 'ca'), makeSelfSigned(DIR, 'otherca')]);
    const client = 'extendedKeyUsage=clientAuth\n';
    await Promise.all([
      makeLeaf(DIR, 'ca', 'server', {
        cn: 'netmaster',
        org: 'netloom:netmaster',
        ext: 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n',
      }),
      makeLeaf(DIR, 'ca', 'admin', { org: 'netloom:admin', ext: client }),
      makeLeaf(DIR, 'ca', 'reader', { org: 'netloom:read-only', ext: client }),
      makeLeaf(DIR, 'ca', 'host1', { ext: `subjectAltName=DNS:host1\n${client}` }),
      makeLeaf(DIR, 'otherca', 'rogue', { org: 'netloom:admin', ext: client }),
    ]);
    etcd = await startTestEtcd('rest-auth', 25810);
    nm = await startNetmaster({
      etcdEndpoints: [etcd.endpoint],
      logger: createLogger('rest-auth', { level: 'silent' }),
      tls: { cert: readFileSync(`${DIR}/server.crt`), key: readFileSync(`${DIR}/server.key`), clientCa: readFileSync(`${DIR}/ca.crt`) },
      readOnlyToken: 'r3ad',
    });
  });

  after(async () => {
    await nm?.stop();
    await etcd?.stop();
    rmSync(DIR, { recursive: true, force: true });
  });

  it('admin certificate: reads and writes; read-only: reads (metrics, watch too) but writes nothing', async () => {
    const admin = creds('admin');
    const reader = creds('reader');
    assert.equal(await status('POST', '/api/v1/tenants/t1/', admin, { tenantName: 't1' }), 200);
    assert.equal(await status('GET', '/api/v1/tenants/t1/', reader), 200);
    assert.equal(await status('GET', '/metrics', reader), 200);
    assert.equal(await status('GET', '/api/v1/watch?since=x', reader), 400, 'the watch route is reached (and refuses its bad since)');
    assert.equal(await status('POST', '/api/v1/tenants/t2/', reader, { tenantName: 't2' }), 403);
    assert.equal(await status('DELETE', '/api/v1/tenants/t1/', reader), 403);
    assert.equal(await status('GET', '/api/v1/tenants/t2/', admin), 404, 'the refused write wrote nothing');
  });

  it("no certificate, a host's, one of another CA: 401 on every route, reads included; /healthz stays open; the read-only token reads", async () => {
    for (const c of [creds(), creds('host1'), creds('rogue')]) {
      for (const [m, p] of [
        ['GET', '/api/v1/tenants/'],
        ['GET', '/metrics'],
        ['GET', '/api/v1/watch'],
        ['POST', '/api/v1/tenants/evil/'],
        ['POST', '/api/v1/internal/agent-query/'],
      ] as const)
        assert.equal(await status(m, p, c, m === 'POST' ? {} : undefined), 401, `${m} ${p}`);
      assert.equal(await status('GET', '/healthz', c), 200);
    }
    assert.equal(await status('GET', '/api/v1/tenants/', creds(undefined, 'r3ad')), 200);
    assert.equal(
      await status('GET', '/api/v1/tenants/', creds('admin', 'wrong')),
      401,
      'a wrong token does not fall back to the certificate',
    );
  });

  it("netmaster's own certificate is a replica: the internal agent-query route only", async () => {
    const replica = creds('server');
    assert.equal(await status('GET', '/api/v1/tenants/', replica), 403);
    assert.equal(await status('POST', '/api/v1/tenants/x/', replica, { tenantName: 'x' }), 403);
    // reached: no agent API runs here, so the query cannot be answered (not a refusal of the caller)
    const r = await status('POST', '/api/v1/internal/agent-query/', replica, { host: 'h1', trace: {} });
    assert.equal(r, 503);
  });

  it('netctl presents the certificate given by --cacert/--cert/--key (or env), and fails clearly without', async () => {
    const env = { ...process.env, NETMASTER: '', NETCTL_CONFIG: '', NETLOOM_LAB_ROOT: `${DIR}/no-labs` };
    const ok = await run(
      NETCTL,
      [
        '--netmaster',
        nm!.url,
        '--cacert',
        `${DIR}/ca.crt`,
        '--cert',
        `${DIR}/admin.crt`,
        '--key',
        `${DIR}/admin.key`,
        'tenant',
        'create',
        'nc',
      ],
      { env },
    );
    assert.equal(ok.code, 0);
    const viaEnv = await run(NETCTL, ['--netmaster', nm!.url, 'tenant', 'ls', '-q'], {
      env: { ...env, NETMASTER_CACERT: `${DIR}/ca.crt`, NETMASTER_CERT: `${DIR}/reader.crt`, NETMASTER_KEY: `${DIR}/reader.key` },
    });
    assert.match(viaEnv.stdout, /^nc$/m);
    const none = await run(NETCTL, ['--netmaster', nm!.url, '--cacert', `${DIR}/ca.crt`, 'tenant', 'ls'], { env, allowFailure: true });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /authentication required: .*\(code: UNAUTHENTICATED\)/);
  });

  it('bin/netmaster refuses to start without TLS and authentication unless given --insecure', () => {
    const bin = join(__dirname, '..', '..', '..', '..', 'bin', 'netmaster');
    const r = spawnSync(bin, ['--etcd', 'http://127.0.0.1:1', '--listen-url', '127.0.0.1:0', '--log-level', 'silent'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing to start insecurely: REST serves plain HTTP .*agent API .*etcd .*--insecure/);
  });
});
