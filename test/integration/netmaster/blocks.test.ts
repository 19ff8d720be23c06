/**
 * Address blocks on a real etcd (issue 15, netmaster side): three hosts, each with its own etcd
 * client (as three replicas would be), claim blocks of one network all at once. Every claim gets
 * a distinct block, no two overlap, the block holding an address netmaster gave (a static
 * `ipAddress`) is never handed out, the network fills up exactly and the next claim is EXHAUSTED;
 * a released block can be claimed again. Private etcd on 24850/24851.
 */
import assert from 'node:assert/strict';
import { isNetloomError } from '../../../lib/errors';
import { systemClock } from '../../../lib/clock';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { parseV4 } from '../../../netmaster/model/net';
import { blockSpan } from '../../../netmaster/service/block-plan';
import { BlockService, type ClaimedBlock } from '../../../netmaster/service/blocks';
import { Retrier } from '../../../netmaster/service/retry';
import { EtcdKV, type Guard, type WriteOp } from '../../../netmaster/store/kv';
import { layout } from '../../../netmaster/store/layout';
import { call, startTestEtcd, type TestEtcd } from './support';

const PLAN = { name: 'ipb1', clientUrl: 'http://127.0.0.1:24850', peerUrl: 'http://127.0.0.1:24851', dataDir: '/tmp/nl-ipam-master/etcd' };
const HOSTS = ['hostA', 'hostB', 'hostC'];

describe('netmaster address blocks on a real etcd: three hosts claiming at once', function () {
  this.timeout(60_000);
  let etcd: TestEtcd | undefined;
  let master: RunningNetmaster | undefined;
  const kvs: EtcdKV[] = [];
  const services: BlockService[] = [];
  const log = createLogger('blocks', { level: 'silent' });
  const api = () => `${master?.url ?? ''}/api/v1`;

  before(async () => {
    etcd = await startTestEtcd(PLAN, '/tmp/nl-ipam-master/logs');
    master = await startNetmaster({ etcdEndpoints: [etcd.url], logger: log });
    assert.equal((await call('POST', `${api()}/tenants/b1/`, { tenantName: 'b1' })).status, 200);
    for (const [name, subnet, gateway] of [
      ['wide', '10.60.0.0/22', '10.60.0.1'],
      ['tiny', '10.61.0.0/28', '10.61.0.1'],
      ['race', '10.62.0.0/24', '10.62.0.1'],
    ] as const) {
      const r = await call('POST', `${api()}/networks/b1:${name}/`, {
        tenantName: 'b1',
        networkName: name,
        subnet,
        gateway,
        encap: 'vxlan',
      });
      assert.equal(r.status, 200, r.text);
    }
    // an address netmaster gives the old way, inside the third /26 (10.60.0.128/26)
    const ep = await call('POST', `${api()}/endpoints/`, {
      tenantName: 'b1',
      networkName: 'wide',
      containerID: 'static-1',
      ipAddress: '10.60.0.130',
    });
    assert.equal(ep.status, 200, ep.text);
    for (let i = 0; i < HOSTS.length; i++) {
      const kv = new EtcdKV({ hosts: etcd.url });
      kvs.push(kv);
      services.push(new BlockService({ kv, clock: systemClock, log, retrier: new Retrier(systemClock, 40) }));
    }
  });

  after(async () => {
    for (const kv of kvs) kv.close();
    await master?.stop();
    await etcd?.stop();
  });

  it('gives 15 concurrent claims 15 distinct, non-overlapping blocks, skips the held one, then is EXHAUSTED', async () => {
    // a /22 holds 16 /26 blocks; one holds the static address: 15 are free, 5 claims per host
    const claims = await Promise.all(
      HOSTS.flatMap((host, h) =>
        Array.from({ length: 5 }, () => services[h]?.claim('b1:wide', host) ?? Promise.reject(new Error('no service'))),
      ),
    );
    const got = claims.map((c) => {
      assert.ok('block' in c, 'a /22 is split into blocks');
      return c;
    }) as ClaimedBlock[];
    const cidrs = got.map((c) => c.block.cidr);
    assert.equal(new Set(cidrs).size, 15, `distinct blocks: ${cidrs.join(' ')}`);
    assert.ok(!cidrs.includes('10.60.0.128/26'), 'the block holding 10.60.0.130 stays with netmaster');
    const spans = got.map((c) => blockSpan(c.block)).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok((spans[i]?.[0] ?? 0) > (spans[i - 1]?.[1] ?? 0), 'blocks do not overlap');
    // the gateway's block is handed out, without the gateway
    const first = got.find((c) => c.block.cidr === '10.60.0.0/26');
    assert.deepEqual(first?.block.ranges, [[parseV4('10.60.0.2'), parseV4('10.60.0.63')]]);

    // what etcd holds says the same, owner by owner
    const stored = await services[0]?.list('b1:wide');
    assert.deepEqual(stored?.map((s) => `${s.cidr} ${s.host}`).sort(), got.map((c) => `${c.block.cidr} ${c.host}`).sort());
    for (const host of HOSTS) assert.equal(got.filter((c) => c.host === host).length, 5);

    await assert.rejects(services[1]?.claim('b1:wide', 'hostB') ?? Promise.reject(new Error('no service')), (e: unknown) => {
      return isNetloomError(e, 'EXHAUSTED') && e.field === 'networkName';
    });
  });

  it('releases only the owner’s block, and a released block is claimed again', async () => {
    const stored = (await services[0]?.list('b1:wide')) ?? [];
    const a = stored.find((s) => s.host === 'hostA');
    assert.ok(a);
    await assert.rejects(services[1]?.release('b1:wide', a, 'hostB') ?? Promise.reject(new Error('no service')), (e: unknown) => {
      return isNetloomError(e, 'CONFLICT') && e.field === 'host';
    });
    assert.deepEqual(await services[0]?.release('b1:wide', a, 'hostA'), { released: true });
    assert.deepEqual(await services[0]?.release('b1:wide', a, 'hostA'), { released: false });
    const again = await services[2]?.claim('b1:wide', 'hostC');
    assert.ok(again && 'block' in again);
    assert.equal(again.block.cidr, a.cidr);
  });

  it('leaves a network smaller than a block whole, and refuses an unknown network naming networkName', async () => {
    assert.deepEqual(await services[0]?.claim('b1:tiny', 'hostA'), { whole: true });
    assert.deepEqual(await services[0]?.list('b1:tiny'), []);
    await assert.rejects(services[0]?.claim('b1:nope', 'hostA') ?? Promise.reject(new Error('no service')), (e: unknown) => {
      return isNetloomError(e, 'NOT_FOUND') && e.field === 'networkName';
    });
  });

  it('loses a claim when netmaster gives an address inside the block between the read and the commit', async () => {
    // netmaster slips an address into the planned block just before the claim's first commit
    const slipped = (parseV4('10.62.0.0') ?? 0) + 10;
    class SlipIn extends EtcdKV {
      slips = 0;
      override async commit(guards: readonly Guard[], writes: readonly WriteOp[]) {
        if (this.slips++ === 0) await super.commit([], [{ kind: 'put', key: layout.ip('b1:race', slipped), value: 'ep-slipped' }]);
        return super.commit(guards, writes);
      }
    }
    const kv = new SlipIn({ hosts: etcd?.url ?? '' });
    kvs.push(kv);
    const svc = new BlockService({ kv, clock: systemClock, log, retrier: new Retrier(systemClock, 40) });
    const got = await svc.claim('b1:race', 'hostA');
    assert.ok('block' in got);
    assert.equal(kv.slips, 2, 'the first commit failed its guard and the claim read again');
    assert.notEqual(got.block.cidr, '10.62.0.0/26', 'the block now holding 10.62.0.10 is left to netmaster');
  });
});
