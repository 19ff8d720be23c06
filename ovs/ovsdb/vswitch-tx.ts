/**
 * Pure builders of ONE Open_vSwitch transaction per change (add/delete bridge, add/delete port,
 * controllers and fail mode, QoS with queues, other_config/external_ids keys, ofport wait). Each
 * returns the operations plus its guards: `wait` operations (timeout 0) that make the transaction
 * fail instead of silently doing nothing or clobbering a concurrent writer (bridge must exist, port
 * must not, the row read earlier must still be the one we change). The VSwitch class runs them and
 * turns a failed guard into the NetloomError the guard names.
 */
import { ErrorCode } from '../../lib/errors';
import { Atom, emptySet, namedUuid, ovsMap, ovsSet, PlainValue, uuid } from './datum';
import { byUuid, comment, cond, del, eq, insert, mutate, mutation, Operation, select, update, wait } from './operations';
import {
  BridgeSpec,
  ControllerSpec,
  FailMode,
  PortSpec,
  QosSpec,
  QueueSpec,
  StringMap,
  validateBridge,
  validateController,
  validatePort,
  validateQos,
  checkName,
} from './vswitch-specs';

/** The database these helpers work on. */
export const VSWITCH_DB = 'Open_vSwitch';

export interface Guard {
  opIndex: number;
  code: ErrorCode;
  field: string;
  message: string;
}

export interface TxPlan {
  ops: Operation[];
  guards: Guard[];
}

class PlanBuilder {
  readonly ops: Operation[] = [];
  readonly guards: Guard[] = [];
  guard(op: Operation, code: ErrorCode, field: string, message: string): this {
    this.guards.push({ opIndex: this.ops.length, code, field, message });
    this.ops.push(op);
    return this;
  }
  add(...ops: Operation[]): this {
    this.ops.push(...ops);
    return this;
  }
  plan(): TxPlan {
    return { ops: this.ops, guards: this.guards };
  }
}

function withOptional(row: Record<string, PlainValue>, column: string, v: PlainValue): void {
  if (v !== undefined) row[column] = v;
}

function existsGuard(b: PlanBuilder, table: string, name: string, field: string): void {
  b.guard(wait(table, [eq('name', name)], ['name'], '==', [{ name }], 0), 'NOT_FOUND', field, `${table} ${name} does not exist`);
}

function absentGuard(b: PlanBuilder, table: string, name: string, field: string): void {
  b.guard(wait(table, [eq('name', name)], ['name'], '==', [], 0), 'ALREADY_EXISTS', field, `${table} ${name} already exists`);
}

/** The single Open_vSwitch row exists (else a mutate of it would silently change nothing). */
function rootGuard(b: PlanBuilder): void {
  b.guard(
    wait('Open_vSwitch', [], ['_uuid'], '!=', [], 0),
    'NOT_FOUND',
    'Open_vSwitch',
    'the Open_vSwitch table has no row (database not initialised: run ovs-vsctl init)',
  );
}

/** Still the same row (by uuid) that we read before building the transaction. */
function sameRowGuard(b: PlanBuilder, table: string, name: string, rowUuid: string, field: string): void {
  b.guard(
    wait(table, [eq('name', name)], ['_uuid'], '==', [{ _uuid: uuid(rowUuid) }], 0),
    'CONFLICT',
    field,
    `${table} ${name} was changed or removed by someone else meanwhile (expected row ${rowUuid})`,
  );
}

/**
 * Add a bridge with its local internal port (as ovs-vsctl add-br does) and attach it to the root
 * Open_vSwitch row with a mutate (insert into the set), so concurrent add-bridges do not clobber.
 */
export function addBridgeTx(spec: BridgeSpec): TxPlan {
  validateBridge(spec);
  const b = new PlanBuilder();
  rootGuard(b);
  absentGuard(b, 'Bridge', spec.name, 'bridge.name');
  absentGuard(b, 'Port', spec.name, 'bridge.name');
  absentGuard(b, 'Interface', spec.name, 'bridge.name');
  b.add(insert('Interface', { name: spec.name, type: 'internal' }, 'nl_local_iface'));
  b.add(insert('Port', { name: spec.name, interfaces: [namedUuid('nl_local_iface')] }, 'nl_local_port'));
  const row: Record<string, PlainValue> = { name: spec.name, ports: [namedUuid('nl_local_port')] };
  withOptional(row, 'datapath_type', spec.datapathType);
  withOptional(row, 'fail_mode', spec.failMode);
  if (spec.protocols !== undefined) row.protocols = [...spec.protocols];
  withOptional(row, 'other_config', spec.otherConfig);
  withOptional(row, 'external_ids', spec.externalIds);
  b.add(insert('Bridge', row, 'nl_bridge'));
  b.add(mutate('Open_vSwitch', [], [mutation('bridges', 'insert', [namedUuid('nl_bridge')])]));
  b.add(comment(`netloom: add bridge ${spec.name}`));
  return b.plan();
}

export interface QosRef {
  /** uuid of the QoS row */
  qos: string;
  /** uuids of its Queue rows */
  queues: readonly string[];
}

function deleteQosOps(b: PlanBuilder, q: QosRef): void {
  b.add(del('QoS', [byUuid(q.qos)]));
  for (const qu of q.queues) b.add(del('Queue', [byUuid(qu)]));
}

/**
 * Delete a bridge read earlier (its uuid): detach it from the root row; its ports, interfaces and
 * controllers go with it (non-root tables are garbage collected). QoS and Queue are root tables,
 * so the QoS of its ports (`portQos`: port uuid -> QoS) is detached and deleted explicitly.
 */
export function deleteBridgeTx(name: string, bridgeUuid: string, portQos: ReadonlyArray<{ port: string; qos: QosRef }> = []): TxPlan {
  checkName('bridge.name', name, false);
  const b = new PlanBuilder();
  sameRowGuard(b, 'Bridge', name, bridgeUuid, 'bridge.name');
  for (const pq of portQos) b.add(update('Port', [byUuid(pq.port)], { qos: emptySet() }));
  b.add(mutate('Open_vSwitch', [], [mutation('bridges', 'delete', [uuid(bridgeUuid)])]));
  for (const pq of portQos) deleteQosOps(b, pq.qos);
  b.add(comment(`netloom: delete bridge ${name}`));
  return b.plan();
}

function interfaceRow(spec: PortSpec): Record<string, PlainValue> {
  const row: Record<string, PlainValue> = { name: spec.name };
  if (spec.type !== undefined && spec.type !== 'system') row.type = spec.type;
  withOptional(row, 'options', spec.options);
  withOptional(row, 'ofport_request', spec.ofportRequest);
  withOptional(row, 'mtu_request', spec.mtuRequest);
  withOptional(row, 'mac', spec.mac);
  withOptional(row, 'external_ids', spec.interfaceExternalIds);
  return row;
}

function addPortOps(b: PlanBuilder, bridge: string, spec: PortSpec, key: string): void {
  validatePort(spec);
  absentGuard(b, 'Port', spec.name, 'port.name');
  absentGuard(b, 'Interface', spec.name, 'port.name');
  const ifaceName = `nl_iface_${key}`;
  const portName = `nl_port_${key}`;
  b.add(insert('Interface', interfaceRow(spec), ifaceName));
  const row: Record<string, PlainValue> = { name: spec.name, interfaces: [namedUuid(ifaceName)] };
  withOptional(row, 'tag', spec.tag);
  if (spec.trunks !== undefined) row.trunks = [...spec.trunks];
  withOptional(row, 'vlan_mode', spec.vlanMode);
  withOptional(row, 'external_ids', spec.externalIds);
  withOptional(row, 'other_config', spec.otherConfig);
  b.add(insert('Port', row, portName));
  b.add(mutate('Bridge', [eq('name', bridge)], [mutation('ports', 'insert', [namedUuid(portName)])]));
}

/** Add a port with one interface to an existing bridge. */
export function addPortTx(bridge: string, spec: PortSpec): TxPlan {
  checkName('bridge', bridge, false);
  const b = new PlanBuilder();
  existsGuard(b, 'Bridge', bridge, 'bridge');
  addPortOps(b, bridge, spec, '0');
  b.add(comment(`netloom: add port ${spec.name} to ${bridge}`));
  return b.plan();
}

/** Two patch ports, each the other's peer, in one transaction. */
export function addPatchPairTx(bridgeA: string, portA: string, bridgeB: string, portB: string, extra: Partial<PortSpec> = {}): TxPlan {
  checkName('bridgeA', bridgeA, false);
  checkName('bridgeB', bridgeB, false);
  const b = new PlanBuilder();
  existsGuard(b, 'Bridge', bridgeA, 'bridgeA');
  if (bridgeB !== bridgeA) existsGuard(b, 'Bridge', bridgeB, 'bridgeB');
  addPortOps(b, bridgeA, { ...extra, name: portA, type: 'patch', options: { peer: portB } }, 'a');
  addPortOps(b, bridgeB, { ...extra, name: portB, type: 'patch', options: { peer: portA } }, 'b');
  b.add(comment(`netloom: patch ${bridgeA}/${portA} <-> ${bridgeB}/${portB}`));
  return b.plan();
}

/** Delete a port read earlier (its uuid) from its bridge, with its QoS if it has one. */
export function deletePortTx(bridge: string, name: string, portUuid: string, qos?: QosRef): TxPlan {
  checkName('bridge', bridge, false);
  checkName('port.name', name, false);
  const b = new PlanBuilder();
  existsGuard(b, 'Bridge', bridge, 'bridge');
  sameRowGuard(b, 'Port', name, portUuid, 'port.name');
  if (qos) b.add(update('Port', [byUuid(portUuid)], { qos: emptySet() }));
  b.add(mutate('Bridge', [eq('name', bridge)], [mutation('ports', 'delete', [uuid(portUuid)])]));
  if (qos) deleteQosOps(b, qos);
  b.add(comment(`netloom: delete port ${name} from ${bridge}`));
  return b.plan();
}

/**
 * Replace the bridge's controllers (an empty list removes them) and optionally set its fail mode
 * (null clears it). Old Controller rows are garbage collected.
 */
export function setControllersTx(bridge: string, controllers: readonly ControllerSpec[], failMode?: FailMode | null): TxPlan {
  checkName('bridge', bridge, false);
  controllers.forEach((c, i) => validateController(c, i));
  const b = new PlanBuilder();
  existsGuard(b, 'Bridge', bridge, 'bridge');
  const refs: Atom[] = [];
  controllers.forEach((c, i) => {
    const row: Record<string, PlainValue> = { target: c.target };
    withOptional(row, 'connection_mode', c.connectionMode);
    withOptional(row, 'inactivity_probe', c.inactivityProbeMs);
    withOptional(row, 'max_backoff', c.maxBackoffMs);
    b.add(insert('Controller', row, `nl_ctrl_${i}`));
    refs.push(namedUuid(`nl_ctrl_${i}`));
  });
  const row: Record<string, PlainValue> = { controller: ovsSet(refs) };
  if (failMode !== undefined) row.fail_mode = failMode === null ? emptySet() : failMode;
  b.add(update('Bridge', [eq('name', bridge)], row));
  b.add(comment(`netloom: set ${controllers.length} controller(s) on ${bridge}`));
  return b.plan();
}

export function setFailModeTx(bridge: string, failMode: FailMode | null): TxPlan {
  checkName('bridge', bridge, false);
  const b = new PlanBuilder();
  existsGuard(b, 'Bridge', bridge, 'bridge');
  b.add(update('Bridge', [eq('name', bridge)], { fail_mode: failMode === null ? emptySet() : failMode }));
  return b.plan();
}

function queueRow(q: QueueSpec): Record<string, PlainValue> {
  const oc: Record<string, string> = {};
  if (q.minRate !== undefined) oc['min-rate'] = String(q.minRate);
  if (q.maxRate !== undefined) oc['max-rate'] = String(q.maxRate);
  if (q.burst !== undefined) oc.burst = String(q.burst);
  if (q.priority !== undefined) oc.priority = String(q.priority);
  const row: Record<string, PlainValue> = { other_config: { ...oc, ...(q.otherConfig ?? {}) } };
  withOptional(row, 'dscp', q.dscp);
  withOptional(row, 'external_ids', q.externalIds);
  return row;
}

/**
 * Create a QoS (with its queues) and attach it to a port. `previous` is the QoS the port had when
 * read (it is detached and deleted, so no orphan rows stay); the guard fails the transaction when
 * the port's qos changed meanwhile.
 */
export function setPortQosTx(port: string, spec: QosSpec, previous?: QosRef): TxPlan {
  checkName('port', port, false);
  validateQos(spec);
  const b = new PlanBuilder();
  b.guard(
    wait('Port', [eq('name', port)], ['name', 'qos'], '==', [{ name: port, qos: previous ? uuid(previous.qos) : emptySet() }], 0),
    'CONFLICT',
    'port',
    `Port ${port} does not exist or its QoS changed meanwhile`,
  );
  const queueRefs = new Map<Atom, Atom>();
  for (const [num, q] of Object.entries(spec.queues ?? {})) {
    const name = `nl_queue_${num}`;
    b.add(insert('Queue', queueRow(q), name));
    queueRefs.set(Number(num), namedUuid(name));
  }
  const oc: Record<string, string> = {
    ...(spec.maxRate !== undefined ? { 'max-rate': String(spec.maxRate) } : {}),
    ...(spec.otherConfig ?? {}),
  };
  const row: Record<string, PlainValue> = { type: spec.type, other_config: oc, queues: ovsMap(queueRefs) };
  withOptional(row, 'external_ids', spec.externalIds);
  b.add(insert('QoS', row, 'nl_qos'));
  b.add(update('Port', [eq('name', port)], { qos: namedUuid('nl_qos') }));
  if (previous) deleteQosOps(b, previous);
  b.add(comment(`netloom: set QoS ${spec.type} on ${port}`));
  return b.plan();
}

/** Detach the port's QoS (read earlier) and delete it and its queues. */
export function clearPortQosTx(port: string, current: QosRef): TxPlan {
  checkName('port', port, false);
  const b = new PlanBuilder();
  b.guard(
    wait('Port', [eq('name', port)], ['qos'], '==', [{ qos: uuid(current.qos) }], 0),
    'CONFLICT',
    'port',
    `Port ${port} does not exist or its QoS changed meanwhile`,
  );
  b.add(update('Port', [eq('name', port)], { qos: emptySet() }));
  deleteQosOps(b, current);
  b.add(comment(`netloom: clear QoS on ${port}`));
  return b.plan();
}

/** Tables whose rows are addressed by name here; Open_vSwitch is the single root row. */
export type KeyedTable = 'Open_vSwitch' | 'Bridge' | 'Port' | 'Interface';
export type MapColumn = 'other_config' | 'external_ids' | 'options';

function whereFor(b: PlanBuilder, table: KeyedTable, name: string | undefined): ReturnType<typeof eq>[] {
  if (table === 'Open_vSwitch') {
    rootGuard(b);
    return [];
  }
  const n = checkName('name', name, false);
  existsGuard(b, table, n, 'name');
  return [eq('name', n)];
}

/**
 * Set keys of a map column (other_config, external_ids, options), overwriting existing values and
 * keeping other keys: one mutate that deletes the keys, then inserts the pairs.
 */
export function setMapKeysTx(table: KeyedTable, name: string | undefined, column: MapColumn, entries: StringMap): TxPlan {
  const b = new PlanBuilder();
  const where = whereFor(b, table, name);
  const keys = Object.keys(entries);
  if (keys.length === 0) return b.plan();
  b.add(mutate(table, where, [mutation(column, 'delete', ovsSet(keys)), mutation(column, 'insert', ovsMap(entries))]));
  return b.plan();
}

/** Remove keys of a map column (absent keys are fine). */
export function clearMapKeysTx(table: KeyedTable, name: string | undefined, column: MapColumn, keys: readonly string[]): TxPlan {
  const b = new PlanBuilder();
  const where = whereFor(b, table, name);
  if (keys.length === 0) return b.plan();
  b.add(mutate(table, where, [mutation(column, 'delete', ovsSet(keys))]));
  return b.plan();
}

export const BRIDGE_COLUMNS = [
  '_uuid',
  'name',
  'datapath_type',
  'fail_mode',
  'protocols',
  'controller',
  'ports',
  'other_config',
  'external_ids',
];
export const PORT_COLUMNS = ['_uuid', 'name', 'interfaces', 'tag', 'trunks', 'vlan_mode', 'qos', 'other_config', 'external_ids'];
export const INTERFACE_COLUMNS = ['_uuid', 'name', 'type', 'options', 'ofport', 'ofport_request', 'error', 'mac_in_use', 'external_ids'];
export const CONTROLLER_COLUMNS = ['_uuid', 'target', 'connection_mode', 'is_connected', 'role'];
export const QOS_COLUMNS = ['_uuid', 'type', 'other_config', 'queues', 'external_ids'];
export const QUEUE_COLUMNS = ['_uuid', 'dscp', 'other_config', 'external_ids'];

/** One read-only transaction selecting everything `readState` assembles. */
export function readStateTx(): TxPlan {
  return {
    ops: [
      select('Bridge', [], BRIDGE_COLUMNS),
      select('Port', [], PORT_COLUMNS),
      select('Interface', [], INTERFACE_COLUMNS),
      select('Controller', [], CONTROLLER_COLUMNS),
      select('QoS', [], QOS_COLUMNS),
      select('Queue', [], QUEUE_COLUMNS),
    ],
    guards: [],
  };
}

/**
 * Block (server side, up to `timeoutMs`) until the interface exists and has an ofport, then read
 * it: two `wait`s (row present; ofport no longer the empty set) and a select, in one transaction.
 * ovsdb-server re-runs a blocked transaction after every commit until its waits hold or time out.
 */
export function waitOfportTx(iface: string, timeoutMs: number): TxPlan {
  checkName('interface', iface, false);
  const b = new PlanBuilder();
  const message = `Interface ${iface} does not exist or got no ofport within ${timeoutMs} ms`;
  b.guard(wait('Interface', [eq('name', iface)], ['name'], '==', [{ name: iface }], timeoutMs), 'TIMEOUT', 'interface', message);
  b.guard(wait('Interface', [eq('name', iface)], ['ofport'], '!=', [{ ofport: emptySet() }], timeoutMs), 'TIMEOUT', 'interface', message);
  b.add(select('Interface', [eq('name', iface)], ['name', 'ofport', 'error']));
  return b.plan();
}

/**
 * What deleting or re-QoSing one port needs to know, read in one small transaction: the port
 * (uuid, qos), which bridge holds it (bridges are few), and the QoS rows with their queues.
 */
export function locatePortTx(name: string): TxPlan {
  checkName('port', name, false);
  return {
    ops: [
      select('Port', [eq('name', name)], ['_uuid', 'qos']),
      select('Bridge', [], ['name', 'ports']),
      select('QoS', [], ['_uuid', 'queues']),
    ],
    guards: [],
  };
}

export const ROOT_COLUMNS = [
  '_uuid',
  'ovs_version',
  'db_version',
  'datapath_types',
  'iface_types',
  'external_ids',
  'other_config',
  'next_cfg',
  'cur_cfg',
];

/** Read the single Open_vSwitch root row. */
export function readRootTx(): TxPlan {
  return { ops: [select('Open_vSwitch', [], ROOT_COLUMNS)], guards: [] };
}

/**
 * Ask ovs-vswitchd to report when it has applied everything committed so far (as ovs-vsctl does
 * without --no-wait): bump next_cfg and read the new value back.
 */
export function bumpNextCfgTx(): TxPlan {
  return { ops: [mutate('Open_vSwitch', [], [mutation('next_cfg', '+=', 1)]), select('Open_vSwitch', [], ['next_cfg'])], guards: [] };
}

/** Block until ovs-vswitchd reports cur_cfg >= `cfg` (it sets cur_cfg after reconfiguring). */
export function waitCurCfgTx(cfg: number, timeoutMs: number): TxPlan {
  const b = new PlanBuilder();
  b.guard(
    wait('Open_vSwitch', [cond('cur_cfg', '>=', cfg)], ['_uuid'], '!=', [], timeoutMs),
    'TIMEOUT',
    'cur_cfg',
    `ovs-vswitchd did not apply configuration ${cfg} within ${timeoutMs} ms (is it running?)`,
  );
  return b.plan();
}
