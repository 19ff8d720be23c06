/**
 * Swarm's calls to the plugin (netplugin/cnm/swarm.ts): the Scope a socket reports, AllocateNetwork
 * binding a swarm network (and refusing one without the tenant option, nothing allocated), the
 * manager pool's task addresses as swarm's bookkeeping, and a node's addresses from netloom.
 */
import { strict as assert } from 'node:assert';
import { CnmPlugin } from '../../../netplugin/cnm/plugin';
import { MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { FakeBackend } from './fake-backend';
import { GW_OPT, NET, setup } from './harness';

const SUBNET = '10.55.0.0/24';
const SERIAL = { 'com.docker.network.ipam.serial': 'true' };

/** What swarmkit's allocator does on the manager: pool, gateway, AllocateNetwork. */
async function managerAllocates(t: ReturnType<typeof setup>, options: Record<string, string> = { tenant: 't1', network: 'n1' }) {
  const pool = await t.ok('IpamDriver.RequestPool', {
    AddressSpace: 'netloom',
    Pool: '',
    SubPool: '',
    Options: { tenant: 't1', network: 'n1' },
    V6: false,
  });
  const gw = await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '', Options: GW_OPT });
  const body = {
    NetworkID: NET,
    Options: options,
    IPv4Data: [{ AddressSpace: 'netloom', Pool: SUBNET, Gateway: gw.Address }],
    IPv6Data: [],
  };
  return { poolId: pool.PoolID as string, gateway: gw.Address as string, body };
}

function withNetwork(): ReturnType<typeof setup> {
  const t = setup();
  t.backend.networks.set('t1/n1', { subnet: SUBNET, gateway: '10.55.0.1' });
  return t;
}

describe('CNM plugin: swarm (managed plugin, Scope global)', () => {
  it('a socket with the swarm view answers Scope global; the plugin itself stays local', async () => {
    const p = new CnmPlugin({ backend: new FakeBackend(), store: new MemoryStateStore() });
    assert.deepEqual((await p.handle('/NetworkDriver.GetCapabilities', '')).body, { Scope: 'local', ConnectivityScope: 'global' });
    assert.deepEqual((await p.handle('/NetworkDriver.GetCapabilities', '', { scope: 'global' })).body, {
      Scope: 'global',
      ConnectivityScope: 'global',
    });
  });

  it('AllocateNetwork returns the binding and the marker a node needs; repeated, the same', async () => {
    const t = withNetwork();
    const { body } = await managerAllocates(t, { tenant: 't1', network: 'n1', group: 'web' });
    const want = { Options: { tenant: 't1', network: 'n1', group: 'web', 'netloom.swarm': 'true' } };
    assert.deepEqual(await t.ok('NetworkDriver.AllocateNetwork', body), want);
    assert.deepEqual(await t.ok('NetworkDriver.AllocateNetwork', body), want);
  });

  it('a swarm network without -o tenant is refused naming Options.tenant; nothing is marked', async () => {
    const t = withNetwork();
    const { body } = await managerAllocates(t);
    const e = await t.err('NetworkDriver.AllocateNetwork', { ...body, Options: { network: 'n1' } });
    assert.match(e, /Options\.tenant: a swarm network needs -o tenant=TENANT/);
    assert.match(e, /nothing was allocated/);
    assert.equal(
      Object.values(t.plugin.snapshot().pools).some((p) => p.swarmNetworkId !== undefined),
      false,
    );
    assert.match(await t.err('NetworkDriver.AllocateNetwork', { ...body, Options: { tenant: 't1' } }), /Options\.network/);
    assert.match(await t.err('NetworkDriver.AllocateNetwork', { ...body, Options: { tenant: 't1', network: 'n1', vlan: '5' } }), /vlan/);
  });

  it("a pool that is not netloom's IPAM's (Docker's default) is refused with the hint", async () => {
    const t = withNetwork();
    const body = {
      NetworkID: NET,
      Options: { tenant: 't1', network: 'n1' },
      IPv4Data: [{ Pool: SUBNET, Gateway: '10.55.0.1/24' }],
      IPv6Data: [],
    };
    assert.match(await t.err('NetworkDriver.AllocateNetwork', body), /IPv4Data\.0\.Pool: .* not given by netloom's IPAM: .*--ipam-driver/);
    const other = { ...body, IPv4Data: [{ Pool: '10.0.1.0/24', Gateway: '10.0.1.1/24' }] };
    assert.match(
      await t.err('NetworkDriver.AllocateNetwork', other),
      /swarm allocated 10\.0\.1\.0\/24, but netloom network t1\/n1 has 10\.55\.0\.0\/24/,
    );
  });

  it("the manager's task addresses are bookkeeping: never the backend's, each once, released, honoured when replayed", async () => {
    const t = withNetwork();
    const { poolId, body } = await managerAllocates(t);
    await t.ok('NetworkDriver.AllocateNetwork', body);
    const before = t.backend.ops().filter((o) => o === 'allocateAddress').length;
    const a = await t.ok('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: SERIAL });
    const b = await t.ok('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: SERIAL });
    assert.deepEqual([a.Address, b.Address], ['10.55.0.2/24', '10.55.0.3/24']);
    assert.equal(t.backend.ops().filter((o) => o === 'allocateAddress').length, before, 'no netloom allocation on the manager');
    await t.ok('IpamDriver.ReleaseAddress', { PoolID: poolId, Address: '10.55.0.2' });
    assert.equal(t.backend.ops().includes('releaseAddress'), false);
    const replayed = await t.ok('IpamDriver.RequestAddress', { PoolID: poolId, Address: '10.55.0.9', Options: SERIAL });
    assert.equal(replayed.Address, '10.55.0.9/24');
    assert.match(await t.err('IpamDriver.RequestAddress', { PoolID: poolId, Address: '10.55.0.9', Options: SERIAL }), /already in use/);
  });

  it("a node's network gets a pool of its own (not the manager's), and netloom's address instead of swarm's preference", async () => {
    const t = withNetwork();
    const m = await managerAllocates(t);
    const alloc = await t.ok('NetworkDriver.AllocateNetwork', m.body);
    const swarmAddr = await t.ok('IpamDriver.RequestAddress', { PoolID: m.poolId, Address: '', Options: SERIAL });
    // the same dockerd is also a node: libnetwork makes the network with the manager's pool and options
    const pool = await t.ok('IpamDriver.RequestPool', {
      AddressSpace: 'netloom',
      Pool: SUBNET,
      SubPool: '',
      Options: { tenant: 't1', network: 'n1' },
      V6: false,
    });
    assert.notEqual(pool.PoolID, m.poolId);
    const gw = await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '10.55.0.1', Options: GW_OPT });
    await t.ok('NetworkDriver.CreateNetwork', {
      NetworkID: NET,
      Options: { 'com.docker.network.generic': alloc.Options },
      IPv4Data: [{ AddressSpace: 'netloom', Gateway: gw.Address, Pool: SUBNET }],
      IPv6Data: [],
    });
    assert.equal(t.plugin.snapshot().networks[NET]?.swarm, true);
    const given = await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: swarmAddr.Address, Options: {} });
    const asked = t.backend.calls.filter((c) => c.op === 'allocateAddress').at(-1)?.arg as { preferred?: string } | undefined;
    assert.equal(asked?.preferred, undefined, "swarm's preference is not passed on");
    assert.match(String(given.Address), /^10\.55\.0\.\d+\/24$/);
    await t.ok('NetworkDriver.CreateEndpoint', {
      NetworkID: NET,
      EndpointID: 'e'.repeat(64),
      Interface: { Address: given.Address, AddressIPv6: '', MacAddress: '' },
      Options: {},
    });
    // FreeNetwork unmarks the manager pool, which then goes as any other
    await t.ok('NetworkDriver.FreeNetwork', { NetworkID: NET });
    assert.equal(t.plugin.snapshot().pools[m.poolId]?.swarmNetworkId, undefined);
  });
});
