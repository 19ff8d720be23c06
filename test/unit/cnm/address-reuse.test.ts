/**
 * A restarted Docker container gets its address back: Docker releases it on stop and asks for one,
 * with no preference, on start; the IPAM driver offers the pool's most recently released address
 * first (ipam-driver.ts reuseReleased).
 */
import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import { RELEASED_KEPT, REMOVED_POOLS_KEPT } from '../../../netplugin/cnm/ipam-driver';
import { MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { bareAddress } from '../../../netplugin/cnm/addresses';
import { createEp, createNet, EP, NET, NET2, setup } from './harness';

async function addresses(t: ReturnType<typeof setup>, pool: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push((await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '', Options: null })).Address as string);
  return out;
}

const release = (t: ReturnType<typeof setup>, pool: string, a: string) => t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: a });

/** `docker network rm` (or swarm after a node's last task) as dockerd does it: endpoint, address, network, gateway, pool. */
async function removeNet(t: ReturnType<typeof setup>, pool: string, net = NET): Promise<void> {
  const gw = Object.entries(t.plugin.snapshot().pools[pool]?.addresses ?? {}).find(([, h]) => h === 'gateway')?.[0] ?? '';
  await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: net });
  await release(t, pool, gw);
  await t.ok('IpamDriver.ReleasePool', { PoolID: pool });
}

describe('cnm IPAM: a released endpoint address is offered again first (container restart)', () => {
  it('the newest released address comes back, not the lowest free one', async () => {
    const t = setup();
    const pool = await createNet(t);
    const [a, , c] = await addresses(t, pool, 3);
    assert.deepEqual([a, c], ['10.55.0.2/24', '10.55.0.4/24']);
    await release(t, pool, a ?? '');
    await release(t, pool, c ?? ''); // the container with .4 stops ...
    assert.deepEqual(await addresses(t, pool, 1), ['10.55.0.4/24'], '... and gets .4 back when it starts');
    assert.deepEqual(await addresses(t, pool, 1), ['10.55.0.2/24'], 'then the one released before it');
    const asked = t.backend.calls.filter((x) => x.op === 'allocateAddress').slice(-2);
    assert.deepEqual(
      asked.map((x) => (x.arg as { preferred?: string }).preferred),
      ['10.55.0.4', '10.55.0.2'],
    );
  });

  it("a container's endpoint goes (DeleteEndpoint, ReleaseAddress): its address is asked for again with its MAC", async () => {
    const t = setup();
    const pool = await createNet(t);
    const { address, reply } = await createEp(t, pool);
    const mac = (reply.Interface as { MacAddress: string }).MacAddress;
    assert.match(mac, /^02(:[0-9a-f]{2}){5}$/);
    await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
    await release(t, pool, address);
    await addresses(t, pool, 1);
    const asked = t.backend.calls.filter((x) => x.op === 'allocateAddress').at(-1)?.arg as { preferred?: string; mac?: string };
    assert.deepEqual([asked.preferred, asked.mac], [bareAddress(address, 'a'), mac]);
  });

  it('a MAC Docker gave (--mac-address) is not handed to the next holder of the address', async () => {
    const t = setup();
    const pool = await createNet(t);
    const a = await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '', Options: null });
    await t.ok('NetworkDriver.CreateEndpoint', {
      NetworkID: NET,
      EndpointID: EP,
      Interface: { Address: a.Address, AddressIPv6: '', MacAddress: '02:42:00:00:00:09' },
      Options: {},
    });
    await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
    await release(t, pool, a.Address as string);
    await addresses(t, pool, 1);
    const asked = t.backend.calls.filter((x) => x.op === 'allocateAddress').at(-1)?.arg as { preferred?: string; mac?: string };
    assert.deepEqual([asked.preferred, asked.mac], [bareAddress(a.Address as string, 'a'), undefined]);
  });

  it('a released address taken meanwhile (the backend refuses it) is forgotten and a fresh one given', async () => {
    const t = setup();
    const pool = await createNet(t);
    const [a] = await addresses(t, pool, 1);
    await release(t, pool, a ?? '');
    t.backend.failNext = { op: 'allocateAddress', error: new NetloomError('IN_USE', '10.55.0.2 is in use') };
    t.backend.used.get('t1|10.55.0.0/24')?.add('10.55.0.2'); // another runtime holds it now
    assert.deepEqual(await addresses(t, pool, 1), ['10.55.0.3/24']);
    assert.deepEqual(await addresses(t, pool, 1), ['10.55.0.4/24'], 'not asked for again');
  });

  it('an address Docker asks for by name is given as asked (the released list does not interfere)', async () => {
    const t = setup();
    const pool = await createNet(t);
    const [a] = await addresses(t, pool, 1);
    await release(t, pool, a ?? '');
    const r = await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.55.0.9', Options: null });
    assert.equal(r.Address, '10.55.0.9/24');
  });

  it('is remembered across a restart of the plugin, and only the newest RELEASED_KEPT', async () => {
    const store = new MemoryStateStore();
    const t = setup(store);
    const pool = await createNet(t);
    const got = await addresses(t, pool, RELEASED_KEPT + 2);
    for (const a of got) await release(t, pool, a);
    const again = setup(store);
    const pools = Object.values(store.load().pools);
    assert.equal(pools[0]?.released?.length, RELEASED_KEPT);
    assert.equal(pools[0]?.released?.[0]?.mac, undefined, 'no endpoint, no MAC');
    assert.deepEqual(await addresses(again, pool, 1), [got[got.length - 1]]);
  });

  it('a network removed and made again (swarm: per task on a node) asks for the old address with its MAC', async () => {
    const t = setup();
    const pool = await createNet(t);
    const { address, reply } = await createEp(t, pool);
    const mac = (reply.Interface as { MacAddress: string }).MacAddress;
    await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
    await release(t, pool, address);
    await removeNet(t, pool);
    assert.deepEqual(t.plugin.snapshot().pools, {}, 'the pool is gone');
    const again = await createNet(t, { id: NET2 });
    await addresses(t, again, 1);
    const asked = t.backend.calls.filter((x) => x.op === 'allocateAddress').at(-1)?.arg as { preferred?: string; mac?: string };
    assert.deepEqual([asked.preferred, asked.mac], [bareAddress(address, 'a'), mac], "a peer's ARP entry for the address stays right");
    assert.equal(t.plugin.snapshot().releasedOfRemovedPools, undefined, 'handed over once');
  });

  it("a removed pool's addresses go only to a pool of the same netloom network, and only the newest REMOVED_POOLS_KEPT pools are kept", async () => {
    const t = setup();
    const pool = await createNet(t, { ipamOpts: { tenant: 't1', network: 'n1' } });
    const [a] = await addresses(t, pool, 1);
    await release(t, pool, a ?? '');
    await removeNet(t, pool);
    const other = await createNet(t, { id: NET2, ipamOpts: { tenant: 't1', network: 'n2' }, generic: { tenant: 't1', network: 'n2' } });
    await addresses(t, other, 1);
    const asked = t.backend.calls.filter((x) => x.op === 'allocateAddress').at(-1)?.arg as { preferred?: string };
    assert.equal(asked.preferred, undefined, 'another network: no preference');
    const kept = t.plugin.snapshot().releasedOfRemovedPools ?? {};
    assert.deepEqual(Object.values(kept), [[{ address: bareAddress(a ?? '', 'a') }]]);
    const store = new MemoryStateStore();
    const many = setup(store);
    for (let i = 0; i < REMOVED_POOLS_KEPT + 1; i++) {
      const p = await createNet(many, { ipamOpts: { tenant: 't1', network: `n${i}` }, generic: { tenant: 't1', network: `n${i}` } });
      const [x] = await addresses(many, p, 1);
      await release(many, p, x ?? '');
      await removeNet(many, p);
    }
    const left = Object.keys(setup(store).plugin.snapshot().releasedOfRemovedPools ?? {});
    assert.equal(left.length, REMOVED_POOLS_KEPT);
    assert.equal(
      left.some((k) => k.includes('|n0|')),
      false,
      'the oldest went',
    );
  });
});
