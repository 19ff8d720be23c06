/**
 * Golden tests of the Open_vSwitch transaction builders (the exact JSON each change sends), their
 * validation, the state assembly from select results, and guard-to-error mapping in VSwitch.run.
 */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../../lib/errors';
import { OvsdbClient } from '../../../../ovs/ovsdb/client';
import { Operation, SelectResult } from '../../../../ovs/ovsdb/operations';
import { assembleState, interfaceEvent, locatePort, rootState, VSwitch } from '../../../../ovs/ovsdb/vswitch';
import {
  addBridgeTx,
  addPatchPairTx,
  addPortTx,
  clearMapKeysTx,
  clearPortQosTx,
  deleteBridgeTx,
  deletePortTx,
  readStateTx,
  locatePortTx,
  bumpNextCfgTx,
  waitCurCfgTx,
  setControllersTx,
  setFailModeTx,
  setMapKeysTx,
  setPortQosTx,
  waitOfportTx,
} from '../../../../ovs/ovsdb/vswitch-tx';
import { fakePeer } from './fake-peer';

const B = 'bbbbbbbb-0000-4000-8000-000000000001';
const P = 'cccccccc-0000-4000-8000-000000000002';
const Q = 'dddddddd-0000-4000-8000-000000000003';
const Q0 = 'eeeeeeee-0000-4000-8000-000000000004';
const I = 'ffffffff-0000-4000-8000-000000000005';
const C = 'aaaaaaaa-0000-4000-8000-000000000006';

function json(ops: Operation[]): unknown {
  return JSON.parse(JSON.stringify(ops));
}

const absent = (table: string, name: string): unknown => ({
  op: 'wait',
  table,
  where: [['name', '==', name]],
  columns: ['name'],
  until: '==',
  rows: [],
  timeout: 0,
});
const exists = (table: string, name: string): unknown => ({
  op: 'wait',
  table,
  where: [['name', '==', name]],
  columns: ['name'],
  until: '==',
  rows: [{ name }],
  timeout: 0,
});
const rootExists = { op: 'wait', table: 'Open_vSwitch', where: [], columns: ['_uuid'], until: '!=', rows: [], timeout: 0 };
const same = (table: string, name: string, u: string): unknown => ({
  op: 'wait',
  table,
  where: [['name', '==', name]],
  columns: ['_uuid'],
  until: '==',
  rows: [{ _uuid: ['uuid', u] }],
  timeout: 0,
});

function isErr(code: string, field: string): (e: unknown) => boolean {
  return (e: unknown) => isNetloomError(e) && e.code === code && e.field === field;
}

describe('Open_vSwitch transaction builders (golden JSON)', () => {
  it('add bridge: local port + interface, bridge columns, attached to the root row by mutate', () => {
    const plan = addBridgeTx({
      name: 'br-int',
      datapathType: 'netdev',
      failMode: 'secure',
      protocols: ['OpenFlow13'],
      otherConfig: { 'datapath-id': '0000000000000001' },
      externalIds: { owner: 'netloom' },
    });
    assert.deepEqual(json(plan.ops), [
      rootExists,
      absent('Bridge', 'br-int'),
      absent('Port', 'br-int'),
      absent('Interface', 'br-int'),
      { op: 'insert', table: 'Interface', row: { name: 'br-int', type: 'internal' }, 'uuid-name': 'nl_local_iface' },
      {
        op: 'insert',
        table: 'Port',
        row: { name: 'br-int', interfaces: ['set', [['named-uuid', 'nl_local_iface']]] },
        'uuid-name': 'nl_local_port',
      },
      {
        op: 'insert',
        table: 'Bridge',
        row: {
          name: 'br-int',
          ports: ['set', [['named-uuid', 'nl_local_port']]],
          datapath_type: 'netdev',
          fail_mode: 'secure',
          protocols: ['set', ['OpenFlow13']],
          other_config: ['map', [['datapath-id', '0000000000000001']]],
          external_ids: ['map', [['owner', 'netloom']]],
        },
        'uuid-name': 'nl_bridge',
      },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'nl_bridge']]]]] },
      { op: 'comment', comment: 'netloom: add bridge br-int' },
    ]);
    assert.deepEqual(
      plan.guards.map((g) => [g.opIndex, g.code, g.field]),
      [
        [0, 'NOT_FOUND', 'Open_vSwitch'],
        [1, 'ALREADY_EXISTS', 'bridge.name'],
        [2, 'ALREADY_EXISTS', 'bridge.name'],
        [3, 'ALREADY_EXISTS', 'bridge.name'],
      ],
    );
  });

  it('delete bridge: guard on the uuid read, detach from root, QoS of its ports deleted explicitly', () => {
    const plan = deleteBridgeTx('br0', B, [{ port: P, qos: { qos: Q, queues: [Q0] } }]);
    assert.deepEqual(json(plan.ops), [
      same('Bridge', 'br0', B),
      { op: 'update', table: 'Port', where: [['_uuid', '==', ['uuid', P]]], row: { qos: ['set', []] } },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'delete', ['set', [['uuid', B]]]]] },
      { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', Q]]] },
      { op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', Q0]]] },
      { op: 'comment', comment: 'netloom: delete bridge br0' },
    ]);
    assert.equal(plan.guards[0]?.code, 'CONFLICT');
  });

  it('add vxlan port with options, ofport_request, tag, trunks, external_ids', () => {
    const plan = addPortTx('br-int', {
      name: 'vxlan0',
      type: 'vxlan',
      options: { remote_ip: 'flow', key: 'flow' },
      ofportRequest: 10,
      tag: 100,
      trunks: [10, 20],
      externalIds: { 'netloom-port': 'vtep' },
      interfaceExternalIds: { 'iface-id': 'x' },
    });
    assert.deepEqual(json(plan.ops), [
      exists('Bridge', 'br-int'),
      absent('Port', 'vxlan0'),
      absent('Interface', 'vxlan0'),
      {
        op: 'insert',
        table: 'Interface',
        row: {
          name: 'vxlan0',
          type: 'vxlan',
          options: [
            'map',
            [
              ['remote_ip', 'flow'],
              ['key', 'flow'],
            ],
          ],
          ofport_request: 10,
          external_ids: ['map', [['iface-id', 'x']]],
        },
        'uuid-name': 'nl_iface_0',
      },
      {
        op: 'insert',
        table: 'Port',
        row: {
          name: 'vxlan0',
          interfaces: ['set', [['named-uuid', 'nl_iface_0']]],
          tag: 100,
          trunks: ['set', [10, 20]],
          external_ids: ['map', [['netloom-port', 'vtep']]],
        },
        'uuid-name': 'nl_port_0',
      },
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['name', '==', 'br-int']],
        mutations: [['ports', 'insert', ['set', [['named-uuid', 'nl_port_0']]]]],
      },
      { op: 'comment', comment: 'netloom: add port vxlan0 to br-int' },
    ]);
    assert.deepEqual(
      plan.guards.map((g) => [g.opIndex, g.code, g.field]),
      [
        [0, 'NOT_FOUND', 'bridge'],
        [1, 'ALREADY_EXISTS', 'port.name'],
        [2, 'ALREADY_EXISTS', 'port.name'],
      ],
    );
  });

  it('a system port has no type column; an internal port has type internal', () => {
    const sys = json(addPortTx('br0', { name: 'eth1' }).ops) as Array<{ row?: Record<string, unknown> }>;
    assert.deepEqual(sys[3]?.row, { name: 'eth1' });
    const internal = json(addPortTx('br0', { name: 'nl-host', type: 'internal' }).ops) as Array<{ row?: Record<string, unknown> }>;
    assert.deepEqual(internal[3]?.row, { name: 'nl-host', type: 'internal' });
  });

  it('patch pair: both ports, each the other peer, distinct uuid-names, one transaction', () => {
    const ops = json(addPatchPairTx('br-int', 'patch-int', 'br-ext', 'patch-ext').ops) as Array<Record<string, unknown>>;
    const inserts = ops.filter((o) => o.op === 'insert');
    assert.deepEqual(
      inserts.map((o) => [o.table, (o.row as { name: string }).name, o['uuid-name']]),
      [
        ['Interface', 'patch-int', 'nl_iface_a'],
        ['Port', 'patch-int', 'nl_port_a'],
        ['Interface', 'patch-ext', 'nl_iface_b'],
        ['Port', 'patch-ext', 'nl_port_b'],
      ],
    );
    assert.deepEqual((inserts[0]?.row as Record<string, unknown>).options, ['map', [['peer', 'patch-ext']]]);
    assert.deepEqual((inserts[2]?.row as Record<string, unknown>).options, ['map', [['peer', 'patch-int']]]);
    assert.deepEqual(
      ops.filter((o) => o.op === 'mutate').map((o) => o.where),
      [[['name', '==', 'br-int']], [['name', '==', 'br-ext']]],
    );
  });

  it('delete port: guards, detach from bridge, then its QoS', () => {
    assert.deepEqual(json(deletePortTx('br0', 'p1', P, { qos: Q, queues: [Q0] }).ops), [
      exists('Bridge', 'br0'),
      same('Port', 'p1', P),
      { op: 'update', table: 'Port', where: [['_uuid', '==', ['uuid', P]]], row: { qos: ['set', []] } },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br0']], mutations: [['ports', 'delete', ['set', [['uuid', P]]]]] },
      { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', Q]]] },
      { op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', Q0]]] },
      { op: 'comment', comment: 'netloom: delete port p1 from br0' },
    ]);
  });

  it('controllers and fail mode', () => {
    assert.deepEqual(
      json(
        setControllersTx('br0', [{ target: 'tcp:127.0.0.1:6653', connectionMode: 'out-of-band', inactivityProbeMs: 5000 }], 'secure').ops,
      ),
      [
        exists('Bridge', 'br0'),
        {
          op: 'insert',
          table: 'Controller',
          row: { target: 'tcp:127.0.0.1:6653', connection_mode: 'out-of-band', inactivity_probe: 5000 },
          'uuid-name': 'nl_ctrl_0',
        },
        {
          op: 'update',
          table: 'Bridge',
          where: [['name', '==', 'br0']],
          row: { controller: ['set', [['named-uuid', 'nl_ctrl_0']]], fail_mode: 'secure' },
        },
        { op: 'comment', comment: 'netloom: set 1 controller(s) on br0' },
      ],
    );
    assert.deepEqual((json(setControllersTx('br0', [], null).ops) as Array<Record<string, unknown>>)[1], {
      op: 'update',
      table: 'Bridge',
      where: [['name', '==', 'br0']],
      row: { controller: ['set', []], fail_mode: ['set', []] },
    });
    assert.deepEqual((json(setFailModeTx('br0', 'standalone').ops) as unknown[])[1], {
      op: 'update',
      table: 'Bridge',
      where: [['name', '==', 'br0']],
      row: { fail_mode: 'standalone' },
    });
  });

  it('QoS linux-htb with queues attached to a port, replacing the previous QoS', () => {
    const plan = setPortQosTx(
      'p1',
      { type: 'linux-htb', maxRate: 10_000_000, queues: { 0: { maxRate: 1_000_000 }, 1: { minRate: 500_000, priority: 1 } } },
      { qos: Q, queues: [Q0] },
    );
    assert.deepEqual(json(plan.ops), [
      {
        op: 'wait',
        table: 'Port',
        where: [['name', '==', 'p1']],
        columns: ['name', 'qos'],
        until: '==',
        rows: [{ name: 'p1', qos: ['uuid', Q] }],
        timeout: 0,
      },
      { op: 'insert', table: 'Queue', row: { other_config: ['map', [['max-rate', '1000000']]] }, 'uuid-name': 'nl_queue_0' },
      {
        op: 'insert',
        table: 'Queue',
        row: {
          other_config: [
            'map',
            [
              ['min-rate', '500000'],
              ['priority', '1'],
            ],
          ],
        },
        'uuid-name': 'nl_queue_1',
      },
      {
        op: 'insert',
        table: 'QoS',
        row: {
          type: 'linux-htb',
          other_config: ['map', [['max-rate', '10000000']]],
          queues: [
            'map',
            [
              [0, ['named-uuid', 'nl_queue_0']],
              [1, ['named-uuid', 'nl_queue_1']],
            ],
          ],
        },
        'uuid-name': 'nl_qos',
      },
      { op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { qos: ['named-uuid', 'nl_qos'] } },
      { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', Q]]] },
      { op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', Q0]]] },
      { op: 'comment', comment: 'netloom: set QoS linux-htb on p1' },
    ]);
    // no previous QoS: the guard expects an empty qos column
    const first = json(setPortQosTx('p1', { type: 'linux-htb' }).ops) as Array<{ rows?: unknown }>;
    assert.deepEqual(first[0]?.rows, [{ name: 'p1', qos: ['set', []] }]);
    assert.deepEqual(json(clearPortQosTx('p1', { qos: Q, queues: [] }).ops), [
      { op: 'wait', table: 'Port', where: [['name', '==', 'p1']], columns: ['qos'], until: '==', rows: [{ qos: ['uuid', Q] }], timeout: 0 },
      { op: 'update', table: 'Port', where: [['name', '==', 'p1']], row: { qos: ['set', []] } },
      { op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', Q]]] },
      { op: 'comment', comment: 'netloom: clear QoS on p1' },
    ]);
  });

  it('set keys of a map column overwrite (delete keys, then insert) in one mutate; clear deletes keys', () => {
    assert.deepEqual(json(setMapKeysTx('Bridge', 'br0', 'external_ids', { a: '1', b: '2' }).ops), [
      exists('Bridge', 'br0'),
      {
        op: 'mutate',
        table: 'Bridge',
        where: [['name', '==', 'br0']],
        mutations: [
          ['external_ids', 'delete', ['set', ['a', 'b']]],
          [
            'external_ids',
            'insert',
            [
              'map',
              [
                ['a', '1'],
                ['b', '2'],
              ],
            ],
          ],
        ],
      },
    ]);
    assert.deepEqual(json(clearMapKeysTx('Open_vSwitch', undefined, 'other_config', ['x']).ops), [
      rootExists,
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['other_config', 'delete', ['set', ['x']]]] },
    ]);
    // nothing to set: only the existence check remains
    assert.deepEqual(json(setMapKeysTx('Bridge', 'br0', 'other_config', {}).ops), [exists('Bridge', 'br0')]);
  });

  it('wait for ofport: blocking waits until the row exists and ofport is set, then a select, in one transaction', () => {
    const plan = waitOfportTx('vxlan0', 3000);
    assert.deepEqual(
      plan.guards.map((g) => [g.opIndex, g.code]),
      [
        [0, 'TIMEOUT'],
        [1, 'TIMEOUT'],
      ],
    );
    assert.deepEqual(json(plan.ops), [
      {
        op: 'wait',
        table: 'Interface',
        where: [['name', '==', 'vxlan0']],
        columns: ['name'],
        until: '==',
        rows: [{ name: 'vxlan0' }],
        timeout: 3000,
      },
      {
        op: 'wait',
        table: 'Interface',
        where: [['name', '==', 'vxlan0']],
        columns: ['ofport'],
        until: '!=',
        rows: [{ ofport: ['set', []] }],
        timeout: 3000,
      },
      { op: 'select', table: 'Interface', where: [['name', '==', 'vxlan0']], columns: ['name', 'ofport', 'error'] },
    ]);
  });

  it('sync with ovs-vswitchd: bump next_cfg, then block until cur_cfg >= it', () => {
    assert.deepEqual(json(bumpNextCfgTx().ops), [
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
      { op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] },
    ]);
    const plan = waitCurCfgTx(12, 5000);
    assert.deepEqual(json(plan.ops), [
      { op: 'wait', table: 'Open_vSwitch', where: [['cur_cfg', '>=', 12]], columns: ['_uuid'], until: '!=', rows: [], timeout: 5000 },
    ]);
    assert.equal(plan.guards[0]?.code, 'TIMEOUT');
  });

  it('refuses bad input, naming the field', () => {
    assert.throws(() => addBridgeTx({ name: 'a-name-longer-than-15' }), isErr('INVALID_ARGUMENT', 'bridge.name'));
    assert.throws(() => addBridgeTx({ name: 'br0', protocols: ['OpenFlow99' as never] }), isErr('INVALID_ARGUMENT', 'bridge.protocols'));
    assert.throws(() => addBridgeTx({ name: 'br0', failMode: 'open' as never }), isErr('INVALID_ARGUMENT', 'bridge.failMode'));
    assert.throws(() => addBridgeTx({ name: 'br0', externalIds: { a: 1 as never } }), isErr('INVALID_ARGUMENT', 'bridge.externalIds.a'));
    assert.throws(() => addPortTx('br0', { name: 'p', tag: 4096 }), isErr('INVALID_ARGUMENT', 'port.tag'));
    assert.throws(() => addPortTx('br0', { name: 'p', trunks: [1, -1] }), isErr('INVALID_ARGUMENT', 'port.trunks[1]'));
    assert.throws(() => addPortTx('br0', { name: 'p', ofportRequest: 0 }), isErr('INVALID_ARGUMENT', 'port.ofportRequest'));
    assert.throws(() => addPortTx('br0', { name: 'p', type: 'patch' }), isErr('INVALID_ARGUMENT', 'port.options.peer'));
    assert.throws(() => addPortTx('br0', { name: 'p', type: 'vxlan' }), isErr('INVALID_ARGUMENT', 'port.options.remote_ip'));
    assert.throws(() => addPortTx('br0', { name: 'has space' }), isErr('INVALID_ARGUMENT', 'port.name'));
    assert.throws(() => addPortTx('', { name: 'p' }), isErr('INVALID_ARGUMENT', 'bridge'));
    assert.throws(() => setControllersTx('br0', [{ target: '127.0.0.1:6653' }]), isErr('INVALID_ARGUMENT', 'controllers[0].target'));
    assert.throws(
      () => setPortQosTx('p1', { type: 'linux-htb', queues: { 0: { dscp: 64 } } }),
      isErr('INVALID_ARGUMENT', 'qos.queues[0].dscp'),
    );
    // a long name is fine for a vxlan port (not a kernel device)
    addPortTx('br0', { name: 'vxlan-to-host-number-42', type: 'vxlan', options: { remote_ip: '10.0.0.2' } });
  });
});

describe('Open_vSwitch state assembly', () => {
  it('joins bridges, ports, interfaces, controllers, QoS and queues into plain data; finds orphans', () => {
    const ORPHAN = '99999999-0000-4000-8000-000000000009';
    const state = assembleState([
      {
        rows: [
          {
            _uuid: ['uuid', B],
            name: 'br0',
            datapath_type: 'netdev',
            fail_mode: 'secure',
            protocols: 'OpenFlow13',
            controller: ['uuid', C],
            ports: ['set', [['uuid', P]]],
            other_config: ['map', []],
            external_ids: ['map', [['k', 'v']]],
          },
        ],
      },
      {
        rows: [
          {
            _uuid: ['uuid', P],
            name: 'p1',
            interfaces: ['uuid', I],
            tag: 7,
            trunks: ['set', []],
            vlan_mode: ['set', []],
            qos: ['uuid', Q],
            other_config: ['map', []],
            external_ids: ['map', []],
          },
        ],
      },
      {
        rows: [
          {
            _uuid: ['uuid', I],
            name: 'p1',
            type: 'internal',
            options: ['map', []],
            ofport: 3,
            ofport_request: ['set', []],
            error: ['set', []],
            mac_in_use: '02:00:00:00:00:01',
            external_ids: ['map', []],
          },
        ],
      },
      { rows: [{ _uuid: ['uuid', C], target: 'tcp:127.0.0.1:6653', connection_mode: ['set', []], is_connected: true, role: 'master' }] },
      {
        rows: [
          {
            _uuid: ['uuid', Q],
            type: 'linux-htb',
            other_config: ['map', [['max-rate', '100']]],
            queues: ['map', [[0, ['uuid', Q0]]]],
            external_ids: ['map', []],
          },
          { _uuid: ['uuid', ORPHAN], type: 'linux-htb', other_config: ['map', []], queues: ['map', []], external_ids: ['map', []] },
        ],
      },
      { rows: [{ _uuid: ['uuid', Q0], dscp: ['set', []], other_config: ['map', [['max-rate', '10']]], external_ids: ['map', []] }] },
    ]);
    assert.deepEqual(state.bridges, [
      {
        uuid: B,
        name: 'br0',
        datapathType: 'netdev',
        failMode: 'secure',
        protocols: ['OpenFlow13'],
        controllers: [{ uuid: C, target: 'tcp:127.0.0.1:6653', connectionMode: undefined, isConnected: true, role: 'master' }],
        otherConfig: {},
        externalIds: { k: 'v' },
        ports: [
          {
            uuid: P,
            name: 'p1',
            tag: 7,
            trunks: [],
            vlanMode: undefined,
            qos: {
              uuid: Q,
              type: 'linux-htb',
              otherConfig: { 'max-rate': '100' },
              externalIds: {},
              queues: { 0: { uuid: Q0, dscp: undefined, otherConfig: { 'max-rate': '10' }, externalIds: {} } },
            },
            otherConfig: {},
            externalIds: {},
            interfaces: [
              {
                uuid: I,
                name: 'p1',
                type: 'internal',
                options: {},
                ofport: 3,
                ofportRequest: undefined,
                error: undefined,
                macInUse: '02:00:00:00:00:01',
                externalIds: {},
              },
            ],
          },
        ],
      },
    ]);
    assert.deepEqual(
      state.orphanQos.map((q) => q.uuid),
      [ORPHAN],
    );
    assert.deepEqual(state.orphanQueues, []);
    assert.equal(readStateTx().ops.length, 6);
  });
});

describe('locating a port', () => {
  it('one read transaction; finds the bridge holding the port and the QoS queues', () => {
    assert.deepEqual(json(locatePortTx('p1').ops), [
      { op: 'select', table: 'Port', where: [['name', '==', 'p1']], columns: ['_uuid', 'qos'] },
      { op: 'select', table: 'Bridge', where: [], columns: ['name', 'ports'] },
      { op: 'select', table: 'QoS', where: [], columns: ['_uuid', 'queues'] },
    ]);
    const bridges: SelectResult = {
      rows: [
        { name: 'br-x', ports: ['set', []] },
        {
          name: 'br0',
          ports: [
            'set',
            [
              ['uuid', I],
              ['uuid', P],
            ],
          ],
        },
      ],
    };
    assert.deepEqual(
      locatePort([
        { rows: [{ _uuid: ['uuid', P], qos: ['uuid', Q] }] },
        bridges,
        { rows: [{ _uuid: ['uuid', Q], queues: ['map', [[0, ['uuid', Q0]]]] }] },
      ]),
      {
        portUuid: P,
        bridge: 'br0',
        qos: { qos: Q, queues: [Q0] },
      },
    );
    assert.deepEqual(locatePort([{ rows: [{ _uuid: ['uuid', P], qos: ['set', []] }] }, { rows: [] }, { rows: [] }]), {
      portUuid: P,
      bridge: undefined,
      qos: undefined,
    });
    assert.equal(locatePort([{ rows: [] }, bridges, { rows: [] }]), undefined);
  });
});

describe('Open_vSwitch root row', () => {
  it('reads versions, types and counters; no row is NOT_FOUND', () => {
    assert.deepEqual(
      rootState({
        _uuid: ['uuid', B],
        ovs_version: '3.1.0',
        db_version: ['set', []],
        datapath_types: ['set', ['system', 'netdev']],
        iface_types: 'internal',
        external_ids: ['map', [['system-id', 'h1']]],
        other_config: ['map', []],
        next_cfg: 5,
        cur_cfg: 4,
      }),
      {
        uuid: B,
        ovsVersion: '3.1.0',
        dbVersion: undefined,
        datapathTypes: ['netdev', 'system'],
        ifaceTypes: ['internal'],
        externalIds: { 'system-id': 'h1' },
        otherConfig: {},
        nextCfg: 5,
        curCfg: 4,
      },
    );
    assert.throws(
      () => rootState(undefined),
      (e: unknown) => isNetloomError(e, 'NOT_FOUND'),
    );
  });
});

describe('Open_vSwitch interface events', () => {
  it('turn monitor row changes into plain interface events (delete reads the old row)', () => {
    assert.deepEqual(
      interfaceEvent({
        table: 'Interface',
        uuid: I,
        kind: 'modify',
        old: { ofport: ['set', []] },
        new: { name: 'p1', type: '', ofport: 4, error: ['set', []], external_ids: ['map', [['iface-id', 'x']]] },
      }),
      {
        kind: 'modify',
        uuid: I,
        name: 'p1',
        type: '',
        ofport: 4,
        error: undefined,
        externalIds: { 'iface-id': 'x' },
      },
    );
    const del = interfaceEvent({
      table: 'Interface',
      uuid: I,
      kind: 'delete',
      old: { name: 'p1', type: 'internal', ofport: -1, error: 'could not open network device p1', external_ids: ['map', []] },
    });
    assert.deepEqual([del.name, del.ofport, del.error], ['p1', -1, 'could not open network device p1']);
  });
});

describe('VSwitch guard errors', () => {
  it('a failed guard becomes the error it names, with the OvsdbError as cause', async () => {
    const peer = fakePeer();
    const vs = new VSwitch(new OvsdbClient(peer.clientSide));
    const p = vs.addPort('br-missing', { name: 'p1', type: 'internal' });
    await peer.waitSent(1);
    peer.send({ id: 1, result: [{ error: 'timed out' }, null, null, null, null, null, null], error: null });
    await assert.rejects(p, (e: unknown) => {
      assert.ok(isNetloomError(e, 'NOT_FOUND'));
      assert.equal(e.field, 'bridge');
      assert.match(e.message, /Bridge br-missing does not exist/);
      assert.equal(e.details?.opIndex, 0);
      return true;
    });
    // a failure that is not a guard passes through as the OvsdbError
    const q = vs.addPort('br0', { name: 'p2', type: 'internal' });
    await peer.waitSent(2);
    peer.send({
      id: 2,
      result: [{}, {}, {}, { uuid: ['uuid', I] }, { uuid: ['uuid', P] }, { count: 1 }, {}, { error: 'resources exhausted' }],
      error: null,
    });
    await assert.rejects(q, (e: unknown) => isNetloomError(e, 'EXHAUSTED') && (e as { atCommit?: boolean }).atCommit === true);
    await vs.client.close();
  });
});
