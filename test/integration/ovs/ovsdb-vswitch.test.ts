/**
 * The Open_vSwitch helpers (VSwitch) against a real ovsdb-server + ovs-vswitchd running in a
 * namespace of our own (netdev datapath, so ports get ofports and the taps die with the
 * namespace). Every change is checked through ovs-vsctl, not through our own reader.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { isNetloomError } from '../../../lib/errors';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { ovsCtl, OvsInstance, startOvs, stopOvs } from '../../../deploy/lab/ovs-instance';
import { connect, InterfaceEvent, OvsdbClient, setPortQosTx, VSwitch } from '../../../ovs/ovsdb';
import { waitFor } from '../../../lib/clock';

const DIR = '/tmp/nl-ovsdb/vswitch';
const NS = 'odbvswitch';

async function vsctl(inst: OvsInstance, ...args: string[]): Promise<string> {
  return (await ovsCtl(inst, 'ovs-vsctl', args)).trim();
}

describe('ovsdb VSwitch helpers against a real Open vSwitch', function () {
  this.timeout(30_000);
  let inst: OvsInstance;
  let client: OvsdbClient;
  let vs: VSwitch;

  before(async () => {
    await stopOvs(DIR);
    rmSync(DIR, { recursive: true, force: true });
    await addNetns(NS);
    inst = await startOvs(DIR, NS);
    client = await connect(inst.dbSock);
    vs = new VSwitch(client);
  });

  after(async () => {
    await client?.close();
    await stopOvs(DIR);
    await delNetns(NS);
  });

  it('adds a bridge with datapath type, fail mode, protocols, other_config and external_ids', async () => {
    const uuid = await vs.addBridge({
      name: 'br-a',
      datapathType: 'netdev',
      failMode: 'secure',
      protocols: ['OpenFlow13', 'OpenFlow10'],
      otherConfig: { 'datapath-id': '00000000000000aa' },
      externalIds: { owner: 'netloom' },
    });
    assert.equal(await vsctl(inst, 'get', 'Bridge', 'br-a', '_uuid'), uuid);
    assert.equal(await vsctl(inst, 'list-br'), 'br-a');
    assert.equal(await vsctl(inst, 'get', 'Bridge', 'br-a', 'datapath_type'), 'netdev');
    assert.equal(await vsctl(inst, 'get-fail-mode', 'br-a'), 'secure');
    assert.equal(await vsctl(inst, 'get', 'Bridge', 'br-a', 'protocols'), '[OpenFlow10, OpenFlow13]');
    assert.equal(await vsctl(inst, 'get', 'Bridge', 'br-a', 'other_config:datapath-id'), '"00000000000000aa"');
    assert.equal(await vsctl(inst, 'br-get-external-id', 'br-a', 'owner'), 'netloom');
    // the local port exists and vswitchd gives it the LOCAL ofport
    assert.equal(await vsctl(inst, 'list-ports', 'br-a'), '');
    assert.equal(await vs.waitForOfport('br-a', 5000), 65534);
    await vs.addBridge({ name: 'br-b', datapathType: 'netdev' });
    assert.equal(await vsctl(inst, 'list-br'), 'br-a\nbr-b');
  });

  it('refuses a duplicate bridge (ALREADY_EXISTS) and a port on a missing bridge (NOT_FOUND), applying nothing', async () => {
    await assert.rejects(
      vs.addBridge({ name: 'br-a', datapathType: 'netdev' }),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && e.field === 'bridge.name',
    );
    await assert.rejects(
      vs.addPort('br-nope', { name: 'lost0', type: 'internal' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'bridge',
    );
    assert.equal(await vsctl(inst, '--columns=name', 'find', 'Interface', 'name=lost0'), '');
  });

  it('adds an internal port (tag, ofport_request), a vxlan port with options and a patch pair; ofports get assigned', async () => {
    await vs.addPort('br-a', { name: 'int0', type: 'internal', tag: 10, ofportRequest: 7, externalIds: { 'netloom-ep': 'ep1' } });
    await vs.addPort('br-a', { name: 'vxlan0', type: 'vxlan', options: { remote_ip: 'flow', key: 'flow' }, ofportRequest: 100 });
    await vs.addPort('br-a', { name: 'trunk0', type: 'internal', trunks: [10, 20, 30] });
    await vs.addPatchPair('br-a', 'patch-ab', 'br-b', 'patch-ba');
    assert.equal(await vsctl(inst, 'list-ports', 'br-a'), 'int0\npatch-ab\ntrunk0\nvxlan0');
    assert.equal(await vsctl(inst, 'list-ports', 'br-b'), 'patch-ba');
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'tag'), '10');
    assert.equal(await vsctl(inst, 'get', 'Port', 'trunk0', 'trunks'), '[10, 20, 30]');
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'external_ids:netloom-ep'), 'ep1');
    assert.equal(await vsctl(inst, 'get', 'Interface', 'int0', 'type'), 'internal');
    assert.equal(await vsctl(inst, 'get', 'Interface', 'vxlan0', 'type'), 'vxlan');
    assert.equal(await vsctl(inst, 'get', 'Interface', 'vxlan0', 'options'), '{key=flow, remote_ip=flow}');
    assert.equal(await vsctl(inst, 'get', 'Interface', 'patch-ab', 'options:peer'), 'patch-ba');
    assert.equal(await vsctl(inst, 'get', 'Interface', 'patch-ba', 'options:peer'), 'patch-ab');

    assert.equal(await vs.waitForOfport('int0', 5000), 7);
    assert.equal(await vs.waitForOfport('vxlan0', 5000), 100);
    const patchPort = await vs.waitForOfport('patch-ab', 5000);
    assert.equal(String(patchPort), await vsctl(inst, 'get', 'Interface', 'patch-ab', 'ofport'));
    const t0 = Date.now();
    await assert.rejects(vs.waitForOfport('no-such-iface', 300), (e: unknown) => isNetloomError(e, 'TIMEOUT') && e.field === 'interface');
    assert.ok(Date.now() - t0 >= 250, 'the server held the wait for its timeout');
    await assert.rejects(
      vs.addPort('br-b', { name: 'int0', type: 'internal' }),
      (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS') && e.field === 'port.name',
    );

    const state = await vs.readState();
    const brA = state.bridges.find((b) => b.name === 'br-a');
    assert.ok(brA);
    assert.deepEqual(
      brA.ports.map((p) => p.name),
      ['br-a', 'int0', 'patch-ab', 'trunk0', 'vxlan0'],
    );
    const int0 = brA.ports.find((p) => p.name === 'int0');
    assert.equal(int0?.tag, 10);
    assert.equal(int0?.interfaces[0]?.ofport, 7);
    assert.deepEqual(brA.ports.find((p) => p.name === 'vxlan0')?.interfaces[0]?.options, { key: 'flow', remote_ip: 'flow' });
  });

  it('reads the root row and syncs with ovs-vswitchd (cur_cfg catches up with next_cfg)', async () => {
    const root = await vs.readRoot();
    assert.equal(root.uuid, await vsctl(inst, 'get', 'Open_vSwitch', '.', '_uuid'));
    assert.ok(root.datapathTypes.includes('netdev'), root.datapathTypes.join(','));
    assert.ok(root.ifaceTypes.includes('vxlan'), root.ifaceTypes.join(','));
    assert.equal(
      root.externalIds['system-id'],
      (await vsctl(inst, 'get', 'Open_vSwitch', '.', 'external_ids:system-id')).replace(/"/g, ''),
    );
    await vs.addPort('br-b', { name: 'sync0', type: 'internal' });
    const cfg = await vs.syncWithVswitchd(5000);
    assert.ok(cfg > root.nextCfg);
    // applied: the ofport is there without waiting
    assert.match(await vsctl(inst, 'get', 'Interface', 'sync0', 'ofport'), /^[1-9]\d*$/);
    assert.ok(Number(await vsctl(inst, 'get', 'Open_vSwitch', '.', 'cur_cfg')) >= cfg);
    await vs.deletePort('sync0');
    // with ovs-vswitchd frozen (our own process, resumed below) nothing applies: TIMEOUT
    process.kill(inst.vswitchdPid, 'SIGSTOP');
    try {
      await assert.rejects(vs.syncWithVswitchd(300), (e: unknown) => isNetloomError(e, 'TIMEOUT') && e.field === 'cur_cfg');
    } finally {
      process.kill(inst.vswitchdPid, 'SIGCONT');
    }
    await vs.syncWithVswitchd(5000);
  });

  it('waitForOfport blocks until vswitchd assigns the ofport of a port added by someone else', async () => {
    const waiting = vs.waitForOfport('late0', 5000);
    waiting.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
    await new Promise((r) => setTimeout(r, 100));
    await vsctl(inst, '--no-wait', 'add-port', 'br-b', 'late0', '--', 'set', 'Interface', 'late0', 'type=internal', 'ofport_request=42');
    assert.equal(await waiting, 42);
    await vs.deletePort('late0');
  });

  it('watchInterfaces reports an added port, its ofport assignment and its deletion as typed events', async () => {
    const events: InterfaceEvent[] = [];
    const { initial, monitor } = await vs.watchInterfaces((evs) => events.push(...evs));
    try {
      assert.ok(initial.some((e) => e.name === 'int0' && e.ofport === 7 && e.kind === 'initial'));
      await vs.addPort('br-b', { name: 'watch0', type: 'internal', ofportRequest: 55, interfaceExternalIds: { 'iface-id': 'w' } });
      const seen = (pred: (e: InterfaceEvent) => boolean): Promise<InterfaceEvent> =>
        waitFor('interface event', () => events.find(pred), { timeoutMs: 5000, intervalMs: 20 });
      const ins = await seen((e) => e.kind === 'insert' && e.name === 'watch0');
      assert.deepEqual([ins.type, ins.externalIds], ['internal', { 'iface-id': 'w' }]);
      const assigned = await seen((e) => e.kind === 'modify' && e.name === 'watch0' && e.ofport !== undefined);
      assert.equal(assigned.ofport, 55);
      assert.equal(assigned.uuid, ins.uuid);
      await vs.deletePort('watch0');
      const gone = await seen((e) => e.kind === 'delete' && e.uuid === ins.uuid);
      assert.equal(gone.name, 'watch0');
    } finally {
      await monitor.cancel();
    }
  });

  it('sets controllers and fail mode, then replaces and clears them (no stale Controller rows)', async () => {
    await vs.setControllers(
      'br-a',
      [{ target: 'tcp:127.0.0.1:6653', connectionMode: 'out-of-band' }, { target: 'ptcp:16653:127.0.0.1' }],
      'secure',
    );
    assert.equal(await vsctl(inst, 'get-controller', 'br-a'), 'ptcp:16653:127.0.0.1\ntcp:127.0.0.1:6653');
    assert.equal(
      await vsctl(inst, '--bare', '--columns=connection_mode', 'find', 'Controller', 'target="tcp:127.0.0.1:6653"'),
      'out-of-band',
    );
    assert.equal(await vsctl(inst, 'get-fail-mode', 'br-a'), 'secure');
    await vs.setControllers('br-a', [{ target: 'tcp:127.0.0.1:6654' }], 'standalone');
    assert.equal(await vsctl(inst, 'get-controller', 'br-a'), 'tcp:127.0.0.1:6654');
    assert.equal(await vsctl(inst, 'get-fail-mode', 'br-a'), 'standalone');
    assert.equal((await vsctl(inst, '--columns=target', 'list', 'Controller')).split('\n').filter((l) => l.trim() !== '').length, 1);
    await vs.setFailMode('br-a', 'secure');
    assert.equal(await vsctl(inst, 'get-fail-mode', 'br-a'), 'secure');
    await vs.setControllers('br-a', [], null);
    assert.equal(await vsctl(inst, 'get-controller', 'br-a'), '');
    assert.equal(await vsctl(inst, 'get-fail-mode', 'br-a'), '');
    assert.equal(await vsctl(inst, 'list', 'Controller'), '');
    await assert.rejects(vs.setFailMode('br-zz', 'secure'), (e: unknown) => isNetloomError(e, 'NOT_FOUND'));
  });

  it('creates a linux-htb QoS with queues on a port, replaces it, clears it: no orphan rows', async () => {
    const qos1 = await vs.setPortQos('int0', {
      type: 'linux-htb',
      maxRate: 10_000_000,
      queues: { 0: { maxRate: 1_000_000 }, 1: { minRate: 500_000, priority: 1 } },
    });
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'qos'), qos1);
    assert.equal(await vsctl(inst, 'get', 'QoS', qos1, 'type'), 'linux-htb');
    assert.equal(await vsctl(inst, 'get', 'QoS', qos1, 'other_config:max-rate'), '"10000000"');
    const queues = await vsctl(inst, 'get', 'QoS', qos1, 'queues');
    assert.match(queues, /^\{0=[0-9a-f-]{36}, 1=[0-9a-f-]{36}\}$/);
    const q0 = /0=([0-9a-f-]{36})/.exec(queues)?.[1] ?? '';
    assert.equal(await vsctl(inst, 'get', 'Queue', q0, 'other_config:max-rate'), '"1000000"');
    assert.equal((await vsctl(inst, '--columns=_uuid', 'list', 'Queue')).split('\n').filter((l) => l.trim() !== '').length, 2);

    // replace: the old QoS and its queues are deleted in the same transaction
    const qos2 = await vs.setPortQos('int0', { type: 'linux-htb', maxRate: 20_000_000, queues: { 5: { maxRate: 2_000_000 } } });
    assert.notEqual(qos2, qos1);
    assert.equal(await vsctl(inst, '--columns=_uuid', 'list', 'QoS'), `_uuid               : ${qos2}`);
    assert.equal((await vsctl(inst, '--columns=_uuid', 'list', 'Queue')).split('\n').filter((l) => l.trim() !== '').length, 1);

    // a stale read (someone changed the QoS meanwhile) fails the guard and changes nothing
    const stale = setPortQosTx('int0', { type: 'linux-htb' }, { qos: qos1, queues: [] });
    await assert.rejects(vs.run(stale), (e: unknown) => isNetloomError(e, 'CONFLICT') && e.field === 'port');
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'qos'), qos2);

    assert.equal(await vs.clearPortQos('int0'), true);
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'qos'), '[]');
    assert.equal(await vsctl(inst, 'list', 'QoS'), '');
    assert.equal(await vsctl(inst, 'list', 'Queue'), '');
    assert.equal(await vs.clearPortQos('int0'), false);
  });

  it('sets and clears other_config / external_ids keys, keeping the others', async () => {
    await vs.setMapKeys('Bridge', 'br-a', 'other_config', { 'disable-in-band': 'true', 'mac-aging-time': '300' });
    await vs.setMapKeys('Bridge', 'br-a', 'other_config', { 'mac-aging-time': '600' });
    assert.equal(
      await vsctl(inst, 'get', 'Bridge', 'br-a', 'other_config'),
      '{datapath-id="00000000000000aa", disable-in-band="true", mac-aging-time="600"}',
    );
    await vs.clearMapKeys('Bridge', 'br-a', 'other_config', ['disable-in-band', 'absent-key']);
    assert.equal(await vsctl(inst, 'get', 'Bridge', 'br-a', 'other_config'), '{datapath-id="00000000000000aa", mac-aging-time="600"}');
    await vs.setMapKeys('Port', 'int0', 'external_ids', { 'netloom-ep': 'ep2', tenant: 't1' });
    assert.equal(await vsctl(inst, 'get', 'Port', 'int0', 'external_ids'), '{netloom-ep=ep2, tenant=t1}');
    await vs.setMapKeys('Interface', 'vxlan0', 'options', { tos: 'inherit' });
    assert.equal(await vsctl(inst, 'get', 'Interface', 'vxlan0', 'options:tos'), 'inherit');
    await vs.setMapKeys('Open_vSwitch', undefined, 'external_ids', { 'netloom-host': 'h1' });
    assert.equal(await vsctl(inst, 'get', 'Open_vSwitch', '.', 'external_ids:netloom-host'), 'h1');
    await vs.clearMapKeys('Open_vSwitch', undefined, 'external_ids', ['netloom-host']);
    assert.equal(await vsctl(inst, '--if-exists', 'get', 'Open_vSwitch', '.', 'external_ids:netloom-host'), '');
    await assert.rejects(
      vs.setMapKeys('Port', 'nope0', 'external_ids', { a: 'b' }),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND') && e.field === 'name',
    );
  });

  it('a random sequence of port and QoS changes keeps the switch equal to a simple model, with no orphan rows', async () => {
    type Cmd =
      | { kind: 'add'; n: number; tag: number | undefined }
      | { kind: 'del'; n: number }
      | { kind: 'qos'; n: number; queues: number }
      | { kind: 'clear'; n: number };
    const cmdArb = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        n: fc.integer({ min: 0, max: 3 }),
        tag: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant('del' as const), n: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('qos' as const), n: fc.integer({ min: 0, max: 3 }), queues: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant('clear' as const), n: fc.integer({ min: 0, max: 3 }) }),
    );
    const cmds: Cmd[] = fc.sample(fc.array(cmdArb, { minLength: 60, maxLength: 60 }), { seed: 7047, numRuns: 1 })[0] ?? [];
    await vs.addBridge({ name: 'br-m', datapathType: 'netdev' });
    const model = new Map<string, { tag: number | undefined; queues: number | undefined }>();
    const covered = new Set<string>();
    for (const [i, c] of cmds.entries()) {
      const name = `m${c.n}`;
      const step = `step ${i} ${JSON.stringify(c)}`;
      if (c.kind === 'add') {
        if (model.has(name)) {
          await assert.rejects(
            vs.addPort('br-m', { name, type: 'internal', tag: c.tag }),
            (e: unknown) => isNetloomError(e, 'ALREADY_EXISTS'),
            step,
          );
        } else {
          await vs.addPort('br-m', { name, type: 'internal', tag: c.tag });
          model.set(name, { tag: c.tag, queues: undefined });
        }
      } else if (c.kind === 'del') {
        if (model.get(name)?.queues !== undefined) covered.add('delete port with QoS');
        assert.equal(await vs.deletePort(name, { ifExists: true }), model.delete(name), step);
      } else if (c.kind === 'qos') {
        const entry = model.get(name);
        const queues = Object.fromEntries(Array.from({ length: c.queues }, (_, q) => [q, { maxRate: 1000 * (q + 1) }]));
        if (!entry) {
          await assert.rejects(vs.setPortQos(name, { type: 'linux-htb', queues }), (e: unknown) => isNetloomError(e, 'NOT_FOUND'), step);
        } else {
          if (entry.queues !== undefined) covered.add('replace QoS');
          await vs.setPortQos(name, { type: 'linux-htb', queues });
          entry.queues = c.queues;
        }
      } else {
        const entry = model.get(name);
        if (!entry) {
          await assert.rejects(vs.clearPortQos(name), (e: unknown) => isNetloomError(e, 'NOT_FOUND'), step);
        } else {
          if (entry.queues !== undefined) covered.add('clear QoS');
          assert.equal(await vs.clearPortQos(name), entry.queues !== undefined, step);
          entry.queues = undefined;
        }
      }
      const state = await vs.readState();
      const ports = state.bridges.find((b) => b.name === 'br-m')?.ports.filter((p) => p.name !== 'br-m') ?? [];
      assert.deepEqual(
        ports.map((p) => [p.name, p.tag, p.qos ? Object.keys(p.qos.queues).length : undefined]),
        [...model.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([n, m]) => [n, m.tag, m.queues]),
        step,
      );
      assert.deepEqual([state.orphanQos, state.orphanQueues], [[], []], step);
    }
    assert.deepEqual([...covered].sort(), ['clear QoS', 'delete port with QoS', 'replace QoS'], 'the sequence exercises every QoS path');
    // and the same seen by ovs-vsctl
    assert.equal(await vsctl(inst, 'list-ports', 'br-m'), [...model.keys()].sort().join('\n'));
    const withQos = [...model.values()].filter((m) => m.queues !== undefined);
    assert.equal(
      (await vsctl(inst, '--bare', '--columns=_uuid', 'list', 'QoS')).split('\n').filter((l) => l !== '').length,
      withQos.length,
    );
    assert.equal(
      (await vsctl(inst, '--bare', '--columns=_uuid', 'list', 'Queue')).split('\n').filter((l) => l !== '').length,
      withQos.reduce((a, m) => a + (m.queues ?? 0), 0),
    );
    await vs.deleteBridge('br-m');
  });

  it('deletes ports and bridges (with the QoS of their ports): nothing orphaned', async () => {
    await vs.setPortQos('trunk0', { type: 'linux-htb', queues: { 0: { maxRate: 1000 } } });
    assert.equal(await vs.deletePort('vxlan0'), true);
    assert.equal(await vsctl(inst, 'list-ports', 'br-a'), 'int0\npatch-ab\ntrunk0');
    assert.equal(await vsctl(inst, '--columns=name', 'find', 'Interface', 'name=vxlan0'), '');
    await assert.rejects(vs.deletePort('vxlan0'), (e: unknown) => isNetloomError(e, 'NOT_FOUND'));
    assert.equal(await vs.deletePort('vxlan0', { ifExists: true }), false);

    assert.equal(await vs.deleteBridge('br-a'), true);
    assert.equal(await vsctl(inst, 'list-br'), 'br-b');
    for (const table of ['QoS', 'Queue', 'Controller']) assert.equal(await vsctl(inst, 'list', table), '', `${table} rows left`);
    for (const name of ['int0', 'trunk0', 'patch-ab', 'br-a'])
      assert.equal(await vsctl(inst, '--columns=name', 'find', 'Interface', `name=${name}`), '', name);
    assert.equal(await vs.deleteBridge('br-b'), true);
    assert.equal(await vsctl(inst, 'list-br'), '');
    assert.equal(await vsctl(inst, 'list', 'Port'), '');
    assert.equal(await vs.deleteBridge('br-b', { ifExists: true }), false);
    const state = await vs.readState();
    assert.deepEqual(state, { bridges: [], orphanQos: [], orphanQueues: [] });
  });
});
