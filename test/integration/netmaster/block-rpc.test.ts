/**
 * The address-block RPCs on a real etcd through the gRPC agent server (issue 15): ClaimBlock is
 * idempotent by claim id; SyncEndpoints answers OK / CONFLICT / NOT_OWNER / NOT_FOUND / INVALID
 * per item, is idempotent, takes a batch of 300 (in chunks), deregisters only its own host's
 * endpoints; ReleaseBlock is refused while an address is held inside; CreateEndpoint refuses a
 * requested address inside a block (naming block and host) and its free search skips blocks; the
 * consistency check is clean with blocks. Private etcd on 24860.
 */
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { endpointId } from '../../../lib/endpoint-id';
import { isNetloomError } from '../../../lib/errors';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';
import type { AddressBlock__Output } from '../../../proto/gen/netloom/v1/AddressBlock';
import type { EndpointRegistration } from '../../../proto/gen/netloom/v1/EndpointRegistration';
import type { SyncEndpointsResponse__Output } from '../../../proto/gen/netloom/v1/SyncEndpointsResponse';
import type { RunningAgentServer } from '../../../netmaster/agent/server';
import { formatV4, parseV4 } from '../../../netmaster/model/net';
import { blockKeys, encodeBlockValue } from '../../../netmaster/service/block-keys';
import { rawClient, startEnv, startServer, stopEnv, type Env } from '../agent-api/support';

const NET = 'bt:web';
const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
/** a MAC made of the address's last two bytes */
const macOf = (a: number) => `02:00:0b:00:${hex2(a >> 8)}:${hex2(a)}`;

function rpc<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

describe('netmaster address-block RPCs on a real etcd', function () {
  this.timeout(60_000);
  let env: Env | undefined;
  let server: RunningAgentServer | undefined;
  let client: AgentClient;
  const claim = (host: string, claimId: string, network = NET) =>
    rpc<object, AddressBlock__Output>(client.claimBlock.bind(client), { host, network, claimId });
  const sync = (host: string, register: EndpointRegistration[], deregister: string[] = []) =>
    rpc<object, SyncEndpointsResponse__Output>(client.syncEndpoints.bind(client), { host, register, deregister });
  const reg = (key: string, ip: string, extra: Partial<EndpointRegistration> = {}): EndpointRegistration => ({
    id: endpointId(NET, key),
    idempotencyKey: key,
    tenant: 'bt',
    network: 'web',
    containerId: key,
    ip,
    mac: macOf(parseV4(ip) ?? 0),
    ...extra,
  });

  before(async () => {
    env = await startEnv('nm-block-rpc', 24860);
    const svc = env.service;
    await svc.upsert('tenant', { tenantName: 'bt' });
    await svc.upsert('network', { tenantName: 'bt', networkName: 'web', subnet: '10.70.0.0/22', gateway: '10.70.0.1', encap: 'vxlan' });
    await svc.upsert('network', { tenantName: 'bt', networkName: 'tiny', subnet: '10.71.0.0/28', gateway: '10.71.0.1', encap: 'vxlan' });
    await svc.upsert('endpointGroup', { tenantName: 'bt', groupName: 'g1', networkName: 'web' });
    server = await startServer(env);
    client = rawClient(server.address);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    await stopEnv(env);
  });

  let blockA: AddressBlock__Output;
  let blockB: AddressBlock__Output;

  it('ClaimBlock: a repeated claim id gets the same block, a new one the next block; a network smaller than a block is refused', async () => {
    blockA = await claim('hostA', 'c1');
    assert.equal(blockA.cidr, '10.70.0.0/26');
    assert.equal(blockA.host, 'hostA');
    assert.deepEqual(await claim('hostA', 'c1'), blockA, 'the retry of a claim gets its block');
    blockB = await claim('hostB', 'c1');
    assert.equal(blockB.cidr, '10.70.0.64/26', 'the same claim id of another host is another claim');
    const again = await claim('hostA', 'c2');
    assert.equal(again.cidr, '10.70.0.128/26');
    assert.equal((await env!.service.blocks.list(NET)).length, 3);
    await assert.rejects(claim('hostA', 'c3', 'bt:tiny'), (e: grpc.ServiceError) => e.code === 9 && /bt:tiny/.test(e.details));
    await assert.rejects(claim('hostA', 'c3', 'nope'), (e: grpc.ServiceError) => e.code === 3 && /network/.test(e.details));
  });

  it('SyncEndpoints: OK, then idempotent; CONFLICT, NOT_OWNER, NOT_FOUND, INVALID each named', async () => {
    const ok = reg('c-ok', '10.70.0.5', { group: 'g1', labels: { app: 'x' } });
    const first = await sync('hostA', [ok]);
    assert.deepEqual(
      first.registered.map((r) => r.outcome),
      ['OK'],
    );
    const ep = await env!.service.getEndpoint(ok.id!);
    assert.equal(ep.ipAddress, '10.70.0.5');
    assert.equal(ep.homingHost, 'hostA');
    assert.equal(ep.groupName, 'g1');
    assert.deepEqual((await sync('hostA', [ok])).registered[0]?.outcome, 'OK', 'a repeat is OK');
    const res = await sync('hostA', [
      reg('c-ipdup', '10.70.0.5'),
      reg('c-macdup', '10.70.0.6', { mac: ok.mac! }),
      reg('c-other', '10.70.0.70'),
      reg('c-noblock', '10.70.1.10'),
      reg('c-nonet', '10.70.0.7', { network: 'gone', id: endpointId('bt:gone', 'c-nonet') }),
      reg('c-nogroup', '10.70.0.8', { group: 'nogroup' }),
      reg('c-badid', '10.70.0.9', { id: 'abc' }),
      reg('c-badmac', '10.70.0.10', { mac: 'zz' }),
      reg('c-gw', '10.70.0.1'),
    ]);
    const outcomes = res.registered.map((r) => r.outcome);
    assert.deepEqual(outcomes, [
      'CONFLICT',
      'CONFLICT',
      'NOT_OWNER',
      'NOT_OWNER',
      'NOT_FOUND',
      'NOT_FOUND',
      'INVALID',
      'INVALID',
      'CONFLICT',
    ]);
    assert.equal(res.registered[0]?.conflictingEndpoint, ok.id);
    assert.equal(res.registered[1]?.conflictingEndpoint, ok.id);
    assert.match(res.registered[2]?.message ?? '', /10\.70\.0\.64\/26 of host hostB/);
    assert.match(res.registered[6]?.message ?? '', /id must be/);
    assert.match(res.registered[7]?.message ?? '', /macAddress/);
    assert.equal(res.registered[8]?.conflictingEndpoint, 'gateway');
    assert.equal((await env!.service.listEndpoints({ host: 'hostA' })).length, 1, 'nothing else written');
  });

  it('SyncEndpoints: deregistration of another host is NOT_OWNER, of an unknown id OK, of its own deletes every key', async () => {
    const ok = reg('c-ok', '10.70.0.5');
    const r1 = await sync('hostB', [], [ok.id!, 'unknown-id']);
    assert.deepEqual(
      r1.deregistered.map((r) => r.outcome),
      ['NOT_OWNER', 'OK'],
    );
    const r2 = await sync('hostA', [], [ok.id!]);
    assert.deepEqual(r2.deregistered[0]?.outcome, 'OK');
    await assert.rejects(env!.service.getEndpoint(ok.id!), (e: unknown) => isNetloomError(e, 'NOT_FOUND'));
    const report = await env!.service.checkConsistency();
    assert.deepEqual([report.leaked, report.missing], [[], []], 'ip, mac and index keys went with it');
  });

  it('a batch of 300 registrations (in chunks) are all recorded, then ReleaseBlock is refused while one is held', async () => {
    // hostA's blocks hold 2 x 64 addresses: claim three more to have room for 300
    const blocks = [blockA.cidr, '10.70.0.128/26'];
    for (const id of ['c4', 'c5', 'c6']) blocks.push((await claim('hostA', id)).cidr);
    const addrs = blocks.flatMap((cidr) => {
      const base = parseV4(cidr.split('/')[0] ?? '')!;
      return Array.from({ length: 64 }, (_, i) => base + i).filter((a) => a !== parseV4('10.70.0.1') && a !== parseV4('10.70.0.0'));
    });
    const batch = addrs.slice(0, 300).map((a, i) =>
      reg(`batch-${i}`, formatV4(a), {
        mac: `02:00:0c:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      }),
    );
    const res = await sync('hostA', batch);
    assert.equal(res.registered.length, 300);
    assert.deepEqual(
      res.registered.filter((r) => r.outcome !== 'OK'),
      [],
    );
    assert.deepEqual(
      res.registered.map((r) => r.endpointId),
      batch.map((b) => b.id),
      'results in request order',
    );
    assert.equal((await env!.service.listEndpoints({ host: 'hostA' })).length, 300);
    await assert.rejects(
      rpc(client.releaseBlock.bind(client), { host: 'hostA', network: NET, cidr: blockA.cidr }),
      (e: grpc.ServiceError) => e.code === 9 && /still holds/.test(e.details),
    );
    const report = await env!.service.checkConsistency();
    assert.ok(report.clean, JSON.stringify(report.leaked.slice(0, 3)));
    // REST/netctl inspect: each block with its host and use
    const oper = (await env!.service.inspect('network', NET)).Oper as {
      blocks: Array<{ cidr: string; host: string; used: number; size: number }>;
    };
    const first = oper.blocks.find((b) => b.cidr === blockA.cidr);
    assert.deepEqual(first, { cidr: '10.70.0.0/26', host: 'hostA', used: 62, size: 62 }, 'network address and gateway are not usable');
    assert.equal(
      oper.blocks.filter((b) => b.host === 'hostA').reduce((n, b) => n + b.used, 0),
      300,
    );
    assert.ok(oper.blocks.some((b) => b.host === 'hostB' && b.used === 0));
  });

  it('CreateEndpoint: a requested address inside a block is a CONFLICT naming block and host; the search skips blocks', async () => {
    await assert.rejects(
      env!.service.createEndpoint({ tenantName: 'bt', networkName: 'web', containerID: 'static-in', ipAddress: '10.70.0.70' }),
      (e: unknown) => isNetloomError(e, 'CONFLICT') && /10\.70\.0\.64\/26 of host hostB/.test(e.message),
    );
    const ep = await env!.service.createEndpoint({ tenantName: 'bt', networkName: 'web', containerID: 'free-1' });
    const a = parseV4(ep.ipAddress)!;
    for (const b of await env!.service.blocks.list(NET)) {
      assert.ok(a < b.base || a >= b.base + 2 ** (32 - b.prefix), `${ep.ipAddress} is outside ${b.cidr}`);
    }
  });

  it('ReleaseBlock of an empty block releases it; of another host is refused; of an unknown block says released false', async () => {
    await assert.rejects(
      rpc(client.releaseBlock.bind(client), { host: 'hostA', network: NET, cidr: blockB.cidr }),
      (e: grpc.ServiceError) => e.code === 9 && /hostB/.test(e.details),
    );
    assert.deepEqual(await rpc(client.releaseBlock.bind(client), { host: 'hostB', network: NET, cidr: blockB.cidr }), { released: true });
    assert.deepEqual(await rpc(client.releaseBlock.bind(client), { host: 'hostB', network: NET, cidr: blockB.cidr }), { released: false });
    await assert.rejects(
      rpc(client.releaseBlock.bind(client), { host: 'hostB', network: NET, cidr: '10.70.0.65/26' }),
      (e: grpc.ServiceError) => e.code === 3 && /cidr/.test(e.details),
    );
  });

  it('consistency: blocks of unknown hosts past the grace and of a missing network are leaked and repaired; network delete clears blocks', async () => {
    const svc = env!.service;
    await svc.upsert('network', { tenantName: 'bt', networkName: 'gone', subnet: '10.72.0.0/24', encap: 'vxlan' });
    assert.ok('block' in (await svc.blocks.claim('bt:gone', 'hostA', { claimId: 'g1' })));
    await svc.delete('network', 'bt:gone');
    assert.deepEqual(await svc.blocks.list('bt:gone'), [], 'the network took its blocks along');
    // a block key written for a network that does not exist (as a crash between deletes might leave)
    const stray = blockKeys.key('bt:nonet', { base: parseV4('10.73.0.0')!, prefix: 26 });
    await env!.kv.commit(
      [],
      [{ kind: 'put', key: stray, value: encodeBlockValue('hostA', { base: parseV4('10.73.0.0')!, prefix: 26 }, new Date()) }],
    );
    const within = await svc.checkConsistency();
    assert.deepEqual(
      within.leaked.map((f) => f.key),
      [stray],
      'hostA never registered, but its blocks are younger than the grace period',
    );
    const past = await svc.checkConsistency({ graceMs: 0, nowMs: Date.now() + 1000 });
    const hostA = (await svc.blocks.list(NET)).filter((b) => b.host === 'hostA').length;
    assert.equal(past.leaked.filter((f) => f.key.startsWith(blockKeys.prefix(NET))).length, hostA);
    const repaired = await svc.checkConsistency({ repair: true });
    assert.equal(repaired.repaired, 1);
    assert.ok((await svc.checkConsistency()).clean);
  });
});
