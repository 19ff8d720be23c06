/**
 * What the CNM plugin refuses (issue 13): network and broadcast addresses, gateways and aux
 * addresses outside their pool, unknown address spaces, ids and fields beyond their bounds, ids that
 * name Object's members, an endpoint address used twice; and that every refusal names the field and
 * leaves the state as it was.
 */
import { strict as assert } from 'node:assert';
import { createEp, createNet, EP, EP2, GW_OPT, NET, setup } from './harness';

const POOL_REQ = { AddressSpace: 'netloom', Pool: '10.55.0.0/24', Options: {} };

describe('cnm plugin input validation', () => {
  describe('RequestAddress gives out host addresses only', () => {
    it('refuses the network and broadcast address, for endpoints, gateways and aux addresses', async () => {
      const t = setup();
      const pool = (await t.ok('IpamDriver.RequestPool', POOL_REQ)).PoolID;
      const before = t.plugin.snapshot();
      for (const Options of [GW_OPT, null]) {
        assert.equal(
          await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.55.0.0', Options }),
          'netloom: RequestAddress: Address: 10.55.0.0 is the network address of 10.55.0.0/24, not a host address',
        );
        assert.equal(
          await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.55.0.255/24', Options }),
          'netloom: RequestAddress: Address: 10.55.0.255 is the broadcast address of 10.55.0.0/24, not a host address',
        );
      }
      assert.deepEqual(t.plugin.snapshot(), before);
      const bound = await createNet(t);
      assert.match(await t.err('IpamDriver.RequestAddress', { PoolID: bound, Address: '10.55.0.255' }), /broadcast address/);
      assert.ok(!t.backend.ops().includes('allocateAddress'), 'a refused address never reached the backend');
    });
    it('skips network and broadcast addresses the backend hands out, and gives them back', async () => {
      const t = setup();
      t.backend.offerNonHost = true;
      const pool = await createNet(t, { subnet: '10.55.0.16/28' });
      const a = await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '' });
      assert.equal(a.Address, '10.55.0.18/28');
      const offered = t.backend.calls.filter((c) => c.op === 'allocateAddress').length;
      assert.equal(offered, 3, 'network, broadcast, then a host address');
      const released = t.backend.calls.filter((c) => c.op === 'releaseAddress').map((c) => (c.arg as { address: string }).address);
      assert.deepEqual(released, ['10.55.0.16', '10.55.0.31']);
      assert.deepEqual(t.plugin.snapshot().pools[pool]?.addresses, { '10.55.0.17': 'gateway', '10.55.0.18': 'endpoint' });
    });
    it('gives up with EXHAUSTED when the backend offers nothing else, holding nothing', async () => {
      const t = setup();
      const pool = await createNet(t);
      let n = 0;
      t.backend.allocateAddress = async () => (n++ % 2 === 0 ? '10.55.0.0' : '10.55.0.255');
      assert.equal(
        await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '' }),
        'netloom: RequestAddress: the backend gave only non-host addresses (10.55.0.0, 10.55.0.255, 10.55.0.0) ' +
          'in the pool 10.55.0.0/24; they were given back',
      );
      assert.equal(t.backend.ops().filter((o) => o === 'releaseAddress').length, 3);
      assert.deepEqual(t.plugin.snapshot().pools[pool]?.addresses, { '10.55.0.1': 'gateway' });
    });
    it('/31 and /32 pools have no network or broadcast address (RFC 3021)', async () => {
      const t = setup();
      const pool = (await t.ok('IpamDriver.RequestPool', { ...POOL_REQ, Pool: '10.9.0.0/31' })).PoolID;
      assert.equal((await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.9.0.1', Options: null })).Address, '10.9.0.1/31');
      assert.equal((await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '', Options: GW_OPT })).Address, '10.9.0.0/31');
    });
  });

  describe('CreateNetwork', () => {
    it('refuses a gateway outside its pool, or the pool’s network or broadcast address, naming the field', async () => {
      const t = setup();
      await t.ok('IpamDriver.RequestPool', POOL_REQ);
      const create = (Gateway: string, AuxAddresses?: Record<string, string>) =>
        t.err('NetworkDriver.CreateNetwork', {
          NetworkID: NET,
          IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.55.0.0/24', Gateway, ...(AuxAddresses ? { AuxAddresses } : {}) }],
        });
      assert.equal(await create('10.66.0.1/24'), 'netloom: CreateNetwork: IPv4Data.0.Gateway: 10.66.0.1 is not inside 10.55.0.0/24');
      assert.match(await create('10.55.0.0/24'), /IPv4Data.0.Gateway: 10.55.0.0 is the network address/);
      assert.match(await create('10.55.0.255'), /IPv4Data.0.Gateway: 10.55.0.255 is the broadcast address/);
      assert.match(await create('gw'), /IPv4Data.0.Gateway: "gw" is not an IPv4 address/);
      assert.match(
        await create('10.55.0.1/24', { router: '10.1.1.1' }),
        /IPv4Data.0.AuxAddresses.router: 10.1.1.1 is not inside 10.55.0.0\/24/,
      );
      assert.deepEqual(t.plugin.snapshot().networks, {});
      assert.ok(!t.backend.ops().includes('createNetwork'));
    });
  });

  describe('RequestPool', () => {
    it('refuses unknown address spaces (path-like, with NUL, 100 KB) without storing anything, and bounds the echo', async () => {
      const t = setup();
      for (const AddressSpace of ['../../etc', 'a\0b', 'LocalDefault', 'x'.repeat(100_000)]) {
        const e = await t.err('IpamDriver.RequestPool', { ...POOL_REQ, AddressSpace }, 400);
        assert.match(e, /^netloom: RequestPool: AddressSpace: /, e.slice(0, 200));
        assert.ok(e.length < 300, `the error does not echo the value: ${e.length} characters`);
      }
      assert.deepEqual(t.plugin.snapshot().pools, {});
      // '' is the default space; both spellings share one pool, stored under its name
      const a = await t.ok('IpamDriver.RequestPool', { ...POOL_REQ, AddressSpace: '' });
      const b = await t.ok('IpamDriver.RequestPool', POOL_REQ);
      assert.equal(a.PoolID, b.PoolID);
      assert.equal(t.plugin.snapshot().pools[a.PoolID as string]?.addressSpace, 'netloom');
    });
    it('a network finds its pool whichever spelling of the default space each side used', async () => {
      const t = setup();
      const pool = (await t.ok('IpamDriver.RequestPool', { ...POOL_REQ, AddressSpace: '' })).PoolID as string;
      await t.ok('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.55.0.0/24' }] });
      assert.equal(t.plugin.snapshot().pools[pool]?.dockerNetworkId, NET);
    });
  });

  describe('CreateNetwork address spaces', () => {
    it("accepts another IPAM driver's space (Docker's default IPAM: LocalDefault) without binding our pool", async () => {
      const t = setup();
      const pool = (await t.ok('IpamDriver.RequestPool', POOL_REQ)).PoolID as string;
      await t.ok('NetworkDriver.CreateNetwork', {
        NetworkID: NET,
        IPv4Data: [{ AddressSpace: 'LocalDefault', Pool: '10.55.0.0/24', Gateway: '10.55.0.1/24' }],
      });
      assert.equal(t.plugin.snapshot().pools[pool]?.dockerNetworkId, undefined);
      assert.equal(t.plugin.snapshot().networks[NET]?.poolId, undefined);
      assert.match(
        await t.err(
          'NetworkDriver.CreateNetwork',
          { NetworkID: NET, IPv4Data: [{ AddressSpace: '../../etc', Pool: '10.55.0.0/24' }] },
          400,
        ),
        /CreateNetwork: IPv4Data.0.AddressSpace: must be an address space name/,
      );
    });
  });

  describe('bounds and ids', () => {
    it('refuses ids that are not Docker ids, oversized fields and maps, naming the field', async () => {
      const t = setup();
      const cases: Array<[string, unknown, RegExp]> = [
        ['NetworkDriver.CreateNetwork', { NetworkID: '__proto__' }, /CreateNetwork: NetworkID: must be a Docker id/],
        ['NetworkDriver.CreateNetwork', { NetworkID: '../../etc' }, /NetworkID: must be a Docker id/],
        ['NetworkDriver.CreateNetwork', { NetworkID: 'a'.repeat(129) }, /NetworkID: must be at most 128 characters/],
        [
          'NetworkDriver.Join',
          { NetworkID: NET, EndpointID: EP, SandboxKey: '/var/run/x\0y' },
          /Join: SandboxKey: must not contain control/,
        ],
        ['NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k'.repeat(5000) }, /SandboxKey: must be at most 4096/],
        ['IpamDriver.RequestAddress', { PoolID: 'p', Address: '1'.repeat(65) }, /RequestAddress: Address: must be at most 64/],
        ['IpamDriver.RequestAddress', { PoolID: 'p'.repeat(300) }, /RequestAddress: PoolID: must be at most 256/],
        [
          'IpamDriver.RequestPool',
          { Options: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
          /RequestPool: Options: at most 64 entries/,
        ],
        ['IpamDriver.RequestPool', { Pool: 7 }, /RequestPool: Pool: .*expected string/],
        ['IpamDriver.RequestPool', { V6: 'yes' }, /RequestPool: V6: .*expected boolean/],
        [
          'NetworkDriver.CreateEndpoint',
          { NetworkID: NET, EndpointID: EP, Interface: 'eth0' },
          /CreateEndpoint: Interface: .*expected object/,
        ],
        ['NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: {} }, /CreateNetwork: IPv4Data: .*expected array/],
        ['NetworkDriver.DiscoverNew', { DiscoveryType: 1.5 }, /DiscoverNew: DiscoveryType: /],
      ];
      for (const [method, body, want] of cases) assert.match(await t.err(method, body, 400), want, method);
      assert.deepEqual(t.plugin.snapshot(), { version: 1, pools: {}, networks: {}, endpoints: {} });
    });
    it('ids naming members of Object find nothing, and are stored like any other id', async () => {
      const t = setup();
      for (const PoolID of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
        assert.match(await t.err('IpamDriver.RequestAddress', { PoolID, Address: '' }), /PoolID: unknown pool/);
        await t.ok('IpamDriver.ReleasePool', { PoolID });
        await t.ok('IpamDriver.ReleaseAddress', { PoolID, Address: '10.0.0.1' });
      }
      await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: 'toString' });
      assert.match(
        await t.err('NetworkDriver.Join', { NetworkID: 'constructor', EndpointID: 'valueOf', SandboxKey: 'k' }),
        /unknown endpoint/,
      );
      assert.deepEqual(t.backend.ops(), [], 'nothing reached the backend');
      await t.ok('NetworkDriver.CreateNetwork', { NetworkID: 'constructor', IPv4Data: [{ Pool: '10.8.0.0/24' }] });
      assert.deepEqual(Object.keys(t.plugin.snapshot().networks), ['constructor']);
      await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: 'constructor' });
      assert.deepEqual(t.plugin.snapshot().networks, {});
    });
  });

  describe('CreateEndpoint', () => {
    it('refuses an address from the backend that is not a host address of the network, or is taken (INTERNAL: the backend is at fault)', async () => {
      const t = setup();
      await createNet(t);
      t.backend.createEndpoint = async () => ({ address: '10.55.0.255/24', macAddress: '02:00:00:00:00:01' });
      assert.equal(
        await t.err('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: null }),
        'netloom: CreateEndpoint: the backend returned an unusable address: 10.55.0.255 is the broadcast address of 10.55.0.0/24, not a host address',
      );
      assert.deepEqual(t.plugin.snapshot().endpoints, {});
    });
    it('refuses an address outside the network, with another prefix length, or used by another endpoint', async () => {
      const t = setup();
      const pool = await createNet(t);
      const { address } = await createEp(t, pool);
      const create = (Address: string) =>
        t.err('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP2, Interface: { Address }, Options: {} });
      assert.equal(await create(address), 'netloom: CreateEndpoint: Interface.Address: 10.55.0.2 is already used by endpoint e1e1e1e1e1e1');
      assert.match(await create('10.66.0.5/24'), /Interface.Address: 10.66.0.5 is not inside 10.55.0.0\/24/);
      assert.match(await create('10.55.0.5/16'), /Interface.Address: "10.55.0.5\/16" does not have the prefix length of 10.55.0.0\/24/);
      assert.match(await create('10.55.0.255/24'), /Interface.Address: 10.55.0.255 is the broadcast address/);
      assert.deepEqual(Object.keys(t.plugin.snapshot().endpoints), [EP]);
    });
  });
});
