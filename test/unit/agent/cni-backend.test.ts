/**
 * The agent's CNI backend against a fake agent and a fake command runner (no root, no OVS): ADD
 * allocates while it makes the veth, then configures the container and installs flows; a failure
 * of any part undoes every part (nothing allocated, plugged or recorded stays); DEL without a
 * record still releases by key and removes a half-made host end; GC releases exactly the CNI
 * attachments of that network not listed; STATUS follows the connections. A repeated ADD is an
 * error; only a container's first attachment installs the default route (netconf defaultRoute
 * overrides); CHECK compares link, addresses and routes with the record and the prevResult.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import type { CommandRunner, RunResult } from '../../../lib/exec';
import { createLogger } from '../../../lib/logger';
import type { Agent } from '../../../netplugin/agent/agent';
import { EndpointRecord, EndpointStore } from '../../../netplugin/agent/endpoint-store';
import type { EndpointRequest } from '../../../netplugin/agent/fabric';
import { AgentCniBackend } from '../../../netplugin/backends/cni-backend';
import type { CniAddRequest, NetworkRef } from '../../../netplugin/cni/types';
import { hostIfName } from '../../../netplugin/plumbing/veth';
import type { Encap, HostState, Network } from '../../../netplugin/state/host-state';
import { mayTunnel, txChecksumOffFor } from '../../../netplugin/agent/userspace-tso';
import { waitFor } from '../../../lib/clock';

const network: NetworkRef = { cniNetwork: 'nl', tenant: 't1', network: 'n' };

interface FakeOptions {
  /** a command whose text contains this fails */
  failCommand?: string;
  /** stderr of the failing command (default: Operation not permitted) */
  failStderr?: string;
  failCreate?: boolean;
  /**
   * the allocator answers early (address blocks) with the MAC asked for; `durable` is what the
   * record's save does (default: it succeeds); the network is in the desired state
   */
  early?: { durable?: () => Promise<void> };
  /** claimPorts refuses (another endpoint has the host port) */
  portsTaken?: boolean;
  /** stdout for a command whose text contains the key (e.g. the `ip -j` reads of CHECK) */
  stdout?: Record<string, string>;
  /** the switch has userspace TSO */
  tsoActive?: boolean;
  /** the network's encap as the agent's current state knows it (none: not known yet) */
  knownEncap?: Encap;
  /** OVS gives the port this ofport instead of the one requested (40000) */
  ofportGiven?: number;
  /** the port add finishes only once this resolves */
  portGate?: Promise<void>;
  /** the compiled veth helper is there */
  helper?: boolean;
}

/** what the fake allocator gives (another MAC than the one asked for, as a retried ADD would get) */
const allocated = {
  id: 'ep1',
  networkKey: 't1:n',
  tenant: 't1',
  network: 'n',
  ip: '10.0.0.5',
  prefixLength: 24,
  mac: '02:00:00:00:00:05',
  gateway: '10.0.0.1',
};

function fakeAgent(o: FakeOptions = {}) {
  const calls: string[] = [];
  const store = new EndpointStore(undefined);
  const ready = { ovs: true, controlPlane: true };
  const runner: CommandRunner = async (cmd, args, opts) => {
    const text = [cmd, ...args].join(' ') + (opts?.input ? ` <<${opts.input.trim().split('\n').join('; ')}` : '');
    calls.push(`run ${text}`);
    const fails = o.failCommand !== undefined && text.includes(o.failCommand);
    const stdout = Object.entries(o.stdout ?? {}).find(([k]) => text.includes(k))?.[1] ?? '';
    const r: RunResult = {
      code: fails ? 2 : 0,
      stdout,
      stderr: fails ? (o.failStderr ?? 'RTNETLINK answers: Operation not permitted') : '',
    };
    return r;
  };
  const agent = {
    hostName: 'h1',
    store,
    runner,
    vethHelper: o.helper ? '/x/netloom-veth' : undefined,
    currentState:
      o.early || o.knownEncap
        ? { global: { fwdMode: 'bridging' }, networks: [{ key: 't1:n', tenant: 't1', name: 'n', encap: o.knownEncap ?? 'vlan', mtu: 0 }] }
        : undefined,
    addStepTimer: () => (step: string) => void calls.push(`step ${step}`),
    config: { underlayMtu: 1500, txChecksumOff: true },
    txChecksumOffFor: (net: Pick<Network, 'tenant' | 'encap'> | undefined) =>
      txChecksumOffFor(
        { txChecksumOff: true, forced: false, tsoActive: o.tsoActive === true },
        mayTunnel({ global: { fwdMode: 'bridge' } as HostState['global'], networks: [] }, net),
      ),
    logger: createLogger('test', { level: 'silent' }),
    localPorts: {},
    ready,
    allocator: {
      connected: true,
      create: async (r: EndpointRequest) => {
        calls.push(`create ${r.idempotencyKey} mac ${r.requestedMac ?? '-'}`);
        if (o.failCreate) throw new NetloomError('NOT_FOUND', 'network t1:n does not exist', { field: 'network' });
        return allocated;
      },
      ...(o.early
        ? {
            createEarly: async (r: EndpointRequest) => {
              calls.push(`createEarly ${r.idempotencyKey}`);
              const durable = (o.early?.durable ?? (async () => void calls.push('saved')))();
              return { ...allocated, mac: r.requestedMac ?? '', durable };
            },
          }
        : {}),
      delete: async (r: { endpointId?: string; idempotencyKey: string }) =>
        void calls.push(`delete ${r.endpointId ?? '-'} ${r.idempotencyKey}`),
    },
    network: async () => ({ key: 't1:n', encap: 'vlan', mtu: 0 }),
    requestOfport: (hostIf: string) => {
      calls.push(`request ${hostIf}`);
      return o.ofportGiven === undefined ? 7 : 40000;
    },
    releaseOfport: (hostIf: string) => void calls.push(`release-ofport ${hostIf}`),
    plugPort: async (hostIf: string, _ids: unknown, ifaceIds: Record<string, string> | undefined, opts: { ofportRequest?: number }) => {
      calls.push(
        `plug ${hostIf}${opts.ofportRequest !== undefined ? ` request ${opts.ofportRequest}` : ''}${ifaceIds ? ` labels ${JSON.stringify(ifaceIds)}` : ''}`,
      );
      await o.portGate;
      calls.push(`plugged ${hostIf}`);
      return o.ofportGiven ?? 7;
    },
    attachPlugged: async (r: EndpointRecord, ofport: number) => {
      calls.push(`attach ${r.endpointId} ${ofport}`);
      store.put(r);
    },
    labelPort: async (hostIf: string) => void calls.push(`label ${hostIf}`),
    unplugPort: async (hostIf: string) => void calls.push(`unplug ${hostIf}`),
    detachEndpoint: async (r: EndpointRecord) => {
      calls.push(`detach ${r.endpointId}`);
      store.remove(r.idempotencyKey);
    },
    claimPorts: (key: string, ports: unknown[], field: (i: number) => string) => {
      if (ports.length === 0) return;
      calls.push(`claim ${key} ${JSON.stringify(ports)}`);
      if (o.portsTaken) throw new NetloomError('CONFLICT', `${field(0)}: host port *:8080/tcp is already published`, { field: field(0) });
    },
    releasePortClaim: (key: string) => void calls.push(`release ${key}`),
  };
  // a structural fake: only what the backend uses
  return { agent: agent as unknown as Agent, calls, store, ready };
}

const rec = (n: number, over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  endpointId: `ep${n}`,
  idempotencyKey: `nl/c${n}/eth0`,
  kind: 'cni',
  frontNetwork: 'nl',
  containerId: `c${n}`,
  ifName: 'eth0',
  netnsPath: '/run/netns/none',
  hostIf: `nlunittest${n}`,
  networkKey: 't1:n',
  ip: `10.0.0.${n}`,
  prefixLength: 24,
  mac: '02:00:00:00:00:01',
  gateway: '10.0.0.1',
  mtu: 1450,
  ...over,
});

describe('agent CNI backend (fake agent)', () => {
  let dir: string;
  let netns: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nl-cni-backend-'));
    netns = join(dir, 'netns'); // only its existence is checked
    rmSync(netns, { force: true });
    writeFileSync(netns, '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const addReq = (over: Partial<CniAddRequest> = {}): CniAddRequest =>
    ({
      containerId: 'c1',
      ifName: 'eth0',
      network,
      idempotencyKey: 'nl/c1/eth0',
      labels: {},
      cniVersion: '1.1.0',
      netconf: {},
      netnsPath: netns,
      requestedIps: [],
      portMappings: [],
      ...over,
    }) as CniAddRequest;
  const hostIf = hostIfName('nl/c1/eth0');

  it("ADD: veth (VXLAN-safe MTU first), port, checksum fix, addressing with the network's MTU, flows; one record", async () => {
    const { agent, calls, store } = fakeAgent();
    const r = await new AgentCniBackend(agent).add(addReq());
    assert.deepEqual(r.ips, [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 1 }]);
    assert.deepEqual(r.interfaces[1], { name: 'eth0', mac: '02:00:00:00:00:05', mtu: 1500, sandbox: netns });
    assert.equal(r.interfaces[0]?.name, hostIf, 'host end named after the attachment');
    const create = calls.find((c) => c.startsWith('create'));
    assert.ok(
      calls.some(
        (c) =>
          c.startsWith(`run nsenter --net=${netns} ip -b - <<link add ${hostIf} up netns`) &&
          /mtu 1450 type veth peer name eth0 address 02(:[0-9a-f]{2}){5} mtu 1450; link set eth0 up/.test(c),
      ),
      calls.join('\n'),
    );
    assert.ok(calls.includes(`run nsenter --net=${netns} ethtool -K eth0 tx off`));
    // the fake netmaster answers with another MAC than the one asked for (a retried ADD): stage 2 sets it
    assert.ok(
      calls.some((c) =>
        c.includes(
          '<<link set eth0 address 02:00:00:00:00:05 mtu 1500; addr add 10.0.0.5/24 dev eth0; route add default via 10.0.0.1 dev eth0',
        ),
      ),
      calls.join('\n'),
    );
    assert.match(create ?? '', /mac 02(:[0-9a-f]{2}){5}$/, 'the agent asks for the MAC it set on the veth');
    assert.ok(calls.includes(`run ip link set ${hostIf} mtu 1500`), "the host end gets the VLAN network's larger MTU");
    assert.ok(calls.indexOf(`plug ${hostIf}`) < calls.indexOf('attach ep1 7'));
    assert.deepEqual(
      store.list().map((x) => [x.endpointId, x.hostIf, x.mtu]),
      [['ep1', hostIf, 1500]],
    );
  });

  it('userspace TSO: a VLAN network keeps tx checksum, a VXLAN or unknown network does not', async () => {
    const cases: Array<[Encap | undefined, boolean]> = [
      ['vlan', false],
      ['vxlan', true],
      [undefined, true],
    ];
    for (const [knownEncap, txOff] of cases) {
      const { agent, calls, store } = fakeAgent({ tsoActive: true, ...(knownEncap ? { knownEncap } : {}) });
      await new AgentCniBackend(agent).add(addReq());
      // the record says so: the agent turns it off later if a tunnel comes into reach
      assert.equal(store.list()[0]?.txChecksumOn, txOff ? undefined : true);
      assert.equal(
        calls.includes(`run nsenter --net=${netns} ethtool -K eth0 tx off`),
        txOff,
        `${knownEncap ?? 'unknown'}: ${calls.join('\n')}`,
      );
    }
  });

  it('ADD with an address chosen early (blocks): one ip run makes the veth with its addressing; the answer waits for the save', async () => {
    let saved: () => void = () => undefined;
    const { agent, calls, store } = fakeAgent({ early: { durable: () => new Promise<void>((r) => (saved = r)) } });
    let answered = false;
    const adding = new AgentCniBackend(agent).add(addReq()).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(answered, false, 'no answer before the record is on disk');
    saved();
    const r = await adding;
    assert.deepEqual(r.ips, [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 1 }]);
    const ipRuns = calls.filter((c) => c.includes(' ip -b - <<'));
    assert.equal(ipRuns.length, 1, calls.join('\n'));
    assert.match(
      ipRuns[0] ?? '',
      /mtu 1500 type veth peer name eth0 address 02(:[0-9a-f]{2}){5} mtu 1500; link set eth0 up; link set lo up; addr add 10\.0\.0\.5\/24 dev eth0; route add default via 10\.0\.0\.1 dev eth0$/,
    );
    assert.ok(!calls.some((c) => c.startsWith('run ip link set') && c.includes('mtu')), 'the MTU was right from the start');
    assert.deepEqual(
      store.list().map((x) => x.endpointId),
      ['ep1'],
    );
  });

  it("ADD with an address chosen early: the flows go in under the requested ofport while the veth and the port are made, the port carries the endpoint's names", async () => {
    let open: () => void = () => undefined;
    const portGate = new Promise<void>((r) => (open = r));
    const { agent, calls } = fakeAgent({ early: {}, portGate });
    const adding = new AgentCniBackend(agent).add(addReq());
    await waitFor('the flows under the requested ofport', () => calls.includes('attach ep1 7'));
    assert.ok(!calls.includes(`plugged ${hostIf}`), 'before OVS has the port');
    assert.ok(!calls.includes(`release-ofport ${hostIf}`), 'the number is held while the ADD runs');
    open();
    await adding;
    const seen = calls.filter((c) => /^(plug |attach|label|release-ofport)/.test(c));
    // recorded with its flows, and its port added, both without waiting for the veth
    const [plug, ...rest] = [...seen.slice(0, 2)].sort((a, b) => (a.startsWith('plug') ? -1 : b.startsWith('plug') ? 1 : 0));
    assert.match(plug ?? '', new RegExp(`^plug ${hostIf} request 7 labels \\{"iface-id":"ep1","attached-mac":"02(:[0-9a-f]{2}){5}"\\}$`));
    assert.deepEqual(rest, ['attach ep1 7']);
    assert.deepEqual(seen.slice(2), [`release-ofport ${hostIf}`], 'no second OVSDB write for the names');
  });

  it('ADD whose port OVS gives another ofport than requested: the flows are installed again under that one', async () => {
    const { agent, calls, store } = fakeAgent({ early: {}, ofportGiven: 41 });
    await new AgentCniBackend(agent).add(addReq());
    assert.deepEqual(
      calls.filter((c) => c.startsWith('attach')),
      ['attach ep1 40000', 'attach ep1 41'],
    );
    assert.equal(store.list().length, 1);
  });

  it('ADD with the compiled veth helper: one program makes the pair with its addressing and turns tx checksum off; no ip, no ethtool', async () => {
    const { agent, calls } = fakeAgent({ early: {}, helper: true });
    await new AgentCniBackend(agent).add(addReq());
    const runs = calls.filter((c) => c.startsWith('run '));
    assert.equal(runs.length, 1, runs.join('\n'));
    assert.match(
      runs[0] ?? '',
      new RegExp(
        `^run /x/netloom-veth --netns ${netns} .*--host-if ${hostIf} --if eth0 .*--address 10\\.0\\.0\\.5/24 --gateway 10\\.0\\.0\\.1 --tx-off$`,
      ),
    );
  });

  it('a failed veth after the early record: the record, its port and its address are undone, the ofport given back', async () => {
    const { agent, calls, store } = fakeAgent({ early: {}, failCommand: 'link add' });
    await assert.rejects(new AgentCniBackend(agent).add(addReq()));
    for (const c of ['attach ep1 7', 'detach ep1', 'delete ep1 nl/c1/eth0', `release-ofport ${hostIf}`])
      assert.ok(calls.includes(c), `${c} in\n${calls.join('\n')}`);
    assert.deepEqual(store.list(), []);
  });

  it('ADD with an address chosen early whose save fails: the ADD fails and everything is undone', async () => {
    const { agent, calls, store } = fakeAgent({
      early: { durable: async () => Promise.reject(new NetloomError('INTERNAL', 'disk full')) },
    });
    await assert.rejects(new AgentCniBackend(agent).add(addReq()), /disk full/);
    for (const c of ['detach ep1', `run ip link del ${hostIf}`, 'delete ep1 nl/c1/eth0'])
      assert.ok(calls.includes(c), `${c} in\n${calls.join('\n')}`);
    assert.deepEqual(store.list(), []);
  });

  it('a repeated ADD of a recorded attachment fails (ALREADY_EXISTS) and makes nothing, also with another netns', async () => {
    const { agent, calls, store } = fakeAgent();
    const be = new AgentCniBackend(agent);
    await be.add(addReq());
    calls.length = 0;
    for (const netnsPath of [netns, join(dir, 'other')]) {
      await assert.rejects(
        be.add(addReq({ netnsPath })),
        (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && /exists already/.test(e.message),
      );
    }
    assert.deepEqual(calls, []);
    assert.equal(store.list().length, 1);
  });

  describe('the default route (a second interface would clash with the first)', () => {
    const routeLine = 'route add default via 10.0.0.1 dev';
    const addressing = (calls: string[], ifName: string) => calls.find((c) => c.includes(`addr add 10.0.0.5/24 dev ${ifName}`)) ?? '';

    it("only the container's first attachment installs it; the second's result and record say it has none", async () => {
      const { agent, calls, store } = fakeAgent();
      const be = new AgentCniBackend(agent);
      const first = await be.add(addReq());
      assert.ok(addressing(calls, 'eth0').includes(routeLine));
      assert.deepEqual(first.routes, [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
      calls.length = 0;
      const second = await be.add(addReq({ ifName: 'eth1', idempotencyKey: 'nl2/c1/eth1', network: { ...network, cniNetwork: 'nl2' } }));
      assert.ok(!addressing(calls, 'eth1').includes('route'), addressing(calls, 'eth1'));
      assert.deepEqual(second.routes, []);
      assert.deepEqual(second.ips, [{ address: '10.0.0.5/24', gateway: '10.0.0.1', interface: 1 }], 'the gateway is still reported');
      assert.deepEqual(
        store.list().map((r) => [r.ifName, r.defaultRoute]),
        [
          ['eth0', true],
          ['eth1', false],
        ],
      );
    });

    it('netconf defaultRoute overrides: true on a second attachment installs it, false on a first does not', async () => {
      const { agent, calls } = fakeAgent();
      const be = new AgentCniBackend(agent);
      await be.add(addReq({ defaultRoute: false }));
      assert.ok(!addressing(calls, 'eth0').includes('route'));
      calls.length = 0;
      const r = await be.add(addReq({ ifName: 'eth1', idempotencyKey: 'nl/c1/eth1', defaultRoute: true }));
      assert.ok(addressing(calls, 'eth1').includes(`${routeLine} eth1`));
      assert.deepEqual(r.routes, [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }]);
    });
  });

  describe('CHECK compares the namespace with the record and the prevResult', () => {
    const addr = (o: { up?: boolean; mac?: string; addrs?: string[] } = {}) =>
      JSON.stringify([
        {
          ifname: 'eth0',
          flags: o.up === false ? ['BROADCAST'] : ['BROADCAST', 'UP', 'LOWER_UP'],
          mtu: 1450,
          address: o.mac ?? '02:00:00:00:00:01',
          addr_info: (o.addrs ?? ['10.0.0.1/24']).map((a) => ({ local: a.split('/')[0], prefixlen: Number(a.split('/')[1]) })),
        },
      ]);
    const routes = (withDefault: boolean) =>
      JSON.stringify([
        ...(withDefault ? [{ dst: 'default', gateway: '10.0.0.1', dev: 'eth0' }] : []),
        { dst: '10.0.0.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link' },
      ]);
    const prevResult = {
      interfaces: [{ name: 'nlunittest1' }, { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/run/netns/none' }],
      ips: [{ address: '10.0.0.1/24', gateway: '10.0.0.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }],
      dns: {},
    };
    const check = async (stdout: Record<string, string>, prev = prevResult) => {
      const { agent, store } = fakeAgent({ stdout });
      store.put(rec(1, { netnsPath: netns }));
      (agent.localPorts as unknown as Record<string, unknown>).ep1 = { ofport: 7 }; // plugged
      const req = { ...addReq({ containerId: 'c1', idempotencyKey: 'nl/c1/eth0' }), prevResult: prev };
      return (await new AgentCniBackend(agent).check(req)).problems;
    };
    const state = (o: Parameters<typeof addr>[0] = {}, withDefault = true) => ({
      'addr show dev eth0': addr(o),
      '-4 route show': routes(withDefault),
      '-6 route show': '[]',
    });

    it('passes when link, address and default route are there', async () => {
      assert.deepEqual(await check(state()), []);
    });
    it('fails when the link is down, its MAC changed, its address or the default route is gone', async () => {
      assert.deepEqual(await check(state({ up: false })), ['interface eth0 is down']);
      assert.deepEqual(await check(state({ mac: '02:00:00:00:00:09' })), [
        'interface eth0 has MAC 02:00:00:00:00:09, expected 02:00:00:00:00:01',
      ]);
      assert.deepEqual(await check(state({ addrs: [] })), ['address 10.0.0.1/24 is missing on eth0']);
      assert.deepEqual(await check(state({}, false)), [`route 0.0.0.0/0 via 10.0.0.1 is missing in ${netns}`]);
    });
    it('fails for a route of the prevResult the namespace lacks', async () => {
      const prev = { ...prevResult, routes: [...prevResult.routes, { dst: '192.168.7.0/24', gw: '10.0.0.254' }] };
      assert.deepEqual(await check(state(), prev), [`route 192.168.7.0/24 via 10.0.0.254 is missing in ${netns}`]);
    });
    it('fails when the interface is missing', async () => {
      assert.deepEqual(await check({ ...state(), 'addr show dev eth0': '' }), [`interface eth0 is missing in ${netns}`]);
    });
  });

  it('a failed allocation removes the veth and the port, and keeps no record', async () => {
    const { agent, calls, store } = fakeAgent({ failCreate: true });
    await assert.rejects(new AgentCniBackend(agent).add(addReq()), (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'network');
    assert.ok(calls.includes(`unplug ${hostIf}`) && calls.includes(`run ip link del ${hostIf}`), calls.join('\n'));
    assert.ok(!calls.some((c) => c.startsWith('delete')), 'nothing allocated, nothing to release');
    assert.deepEqual(store.list(), []);
  });

  it('a failed veth gives the endpoint back, and plugs nothing', async () => {
    const { agent, calls, store } = fakeAgent({ failCommand: 'type veth' });
    await assert.rejects(
      new AgentCniBackend(agent).add(addReq()),
      (e: unknown) => isNetloomError(e, 'COMMAND_FAILED') && /Operation not permitted/.test(e.message),
    );
    assert.ok(calls.includes('delete ep1 nl/c1/eth0'), calls.join('\n'));
    assert.ok(!calls.some((c) => c.startsWith('plug') || c.startsWith('attach')));
    assert.deepEqual(store.list(), []);
  });

  it('a failed container configuration undoes all three parts', async () => {
    const { agent, calls, store } = fakeAgent({ failCommand: 'addr add' });
    await assert.rejects(new AgentCniBackend(agent).add(addReq()), (e: unknown) => isNetloomError(e, 'COMMAND_FAILED'));
    for (const c of ['detach ep1', `run ip link del ${hostIf}`, 'delete ep1 nl/c1/eth0'])
      assert.ok(calls.includes(c), `${c} in\n${calls.join('\n')}`);
    assert.deepEqual(store.list(), []);
  });

  it('a default route the container has already (defaultRoute true) is ALREADY_EXISTS, and undoes all three parts', async () => {
    const { agent, calls, store } = fakeAgent({ failCommand: 'route add default', failStderr: 'RTNETLINK answers: File exists' });
    await assert.rejects(
      new AgentCniBackend(agent).add(addReq({ defaultRoute: true })),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && /default route exists already/.test(e.message),
    );
    for (const c of ['detach ep1', `run ip link del ${hostIf}`, 'delete ep1 nl/c1/eth0'])
      assert.ok(calls.includes(c), `${c} in\n${calls.join('\n')}`);
    assert.deepEqual(store.list(), []);
  });

  it('a missing namespace fails with NOT_FOUND naming it, and gives the endpoint back', async () => {
    const { agent, calls, store } = fakeAgent();
    await assert.rejects(
      new AgentCniBackend(agent).add(addReq({ netnsPath: '/run/netns/nl-unit-does-not-exist' })),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'netns',
    );
    assert.ok(calls.includes('delete ep1 nl/c1/eth0'));
    assert.deepEqual(store.list(), []);
  });

  it('DEL without a record releases by idempotency key and removes a half-made host end', async () => {
    const { agent, calls } = fakeAgent();
    await new AgentCniBackend(agent).del({
      containerId: 'c9',
      ifName: 'eth0',
      network,
      idempotencyKey: 'nl/c9/eth0',
      labels: {},
      cniVersion: '1.1.0',
      netconf: {},
    });
    assert.deepEqual(
      calls.sort(),
      [`run ip link del ${hostIfName('nl/c9/eth0')}`, 'delete - nl/c9/eth0', `unplug ${hostIfName('nl/c9/eth0')}`].sort(),
    );
  });

  it('GC releases exactly the CNI attachments of the network that are not listed', async () => {
    const { agent, calls, store } = fakeAgent();
    store.put(rec(1));
    store.put(rec(2));
    store.put(rec(3, { frontNetwork: 'other', idempotencyKey: 'other/c3/eth0' }));
    store.put(rec(4, { kind: 'cnm', idempotencyKey: 'cnm/x/4' }));
    const r = await new AgentCniBackend(agent).gc({
      network,
      validAttachments: [{ containerId: 'c2', ifName: 'eth0' }],
      cniVersion: '1.1.0',
      netconf: {},
    });
    assert.deepEqual(r, { released: [{ containerId: 'c1', ifName: 'eth0' }], errors: [] });
    assert.deepEqual(calls.sort(), ['delete ep1 nl/c1/eth0', 'detach ep1', 'run ip link del nlunittest1']);
    assert.deepEqual(
      store
        .list()
        .map((x) => x.endpointId)
        .sort(),
      ['ep2', 'ep3', 'ep4'],
    );
  });

  it('STATUS is ready only with OVS and the control plane connected', async () => {
    const { agent, ready } = fakeAgent();
    const b = new AgentCniBackend(agent);
    assert.deepEqual(await b.status(), { ready: true });
    ready.controlPlane = false;
    assert.deepEqual(await b.status(), { ready: false, code: 50, message: 'netloom agent is not connected to netmaster' });
    ready.ovs = false;
    assert.equal((await b.status()).ready, false);
  });

  describe('published ports (portMappings)', () => {
    const withPorts = () =>
      addReq({
        portMappings: [
          { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '10.213.1.1' },
        ],
      });

    it('claims the host ports before anything is made, keeps them in the record, then ends the claim', async () => {
      const { agent, calls, store } = fakeAgent();
      await new AgentCniBackend(agent).add(withPorts());
      const claim = calls.findIndex((c) => c.startsWith('claim nl/c1/eth0'));
      assert.ok(claim >= 0 && claim < calls.findIndex((c) => c.startsWith('create')), calls.join('\n'));
      assert.equal(calls.at(-1), 'release nl/c1/eth0');
      assert.deepEqual(store.get('nl/c1/eth0')?.portMappings, [
        { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '10.213.1.1', hostPort: 5353, containerPort: 53, protocol: 'udp' },
      ]);
    });

    it('a host port another endpoint has fails the ADD (CONFLICT naming the mapping) before anything is made', async () => {
      const { agent, calls, store } = fakeAgent({ portsTaken: true });
      await assert.rejects(
        new AgentCniBackend(agent).add(withPorts()),
        (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'runtimeConfig.portMappings[0]',
      );
      assert.ok(!calls.some((c) => c.startsWith('create') || c.startsWith('run') || c.startsWith('plug')), calls.join('\n'));
      assert.deepEqual(store.list(), []);
    });

    it('a failed ADD ends its claim too; an ADD without ports keeps no portMappings', async () => {
      const failed = fakeAgent({ failCreate: true });
      await assert.rejects(new AgentCniBackend(failed.agent).add(withPorts()));
      assert.ok(failed.calls.includes('release nl/c1/eth0'));
      const plain = fakeAgent();
      await new AgentCniBackend(plain.agent).add(addReq());
      assert.ok(!plain.calls.some((c) => c.startsWith('claim')));
      assert.equal(plain.store.get('nl/c1/eth0')?.portMappings, undefined);
    });
  });
});
