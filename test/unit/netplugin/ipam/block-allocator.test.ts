import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointId } from '../../../../lib/endpoint-id';
import { waitFor } from '../../../../lib/clock';
import { isNetloomError, NetloomError } from '../../../../lib/errors';
import { BlockAllocator } from '../../../../netplugin/agent/block-allocator';
import type { AllocatedEndpoint, BlockRpc, EndpointAllocator, EndpointRequest } from '../../../../netplugin/agent/fabric';
import { OverlaySource } from '../../../../netplugin/agent/overlay-source';
import { IpamStore } from '../../../../netplugin/ipam/ipam-store';
import type { SyncRequest, SyncResponse } from '../../../../netplugin/ipam/registration';
import type { PausePoint } from '../../../../netplugin/ipam/pause-points';
import { parseHostState, type AddressBlock, type HostState } from '../../../../netplugin/state/host-state';
import { compilePolicy } from '../../../../lib/policy/compile';
import { FakeClock, flushAsync } from '../../../support/fake-clock';

const HOST = 'h1';
const NET = 't:n';

/** netmaster's block side, in memory, following agent.proto's contract */
class FakeBlocks implements BlockRpc {
  down = false;
  exhausted = false;
  next = 0;
  readonly claims = new Map<string, AddressBlock>();
  readonly registered = new Map<string, string>();
  readonly syncs: SyncRequest[] = [];
  private readonly listeners = new Set<() => void>();
  async claimBlock(network: string, claimId: string): Promise<AddressBlock> {
    if (this.down) throw new NetloomError('UNAVAILABLE', 'netmaster down');
    const had = this.claims.get(claimId);
    if (had) return had;
    if (this.exhausted) throw new NetloomError('EXHAUSTED', `network ${network}: no free block`);
    const b = { network, cidr: `10.1.0.${this.next++ * 16}/28`, host: HOST, vtepIp: '' };
    this.claims.set(claimId, b);
    return b;
  }
  async releaseBlock(): Promise<boolean> {
    if (this.down) throw new NetloomError('UNAVAILABLE', 'netmaster down');
    return true;
  }
  async syncEndpoints(req: SyncRequest): Promise<SyncResponse> {
    if (this.down) throw new NetloomError('UNAVAILABLE', 'netmaster down');
    this.syncs.push(req);
    for (const id of req.deregister) this.registered.delete(id);
    for (const r of req.register) this.registered.set(r.id, r.ip);
    const ok = (endpointId: string) => ({ endpointId, outcome: 'OK' as const, message: '', conflictingEndpoint: '' });
    return { deregistered: req.deregister.map(ok), registered: req.register.map((r) => ok(r.id)) };
  }
  onConnected(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  reconnect(): void {
    this.down = false;
    for (const l of this.listeners) l();
  }
}

class FakeRemote implements EndpointAllocator {
  connected = true;
  exhausted = false;
  readonly created: EndpointRequest[] = [];
  async create(req: EndpointRequest): Promise<AllocatedEndpoint> {
    if (!this.connected) throw new NetloomError('UNAVAILABLE', 'down');
    if (this.exhausted)
      throw new NetloomError('EXHAUSTED', `network ${req.tenant}:${req.network} has no free address`, { field: 'network' });
    this.created.push(req);
    const key = `${req.tenant}:${req.network}`;
    return {
      id: endpointId(key, req.idempotencyKey),
      networkKey: key,
      tenant: req.tenant,
      network: req.network,
      ip: req.requestedIp ?? '10.1.1.200',
      prefixLength: 16,
      mac: '02:00:00:00:00:99',
      gateway: '10.1.0.1',
    };
  }
  async delete(): Promise<void> {}
  async lookupNetwork(): Promise<never> {
    throw new NetloomError('NOT_FOUND', 'no');
  }
}

function state(blockPrefix: number, extra: Partial<HostState> = {}): HostState {
  return parseHostState({
    networks: [
      {
        key: NET,
        tenant: 't',
        name: 'n',
        encap: 'vxlan',
        pktTag: 7,
        subnet: '10.1.0.0/16',
        gateway: '10.1.0.1',
        networkId: 3,
        blockPrefix,
      },
    ],
    groups: [{ key: 't:web', tenant: 't', name: 'web', network: 'n', groupId: 9 }],
    ...extra,
  });
}

const req = (k: string, more: Partial<EndpointRequest> = {}): EndpointRequest => ({
  idempotencyKey: k,
  host: HOST,
  tenant: 't',
  network: 'n',
  containerId: `c-${k}`,
  ifName: 'eth0',
  labels: {},
  ...more,
});

describe('agent block allocator', () => {
  let dir: string;
  let clock: FakeClock;
  let blocks: FakeBlocks;
  let remote: FakeRemote;
  const made: BlockAllocator[] = [];
  const make = (opts: { lowWater?: number; pause?: PausePoint } = {}) => {
    const a = new BlockAllocator({
      hostName: HOST,
      vtepIp: '192.168.9.1',
      remote,
      blocks,
      store: new IpamStore(join(dir, 'ipam.json')),
      clock,
      lowWater: opts.lowWater ?? 0,
      idleReleaseMs: 60_000,
      queueBackoff: { initialMs: 100, maxMs: 100 },
      ...(opts.pause ? { pause: opts.pause } : {}),
    });
    made.push(a);
    return a;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'netloom-block-alloc-'));
    clock = new FakeClock();
    blocks = new FakeBlocks();
    remote = new FakeRemote();
  });
  afterEach(async () => {
    for (const a of made.splice(0)) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('allocates locally from a block claimed at the first ADD, durably before answering, and shows it at once', async () => {
    const a = make();
    await a.start(new Set());
    const src: HostState[] = [];
    const inner = { connected: true, start: async (cb: (s: HostState) => void) => cb(state(28)), stop: async () => undefined };
    await new OverlaySource(inner, a).start((s) => src.push(s));
    const ep = await a.create(req('k1', { group: 'web', requestedMac: '02:AA:00:00:00:01' }));
    assert.equal(ep.ip, '10.1.0.2', 'the network address and the gateway are reserved');
    assert.equal(ep.mac, '02:aa:00:00:00:01');
    assert.equal(ep.id, endpointId(NET, 'k1'));
    assert.equal(remote.created.length, 0);
    assert.deepEqual(new IpamStore(join(dir, 'ipam.json')).load().get(ep.id)?.address, '10.1.0.2', 'durable before create returned');
    const shown = src.at(-1)!.endpoints.find((e) => e.id === ep.id);
    assert.equal(shown?.group, 't:web');
    assert.equal(shown?.host, HOST);
    assert.equal((await a.create(req('k1'))).ip, '10.1.0.2', 'a retried ADD gets the same endpoint');
    await a.queue.drained();
    assert.equal(blocks.registered.get(ep.id), '10.1.0.2');
    assert.equal(a.allocation(ep.id)?.state, 'registered');
  });

  it('createEarly answers with the address before its save; durable, the overlay and the registration follow the save', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let hold = false;
    const a = make({ pause: (at) => (hold && at === 'allocated' ? gate : Promise.resolve()) });
    await a.start(new Set());
    const src: HostState[] = [];
    const inner = { connected: true, start: async (cb: (s: HostState) => void) => cb(state(28)), stop: async () => undefined };
    await new OverlaySource(inner, a).start((s) => src.push(s));
    const first = await a.create(req('warm')); // claims the block
    hold = true;
    const early = await a.createEarly(req('k1'));
    assert.equal(early.ip, '10.1.0.3');
    let durable = false;
    void early.durable.then(() => (durable = true));
    const retried = a.create(req('k1'));
    await flushAsync(10);
    assert.equal(durable, false, 'not on disk while the save waits');
    assert.equal(
      src.at(-1)!.endpoints.some((e) => e.id === early.id),
      false,
      'not shown before it is on disk',
    );
    assert.equal((await a.createEarly(req('k1'))).ip, '10.1.0.3', 'a retried ADD meanwhile: the same address');
    release();
    await early.durable;
    assert.equal((await retried).ip, '10.1.0.3', 'create() answers once the same save is done');
    assert.equal(new IpamStore(join(dir, 'ipam.json')).load().get(early.id)?.address, '10.1.0.3');
    assert.ok(src.at(-1)!.endpoints.some((e) => e.id === early.id));
    await a.queue.drained();
    assert.deepEqual([...blocks.registered.keys()].sort(), [first.id, early.id].sort());
  });

  it("the overlay carries a pod's identity: a NetworkPolicy isolates the pod before netmaster's view lists it", async () => {
    const a = make();
    await a.start(new Set());
    a.onNetmasterState(state(28));
    const pod = { namespace: 'x', name: 'web-1', uid: 'u1', namedPorts: [{ name: 'http', protocol: 'TCP' as const, port: 8080 }] };
    const ep = await a.create(req('p1', { pod, labels: { app: 'web' } }));
    const policy = {
      key: 'x/deny',
      namespace: 'x',
      name: 'deny',
      podSelector: { matchLabels: { app: 'web' } },
      ingressIsolation: true,
      ingress: [{ peers: [], ports: [{ protocol: 'TCP', namedPort: 'http' }] }],
    };
    const shown = a.overlay(state(28, { kubePolicies: [policy] } as unknown as Partial<HostState>));
    assert.deepEqual(shown.endpoints.find((e) => e.id === ep.id)?.pod, pod);
    const compiled = compilePolicy(shown, HOST).find((p) => p.endpoint === ep.id)!;
    assert.equal(compiled.ingress.isolated, true);
    assert.deepEqual(
      compiled.ingress.rules[0]?.services,
      [{ protocol: 'tcp', ports: [{ from: 8080, to: 8080 }] }],
      'its named port resolved',
    );
    // a pod recorded with a named port the check refuses keeps its identity, without that port
    const odd = await a.create(
      req('p2', { pod: { ...pod, name: 'web-2', namedPorts: [{ name: 'Bad--Name', protocol: 'TCP', port: 1 }] } }),
    );
    assert.deepEqual(a.overlay(state(28)).endpoints.find((e) => e.id === odd.id)?.pod, {
      namespace: 'x',
      name: 'web-2',
      uid: 'u1',
      namedPorts: [],
    });
    const plain = await a.create(req('c1'));
    assert.ok(!('pod' in a.overlay(state(28)).endpoints.find((e) => e.id === plain.id)!), 'a container that is not a pod has none');
  });

  it('the overlay leaves out an endpoint netmaster still lists with an address this host gave to another since', async () => {
    const a = make();
    await a.start(new Set());
    blocks.down = true; // deregistrations wait: netmaster keeps showing the released endpoint
    a.onNetmasterState(state(28, { blocks: [{ network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' }] } as Partial<HostState>));
    const old = await a.create(req('old'));
    await a.delete({ idempotencyKey: 'old' });
    // addresses go round-robin: the released one comes back when asked for (or once the cursor wraps)
    const next = await a.create(req('next', { requestedIp: old.ip }));
    assert.equal(next.ip, old.ip, 'the released address is given again');
    const stale = { ...a.overlay(state(28)).endpoints.find((e) => e.id === next.id)!, id: old.id, mac: '02:00:00:00:00:77' };
    const seen = a.overlay(state(28, { endpoints: [stale] } as unknown as Partial<HostState>));
    assert.deepEqual(
      seen.endpoints.map((e) => e.id),
      [next.id],
      'one endpoint per address: the one this host holds',
    );
    const other = { ...stale, id: 'elsewhere', ip: '10.1.9.9' };
    const kept = a.overlay(state(28, { endpoints: [other] } as unknown as Partial<HostState>));
    assert.ok(
      kept.endpoints.some((e) => e.id === 'elsewhere'),
      'an address outside what this host holds is left alone',
    );
  });

  it('goes to netmaster when the network is served whole, the group is not carried, or a requested address is outside its blocks', async () => {
    const a = make();
    await a.start(new Set());
    a.onNetmasterState(state(0));
    await a.create(req('whole'));
    a.onNetmasterState(state(28));
    await a.create(req('nogroup', { group: 'db' }));
    const local = await a.create(req('local'));
    await a.create(req('outside', { requestedIp: '10.1.5.5' }));
    const inside = await a.create(req('inside', { requestedIp: '10.1.0.9' }));
    assert.deepEqual(
      remote.created.map((r) => r.idempotencyKey),
      ['whole', 'nogroup', 'outside'],
    );
    assert.equal(local.ip, '10.1.0.2');
    assert.equal(inside.ip, '10.1.0.9', 'a requested address inside its own block is taken here');
    remote.connected = false;
    await assert.rejects(
      a.create(req('x', { group: 'db' })),
      (e: unknown) => isNetloomError(e, 'UNAVAILABLE') && /group t:db/.test((e as Error).message),
    );
  });

  it('ADDs succeed while netmaster refuses everything, and register when it returns', async () => {
    const a = make();
    await a.start(new Set());
    blocks.claims.set('seed', { network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' });
    a.onNetmasterState(state(28, { blocks: [{ network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' }] } as Partial<HostState>));
    blocks.down = true;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.create(req(`k${i}`))).id);
    await flushAsync();
    assert.equal(blocks.registered.size, 0);
    assert.equal(a.stats().pending, 5);
    blocks.reconnect();
    await flushAsync(20);
    await a.queue.drained();
    assert.deepEqual([...blocks.registered.keys()].sort(), [...ids].sort());
    assert.equal(a.stats().pending, 0);
  });

  it('with no free address and no block left: asks netmaster for an address outside the blocks, and passes on its EXHAUSTED', async () => {
    const a = make();
    await a.start(new Set());
    a.onNetmasterState(state(28));
    blocks.exhausted = true;
    const got = await a.create(req('k'));
    assert.deepEqual([got.ip, remote.created.map((r) => r.idempotencyKey)], ['10.1.1.200', ['k']], 'the address netmaster gave');
    remote.exhausted = true;
    await assert.rejects(
      a.create(req('k2')),
      (e: unknown) => isNetloomError(e, 'EXHAUSTED') && e.message.includes(NET) && e.field === 'network',
    );
  });

  it('claims ahead below the low-water mark, in the background', async () => {
    const a = make({ lowWater: 13 });
    await a.start(new Set());
    a.onNetmasterState(state(28));
    await a.create(req('k0')); // first block (14 usable: network and gateway reserved) -> 13 free
    await a.create(req('k1')); // 12 free: below the mark
    await flushAsync(20);
    assert.deepEqual(a.blocksOf(NET), ['10.1.0.0/28', '10.1.0.16/28']);
  });

  it('a restart drops allocations no endpoint record names and registers the rest', async () => {
    const a = make();
    await a.start(new Set());
    a.onNetmasterState(state(28, { blocks: [{ network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' }] } as Partial<HostState>));
    blocks.down = true;
    const kept = await a.create(req('kept'));
    const lost = await a.create(req('lost'));
    await a.stop();
    blocks.down = false;
    const b = make();
    await b.start(new Set([kept.id]));
    assert.equal(b.allocation(lost.id), undefined);
    b.onNetmasterState(state(28, { blocks: [{ network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' }] } as Partial<HostState>));
    await waitFor('the kept endpoint registered', () => blocks.registered.has(kept.id), { intervalMs: 5 });
    assert.deepEqual([...blocks.registered.keys()], [kept.id]);
    assert.equal((await b.create(req('again', { requestedIp: lost.ip }))).ip, lost.ip, 'the dropped address is free again');
  });

  it('gives back a block empty for the idle time, and keeps the last one while this host has an endpoint in the network', async () => {
    const a = make();
    await a.start(new Set());
    a.onNetmasterState(state(28));
    // 14 usable addresses in the first /28 (network and gateway reserved): the 15th ADD claims a second block
    const eps = [];
    for (let i = 0; i < 15; i++) eps.push(await a.create(req(`k${i}`)));
    assert.deepEqual(a.blocksOf(NET), ['10.1.0.0/28', '10.1.0.16/28']);
    await a.delete({ endpointId: eps[14]!.id, idempotencyKey: 'k14' });
    assert.deepEqual(await a.releaseIdle(), [], 'empty from now on');
    clock.advance(30_000);
    assert.deepEqual(await a.releaseIdle(), [], 'not idle long enough');
    await a.create(req('again'));
    await a.delete({ idempotencyKey: 'again' });
    clock.advance(59_000);
    assert.deepEqual(await a.releaseIdle(), [], 'used in between: its idle time starts again');
    clock.advance(61_000);
    assert.deepEqual(await a.releaseIdle(), [`${NET} 10.1.0.16/28`]);
    assert.deepEqual(a.blocksOf(NET), ['10.1.0.0/28']);

    // the last block: kept while an endpoint of this host is in the network (here one netmaster gave)
    for (let i = 0; i < 14; i++) await a.delete({ idempotencyKey: `k${i}` });
    const nmEndpoint = { id: 'nm1', network: NET, host: HOST, ip: '10.1.200.5', mac: '02:00:00:00:00:05' };
    a.onNetmasterState(state(28, { endpoints: [nmEndpoint] } as unknown as Partial<HostState>));
    await a.releaseIdle();
    clock.advance(61_000);
    assert.deepEqual(await a.releaseIdle(), [], 'the last block stays while the host has an endpoint in the network');
    a.onNetmasterState(state(28));
    assert.deepEqual(await a.releaseIdle(), [`${NET} 10.1.0.0/28`], 'then it goes');
    assert.deepEqual(a.blocksOf(NET), []);
  });

  it('DEL of a never-registered endpoint frees it durably and never registers it', async () => {
    const a = make();
    await a.start(new Set());
    blocks.down = true;
    a.onNetmasterState(state(28, { blocks: [{ network: NET, cidr: '10.1.0.0/28', host: HOST, vtepIp: '' }] } as Partial<HostState>));
    const ep = await a.create(req('k'));
    await a.delete({ idempotencyKey: 'k' });
    assert.equal(new IpamStore(join(dir, 'ipam.json')).load().get(ep.id), undefined);
    blocks.reconnect();
    await flushAsync(20);
    await a.queue.drained();
    // a deregistration may follow a call that failed (it might have been applied): never a registration
    assert.ok(blocks.syncs.every((x) => x.register.length === 0));
    assert.equal(blocks.registered.size, 0);
  });
});
