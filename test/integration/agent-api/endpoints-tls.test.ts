/**
 * CreateEndpoint/DeleteEndpoint through the gRPC service on a real etcd (idempotent retries,
 * idempotent deletes, gRPC status codes naming the field), and mutual TLS: an agent with a
 * certificate signed by the configured CA is served, one without a certificate or with a
 * certificate of another CA is refused, and a certificate acts for its one host only (host
 * identity, netmaster/auth/identity.ts). Certificates are made with openssl in /tmp/nl-grpc/.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { isNetloomError } from '../../../lib/errors';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import { rawClient, startEnv, startServer, stopEnv, type Env } from './support';
import { makeSelfSigned, makeLeaf } from '../../support/test-certs';

const DIR = '/tmp/nl-grpc/certs';

const read = (n: string) => readFileSync(`${DIR}/${n}`);

describe('agent API: endpoint RPCs and mutual TLS (real etcd)', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let plain: RunningAgentServer | undefined;
  let tlsServer: RunningAgentServer | undefined;
  const clients: NetmasterClient[] = [];

  before(async () => {
    env = await startEnv('agentapi-ep', 26120);
    plain = await startServer(env);
    await env.service.upsert('network', {
      tenantName: 'default',
      networkName: 'net',
      subnet: '10.7.0.0/24',
      gateway: '10.7.0.1',
      encap: 'vxlan',
      pktTag: 77,
    });
  });

  after(async () => {
    for (const c of clients) await c.stop().catch(() => undefined);
    await plain?.stop();
    await tlsServer?.stop();
    await stopEnv(env);
    rmSync(DIR, { recursive: true, force: true });
  });

  it('CreateEndpoint retried with the same idempotency key returns the same address and MAC', async () => {
    const c = new NetmasterClient({ address: plain!.address, host: 'h1' });
    clients.push(c);
    const req = { idempotencyKey: 'ctr1/eth0', network: 'net', containerId: 'ctr1', intfName: 'eth0', labels: { app: 'web' } };
    const [a, b] = await Promise.all([c.createEndpoint(req), c.createEndpoint(req)]);
    const again = await c.createEndpoint(req);
    assert.equal(a.ip, b.ip);
    assert.equal(a.ip, again.ip);
    assert.equal(a.mac, again.mac);
    assert.equal(a.id, again.id);
    assert.equal(a.host, 'h1');
    assert.deepEqual(again.labels, { app: 'web' });
    assert.match(a.ip, /^10\.7\.0\.\d+$/);
    assert.equal((await env!.service.listEndpoints({ host: 'h1' })).length, 1);
  });

  it("SetEndpointLabels replaces an endpoint's labels; another host's, a bad label or an unknown id are refused", async () => {
    const c = clients[0]!;
    const e = await c.createEndpoint({ idempotencyKey: 'ctr1/eth0', network: 'net', containerId: 'ctr1', labels: { app: 'web' } });
    const set = await c.setEndpointLabels(e.id, { app: 'api', tier: 'back' });
    assert.deepEqual(set.labels, { app: 'api', tier: 'back' });
    assert.deepEqual((await env!.service.getEndpoint(e.id)).labels, { app: 'api', tier: 'back' });
    const other = new NetmasterClient({ address: plain!.address, host: 'h2' });
    clients.push(other);
    await assert.rejects(other.setEndpointLabels(e.id, { app: 'x' }), (err: unknown) => isNetloomError(err, 'PERMISSION_DENIED'));
    await assert.rejects(
      c.setEndpointLabels(e.id, { '': 'x' }),
      (err: unknown) => isNetloomError(err, 'INVALID_ARGUMENT') && /labels/.test(String(err)),
    );
    await assert.rejects(c.setEndpointLabels('0'.repeat(24), { a: 'b' }), (err: unknown) => isNetloomError(err, 'NOT_FOUND'));
    assert.deepEqual((await env!.service.getEndpoint(e.id)).labels, { app: 'api', tier: 'back' });
  });

  it('DeleteEndpoint twice succeeds (existed true, then false), by idempotency key or id', async () => {
    const c = clients[0]!;
    assert.deepEqual(await c.deleteEndpoint({ idempotencyKey: 'ctr1/eth0' }), { existed: true });
    assert.deepEqual(await c.deleteEndpoint({ idempotencyKey: 'ctr1/eth0' }), { existed: false });
    const e = await c.createEndpoint({ idempotencyKey: 'ctr2/eth0', network: 'net' });
    assert.deepEqual(await c.deleteEndpoint({ id: e.id }), { existed: true });
    assert.deepEqual(await c.deleteEndpoint({ id: e.id }), { existed: false });
    assert.equal((await env!.service.listEndpoints({ host: 'h1' })).length, 0);
  });

  it('maps errors to gRPC status codes with messages naming the field', async () => {
    const raw = rawClient(plain!.address);
    const call = (req: object) =>
      new Promise<grpc.ServiceError>((resolve, reject) =>
        raw.createEndpoint(req, (err) => (err ? resolve(err) : reject(new Error('expected an error')))),
      );
    try {
      const notFound = await call({ host: 'h1', idempotencyKey: 'k', network: 'nope' });
      assert.equal(notFound.code, grpc.status.NOT_FOUND);
      assert.match(notFound.details, /network/);
      assert.equal(notFound.metadata.get('netloom-field')[0], 'network');
      const invalid = await call({ host: 'h1', idempotencyKey: 'k', network: 'net', requestedIp: '10.99.0.5' });
      assert.equal(invalid.code, grpc.status.INVALID_ARGUMENT);
      assert.match(invalid.details, /requested_ip/);
      const noKey = await call({ host: 'h1', network: 'net' });
      assert.equal(noKey.code, grpc.status.INVALID_ARGUMENT);
      assert.match(noKey.details, /idempotency_key/);
      await new Promise<void>((resolve, reject) =>
        raw.createEndpoint({ host: 'h1', idempotencyKey: 'first', network: 'net', requestedIp: '10.7.0.50' }, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      const taken = await call({ host: 'h1', idempotencyKey: 'second', network: 'net', requestedIp: '10.7.0.50' });
      assert.equal(taken.code, grpc.status.FAILED_PRECONDITION);
      assert.match(taken.details, /requested_ip/);
      const badHost = await new Promise<grpc.ServiceError>((resolve, reject) =>
        raw.register({ host: 'bad host!' }, (err) => (err ? resolve(err) : reject(new Error('expected an error')))),
      );
      assert.equal(badHost.code, grpc.status.INVALID_ARGUMENT);
      assert.match(badHost.details, /host/);
      // the client turns them back into NetloomErrors
      await assert.rejects(
        clients[0]!.createEndpoint({ idempotencyKey: 'k', network: 'nope' }),
        (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'network',
      );
    } finally {
      raw.close();
    }
  });

  it('mutual TLS: a client certificate of the CA is served; no certificate or another CA is refused', async () => {
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    await makeSelfSigned(DIR, 'ca');
    await makeSelfSigned(DIR, 'otherca');
    const leaves: Array<[string, string, Parameters<typeof makeLeaf>[3]]> = [
      // netmaster's own certificate is usable as a client one too (replicas call each other)
      ['ca', 'server', { ext: 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' }],
      ['ca', 'agent', { cn: 'tls1', ext: 'subjectAltName=DNS:tls1\nextendedKeyUsage=clientAuth\n' }],
      ['otherca', 'rogue', { cn: 'tls1', ext: 'extendedKeyUsage=clientAuth\n' }],
      ['ca', 'twohosts', { cn: 'tls1', ext: 'subjectAltName=DNS:tls1,DNS:tls2\nextendedKeyUsage=clientAuth\n' }],
      ['ca', 'replica', { cn: 'tls1', org: 'netloom:netmaster', ext: 'extendedKeyUsage=clientAuth\n' }],
      ['ca', 'admin', { cn: 'tls1', org: 'netloom:admin', ext: 'extendedKeyUsage=clientAuth\n' }],
    ];
    await Promise.all(leaves.map(([ca, name, o]) => makeLeaf(DIR, ca, name, o)));
    tlsServer = await startServer(env!, { tls: { cert: read('server.crt'), key: read('server.key'), clientCa: read('ca.crt') } });
    const mk = (tls: ConstructorParameters<typeof NetmasterClient>[0]['tls']) => {
      const c = new NetmasterClient({ address: tlsServer!.address, host: 'tls1', callTimeoutMs: 3000, ...(tls ? { tls } : {}) });
      clients.push(c);
      return c;
    };
    const good = mk({ ca: read('ca.crt'), cert: read('agent.crt'), key: read('agent.key') });
    const r = await good.register();
    assert.ok(Number(r.leaseId) > 0);
    const noCert = mk({ ca: read('ca.crt') });
    await assert.rejects(noCert.register(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    const rogue = mk({ ca: read('ca.crt'), cert: read('rogue.crt'), key: read('rogue.key') });
    await assert.rejects(rogue.register(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
    const insecure = mk(undefined);
    await assert.rejects(insecure.register(), (e: unknown) => isNetloomError(e, 'UNAVAILABLE'));
  });

  it('host identity: a certificate acts for exactly its one host; several hosts, a replica, a role or netmaster itself: none', async () => {
    const tlsOf = (name: string) => ({ ca: read('ca.crt'), cert: read(`${name}.crt`), key: read(`${name}.key`) });
    const as = (name: string, host: string) => {
      const c = new NetmasterClient({ address: tlsServer!.address, host, tls: tlsOf(name), callTimeoutMs: 3000 });
      clients.push(c);
      return c;
    };
    const denied = (e: unknown) => isNetloomError(e, 'PERMISSION_DENIED') && e.field === 'host';
    const own = as('agent', 'tls1');
    const other = as('agent', 'someone-else');
    assert.ok(Number((await own.register()).leaseId) > 0, 'CN/SAN tls1 may register as tls1');
    await assert.rejects(other.register(), denied);
    await assert.rejects(other.createEndpoint({ idempotencyKey: 'x', network: 'net' }), denied);
    await assert.rejects(own.deleteEndpoint({ idempotencyKey: 'x', host: '' }), denied, 'no host: refused');
    for (const [cert, host] of [
      ['twohosts', 'tls1'],
      ['twohosts', 'tls2'],
      ['replica', 'tls1'],
      ['admin', 'tls1'],
      ['server', 'localhost'],
      ['server', '127.0.0.1'],
    ] as const) {
      await assert.rejects(as(cert, host).register(), denied, `${cert} as ${host}`);
    }
    const e = await own.createEndpoint({ idempotencyKey: 'mine', network: 'net' });
    assert.equal(e.host, 'tls1');
    assert.deepEqual(await own.deleteEndpoint({ id: e.id }), { existed: true });
  });
});
