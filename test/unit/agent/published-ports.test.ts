/**
 * The agent's published ports (netplugin/agent/published-ports.ts and the Agent accessor): the
 * PortMapping list the host network's DNAT rules are made from holds exactly the ports of
 * endpoints plugged in here and listed by the desired state, with their tenant's VRF id; no two
 * endpoints (nor ADDs in flight) get one host socket; the list survives an agent restart through
 * the endpoint records, and every change is announced once.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError } from '../../../lib/errors';
import { createLogger } from '../../../lib/logger';
import { Agent } from '../../../netplugin/agent/agent';
import type { EndpointRecord } from '../../../netplugin/agent/endpoint-store';
import type { DesiredStateSource, EndpointAllocator } from '../../../netplugin/agent/fabric';
import { checkClaim, currentClaims, portMappingsOf } from '../../../netplugin/agent/published-ports';
import type { PortMapping } from '../../../netplugin/hostnet/port-mapping';
import { parseHostState, type HostState } from '../../../netplugin/state/host-state';
import { findClash, portsClash, type PublishedPort } from '../../../netplugin/state/published-port';

const tcp = (hostPort: number, containerPort = 80, hostIp = ''): PublishedPort => ({ hostIp, hostPort, containerPort, protocol: 'tcp' });
const udp = (hostPort: number, containerPort = 53, hostIp = ''): PublishedPort => ({ hostIp, hostPort, containerPort, protocol: 'udp' });

const rec = (n: number, portMappings?: PublishedPort[], over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  endpointId: `ep${n}`,
  idempotencyKey: `nl/c${n}/eth0`,
  kind: 'cni',
  frontNetwork: 'nl',
  containerId: `c${n}`,
  ifName: 'eth0',
  netnsPath: `/run/netns/c${n}`,
  hostIf: `nlunit${n}`,
  networkKey: n % 2 === 0 ? 'red:web' : 'blue:web',
  ip: `10.1.1.${n}`,
  prefixLength: 24,
  mac: '02:00:00:00:00:01',
  gateway: '10.1.1.1',
  mtu: 1450,
  ...(portMappings ? { portMappings } : {}),
  ...over,
});

function state(endpointIds: string[]): HostState {
  const network = (tenant: string, networkId: number) => ({
    key: `${tenant}:web`,
    tenant,
    name: 'web',
    encap: 'vxlan',
    pktTag: 5000 + networkId,
    subnet: '10.1.1.0/24',
    gateway: '10.1.1.1',
    networkId,
    gatewayMac: '02:6e:6c:00:00:fe',
  });
  return parseHostState({
    global: { fwdMode: 'bridge', arpMode: 'proxy', pvtSubnet: '172.19.0.0/16', networkInfraType: 'default' },
    tenants: [
      { name: 'blue', ctZone: 11, vrfId: 7 },
      { name: 'red', ctZone: 12, vrfId: 9 },
    ],
    networks: [network('blue', 1), network('red', 2)],
    endpoints: endpointIds.map((id) => {
      const n = Number(id.slice(2));
      return { id, network: n % 2 === 0 ? 'red:web' : 'blue:web', host: 'h1', ip: `10.1.1.${n}`, mac: '02:00:00:00:00:01', vtepIp: '' };
    }),
  });
}

const plugged = (...ns: number[]) => Object.fromEntries(ns.map((n) => [`ep${n}`, { ofport: 10 + n, intfName: `nlunit${n}` }]));

describe('published ports (agent)', () => {
  describe('portsClash / findClash', () => {
    it('one socket = protocol + port + address, where any address overlaps every address', () => {
      assert.equal(portsClash(tcp(80), tcp(80, 81)), true);
      assert.equal(portsClash(tcp(80), udp(80)), false);
      assert.equal(portsClash(tcp(80, 80, '10.0.0.1'), tcp(80, 80, '10.0.0.2')), false);
      assert.equal(portsClash(tcp(80, 80, '10.0.0.1'), tcp(80)), true);
      assert.equal(portsClash(tcp(80), tcp(81)), false);
    });
    it('finds a clash with a claim, or with an earlier port of the same list', () => {
      assert.deepEqual(
        findClash([tcp(1), tcp(2)], [{ owner: 'A', ports: [udp(2), tcp(2, 9, '10.0.0.1')] }], (i) => `self${i}`),
        {
          index: 1,
          owner: 'A',
          theirs: tcp(2, 9, '10.0.0.1'),
        },
      );
      assert.deepEqual(
        findClash([tcp(5), udp(5), tcp(5, 1, '10.0.0.3')], [], (i) => i),
        { index: 2, owner: 0, theirs: tcp(5) },
      );
      assert.equal(
        findClash([tcp(5), udp(5)], [{ owner: 'A', ports: [tcp(6)] }], (i) => `self${i}`),
        undefined,
      );
    });
  });

  describe('portMappingsOf', () => {
    it("gives each published port of a live, listed endpoint with its tenant's VRF id, in the renderer's order", () => {
      const m = portMappingsOf(
        [rec(1, [tcp(8080), udp(5353)]), rec(2, [tcp(80, 8000, '10.213.1.1')]), rec(3)],
        plugged(1, 2, 3),
        state(['ep1', 'ep2', 'ep3']),
      );
      assert.deepEqual(m, [
        {
          endpointId: 'ep2',
          tenantVrfId: 9,
          endpointIp: '10.1.1.2',
          hostIp: '10.213.1.1',
          hostPort: 80,
          containerPort: 8000,
          protocol: 'tcp',
        },
        { endpointId: 'ep1', tenantVrfId: 7, endpointIp: '10.1.1.1', hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { endpointId: 'ep1', tenantVrfId: 7, endpointIp: '10.1.1.1', hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'udp' },
      ] satisfies PortMapping[]);
    });
    it('leaves out an endpoint that is not plugged in (a record left by a container removed while the agent was down)', () => {
      assert.deepEqual(portMappingsOf([rec(1, [tcp(8080)])], {}, state(['ep1'])), []);
    });
    it('leaves out an endpoint the desired state does not list, one of an unknown network, and everything before a state', () => {
      assert.deepEqual(portMappingsOf([rec(1, [tcp(8080)])], plugged(1), state([])), []);
      assert.deepEqual(portMappingsOf([rec(1, [tcp(8080)], { networkKey: 'green:web' })], plugged(1), state(['ep1'])), []);
      assert.deepEqual(portMappingsOf([rec(1, [tcp(8080)])], plugged(1), undefined), []);
    });
  });

  describe('claims', () => {
    const field = (i: number) => `runtimeConfig.portMappings[${i}]`;
    it('a live endpoint holds its ports: CONFLICT naming the field and the holder', () => {
      const claims = currentClaims([rec(1, [tcp(8080)])], plugged(1), new Map());
      assert.throws(
        () => checkClaim('nl/c2/eth0', [udp(8080), tcp(8080, 80, '10.0.0.1')], claims, field),
        (e: unknown) =>
          isNetloomError(e, 'CONFLICT') &&
          e.field === 'runtimeConfig.portMappings[1]' &&
          /10\.0\.0\.1:8080\/tcp is already published on this host by endpoint ep1 \(container c1\) \(\*:8080\/tcp\)/.test(e.message),
      );
    });
    it('an unplugged record holds nothing; an ADD in flight does; a claim never clashes with its own key', () => {
      assert.doesNotThrow(() => checkClaim('k2', [tcp(8080)], currentClaims([rec(1, [tcp(8080)])], {}, new Map()), field));
      const inFlight = new Map([['nl/c9/eth0', [tcp(8080)]]]);
      assert.throws(() => checkClaim('k2', [tcp(8080)], currentClaims([], {}, inFlight), field), /attachment nl\/c9\/eth0 \(being added\)/);
      assert.doesNotThrow(() => checkClaim('nl/c1/eth0', [tcp(8080)], currentClaims([rec(1, [tcp(8080)])], plugged(1), new Map()), field));
    });
  });

  describe('Agent accessor (no OVS: records, ports and state set directly)', () => {
    let dir: string;
    const agents: Agent[] = [];
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'nl-pubports-'));
    });
    afterEach(async () => {
      for (const a of agents.splice(0)) await a.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const source: DesiredStateSource = { start: async () => undefined, stop: async () => undefined, connected: true };
    const allocator = { connected: true } as unknown as EndpointAllocator; // never called here
    function agent(over: { hostNetwork?: boolean } = {}): Agent {
      const a = new Agent(
        {
          ...over,
          hostName: 'h1',
          ovsRunDir: join(dir, 'ovs'),
          bridge: { bridge: 'br-int', phyBridge: 'br-phy', datapathType: 'netdev' },
          underlayMtu: 1500,
          txChecksumOff: false,
          endpointStatePath: join(dir, 'endpoints.json'),
        },
        { source, allocator, logger: createLogger('test', { level: 'silent' }) },
      );
      agents.push(a);
      return a;
    }
    // the agent's own inputs, as start() and OVSDB would set them
    const give = (a: Agent, s: HostState, ports: ReturnType<typeof plugged>) => {
      a['ports'] = ports;
      a['onState'](s);
    };

    it('announces each change once; publishPorts replaces and persists; a restarted agent publishes the same', async () => {
      const a = agent();
      const seen: PortMapping[][] = [];
      a.onPortMappingsChange((m) => seen.push(m));
      a.store.put(rec(1));
      a.store.put(rec(3));
      give(a, state(['ep1', 'ep3']), plugged(1, 3));
      assert.equal(seen.length, 0, 'nothing published: no change');
      await a.publishPorts('nl/c1/eth0', [tcp(8080)], (i) => `p${i}`);
      assert.equal(seen.length, 1);
      assert.deepEqual(a.portMappings(), seen[0]);
      assert.deepEqual(
        a.portMappings().map((m) => [m.endpointId, m.hostPort, m.tenantVrfId]),
        [['ep1', 8080, 7]],
      );
      a['onState'](state(['ep1', 'ep3'])); // the same state again: no announcement
      assert.equal(seen.length, 1);
      await assert.rejects(
        a.publishPorts('nl/c3/eth0', [udp(53), tcp(8080, 1)], (i) => `Options.portmap.${i}.HostPort`),
        (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'Options.portmap.1.HostPort',
      );
      assert.equal(a.store.get('nl/c3/eth0')?.portMappings, undefined, 'a refused publish changes nothing');
      await a.publishPorts('nl/c1/eth0', [tcp(9090)], (i) => `p${i}`);
      assert.deepEqual(
        seen.at(-1)?.map((m) => m.hostPort),
        [9090],
      );

      const b = agent(); // restart: the records come back from the file
      give(b, state(['ep1', 'ep3']), plugged(1, 3));
      assert.deepEqual(b.portMappings(), a.portMappings());
      give(b, state(['ep1', 'ep3']), plugged(3)); // ep1's interface is gone
      assert.deepEqual(b.portMappings(), []);
    });

    it('the endpoint leaving the desired state or unpublishing ([]) takes its ports away, announced', async () => {
      const a = agent();
      const seen: number[] = [];
      a.onPortMappingsChange((m) => seen.push(m.length));
      a.store.put(rec(1, [tcp(8080), tcp(8081)]));
      give(a, state(['ep1']), plugged(1));
      a['onState'](state([]));
      await a.publishPorts('nl/c1/eth0', [], () => '');
      a['onState'](state(['ep1']));
      assert.deepEqual(seen, [2, 0]);
      assert.equal(a.store.get('nl/c1/eth0')?.portMappings, undefined);
    });

    it('withholds at start the ports of CNI endpoints whose namespace holds no process (not published, holding nothing) until DEL', async () => {
      const a = agent();
      a.store.put(rec(1, [tcp(8080)], { netnsPath: '/run/netns/gone' }));
      a.store.put(rec(3, [tcp(8081)], { netnsPath: '/run/netns/alive' }));
      a.store.put(rec(5, [], { netnsPath: '/run/netns/gone' }));
      const asked: string[][] = [];
      await a.withholdOrphanPorts({
        unoccupiedNetns: async (paths) => {
          asked.push([...paths]);
          return new Set(['/run/netns/gone']);
        },
        linkHere: async () => assert.fail('no Docker endpoint here'),
      });
      assert.deepEqual(asked, [['/run/netns/gone', '/run/netns/alive']], 'only CNI records that publish something are looked at');
      give(a, state(['ep1', 'ep3']), plugged(1, 3));
      assert.deepEqual(
        a.portMappings().map((m) => m.endpointId),
        ['ep3'],
      );
      assert.doesNotThrow(() => a.claimPorts('nl/c7/eth0', [tcp(8080)], (i) => `f${i}`), "the withheld record's port is free");
      a.releasePortClaim('nl/c7/eth0');
      a['ports'] = plugged(3); // detachEndpoint needs OVS: its bookkeeping by hand, as it does it
      a.store.remove('nl/c1/eth0');
      assert.throws(() => a.claimPorts('nl/c7/eth0', [tcp(8081)], (i) => `f${i}`), /endpoint ep3/);
    });

    it('with the host network off (--no-host-network), publishing is refused naming the port; publishing none is fine', async () => {
      const a = agent({ hostNetwork: false });
      a.store.put(rec(1));
      assert.throws(
        () => a.claimPorts('k1', [tcp(8080)], (i) => `runtimeConfig.portMappings[${i}]`),
        (e: unknown) =>
          isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'runtimeConfig.portMappings[0]' && /--no-host-network/.test(e.message),
      );
      await assert.rejects(
        a.publishPorts('nl/c1/eth0', [tcp(8080)], (i) => `p${i}`),
        /p0: this host's netplugin runs with --no-host-network/,
      );
      a.claimPorts('k1', [], (i) => `f${i}`);
      await a.publishPorts('nl/c1/eth0', [], (i) => `p${i}`);
    });

    it('claimPorts reserves until released: a second claim of the socket is CONFLICT, then allowed', () => {
      const a = agent();
      a.claimPorts('k1', [tcp(8080)], (i) => `f${i}`);
      assert.throws(() => a.claimPorts('k2', [tcp(8080, 1, '10.0.0.9')], (i) => `f${i}`), /f0: host port 10\.0\.0\.9:8080\/tcp/);
      a.releasePortClaim('k1');
      assert.doesNotThrow(() => a.claimPorts('k2', [tcp(8080)], (i) => `f${i}`));
    });
  });
});
