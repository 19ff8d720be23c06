/**
 * The CNM plugin's calls without HTTP: replies to the exact requests dockerd 20.10 sent (recorded
 * golden file), every method's response shape, error replies naming the bad field, option mapping
 * onto tenant/network/group, idempotency of repeated calls, rollback when the backend fails, and
 * state reload by a new plugin instance.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NetloomError } from '../../../lib/errors';
import { CnmPlugin } from '../../../netplugin/cnm/plugin';
import { MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import { FakeBackend } from './fake-backend';
import { createEp, createNet, EP, EP2, GW_OPT, NET, NET2, setup } from './harness';

interface GoldenCall {
  method: string;
  request: unknown;
  status: number;
  reply: unknown;
}
const GOLDEN = resolve(__dirname, '../../../../test/unit/cnm/golden/docker-20.10-lifecycle.json');

describe('cnm plugin', () => {
  describe('golden: the calls dockerd 20.10 made for network create, run, rm -f, network rm', () => {
    it('answers each recorded request exactly as recorded', async () => {
      const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as GoldenCall[];
      assert.ok(golden.length >= 15);
      const t = setup();
      for (const g of golden) {
        const r = await t.call(g.method.slice(1), g.request === null ? undefined : g.request);
        assert.deepEqual({ status: r.status, reply: r.body }, { status: g.status, reply: g.reply }, g.method);
      }
      // nothing left after network rm but the released address with its MAC, for the network made again (ipam-driver.ts)
      const { releasedOfRemovedPools: kept, ...rest } = t.plugin.snapshot();
      assert.deepEqual(rest, { version: 1, pools: {}, networks: {}, endpoints: {} }, 'nothing left after network rm');
      assert.deepEqual(
        Object.values(kept ?? {})
          .flat()
          .map((r) => r.address),
        ['10.55.0.2'],
      );
      assert.deepEqual(t.backend.ops(), [
        'createNetwork',
        'allocateAddress',
        'createEndpoint',
        'join',
        'leave',
        'deleteEndpoint',
        'releaseAddress',
        'deleteNetwork',
      ]);
    });
  });

  describe('handshake and capabilities', () => {
    it('Plugin.Activate implements NetworkDriver and IpamDriver', async () => {
      assert.deepEqual(await setup().ok('Plugin.Activate'), { Implements: ['NetworkDriver', 'IpamDriver'] });
    });
    it('NetworkDriver.GetCapabilities: local data scope by default, global connectivity; global when configured', async () => {
      assert.deepEqual(await setup().ok('NetworkDriver.GetCapabilities'), { Scope: 'local', ConnectivityScope: 'global' });
      const p = new CnmPlugin({ backend: new FakeBackend(), store: new MemoryStateStore(), driver: { scope: 'global' } });
      assert.deepEqual((await p.handle('/NetworkDriver.GetCapabilities', '')).body, { Scope: 'global', ConnectivityScope: 'global' });
    });
    it('IpamDriver.GetCapabilities and GetDefaultAddressSpaces', async () => {
      const t = setup();
      assert.deepEqual(await t.ok('IpamDriver.GetCapabilities'), { RequiresMACAddress: false, RequiresRequestReplay: false });
      assert.deepEqual(await t.ok('IpamDriver.GetDefaultAddressSpaces'), {
        LocalDefaultAddressSpace: 'netloom',
        GlobalDefaultAddressSpace: 'netloom',
      });
    });
    it('answers every method of both drivers', () => {
      const m = setup().plugin.methods();
      for (const x of [
        'CreateNetwork',
        'DeleteNetwork',
        'CreateEndpoint',
        'DeleteEndpoint',
        'EndpointOperInfo',
        'Join',
        'Leave',
        'DiscoverNew',
        'DiscoverDelete',
        'ProgramExternalConnectivity',
        'RevokeExternalConnectivity',
        'AllocateNetwork',
        'FreeNetwork',
        'GetCapabilities',
      ]) {
        assert.ok(m.includes(`/NetworkDriver.${x}`), x);
      }
      for (const x of ['GetCapabilities', 'GetDefaultAddressSpaces', 'RequestPool', 'ReleasePool', 'RequestAddress', 'ReleaseAddress'])
        assert.ok(m.includes(`/IpamDriver.${x}`), x);
    });
  });

  describe('response shapes', () => {
    it('Join: SrcName from the backend, DstPrefix eth, DisableGatewayService, Gateway and StaticRoutes when given', async () => {
      const t = setup();
      const pool = await createNet(t);
      await createEp(t, pool);
      t.backend.joinGateway = '10.55.0.1';
      const j = await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: '/var/run/docker/netns/x', Options: {} });
      assert.deepEqual(j, {
        InterfaceName: { SrcName: endpointLinkNames(EP).container, DstPrefix: 'eth' },
        Gateway: '10.55.0.1',
        DisableGatewayService: true,
      });
      t.backend.joinGateway = undefined;
      t.backend.joinRoutes = [{ destination: '10.0.0.0/8', nextHop: '10.55.0.254' }, { destination: '10.55.0.0/24' }];
      await createEp(t, pool, EP2);
      assert.deepEqual(await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP2, SandboxKey: 'k2' }), {
        InterfaceName: { SrcName: endpointLinkNames(EP2).container, DstPrefix: 'eth' },
        StaticRoutes: [
          { Destination: '10.0.0.0/8', RouteType: 0, NextHop: '10.55.0.254' },
          { Destination: '10.55.0.0/24', RouteType: 1 },
        ],
        DisableGatewayService: true,
      });
      const joinArg = t.backend.calls.find((c) => c.op === 'join')?.arg;
      assert.deepEqual(joinArg, {
        dockerNetworkId: NET,
        endpointId: EP,
        binding: { tenant: 't1', network: 'n1' },
        sandboxKey: '/var/run/docker/netns/x',
        address: '10.55.0.2/24',
        macAddress: '02:02:0a:37:00:02',
      });
    });
    it('CreateEndpoint returns only what Docker left empty: nothing when Docker gave address and MAC', async () => {
      const t = setup();
      await createNet(t);
      const r = await t.ok('NetworkDriver.CreateEndpoint', {
        NetworkID: NET,
        EndpointID: EP,
        Interface: { Address: '10.55.0.7/24', AddressIPv6: '', MacAddress: '02:aa:bb:cc:dd:ee' },
        Options: {},
      });
      assert.deepEqual(r, {});
      assert.equal(t.plugin.snapshot().endpoints[EP]?.macAddress, '02:aa:bb:cc:dd:ee');
    });
    it('CreateEndpoint returns Address and MacAddress from the backend when Docker gave none (no netloom IPAM)', async () => {
      const t = setup();
      await t.ok('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: {}, IPv4Data: [], IPv6Data: [] });
      const r = await t.ok('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: null, Options: {} });
      assert.deepEqual(r, { Interface: { Address: '10.99.0.9/24', MacAddress: '02:02:0a:63:00:09' } });
    });
    it('EndpointOperInfo, Program/RevokeExternalConnectivity, Discover*, AllocateNetwork, FreeNetwork', async () => {
      const t = setup();
      const pool = await createNet(t, { generic: { tenant: 't1', network: 'n1', group: 'web' } });
      await createEp(t, pool);
      assert.deepEqual(await t.ok('NetworkDriver.EndpointOperInfo', { NetworkID: NET, EndpointID: EP }), {
        Value: { tenant: 't1', network: 'n1', group: 'web', address: '10.55.0.2/24', macAddress: '02:02:0a:37:00:02' },
      });
      assert.deepEqual(await t.ok('NetworkDriver.ProgramExternalConnectivity', { NetworkID: NET, EndpointID: EP, Options: {} }), {});
      assert.deepEqual(await t.ok('NetworkDriver.RevokeExternalConnectivity', { NetworkID: NET, EndpointID: EP }), {});
      assert.deepEqual(
        await t.ok('NetworkDriver.DiscoverNew', { DiscoveryType: 1, DiscoveryData: { Address: '10.0.0.1', self: true } }),
        {},
      );
      assert.deepEqual(
        await t.ok('NetworkDriver.DiscoverDelete', { DiscoveryType: 1, DiscoveryData: { Address: '10.0.0.1', self: true } }),
        {},
      );
      // AllocateNetwork (swarm) is swarm.test.ts's
      assert.deepEqual(await t.ok('NetworkDriver.FreeNetwork', { NetworkID: NET2 }), {});
    });
  });

  describe('error replies', () => {
    it('bad JSON: HTTP 400 with an Err saying so', async () => {
      const t = setup();
      const r = await t.plugin.handle('/NetworkDriver.CreateNetwork', '{"NetworkID":');
      assert.equal(r.status, 400);
      assert.match((r.body as { Err: string }).Err, /CreateNetwork: request body is not valid JSON/);
    });
    it('missing or mistyped fields: HTTP 400 naming the field', async () => {
      const t = setup();
      assert.match(await t.err('NetworkDriver.CreateNetwork', { Options: {} }, 400), /CreateNetwork: NetworkID: required field is missing/);
      assert.match(
        await t.err('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP }, 400),
        /Join: SandboxKey: required field is missing/,
      );
      assert.match(await t.err('IpamDriver.RequestAddress', { PoolID: 7 }, 400), /RequestAddress: PoolID: .*expected string/);
      assert.match(await t.err('NetworkDriver.CreateNetwork', { NetworkID: NET, IPv4Data: [{ Pool: '' }] }, 400), /IPv4Data\.0\.Pool/);
      assert.match(await t.err('NetworkDriver.CreateNetwork', [], 400), /CreateNetwork: \(body\)/);
    });
    it('every method names each required field that is missing', async () => {
      const t = setup();
      const full: Record<string, Record<string, unknown>> = {
        'NetworkDriver.CreateNetwork': { NetworkID: NET },
        'NetworkDriver.DeleteNetwork': { NetworkID: NET },
        'NetworkDriver.CreateEndpoint': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.DeleteEndpoint': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.EndpointOperInfo': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.Join': { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' },
        'NetworkDriver.Leave': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.DiscoverNew': { DiscoveryType: 1 },
        'NetworkDriver.DiscoverDelete': { DiscoveryType: 1 },
        'NetworkDriver.ProgramExternalConnectivity': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.RevokeExternalConnectivity': { NetworkID: NET, EndpointID: EP },
        'NetworkDriver.AllocateNetwork': { NetworkID: NET },
        'NetworkDriver.FreeNetwork': { NetworkID: NET },
        'IpamDriver.ReleasePool': { PoolID: 'p' },
        'IpamDriver.RequestAddress': { PoolID: 'p' },
        'IpamDriver.ReleaseAddress': { PoolID: 'p', Address: '10.0.0.1' },
      };
      for (const [method, body] of Object.entries(full)) {
        for (const field of Object.keys(body)) {
          const partial = { ...body };
          delete partial[field];
          const e = await t.err(method, partial, 400);
          assert.equal(e, `netloom: ${method.split('.')[1]}: ${field}: required field is missing`, `${method} without ${field}`);
        }
        const blank = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? '' : v]));
        if (Object.values(body).some((v) => typeof v === 'string'))
          assert.match(await t.err(method, blank, 400), /must be a non-empty string/, `${method} with empty ids`);
      }
    });
    it('unknown method: HTTP 404 so that Docker treats it as not implemented', async () => {
      const r = await setup().call('NetworkDriver.Frobnicate', {});
      assert.equal(r.status, 404);
      assert.match((r.body as { Err: string }).Err, /unknown method "NetworkDriver.Frobnicate"/);
    });
    it('unknown network, endpoint and pool: Err naming the field', async () => {
      const t = setup();
      assert.match(
        await t.err('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: {} }),
        /NetworkID: unknown network aaaaaaaaaaaa/,
      );
      const pool = await createNet(t);
      assert.match(
        await t.err('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' }),
        /Join: EndpointID: unknown endpoint/,
      );
      assert.match(await t.err('NetworkDriver.EndpointOperInfo', { NetworkID: NET, EndpointID: EP }), /EndpointID: unknown endpoint/);
      assert.match(await t.err('IpamDriver.RequestAddress', { PoolID: 'nope', Address: '' }), /PoolID: unknown pool "nope"/);
      await createEp(t, pool);
      assert.match(
        await t.err('NetworkDriver.Join', { NetworkID: NET2, EndpointID: EP, SandboxKey: 'k' }),
        /NetworkID: endpoint e1e1e1e1e1e1 belongs to network aaaaaaaaaaaa/,
      );
    });
    it('bad addresses and unsupported requests', async () => {
      const t = setup();
      assert.match(
        await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.55.0.0/33' }),
        /Pool: "10.55.0.0\/33" is not a CIDR/,
      );
      assert.match(await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: 'fd00::/64' }), /Pool: .* is not IPv4/);
      assert.match(await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', V6: true }), /V6: IPv6 pools are not supported/);
      assert.match(
        await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', SubPool: '10.0.0.0/25' }),
        /SubPool: a sub-pool .* needs a pool/,
      );
      assert.match(
        await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.55.0.0/24', SubPool: '10.56.0.0/25' }),
        /SubPool: 10.56.0.0\/25 is not inside 10.55.0.0\/24/,
      );
      const pool = await createNet(t);
      assert.match(
        await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.9.9.9' }),
        /Address: 10.9.9.9 is not inside the pool/,
      );
      assert.match(
        await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: 'banana' }),
        /Address: "banana" is not an IPv4 address/,
      );
      assert.match(
        await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.55.0.1' }),
        /Address: 10.55.0.1 is already in use/,
      );
      assert.match(
        await t.err('NetworkDriver.CreateEndpoint', {
          NetworkID: NET,
          EndpointID: EP,
          Interface: { Address: '10.55.0.9/24', MacAddress: 'zz' },
        }),
        /Interface.MacAddress: "zz" is not a MAC address/,
      );
      assert.match(
        await t.err('NetworkDriver.CreateNetwork', { NetworkID: NET2, IPv4Data: [], IPv6Data: [{ Pool: 'fd00::/64' }] }),
        /IPv6Data: IPv6 is not supported/,
      );
    });
    it('a backend failure becomes an Err, and the state is neither changed nor saved', async () => {
      const t = setup();
      const pool = await createNet(t);
      const saves = t.store.saves;
      const before = t.plugin.snapshot();
      t.backend.failNext = { op: 'allocateAddress', error: new NetloomError('EXHAUSTED', 'no free address in 10.55.0.0/24') };
      assert.match(await t.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '' }), /^netloom: no free address in 10.55.0.0\/24$/);
      t.backend.failNext = { op: 'createNetwork', error: new Error('netmaster unreachable') };
      const pool2 = await t.ok('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.66.0.0/24' });
      assert.match(
        await t.err('NetworkDriver.CreateNetwork', { NetworkID: NET2, IPv4Data: [{ Pool: '10.66.0.0/24' }] }),
        /netmaster unreachable/,
      );
      await t.ok('IpamDriver.ReleasePool', { PoolID: pool2.PoolID });
      assert.deepEqual(t.plugin.snapshot(), before);
      assert.equal(t.store.saves, saves + 2, 'only the successful pool request and release were saved');
    });
  });

  describe('option mapping', () => {
    it('maps -o tenant/network/group onto the binding given to the backend', async () => {
      const t = setup();
      await createNet(t, { generic: { tenant: 'blue', network: 'web-net', group: 'frontend' } });
      const arg = t.backend.calls.find((c) => c.op === 'createNetwork')?.arg;
      assert.deepEqual(arg, {
        dockerNetworkId: NET,
        binding: { tenant: 'blue', network: 'web-net', group: 'frontend' },
        subnet: '10.55.0.0/24',
        gateway: '10.55.0.1',
        auxAddresses: {},
      });
    });
    it('defaults: tenant "default" and the short Docker network id', async () => {
      const t = setup();
      await createNet(t, { generic: {} });
      assert.deepEqual(t.plugin.snapshot().networks[NET]?.binding, { tenant: 'default', network: NET.slice(0, 12) });
    });
    it('--ipam-opt tenant/network resolve the pool through the backend and become the driver defaults', async () => {
      const t = setup();
      t.backend.networks.set('t2/n2', { subnet: '10.77.0.0/16', gateway: '10.77.0.254' });
      const pool = await t.ok('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '', Options: { tenant: 't2', network: 'n2' } });
      assert.equal(pool.Pool, '10.77.0.0/16');
      assert.deepEqual(await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '', Options: GW_OPT }), {
        Address: '10.77.0.254/16',
        Data: {},
      });
      await t.ok('NetworkDriver.CreateNetwork', {
        NetworkID: NET,
        Options: {},
        IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.77.0.0/16', Gateway: '10.77.0.254/16' }],
      });
      assert.deepEqual(t.plugin.snapshot().networks[NET]?.binding, { tenant: 't2', network: 'n2' });
      const a = await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '' });
      assert.equal(a.Address, '10.77.0.2/16');
      assert.deepEqual((t.backend.calls.find((c) => c.op === 'allocateAddress')?.arg as { pool: unknown }).pool, {
        tenant: 't2',
        network: 'n2',
        subnet: '10.77.0.0/16',
      });
    });
    it('refuses driver options that contradict the IPAM options', async () => {
      const t = setup();
      const pool = await t.ok('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.55.0.0/24', Options: { tenant: 't1' } });
      assert.ok(pool.PoolID);
      const e = await t.err('NetworkDriver.CreateNetwork', {
        NetworkID: NET,
        Options: { 'com.docker.network.generic': { tenant: 't9' } },
        IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.55.0.0/24' }],
      });
      assert.match(e, /driver options say tenant "t9".*IPAM options say tenant "t1"/);
    });
    it('refuses unknown options and bad names, naming the option', async () => {
      const t = setup();
      assert.match(
        await t.err('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: { 'com.docker.network.generic': { vlan: '5' } } }),
        /com.docker.network.generic.vlan: unknown option "vlan" \(known: tenant, network, group\)/,
      );
      assert.match(
        await t.err('NetworkDriver.CreateNetwork', { NetworkID: NET, Options: { 'com.docker.network.generic': { tenant: 'a b' } } }),
        /generic.tenant: "a b" is not a valid name/,
      );
      assert.match(
        await t.err('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.1.0.0/24', Options: { colour: 'red' } }),
        /Options.colour: unknown option "colour"/,
      );
      // Docker's own keys in the generic map are not the user's options
      await t.ok('NetworkDriver.CreateNetwork', {
        NetworkID: NET,
        Options: { 'com.docker.network.generic': { 'com.docker.network.mtu': '1400' } },
      });
    });
    it('--aux-address requests before CreateNetwork are held by the plugin and passed to createNetwork', async () => {
      const t = setup();
      const pool = await t.ok('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.55.0.0/24' });
      await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '10.55.0.254', Options: GW_OPT });
      await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '10.55.0.200', Options: null });
      await t.ok('NetworkDriver.CreateNetwork', {
        NetworkID: NET,
        IPv4Data: [
          { AddressSpace: 'netloom', Pool: '10.55.0.0/24', Gateway: '10.55.0.254/24', AuxAddresses: { router: '10.55.0.200/24' } },
        ],
      });
      const arg = t.backend.calls.find((c) => c.op === 'createNetwork')?.arg as { gateway: string; auxAddresses: unknown };
      assert.equal(arg.gateway, '10.55.0.254');
      assert.deepEqual(arg.auxAddresses, { router: '10.55.0.200' });
      assert.deepEqual(Object.values(t.plugin.snapshot().pools)[0]?.addresses, { '10.55.0.254': 'gateway', '10.55.0.200': 'aux' });
      assert.ok(!t.backend.ops().includes('allocateAddress'), 'gateway and aux were not allocated in the backend');
    });
  });

  describe('idempotency', () => {
    it('repeated RequestPool returns the same pool and counts references', async () => {
      const t = setup();
      const req = { AddressSpace: 'netloom', Pool: '10.55.0.0/24', Options: {} };
      const a = await t.ok('IpamDriver.RequestPool', req);
      const b = await t.ok('IpamDriver.RequestPool', req);
      assert.deepEqual(a, b);
      await t.ok('IpamDriver.ReleasePool', { PoolID: a.PoolID });
      assert.equal(t.plugin.snapshot().pools[a.PoolID as string]?.refs, 1);
      await t.ok('IpamDriver.ReleasePool', { PoolID: a.PoolID });
      assert.deepEqual(t.plugin.snapshot().pools, {});
    });
    it('repeated CreateNetwork, CreateEndpoint, gateway RequestAddress and Join give the same answers', async () => {
      const t = setup();
      const pool = await createNet(t);
      const gw = await t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '', Options: GW_OPT });
      assert.equal(gw.Address, '10.55.0.1/24');
      await createNet(t);
      const ep = await createEp(t, pool);
      const again = await t.ok('NetworkDriver.CreateEndpoint', {
        NetworkID: NET,
        EndpointID: EP,
        Interface: { Address: ep.address },
        Options: {},
      });
      assert.deepEqual(again, ep.reply);
      const j1 = await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' });
      const j2 = await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' });
      assert.deepEqual(j1, j2);
      const ops = t.backend.ops();
      assert.equal(ops.filter((o) => o === 'createNetwork').length, 1);
      assert.equal(ops.filter((o) => o === 'createEndpoint').length, 1);
    });
    it('a second network on the same subnet gets a pool of its own; releasing it keeps the first one', async () => {
      const t = setup();
      const pool = await createNet(t);
      // e.g. db/blue made by --docker-networks, then a user's own network on the same netloom network
      const again = await t.ok('IpamDriver.RequestPool', { AddressSpace: 'netloom', Pool: '10.55.0.0/24', Options: {} });
      assert.notEqual(again.PoolID, pool);
      await t.ok('IpamDriver.RequestAddress', { PoolID: again.PoolID, Address: '', Options: GW_OPT });
      await t.ok('NetworkDriver.CreateNetwork', {
        NetworkID: NET2,
        Options: { 'com.docker.network.generic': { tenant: 't2' } },
        IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.55.0.0/24', Gateway: '10.55.0.1/24' }],
      });
      assert.equal(t.plugin.snapshot().pools[again.PoolID as string]?.dockerNetworkId, NET2);
      assert.equal(t.plugin.snapshot().pools[pool]?.dockerNetworkId, NET);
      await t.ok('IpamDriver.ReleaseAddress', { PoolID: again.PoolID, Address: '10.55.0.1' });
      await t.ok('IpamDriver.ReleasePool', { PoolID: again.PoolID });
      await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: NET2 });
      assert.deepEqual(t.plugin.snapshot().pools[pool]?.addresses, { '10.55.0.1': 'gateway' });
      assert.equal(t.plugin.snapshot().pools[pool]?.refs, 1);
      assert.equal(t.plugin.snapshot().pools[again.PoolID as string], undefined);
    });
    it('a CreateNetwork that contradicts the recorded one is refused', async () => {
      const t = setup();
      await createNet(t);
      assert.match(
        await t.err('NetworkDriver.CreateNetwork', {
          NetworkID: NET,
          Options: { 'com.docker.network.generic': { tenant: 't1', network: 'other' } },
          IPv4Data: [{ AddressSpace: 'netloom', Pool: '10.55.0.0/24' }],
        }),
        /NetworkID: network aaaaaaaaaaaa exists with a different binding/,
      );
    });
    it('deletes and releases of unknown things succeed (Docker repeats them)', async () => {
      const t = setup();
      assert.deepEqual(await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: NET }), {});
      assert.deepEqual(await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP }), {});
      assert.deepEqual(await t.ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP }), {});
      assert.deepEqual(await t.ok('IpamDriver.ReleasePool', { PoolID: 'x' }), {});
      assert.deepEqual(await t.ok('IpamDriver.ReleaseAddress', { PoolID: 'x', Address: '10.0.0.1' }), {});
      const pool = await createNet(t);
      assert.deepEqual(await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: '10.55.0.77' }), {});
      await createEp(t, pool);
      await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
      await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
      assert.deepEqual(t.plugin.snapshot().endpoints, {});
      await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: '10.55.0.2' });
      await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: '10.55.0.2' });
      assert.equal(t.backend.ops().filter((o) => o === 'releaseAddress').length, 1, 'released in the backend once');
    });
    it('network and pool removal are refused while endpoints use them, naming what is in use', async () => {
      const t = setup();
      const pool = await createNet(t);
      await createEp(t, pool);
      await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' });
      await createEp(t, pool, EP2);
      const n = t.backend.calls.length;
      // the order dockerd uses on network rm: gateway release, pool release, then DeleteNetwork
      await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: '10.55.0.1' });
      assert.equal(
        await t.err('IpamDriver.ReleasePool', { PoolID: pool }),
        'netloom: ReleasePool: PoolID: pool 10.55.0.0/24 is in use: endpoint addresses 10.55.0.2, 10.55.0.3 still allocated ' +
          '(remove the containers, or release the addresses, first)',
      );
      assert.equal(
        await t.err('NetworkDriver.DeleteNetwork', { NetworkID: NET }),
        'netloom: DeleteNetwork: NetworkID: network aaaaaaaaaaaa is in use: endpoints e1e1e1e1e1e1 (joined), e2e2e2e2e2e2 still exist ' +
          '(disconnect the containers first)',
      );
      assert.deepEqual(t.backend.calls.slice(n), [], 'nothing was torn down');
      const snap = t.plugin.snapshot();
      assert.deepEqual(Object.keys(snap.endpoints).sort(), [EP, EP2]);
      assert.deepEqual(snap.pools[pool]?.addresses, { '10.55.0.2': 'endpoint', '10.55.0.3': 'endpoint' });
      // once Docker has taken the endpoints down, both succeed
      await t.ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP });
      for (const [ep, address] of [
        [EP, '10.55.0.2'],
        [EP2, '10.55.0.3'],
      ] as const) {
        await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: ep });
        await t.ok('IpamDriver.ReleaseAddress', { PoolID: pool, Address: address });
      }
      await t.ok('IpamDriver.ReleasePool', { PoolID: pool });
      await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: NET });
      const { releasedOfRemovedPools: _kept, ...rest } = t.plugin.snapshot();
      assert.deepEqual(rest, { version: 1, pools: {}, networks: {}, endpoints: {} });
    });
    it('one endpoint left: the error names it in the singular', async () => {
      const t = setup();
      const pool = await createNet(t);
      await createEp(t, pool);
      assert.match(
        await t.err('NetworkDriver.DeleteNetwork', { NetworkID: NET }),
        /network aaaaaaaaaaaa is in use: endpoint e1e1e1e1e1e1 still exists/,
      );
      assert.match(await t.err('IpamDriver.ReleasePool', { PoolID: pool }), /endpoint address 10.55.0.2 still allocated/);
    });
    it('serialises concurrent calls: concurrent address requests get distinct addresses', async () => {
      const t = setup();
      const pool = await createNet(t);
      const replies = await Promise.all([1, 2, 3, 4, 5].map(() => t.ok('IpamDriver.RequestAddress', { PoolID: pool, Address: '' })));
      assert.deepEqual(replies.map((r) => r.Address).sort(), [
        '10.55.0.2/24',
        '10.55.0.3/24',
        '10.55.0.4/24',
        '10.55.0.5/24',
        '10.55.0.6/24',
      ]);
    });
  });

  describe('state reload', () => {
    it('a new plugin on the same store continues where the old one stopped', async () => {
      const store = new MemoryStateStore();
      const t1 = setup(store);
      const pool = await createNet(t1);
      const ep = await createEp(t1, pool);
      await t1.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k' });
      const t2 = setup(store);
      assert.deepEqual(t2.plugin.snapshot(), t1.plugin.snapshot());
      await createNet(t2); // Docker replaying the network: nothing redone
      assert.deepEqual(
        await t2.ok('NetworkDriver.CreateEndpoint', { NetworkID: NET, EndpointID: EP, Interface: { Address: ep.address } }),
        ep.reply,
      );
      assert.ok(!t2.backend.ops().includes('createNetwork') && !t2.backend.ops().includes('createEndpoint'));
      // the reloaded pool still knows 10.55.0.2 is taken: asking for it is refused
      assert.match(await t2.err('IpamDriver.RequestAddress', { PoolID: pool, Address: '10.55.0.2' }), /10.55.0.2 is already in use/);
      assert.deepEqual(await t2.ok('NetworkDriver.EndpointOperInfo', { NetworkID: NET, EndpointID: EP }), {
        Value: {
          tenant: 't1',
          network: 'n1',
          address: '10.55.0.2/24',
          macAddress: '02:02:0a:37:00:02',
          hostInterface: endpointLinkNames(EP).host,
        },
      });
      await t2.ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP });
      await t2.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
      await t2.ok('NetworkDriver.DeleteNetwork', { NetworkID: NET });
      assert.deepEqual(t2.backend.ops(), ['leave', 'deleteEndpoint', 'deleteNetwork']);
      assert.deepEqual(setup(store).plugin.snapshot().networks, {});
    });
    it('two networks with separate pools and endpoints stay apart', async () => {
      const t = setup();
      const p1 = await createNet(t);
      const p2 = await createNet(t, { id: NET2, subnet: '10.56.0.0/24', generic: { tenant: 't2', network: 'n2' } });
      assert.notEqual(p1, p2);
      await createEp(t, p1);
      const e2 = await createEp(t, p2, EP2, NET2);
      assert.equal(e2.address, '10.56.0.2/24');
      await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
      await t.ok('NetworkDriver.DeleteNetwork', { NetworkID: NET });
      assert.deepEqual(Object.keys(t.plugin.snapshot().networks), [NET2]);
      assert.deepEqual(Object.keys(t.plugin.snapshot().endpoints), [EP2]);
    });
  });
});
