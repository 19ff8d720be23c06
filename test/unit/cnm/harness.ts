/**
 * The CNM plugin without HTTP, for unit tests: a plugin on a FakeBackend and a memory store, and
 * helpers that make the calls dockerd makes (pool, gateway, CreateNetwork; address, CreateEndpoint)
 * and check the reply is a success or an `Err`.
 */
import { strict as assert } from 'node:assert';
import { CnmPlugin, PluginReply } from '../../../netplugin/cnm/plugin';
import { MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { FakeBackend } from './fake-backend';

export const NET = 'a'.repeat(64);
export const NET2 = 'b'.repeat(64);
export const EP = 'e1'.repeat(32);
export const EP2 = 'e2'.repeat(32);
export const GW_OPT = { RequestAddressType: 'com.docker.network.gateway' };

export function setup(store = new MemoryStateStore()) {
  const backend = new FakeBackend();
  const plugin = new CnmPlugin({ backend, store });
  const call = (method: string, body?: unknown): Promise<PluginReply> =>
    plugin.handle(`/${method}`, body === undefined ? '' : JSON.stringify(body));
  const ok = async (method: string, body?: unknown): Promise<Record<string, unknown>> => {
    const r = await call(method, body);
    assert.equal(r.status, 200, `${method}: ${JSON.stringify(r.body)}`);
    assert.equal((r.body as { Err?: string }).Err, undefined, `${method} failed: ${JSON.stringify(r.body)}`);
    return r.body as Record<string, unknown>;
  };
  const err = async (method: string, body: unknown, status = 200): Promise<string> => {
    const r = await call(method, body);
    assert.equal(r.status, status, `${method} status: ${JSON.stringify(r.body)}`);
    const { Err: e, Error: ipamError } = r.body as { Err?: string; Error?: string };
    assert.ok(typeof e === 'string' && e.length > 0, `${method} answers {"Err": ...}: ${JSON.stringify(r.body)}`);
    // Docker reads IPAM failures from "Error" (a network driver's from "Err")
    assert.equal(ipamError, method.startsWith('IpamDriver.') ? e : undefined, `${method}: ${JSON.stringify(r.body)}`);
    return e;
  };
  return { backend, plugin, store, call, ok, err };
}

/** Pool + gateway + CreateNetwork as dockerd does it; returns the pool id. */
export async function createNet(
  t: ReturnType<typeof setup>,
  opts: { id?: string; generic?: Record<string, string>; ipamOpts?: Record<string, string>; subnet?: string } = {},
) {
  const subnet = opts.subnet ?? '10.55.0.0/24';
  const pool = await t.ok('IpamDriver.RequestPool', {
    AddressSpace: 'netloom',
    Pool: subnet,
    SubPool: '',
    Options: opts.ipamOpts ?? {},
    V6: false,
  });
  const gw = await t.ok('IpamDriver.RequestAddress', { PoolID: pool.PoolID, Address: '', Options: GW_OPT });
  await t.ok('NetworkDriver.CreateNetwork', {
    NetworkID: opts.id ?? NET,
    Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': opts.generic ?? { tenant: 't1', network: 'n1' } },
    IPv4Data: [{ AddressSpace: 'netloom', Gateway: gw.Address, Pool: subnet }],
    IPv6Data: [],
  });
  return pool.PoolID as string;
}

export async function createEp(t: ReturnType<typeof setup>, poolId: string, ep = EP, net = NET) {
  const a = await t.ok('IpamDriver.RequestAddress', { PoolID: poolId, Address: '', Options: null });
  const reply = await t.ok('NetworkDriver.CreateEndpoint', {
    NetworkID: net,
    EndpointID: ep,
    Interface: { Address: a.Address, AddressIPv6: '', MacAddress: '' },
    Options: {},
  });
  return { address: a.Address as string, reply };
}
