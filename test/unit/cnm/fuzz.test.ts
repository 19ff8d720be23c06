/**
 * Fuzz test of the CNM plugin as dockerd reaches it (port maps of ProgramExternalConnectivity included): the real server on a unix socket with a file
 * state store (and a fake agent backend that also offers network and broadcast addresses, as a
 * faulty IPAM would). Random sequences of plugin calls, built from a few ids, pools and addresses
 * so that they reach deep into the state, with mutated bodies (fields dropped or replaced by any
 * JSON, whole bodies replaced, broken JSON, unknown methods), and now and then a restart of the
 * server on the same state file. Asserts after every call: the answer is JSON with a non-empty
 * `Err` string or the method's success shape, within a time bound; RequestAddress never gives out
 * a network or broadcast address nor an address the pool already holds; after every sequence the
 * state file loads (schema) and holds only valid values, and equals what the plugin holds.
 *
 * NETLOOM_FUZZ_RUNS sets the number of sequences (default 40, a few seconds).
 */
import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startCnmPlugin, type RunningCnmPlugin } from '../../../netplugin/cnm';
import { hostAddressProblem, parseSubnet } from '../../../netplugin/cnm/addresses';
import { ID_PATTERN } from '../../../netplugin/cnm/limits';
import { IPAM_DRIVER_METHODS, NETWORK_DRIVER_METHODS, PLUGIN_CONTENT_TYPE } from '../../../netplugin/cnm/protocol';
import type { CnmState } from '../../../netplugin/cnm/state';
import { FileStateStore } from '../../../netplugin/cnm/state-store';
import { FakeBackend } from './fake-backend';

const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 40);
/** No answer within this is a hang. */
const CALL_TIMEOUT_MS = 5000;

const NETS = ['a'.repeat(64), 'b'.repeat(64), 'constructor'];
const EPS = ['e1'.repeat(32), 'e2'.repeat(32), 'e3'.repeat(32)];
const SUBNETS = ['10.55.0.0/24', '10.56.0.16/28', '10.57.0.0/30', '10.58.0.0/31', '10.59.0.0/16'];
const GW_OPT = { RequestAddressType: 'com.docker.network.gateway' };

/** Addresses worth trying in a subnet: network, first, second, last host, broadcast, one outside. */
function addressesOf(cidr: string): string[] {
  const [a, b, c, d] = cidr.split('/')[0]!.split('.').map(Number) as [number, number, number, number];
  const size = 2 ** (32 - Number(cidr.split('/')[1]));
  const at = (off: number): string => {
    const n = ((a << 24) | (b << 16) | (c << 8) | d) + off;
    return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  };
  return [at(0), at(1), at(2), at(size - 2), at(size - 1), at(size)];
}

/** A libnetwork PortBinding as dockerd sends it in the port map, valid or not in each field. */
const portBinding = fc.record(
  {
    Proto: fc.constantFrom(6, 17, 132, 1),
    IP: fc.constantFrom('', '10.55.0.2'),
    Port: fc.constantFrom(0, 80, 65535, 70000),
    HostIP: fc.constantFrom('', '0.0.0.0', '127.0.0.1', '::', '224.0.0.1', 'x'),
    HostPort: fc.constantFrom(0, 8080, 8081, 65535),
    HostPortEnd: fc.constantFrom(0, 8080, 8081, 8090),
  },
  { requiredKeys: [] },
);

interface Call {
  method: string;
  /** request object before mutation */
  body: (ctx: Ctx) => unknown;
  mutation: Mutation;
}
type Mutation =
  | { kind: 'none' }
  | { kind: 'drop'; key: number }
  | { kind: 'replace'; key: number; value: unknown }
  | { kind: 'extra'; key: string; value: unknown }
  | { kind: 'whole'; value: unknown }
  | { kind: 'raw'; text: string }
  | { kind: 'truncate'; at: number };

/** What a sequence learned so far: the pool ids and addresses the plugin answered with. */
interface Ctx {
  pools: string[];
  addresses: string[];
}

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const net = pick(NETS);
const ep = pick(EPS);
const subnet = pick(SUBNETS);
const address = subnet.chain((s) => pick(addressesOf(s))).chain((a) => pick([a, `${a}/24`, `${a}/28`, '']));
const poolRef = fc.nat();
const poolOf = (ctx: Ctx, ref: number): string => ctx.pools[ref % Math.max(1, ctx.pools.length)] ?? `netloom|netloom|||10.55.0.0/24|`;
const ipamOpts = fc.oneof(fc.constant({}), fc.constant({ tenant: 't1' }), fc.constant({ tenant: 't1', network: 'n1' }), fc.constant(null));
const generic = fc.oneof(fc.constant({ tenant: 't1', network: 'n1' }), fc.constant({}), fc.constant({ tenant: 't2', group: 'g' }));

/** A request body shaped like dockerd's for each method, from the small id/address sets. */
const requestBody: fc.Arbitrary<{ method: string; body: (ctx: Ctx) => unknown }> = fc.oneof(
  fc.constant({ method: 'Plugin.Activate', body: () => undefined }),
  fc.constant({ method: 'NetworkDriver.GetCapabilities', body: () => undefined }),
  fc.constantFrom('GetCapabilities', 'GetDefaultAddressSpaces').map((m) => ({ method: `IpamDriver.${m}`, body: () => undefined })),
  fc
    .tuple(subnet, fc.option(subnet, { nil: undefined }), ipamOpts, pick(['netloom', '', 'x']))
    .map(([pool, sub, Options, AddressSpace]) => ({
      method: 'IpamDriver.RequestPool',
      body: () => ({ AddressSpace, Pool: pool, SubPool: sub === pool ? pool : '', Options, V6: false }),
    })),
  fc.tuple(poolRef, address, fc.boolean()).map(([ref, Address, gw]) => ({
    method: 'IpamDriver.RequestAddress',
    body: (ctx: Ctx) => ({ PoolID: poolOf(ctx, ref), Address, Options: gw ? GW_OPT : null }),
  })),
  fc.tuple(poolRef, address).map(([ref, Address]) => ({
    method: 'IpamDriver.ReleaseAddress',
    body: (ctx: Ctx) => ({ PoolID: poolOf(ctx, ref), Address }),
  })),
  poolRef.map((ref) => ({ method: 'IpamDriver.ReleasePool', body: (ctx: Ctx) => ({ PoolID: poolOf(ctx, ref) }) })),
  fc.tuple(net, subnet, address, generic, fc.boolean()).map(([NetworkID, Pool, Gateway, g, withData]) => ({
    method: 'NetworkDriver.CreateNetwork',
    body: () => ({
      NetworkID,
      Options: { 'com.docker.network.enable_ipv6': false, 'com.docker.network.generic': g },
      IPv4Data: withData ? [{ AddressSpace: 'netloom', Pool, Gateway }] : [],
      IPv6Data: [],
    }),
  })),
  net.map((NetworkID) => ({ method: 'NetworkDriver.DeleteNetwork', body: () => ({ NetworkID }) })),
  fc.tuple(net, ep, address, fc.nat(), fc.boolean()).map(([NetworkID, EndpointID, Address, ref, mac]) => ({
    method: 'NetworkDriver.CreateEndpoint',
    body: (ctx: Ctx) => ({
      NetworkID,
      EndpointID,
      // mostly an address the plugin gave out, as dockerd does
      Interface: { Address: ctx.addresses[ref % 4] ?? Address, AddressIPv6: '', MacAddress: mac ? '02:42:ac:11:00:02' : '' },
      Options: {},
    }),
  })),
  fc
    .tuple(pick(['DeleteEndpoint', 'EndpointOperInfo', 'Leave', 'RevokeExternalConnectivity', 'FreeNetwork']), net, ep)
    .map(([m, NetworkID, EndpointID]) => ({ method: `NetworkDriver.${m}`, body: () => ({ NetworkID, EndpointID }) })),
  fc.tuple(net, ep).map(([NetworkID, EndpointID]) => ({
    method: 'NetworkDriver.Join',
    body: () => ({ NetworkID, EndpointID, SandboxKey: '/var/run/docker/netns/x', Options: {} }),
  })),
  fc.tuple(net, ep, fc.option(fc.array(fc.oneof(portBinding, fc.jsonValue()), { maxLength: 3 }))).map(([NetworkID, EndpointID, pm]) => ({
    method: 'NetworkDriver.ProgramExternalConnectivity',
    body: () => ({ NetworkID, EndpointID, Options: pm === null ? {} : { 'com.docker.network.portmap': pm } }),
  })),
  pick(['DiscoverNew', 'DiscoverDelete']).map((m) => ({
    method: `NetworkDriver.${m}`,
    body: () => ({ DiscoveryType: 1, DiscoveryData: { Address: '10.0.0.1', self: true } }),
  })),
  net.map((NetworkID) => ({
    method: 'NetworkDriver.AllocateNetwork',
    body: () => ({ NetworkID, Options: {}, IPv4Data: [], IPv6Data: [] }),
  })),
  fc.string({ maxLength: 30 }).map((m) => ({ method: m, body: () => ({}) })),
);

/** A long string, made when sent: a counterexample prints as `Huge(n)`, not n characters. */
class Huge {
  constructor(readonly n: number) {}
  toJSON(): string {
    return 'x'.repeat(this.n);
  }
  [fc.toStringMethod](): string {
    return `Huge(${this.n})`;
  }
}
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom('', '__proto__', 'constructor', '../../etc', 'a\u0000b', -1, 1e308, [], {}, null),
  fc.constantFrom(new Huge(100), new Huge(5000), new Huge(70_000), new Huge(300_000)),
);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.nat().map((key): Mutation => ({ kind: 'drop', key })) },
  { weight: 4, arbitrary: fc.tuple(fc.nat(), anyJson).map(([key, value]): Mutation => ({ kind: 'replace', key, value })) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string({ maxLength: 10 }), anyJson).map(([key, value]): Mutation => ({ kind: 'extra', key, value })),
  },
  { weight: 1, arbitrary: anyJson.map((value): Mutation => ({ kind: 'whole', value })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text): Mutation => ({ kind: 'raw', text })) },
  { weight: 1, arbitrary: fc.nat().map((at): Mutation => ({ kind: 'truncate', at })) },
);
const NONE: Mutation = { kind: 'none' };
/** What dockerd does for `network create` then `run`: pool, gateway, network, address, endpoint, join. */
const lifecycle: fc.Arbitrary<Call[]> = fc.tuple(net, ep, subnet, generic).map(([NetworkID, EndpointID, pool, g]) => [
  { method: 'IpamDriver.RequestPool', body: () => ({ AddressSpace: 'netloom', Pool: pool, Options: {} }), mutation: NONE },
  {
    method: 'IpamDriver.RequestAddress',
    body: (ctx: Ctx) => ({ PoolID: ctx.pools[ctx.pools.length - 1], Address: '', Options: GW_OPT }),
    mutation: NONE,
  },
  {
    method: 'NetworkDriver.CreateNetwork',
    body: (ctx: Ctx) => ({
      NetworkID,
      Options: { 'com.docker.network.generic': g },
      IPv4Data: [{ AddressSpace: 'netloom', Pool: pool, Gateway: ctx.addresses[0] ?? '' }],
    }),
    mutation: NONE,
  },
  { method: 'IpamDriver.RequestAddress', body: (ctx: Ctx) => ({ PoolID: ctx.pools[ctx.pools.length - 1], Address: '' }), mutation: NONE },
  {
    method: 'NetworkDriver.CreateEndpoint',
    body: (ctx: Ctx) => ({ NetworkID, EndpointID, Interface: { Address: ctx.addresses[0] ?? '' }, Options: {} }),
    mutation: NONE,
  },
  { method: 'NetworkDriver.Join', body: () => ({ NetworkID, EndpointID, SandboxKey: '/var/run/docker/netns/x' }), mutation: NONE },
]);
const callGroup: fc.Arbitrary<Array<Call | 'restart'>> = fc.oneof(
  { weight: 30, arbitrary: fc.tuple(requestBody, mutation).map(([r, m]): Call[] => [{ ...r, mutation: m }]) },
  { weight: 3, arbitrary: lifecycle },
  { weight: 1, arbitrary: fc.constant<Array<'restart'>>(['restart']) },
);

/** The text sent for a call: its body, mutated. */
function bodyText(c: Call, ctx: Ctx): string {
  const base = c.body(ctx);
  const m = c.mutation;
  if (m.kind === 'raw') return m.text;
  if (m.kind === 'whole') return JSON.stringify(m.value);
  const text = base === undefined ? '' : JSON.stringify(base);
  if (m.kind === 'truncate') return text.slice(0, m.at % (text.length + 1));
  if (m.kind === 'none' || base === null || typeof base !== 'object') return text;
  const obj = { ...(base as Record<string, unknown>) };
  const keys = Object.keys(obj);
  if (m.kind === 'extra') obj[m.key] = m.value;
  else if (keys.length > 0) {
    const key = keys[m.key % keys.length]!;
    if (m.kind === 'drop') delete obj[key];
    else obj[key] = m.value;
  }
  return JSON.stringify(obj);
}

interface Answer {
  status: number;
  text: string;
  ms: number;
}

function post(socketPath: string, method: string, body: string): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: `/${encodeURIComponent(method)}`,
        method: 'POST',
        headers: { 'Content-Type': PLUGIN_CONTENT_TYPE },
        timeout: CALL_TIMEOUT_MS,
        agent: false, // a fresh connection per call: a pooled one may belong to a server since restarted
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method}: no answer within ${CALL_TIMEOUT_MS} ms (hang)`)));
    req.on('error', reject);
    req.end(body);
  });
}

const KNOWN_METHODS = new Set([
  'Plugin.Activate',
  ...NETWORK_DRIVER_METHODS.map((m) => `NetworkDriver.${m}`),
  ...IPAM_DRIVER_METHODS.map((m) => `IpamDriver.${m}`),
]);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const CIDR = /^\d+\.\d+\.\d+\.\d+\/\d+$/;

/** The success shape of each method (a 200 without Err). */
function checkSuccess(method: string, body: Record<string, unknown>): void {
  const empty = ['CreateNetwork', 'DeleteNetwork', 'DeleteEndpoint', 'Leave', 'DiscoverNew', 'DiscoverDelete'];
  empty.push('ProgramExternalConnectivity', 'RevokeExternalConnectivity', 'FreeNetwork', 'ReleasePool', 'ReleaseAddress');
  const name = method.split('.')[1] ?? '';
  if (method === 'Plugin.Activate') assert.deepEqual(body, { Implements: ['NetworkDriver', 'IpamDriver'] });
  else if (method === 'NetworkDriver.GetCapabilities') assert.equal(typeof body.Scope, 'string');
  else if (method === 'IpamDriver.GetCapabilities') assert.equal(typeof body.RequiresMACAddress, 'boolean');
  else if (method === 'IpamDriver.GetDefaultAddressSpaces') assert.equal(body.LocalDefaultAddressSpace, 'netloom');
  else if (method === 'IpamDriver.RequestPool') {
    assert.equal(typeof body.PoolID, 'string');
    assert.match(String(body.Pool), CIDR);
  } else if (method === 'IpamDriver.RequestAddress') assert.match(String(body.Address), CIDR);
  else if (method === 'NetworkDriver.CreateEndpoint') assert.ok(Object.keys(body).length === 0 || isObject(body.Interface));
  else if (method === 'NetworkDriver.EndpointOperInfo') assert.ok(isObject(body.Value));
  else if (method === 'NetworkDriver.Join') assert.equal(typeof (body.InterfaceName as { SrcName?: unknown }).SrcName, 'string');
  else if (method === 'NetworkDriver.AllocateNetwork') assert.equal((body.Options as Record<string, unknown>)['netloom.swarm'], 'true');
  else if (empty.includes(name)) assert.deepEqual(body, {});
  else assert.fail(`${method} answered 200 without Err: ${JSON.stringify(body)}`);
}

/** Every value in a state the plugin saved is one it would accept. */
function checkState(s: CnmState): void {
  for (const [id, p] of Object.entries(s.pools)) {
    assert.equal(p.poolId, id);
    assert.ok(p.addressSpace === 'netloom' || p.addressSpace === '', `pool address space ${JSON.stringify(p.addressSpace)}`);
    const sn = parseSubnet(p.subnet, 'subnet');
    assert.equal(sn.cidr, p.subnet);
    assert.ok(p.refs >= 1, `pool ${id} refs ${p.refs}`);
    for (const a of Object.keys(p.addresses)) assert.equal(hostAddressProblem(sn, a), '', `pool ${id} holds ${a}`);
    if (p.backendGateway !== undefined) assert.equal(hostAddressProblem(sn, p.backendGateway), '');
    if (p.dockerNetworkId !== undefined) assert.ok(Object.hasOwn(s.networks, p.dockerNetworkId), `pool ${id} bound to a deleted network`);
  }
  for (const [id, n] of Object.entries(s.networks)) {
    assert.equal(n.dockerNetworkId, id);
    assert.match(id, ID_PATTERN);
    if (n.subnet !== undefined && n.gateway !== undefined) assert.equal(hostAddressProblem(parseSubnet(n.subnet, 's'), n.gateway), '');
    if (n.poolId !== undefined) assert.ok(Object.hasOwn(s.pools, n.poolId) || true); // a pool may go before its network (Docker's order)
  }
  const used = new Set<string>();
  for (const [id, e] of Object.entries(s.endpoints)) {
    assert.equal(e.endpointId, id);
    assert.match(id, ID_PATTERN);
    const n = s.networks[e.dockerNetworkId];
    assert.ok(n && Object.hasOwn(s.networks, e.dockerNetworkId), `endpoint ${id} of a deleted network`);
    const bare = e.address.split('/')[0]!;
    if (n.subnet !== undefined) assert.equal(hostAddressProblem(parseSubnet(n.subnet, 's'), bare), '', `endpoint ${id} ${e.address}`);
    const key = `${e.dockerNetworkId} ${bare}`;
    assert.ok(!used.has(key), `address ${bare} used by two endpoints`);
    used.add(key);
  }
}

describe('cnm plugin fuzz (server on a unix socket, file state)', function () {
  this.timeout(Math.max(60_000, RUNS * 2000));
  let dir: string;
  let running: RunningCnmPlugin | undefined;
  const problems: unknown[] = [];
  const onProblem = (e: unknown): void => void problems.push(e);

  before(() => {
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
  });
  after(() => {
    process.off('unhandledRejection', onProblem);
    process.off('uncaughtException', onProblem);
  });
  beforeEach(() => {
    // tmpfs when there is one: the fsyncs of every save would otherwise dominate the run
    dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'nl-cnm-fuzz-'));
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every call with JSON (Err or success shape), gives out host addresses once, stores only valid state', async () => {
    let calls = 0;
    let slowest = 0;
    const statuses = new Map<number, number>();
    const succeeded = new Map<string, number>();
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(callGroup, { minLength: 1, maxLength: 30, size: 'max' }), async (groups) => {
        const sequence = groups.flat();
        await running?.stop();
        const statePath = join(dir, `state-${seq}.json`);
        const socketPath = join(dir, `netloom-${seq++}.sock`);
        const backend = new FakeBackend();
        backend.offerNonHost = true;
        const start = async (): Promise<RunningCnmPlugin> => startCnmPlugin({ backend, socketPath, statePath });
        running = await start();
        const ctx: Ctx = { pools: [], addresses: [] };
        for (const c of sequence) {
          if (c === 'restart') {
            await running.stop();
            running = await start(); // loads (and so validates) the state file
            continue;
          }
          const before: CnmState = running.plugin.snapshot();
          const text = bodyText(c, ctx);
          const a = await post(socketPath, c.method, text);
          calls++;
          slowest = Math.max(slowest, a.ms);
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          const where = `${c.method} ${text.slice(0, 300)} -> ${a.status} ${a.text.slice(0, 300)}`;
          assert.ok([200, 400, 404, 413].includes(a.status), where);
          const body = JSON.parse(a.text) as unknown;
          assert.ok(isObject(body), where);
          if ('Err' in body) {
            assert.ok(typeof body.Err === 'string' && body.Err.length > 0 && body.Err.length < 2000, where);
            if (c.method.startsWith('IpamDriver.')) assert.equal(body.Error, body.Err, where);
            if (a.status !== 413) assert.equal(a.status === 404, !KNOWN_METHODS.has(c.method), where);
            continue;
          }
          assert.equal(a.status, 200, where);
          checkSuccess(c.method, body);
          succeeded.set(c.method, (succeeded.get(c.method) ?? 0) + 1);
          if (c.method === 'IpamDriver.RequestPool') ctx.pools.push(String(body.PoolID));
          if (c.method === 'IpamDriver.RequestAddress') {
            const poolId = (JSON.parse(text) as { PoolID: string }).PoolID;
            const pool: CnmState['pools'][string] | undefined = before.pools[poolId];
            assert.ok(pool, where);
            ctx.addresses.unshift(String(body.Address));
            const bare = String(body.Address).split('/')[0]!;
            assert.equal(hostAddressProblem(parseSubnet(pool.subnet, 's'), bare), '', `not a host address: ${where}`);
            const was = pool.addresses[bare];
            const now = running.plugin.snapshot().pools[poolId]?.addresses[bare];
            assert.ok(was === undefined || (was === now && was !== 'endpoint'), `${bare} handed out again (held by ${was}): ${where}`);
          }
        }
        const saved = new FileStateStore(statePath).load();
        assert.deepEqual(saved, running.plugin.snapshot(), 'the state file holds what the plugin holds');
        checkState(saved);
      }),
      { numRuns: RUNS },
    );
    assert.deepEqual(problems, [], 'no unhandled rejection or uncaught exception');
    assert.ok(slowest < CALL_TIMEOUT_MS);
    const deep = ['IpamDriver.RequestAddress', 'NetworkDriver.CreateEndpoint', 'NetworkDriver.Join', 'NetworkDriver.DeleteNetwork'];
    const reached = deep.map((m) => `${m.split('.')[1]} ${succeeded.get(m) ?? 0}`).join(', ');
    process.stdout.write(
      `      ${RUNS} sequences, ${calls} calls, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
        `slowest ${slowest.toFixed(1)} ms; succeeded: ${reached}\n`,
    );
    for (const m of deep) assert.ok(RUNS < 30 || (succeeded.get(m) ?? 0) > 0, `no ${m} ever succeeded: the sequences do not reach deep`);
  });
});
