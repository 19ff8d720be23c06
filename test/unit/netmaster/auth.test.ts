/**
 * Secure by default, the pure parts: which host a client certificate acts for (one name only;
 * netmaster's own, replicas' and REST users' certificates none), the REST role of a certificate,
 * what each route needs and each role may do, the refusals of the auth middleware (tokens), the
 * gaps netmaster refuses to start with, and the VTEP policy.
 */
import assert from 'node:assert/strict';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { hostOfCertificate, roleOfCertificate, type PeerCert } from '../../../netmaster/auth/identity';
import { allows, needOf, restAuth } from '../../../netmaster/rest/auth';
import { requireSecure, securityGaps } from '../../../netmaster/auth/secure-config';
import { checkVtep, parseVtepSubnets } from '../../../netmaster/agent/vtep-policy';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import { errorBody, httpStatusOf } from '../../../netmaster/rest/errors';

const cert = (cn: string | string[] | undefined, san = '', o?: string | string[], fp = 'AA:BB'): PeerCert => ({
  subject: { ...(cn !== undefined ? { CN: cn } : {}), ...(o !== undefined ? { O: o } : {}) },
  subjectaltname: san,
  fingerprint256: fp,
});

describe('host identity of a client certificate', () => {
  const own = new Set(['NM:FP']);
  it('a certificate acts for the one host its CN and DNS SANs name', () => {
    assert.deepEqual(hostOfCertificate(cert('host1'), own), { host: 'host1' });
    assert.deepEqual(hostOfCertificate(cert('host1', 'DNS:host1'), own), { host: 'host1' });
    assert.deepEqual(hostOfCertificate(cert('host1', 'DNS:host1, IP Address:10.0.0.1', 'netloom:host'), own), { host: 'host1' });
    assert.deepEqual(hostOfCertificate(cert(undefined, 'DNS:host7'), own), { host: 'host7' });
  });
  it('several names act for none (a SAN B does not add host B), nor do no names or a bad name', () => {
    for (const c of [cert('host1', 'DNS:host2'), cert('host1', 'DNS:host1, DNS:host2'), cert(['host1', 'host2'])]) {
      const r = hostOfCertificate(c, own);
      assert.ok('refused' in r && /several hosts/.test(r.refused), JSON.stringify(r));
    }
    assert.ok('refused' in hostOfCertificate(cert(undefined, 'IP Address:10.0.0.1'), own));
    assert.ok('refused' in hostOfCertificate(cert('bad host!'), own));
    assert.ok('refused' in hostOfCertificate(undefined, own));
    assert.ok('refused' in hostOfCertificate({}, own), 'an empty peer certificate (none sent)');
  });
  it("netmaster's own certificate, a replica's and a REST user's act for no host", () => {
    const r = hostOfCertificate(cert('host1', '', undefined, 'NM:FP'), own);
    assert.ok('refused' in r && /netmaster's own/.test(r.refused));
    for (const o of ['netloom:netmaster', 'netloom:admin', 'netloom:read-only', ['netloom:host', 'netloom:admin']])
      assert.ok('refused' in hostOfCertificate(cert('host1', '', o), own), String(o));
  });
  it('REST roles come from the subject O; ambiguous or none: no role; own certificate: replica', () => {
    assert.equal(roleOfCertificate(cert('a', '', 'netloom:admin')), 'admin');
    assert.equal(roleOfCertificate(cert('a', '', 'netloom:read-only')), 'read-only');
    assert.equal(roleOfCertificate(cert('a', '', 'netloom:netmaster')), 'replica');
    assert.equal(roleOfCertificate(cert('a', '', ['netloom:admin', 'netloom:read-only'])), undefined);
    assert.equal(roleOfCertificate(cert('host1', '', 'netloom:host')), undefined);
    assert.equal(roleOfCertificate(cert('host1')), undefined);
    assert.equal(roleOfCertificate(cert('x', '', undefined, 'NM:FP'), own), 'replica');
  });
});

describe('REST routes and roles', () => {
  it('only GET /healthz is open; GETs, /metrics, watch and trace are reads; the internal route is for replicas', () => {
    assert.equal(needOf('GET', '/healthz'), 'open');
    assert.equal(needOf('HEAD', '/healthz/'), 'open');
    assert.equal(needOf('POST', '/healthz'), 'admin');
    for (const p of ['/api/v1/tenants/', '/metrics', '/api/v1/watch', '/version', '/HEALTHZ', '/api/v1/nosuch/'])
      assert.equal(needOf('GET', p), 'read', p);
    assert.equal(needOf('POST', '/api/v1/trace/'), 'read');
    assert.equal(needOf('POST', '/api/v1/trace'), 'read');
    assert.equal(needOf('POST', '/api/v1/internal/agent-query/'), 'replica');
    for (const [m, p] of [
      ['POST', '/api/v1/tenants/x/'],
      ['DELETE', '/api/v1/networks/a:b/'],
      ['POST', '/api/v1/consistency'],
      ['PUT', '/api/v1/tenants/x/'],
      ['POST', '/API/V1/TRACE/'],
    ] as const)
      assert.equal(needOf(m, p), 'admin', `${m} ${p}`);
  });
  it('admin may do everything, read-only reads, a replica only forwards', () => {
    assert.ok(allows('admin', 'replica') && allows('admin', 'admin') && allows('admin', 'read'));
    assert.ok(allows('read-only', 'read') && !allows('read-only', 'admin') && !allows('read-only', 'replica'));
    assert.ok(allows('replica', 'replica') && !allows('replica', 'read') && !allows('replica', 'admin'));
    assert.ok(allows('replica', 'open'));
  });

  it('the middleware: 401 without or with a wrong token, 403 for a role that may not, open when nothing is configured', async () => {
    const serve = async (auth: Parameters<typeof restAuth>[0]) => {
      const app = express();
      app.use(restAuth(auth));
      app.all('/{*any}', (_req, res) => void res.json({ ok: true }));
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(httpStatusOf(err)).json(errorBody(err));
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
    };
    const s = await serve({ adminTokens: ['adm1n'], readOnlyTokens: ['r3ad'] });
    const open = await serve({});
    try {
      const st = async (method: string, path: string, token?: string, base = s.url) =>
        (await fetch(`${base}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} })).status;
      assert.equal(await st('GET', '/api/v1/tenants/'), 401);
      assert.equal(await st('GET', '/metrics', 'wrong'), 401);
      assert.equal(await st('GET', '/healthz'), 200);
      assert.equal(await st('GET', '/metrics', 'r3ad'), 200);
      assert.equal(await st('POST', '/api/v1/trace/', 'r3ad'), 200);
      assert.equal(await st('POST', '/api/v1/tenants/x/', 'r3ad'), 403);
      assert.equal(await st('POST', '/api/v1/internal/agent-query/', 'r3ad'), 403);
      assert.equal(await st('POST', '/api/v1/tenants/x/', 'adm1n'), 200);
      assert.equal(await st('POST', '/api/v1/internal/agent-query/', 'adm1n'), 200);
      const r = await fetch(`${s.url}/api/v1/tenants/`);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await r.json()) as { code: string }).code, 'UNAUTHENTICATED');
      assert.equal(await st('POST', '/api/v1/tenants/x/', undefined, open.url), 200, 'nothing configured: open (--insecure)');
    } finally {
      s.close();
      open.close();
    }
  });
});

describe('netmaster refuses to start insecurely', () => {
  const secure = {
    etcdEndpoints: ['https://10.0.0.1:2379'],
    etcdCert: '/e.crt',
    tlsCert: '/t.crt',
    tlsClientCa: '/ca.crt',
    grpcTlsCert: '/g.crt',
    grpcClientCa: '/ca.crt',
  };
  it('names every unprotected interface', () => {
    assert.deepEqual(securityGaps(secure), []);
    assert.deepEqual(securityGaps({ ...secure, tlsClientCa: undefined, authToken: 't' }), []);
    const all = securityGaps({ etcdEndpoints: ['http://127.0.0.1:2379'] });
    assert.equal(all.length, 4);
    assert.match(all.join('\n'), /REST serves plain HTTP/);
    assert.match(all.join('\n'), /REST authenticates no one/);
    assert.match(all.join('\n'), /agent API/);
    assert.match(all.join('\n'), /etcd/);
    assert.equal(securityGaps({ ...secure, etcdEndpoints: ['https://a:1', 'http://b:2'] }).length, 1, 'every etcd endpoint is TLS');
    assert.equal(securityGaps({ ...secure, grpcClientCa: undefined }).length, 1, 'TLS without client certificates is not enough');
  });
  it('throws INVALID_ARGUMENT naming --insecure unless given it; then returns the gaps to log', () => {
    assert.throws(
      () => requireSecure({ etcdEndpoints: ['http://x:1'] }, false),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'insecure' && /--insecure/.test(e.message),
    );
    assert.equal(requireSecure({ etcdEndpoints: ['http://x:1'] }, true).length, 4);
    assert.deepEqual(requireSecure(secure, false), []);
  });
});

describe('VTEP policy', () => {
  it('unicast only; inside the underlay subnets when configured', () => {
    const subnets = parseVtepSubnets(['10.213.1.0/24']);
    checkVtep('', subnets);
    checkVtep('10.213.1.9', subnets);
    checkVtep('8.8.8.8', []);
    assert.throws(
      () => checkVtep('10.213.2.9', subnets),
      (e: unknown) => e instanceof NetloomError && e.code === 'PERMISSION_DENIED',
    );
    for (const bad of ['127.0.0.1', '0.0.0.0', '239.1.1.1', '255.255.255.255', '169.254.0.1', '1.2.3', 'x'])
      assert.throws(
        () => checkVtep(bad, []),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'vtep_ip',
        bad,
      );
    assert.throws(() => parseVtepSubnets(['10.0.0.0/40']), /--vtep-subnets/);
    assert.throws(() => parseVtepSubnets(['fe80::/64']), /--vtep-subnets/);
  });
});
