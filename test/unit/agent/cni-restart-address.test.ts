/**
 * A container the runtime restarts (podman restart: DEL on stop, ADD of the same attachment on
 * start, no address asked for) gets its last address back when it is still free; taken meanwhile,
 * any address; an address the runtime asks for wins. Fake agent and runner (no root, no OVS).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetloomError } from '../../../lib/errors';
import type { CommandRunner } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import type { Agent } from '../../../netplugin/agent/agent';
import { EndpointRecord, EndpointStore } from '../../../netplugin/agent/endpoint-store';
import type { EndpointRequest } from '../../../netplugin/agent/fabric';
import { AgentCniBackend } from '../../../netplugin/backends/cni-backend';
import { RecentAddresses } from '../../../netplugin/backends/recent-addresses';
import type { CniAddRequest } from '../../../netplugin/cni/types';

/**
 * A fake agent whose allocator (the one with address blocks: it answers early, the record's save
 * is `durable`) hands out .2, .3, ... (lowest free) and refuses a requested address in use.
 */
function fakeAgent() {
  const store = new EndpointStore(undefined);
  const used = new Set<string>();
  const asked: Array<string | undefined> = [];
  const runner: CommandRunner = async () => ({ code: 0, stdout: '', stderr: '' });
  const allocate = (r: EndpointRequest) => {
    asked.push(r.requestedIp);
    let ip = r.requestedIp;
    if (ip !== undefined && used.has(ip)) throw new NetloomError('IN_USE', `${ip} is in use`, { field: 'ip' });
    for (let n = 2; ip === undefined; n++) if (!used.has(`10.0.0.${n}`)) ip = `10.0.0.${n}`;
    used.add(ip);
    const mac = r.requestedMac ?? '02:00:00:00:00:05';
    return { id: `ep-${ip}`, networkKey: 't1:n', tenant: 't1', network: 'n', ip, prefixLength: 24, mac, gateway: '10.0.0.1' };
  };
  const agent = {
    hostName: 'h1',
    store,
    runner,
    currentState: undefined,
    config: { underlayMtu: 1500, txChecksumOff: false },
    logger: createLogger('test', { level: 'silent' }),
    addStepTimer: () => () => undefined,
    // the fake's config has tx checksum offload on: no container needs it turned off
    txChecksumOffFor: () => false,
    allocator: {
      connected: true,
      create: async (r: EndpointRequest) => allocate(r),
      createEarly: async (r: EndpointRequest) => ({ ...allocate(r), durable: Promise.resolve() }),
      delete: async (r: { endpointId?: string }) => void used.delete((r.endpointId ?? '').replace(/^ep-/, '')),
    },
    network: async () => ({ key: 't1:n', encap: 'vlan', mtu: 0 }),
    requestOfport: () => 7,
    releaseOfport: () => undefined,
    plugPort: async () => 7,
    attachPlugged: async (r: EndpointRecord) => store.put(r),
    labelPort: async () => undefined,
    unplugPort: async () => undefined,
    detachEndpoint: async (r: EndpointRecord) => store.remove(r.idempotencyKey),
    claimPorts: () => undefined,
    releasePortClaim: () => undefined,
  };
  // a structural fake: only what the backend uses
  return { agent: agent as unknown as Agent, used, asked };
}

describe('agent CNI backend: a restarted container keeps its address', () => {
  let dir: string;
  let netns: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-cni-restart-'));
    netns = join(dir, 'netns');
    writeFileSync(netns, '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const req = (c: string, requestedIps: Array<{ ip: string }> = []): CniAddRequest =>
    ({
      containerId: c,
      ifName: 'eth0',
      network: { cniNetwork: 'nl', tenant: 't1', network: 'n' },
      idempotencyKey: `nl/${c}/eth0`,
      labels: {},
      cniVersion: '1.0.0',
      netconf: {},
      netnsPath: netns,
      requestedIps,
      portMappings: [],
    }) as CniAddRequest;
  const del = (b: AgentCniBackend, c: string) =>
    b.del({
      containerId: c,
      ifName: 'eth0',
      network: { cniNetwork: 'nl', tenant: 't1', network: 'n' },
      idempotencyKey: `nl/${c}/eth0`,
    } as never);
  const ip = async (b: AgentCniBackend, r: CniAddRequest) => (await b.add(r)).ips[0]?.address;
  const mac = async (b: AgentCniBackend, r: CniAddRequest) => (await b.add(r)).interfaces[1]?.mac;

  it('DEL then ADD of the same attachment: its address again, even with a lower one free', async () => {
    const { agent } = fakeAgent();
    const b = new AgentCniBackend(agent);
    assert.equal(await ip(b, req('a')), '10.0.0.2/24');
    assert.equal(await ip(b, req('b')), '10.0.0.3/24');
    await del(b, 'a'); // .2 free now
    await del(b, 'b');
    assert.equal(await ip(b, req('b')), '10.0.0.3/24', 'b restarted');
    assert.equal(await ip(b, req('c')), '10.0.0.2/24', 'a new container takes the lowest free');
  });

  it('its address taken meanwhile: a fresh one, asked for once', async () => {
    const { agent, asked } = fakeAgent();
    const b = new AgentCniBackend(agent);
    assert.equal(await ip(b, req('a')), '10.0.0.2/24');
    await del(b, 'a');
    assert.equal(await ip(b, req('x')), '10.0.0.2/24');
    assert.equal(await ip(b, req('a')), '10.0.0.3/24');
    assert.deepEqual(asked, [undefined, undefined, '10.0.0.2', undefined]);
  });

  it('an address the runtime asks for (podman --ip) wins over the remembered one', async () => {
    const { agent } = fakeAgent();
    const b = new AgentCniBackend(agent);
    assert.equal(await ip(b, req('a')), '10.0.0.2/24');
    await del(b, 'a');
    assert.equal(await ip(b, req('a', [{ ip: '10.0.0.9' }])), '10.0.0.9/24');
  });

  it('keeps its MAC (peers keep a right ARP entry), also with --ip; a MAC the runtime gives wins', async () => {
    const { agent } = fakeAgent();
    const b = new AgentCniBackend(agent);
    const first = await mac(b, req('a'));
    assert.match(first ?? '', /^02(:[0-9a-f]{2}){5}$/);
    assert.notEqual(first, '02:00:00:00:00:05', 'the MAC the agent chose');
    await del(b, 'a');
    assert.equal(await mac(b, req('a')), first);
    await del(b, 'a');
    assert.equal(await mac(b, req('a', [{ ip: '10.0.0.9' }])), first, 'with --ip');
    await del(b, 'a');
    assert.equal(await mac(b, { ...req('a'), requestedMac: '02:aa:00:00:00:01' }), '02:aa:00:00:00:01');
  });

  it('RecentAddresses keeps the newest `max` and gives each once', () => {
    const r = new RecentAddresses(2);
    const at = (ip: string) => ({ ip, mac: '02:00:00:00:00:01' });
    r.remember('k1', at('10.0.0.1'));
    r.remember('k2', at('10.0.0.2'));
    r.remember('k1', at('10.0.0.11')); // renewed: k2 is now the oldest
    r.remember('k3', at('10.0.0.3'));
    assert.equal(r.take('k2'), undefined);
    assert.equal(r.take('k1')?.ip, '10.0.0.11');
    assert.equal(r.take('k1'), undefined);
    assert.equal(r.take('k3')?.ip, '10.0.0.3');
  });
});
