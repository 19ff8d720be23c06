/**
 * Typed access to the Open_vSwitch database over an OvsdbClient: read bridges, ports, interfaces
 * (with ofport), controllers and QoS as plain data, and apply each change as ONE guarded
 * transaction built by vswitch-tx.ts. A failed guard becomes the NetloomError it names
 * (NOT_FOUND, ALREADY_EXISTS, CONFLICT, TIMEOUT) with the OvsdbError as its cause.
 */
import { NetloomError } from '../../lib/errors';
import { Row, mapToRecord, optionalValue, setValues, uuidValue, mapEntries } from './datum';
import { Monitor, OvsdbClient } from './client';
import { RowChange, RowChangeKind } from './monitor';
import { isOvsdbError } from './errors';
import { InsertResult, OperationResult, SelectResult } from './operations';
import { BridgeSpec, ControllerSpec, FailMode, PortSpec, QosSpec, StringMap } from './vswitch-specs';
import {
  addBridgeTx,
  addPatchPairTx,
  addPortTx,
  clearMapKeysTx,
  clearPortQosTx,
  VSWITCH_DB,
  deleteBridgeTx,
  deletePortTx,
  KeyedTable,
  MapColumn,
  QosRef,
  readStateTx,
  locatePortTx,
  readRootTx,
  bumpNextCfgTx,
  waitCurCfgTx,
  setControllersTx,
  setFailModeTx,
  setMapKeysTx,
  setPortQosTx,
  TxPlan,
  waitOfportTx,
} from './vswitch-tx';

export interface InterfaceState {
  uuid: string;
  name: string;
  /** '' for a plain system device */
  type: string;
  options: Record<string, string>;
  /** undefined until ovs-vswitchd assigns one; -1 when it could not */
  ofport: number | undefined;
  ofportRequest: number | undefined;
  error: string | undefined;
  macInUse: string | undefined;
  externalIds: Record<string, string>;
}

export interface QueueState {
  uuid: string;
  dscp: number | undefined;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
}

export interface QosState {
  uuid: string;
  type: string;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  /** queue number -> queue */
  queues: Record<number, QueueState>;
}

export interface PortState {
  uuid: string;
  name: string;
  tag: number | undefined;
  trunks: number[];
  vlanMode: string | undefined;
  qos: QosState | undefined;
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  interfaces: InterfaceState[];
}

export interface ControllerState {
  uuid: string;
  target: string;
  connectionMode: string | undefined;
  isConnected: boolean;
  role: string | undefined;
}

export interface BridgeState {
  uuid: string;
  name: string;
  datapathType: string;
  failMode: FailMode | undefined;
  protocols: string[];
  controllers: ControllerState[];
  otherConfig: Record<string, string>;
  externalIds: Record<string, string>;
  ports: PortState[];
}

/** The Open_vSwitch root row. */
export interface RootState {
  uuid: string;
  ovsVersion: string | undefined;
  dbVersion: string | undefined;
  datapathTypes: string[];
  ifaceTypes: string[];
  externalIds: Record<string, string>;
  otherConfig: Record<string, string>;
  nextCfg: number;
  curCfg: number;
}

/** The root row from the result of `readRootTx` (pure; exported for tests). */
export function rootState(row: Row | undefined): RootState {
  if (!row) throw new NetloomError('NOT_FOUND', 'the Open_vSwitch table has no row (database not initialised: run ovs-vsctl init)');
  return {
    uuid: uuidValue(row._uuid),
    ovsVersion: str(optionalValue(row.ovs_version)),
    dbVersion: str(optionalValue(row.db_version)),
    datapathTypes: setValues(row.datapath_types).map(String).sort(),
    ifaceTypes: setValues(row.iface_types).map(String).sort(),
    externalIds: mapToRecord(row.external_ids),
    otherConfig: mapToRecord(row.other_config),
    nextCfg: Number(row.next_cfg ?? 0),
    curCfg: Number(row.cur_cfg ?? 0),
  };
}

export interface VSwitchState {
  bridges: BridgeState[];
  /** QoS rows no port references (should stay empty when only netloom manages QoS) */
  orphanQos: QosState[];
  /** Queue rows no QoS references */
  orphanQueues: QueueState[];
}

function rowsOf(r: OperationResult | undefined): Row[] {
  return (r as SelectResult | undefined)?.rows ?? [];
}

function num(v: string | number | boolean | undefined): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function str(v: string | number | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Assemble the plain state from the results of `readStateTx` (pure; exported for tests). */
export function assembleState(results: readonly OperationResult[]): VSwitchState {
  const [bridges, ports, ifaces, ctrls, qoses, queues] = results.map(rowsOf) as [Row[], Row[], Row[], Row[], Row[], Row[]];
  const queueBy = new Map<string, QueueState>();
  for (const r of queues) {
    const q: QueueState = {
      uuid: uuidValue(r._uuid),
      dscp: num(optionalValue(r.dscp)),
      otherConfig: mapToRecord(r.other_config),
      externalIds: mapToRecord(r.external_ids),
    };
    queueBy.set(q.uuid, q);
  }
  const usedQueues = new Set<string>();
  const qosBy = new Map<string, QosState>();
  for (const r of qoses) {
    const qs: Record<number, QueueState> = {};
    for (const [k, v] of mapEntries(r.queues)) {
      const q = queueBy.get(String(v));
      usedQueues.add(String(v));
      if (q) qs[Number(k)] = q;
    }
    const q: QosState = {
      uuid: uuidValue(r._uuid),
      type: String(r.type ?? ''),
      otherConfig: mapToRecord(r.other_config),
      externalIds: mapToRecord(r.external_ids),
      queues: qs,
    };
    qosBy.set(q.uuid, q);
  }
  const ifaceBy = new Map<string, InterfaceState>();
  for (const r of ifaces) {
    const i: InterfaceState = {
      uuid: uuidValue(r._uuid),
      name: String(r.name),
      type: String(r.type ?? ''),
      options: mapToRecord(r.options),
      ofport: num(optionalValue(r.ofport)),
      ofportRequest: num(optionalValue(r.ofport_request)),
      error: str(optionalValue(r.error)),
      macInUse: str(optionalValue(r.mac_in_use)),
      externalIds: mapToRecord(r.external_ids),
    };
    ifaceBy.set(i.uuid, i);
  }
  const usedQos = new Set<string>();
  const portBy = new Map<string, PortState>();
  for (const r of ports) {
    const qosUuid = str(optionalValue(r.qos));
    if (qosUuid) usedQos.add(qosUuid);
    const p: PortState = {
      uuid: uuidValue(r._uuid),
      name: String(r.name),
      tag: num(optionalValue(r.tag)),
      trunks: setValues(r.trunks)
        .map(Number)
        .sort((a, b) => a - b),
      vlanMode: str(optionalValue(r.vlan_mode)),
      qos: qosUuid ? qosBy.get(qosUuid) : undefined,
      otherConfig: mapToRecord(r.other_config),
      externalIds: mapToRecord(r.external_ids),
      interfaces: setValues(r.interfaces)
        .map((u) => ifaceBy.get(String(u)))
        .filter((i): i is InterfaceState => i !== undefined)
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
    portBy.set(p.uuid, p);
  }
  const ctrlBy = new Map<string, ControllerState>();
  for (const r of ctrls) {
    const c: ControllerState = {
      uuid: uuidValue(r._uuid),
      target: String(r.target),
      connectionMode: str(optionalValue(r.connection_mode)),
      isConnected: r.is_connected === true,
      role: str(optionalValue(r.role)),
    };
    ctrlBy.set(c.uuid, c);
  }
  const out: BridgeState[] = bridges.map((r) => ({
    uuid: uuidValue(r._uuid),
    name: String(r.name),
    datapathType: String(r.datapath_type ?? ''),
    failMode: str(optionalValue(r.fail_mode)) as FailMode | undefined,
    protocols: setValues(r.protocols).map(String).sort(),
    controllers: setValues(r.controller)
      .map((u) => ctrlBy.get(String(u)))
      .filter((c): c is ControllerState => c !== undefined),
    otherConfig: mapToRecord(r.other_config),
    externalIds: mapToRecord(r.external_ids),
    ports: setValues(r.ports)
      .map((u) => portBy.get(String(u)))
      .filter((p): p is PortState => p !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name)),
  }));
  out.sort((a, b) => a.name.localeCompare(b.name));
  return {
    bridges: out,
    orphanQos: [...qosBy.values()].filter((q) => !usedQos.has(q.uuid)),
    orphanQueues: [...queueBy.values()].filter((q) => !usedQueues.has(q.uuid)),
  };
}

/** An Interface row change as plain data (from a monitor). */
export interface InterfaceEvent {
  kind: RowChangeKind;
  uuid: string;
  name: string;
  type: string;
  /** undefined until assigned; -1 when vswitchd could not add the interface */
  ofport: number | undefined;
  error: string | undefined;
  externalIds: Record<string, string>;
}

const INTERFACE_MONITOR_COLUMNS = ['name', 'type', 'ofport', 'error', 'external_ids'];

/** Plain interface event from a monitor row change (pure; exported for tests). */
export function interfaceEvent(c: RowChange): InterfaceEvent {
  const r = (c.kind === 'delete' ? c.old : c.new) ?? {};
  return {
    kind: c.kind,
    uuid: c.uuid,
    name: String(r.name ?? ''),
    type: String(r.type ?? ''),
    ofport: num(optionalValue(r.ofport)),
    error: str(optionalValue(r.error)),
    externalIds: mapToRecord(r.external_ids),
  };
}

/** Where a port is: its uuid, its bridge's name and its QoS (from `locatePortTx` results; pure). */
export function locatePort(
  results: readonly OperationResult[],
): { portUuid: string; bridge: string | undefined; qos: QosRef | undefined } | undefined {
  const [ports, bridges, qoses] = results.map(rowsOf) as [Row[], Row[], Row[]];
  const port = ports[0];
  if (!port) return undefined;
  const portUuid = uuidValue(port._uuid);
  const bridge = bridges.find((b) => setValues(b.ports).includes(portUuid));
  const qosUuid = str(optionalValue(port.qos));
  const qosRow = qosUuid ? qoses.find((q) => uuidValue(q._uuid) === qosUuid) : undefined;
  const qos = qosUuid ? { qos: qosUuid, queues: qosRow ? mapEntries(qosRow.queues).map(([, v]) => String(v)) : [] } : undefined;
  return { portUuid, bridge: bridge ? String(bridge.name) : undefined, qos };
}

function insertedUuid(plan: TxPlan, results: readonly OperationResult[], table: string): string {
  const idx = plan.ops.findIndex((o) => o.op === 'insert' && o.table === table);
  return uuidValue((results[idx] as InsertResult | undefined)?.uuid, `${table} uuid`);
}

function qosRef(q: QosState | undefined): QosRef | undefined {
  return q ? { qos: q.uuid, queues: Object.values(q.queues).map((x) => x.uuid) } : undefined;
}

/** The Open_vSwitch helpers the agent uses. */
export class VSwitch {
  readonly client: OvsdbClient;

  constructor(client: OvsdbClient) {
    this.client = client;
  }

  /** Run a plan as one transaction; a failed guard becomes the error the guard names. */
  async run(plan: TxPlan): Promise<OperationResult[]> {
    if (plan.ops.length === 0) return [];
    try {
      return (await this.client.transact(VSWITCH_DB, plan.ops)) as OperationResult[];
    } catch (e) {
      if (isOvsdbError(e) && e.opIndex !== undefined) {
        const g = plan.guards.find((x) => x.opIndex === e.opIndex);
        if (g)
          throw new NetloomError(g.code, g.message, {
            field: g.field,
            cause: e,
            details: { opIndex: e.opIndex, ovsdbError: e.ovsdbError },
          });
      }
      throw e;
    }
  }

  async readState(): Promise<VSwitchState> {
    return assembleState(await this.run(readStateTx()));
  }

  /** The root row: versions, supported datapath and interface types, external_ids (system-id). */
  async readRoot(): Promise<RootState> {
    return rootState(rowsOf((await this.run(readRootTx()))[0])[0]);
  }

  /**
   * Wait until ovs-vswitchd has applied everything committed so far (ports opened, ofports set),
   * the way ovs-vsctl waits: bump next_cfg, then block server-side until cur_cfg catches up.
   * Returns the configuration number reached. TIMEOUT when vswitchd is not running or stuck.
   */
  async syncWithVswitchd(timeoutMs = 10_000): Promise<number> {
    const results = await this.run(bumpNextCfgTx());
    const cfg = Number(rowsOf(results[1])[0]?.next_cfg);
    if (!Number.isInteger(cfg)) throw new NetloomError('DECODE_ERROR', `unexpected next_cfg ${String(cfg)}`);
    await this.run(waitCurCfgTx(cfg, timeoutMs));
    return cfg;
  }

  async getBridge(name: string): Promise<BridgeState | undefined> {
    return (await this.readState()).bridges.find((b) => b.name === name);
  }

  /** The port and the bridge it is on, or undefined. */
  async findPort(name: string): Promise<{ bridge: BridgeState; port: PortState } | undefined> {
    for (const bridge of (await this.readState()).bridges) {
      const port = bridge.ports.find((p) => p.name === name);
      if (port) return { bridge, port };
    }
    return undefined;
  }

  /** Add a bridge (with its local port) and attach it to the root row; returns the bridge uuid. */
  async addBridge(spec: BridgeSpec): Promise<string> {
    const plan = addBridgeTx(spec);
    const results = await this.run(plan);
    return insertedUuid(plan, results, 'Bridge');
  }

  async deleteBridge(name: string, opts: { ifExists?: boolean } = {}): Promise<boolean> {
    const br = await this.getBridge(name);
    if (!br) {
      if (opts.ifExists) return false;
      throw new NetloomError('NOT_FOUND', `Bridge ${name} does not exist`, { field: 'bridge.name' });
    }
    const portQos = br.ports.flatMap((p) => {
      const q = qosRef(p.qos);
      return q ? [{ port: p.uuid, qos: q }] : [];
    });
    await this.run(deleteBridgeTx(name, br.uuid, portQos));
    return true;
  }

  async addPort(bridge: string, spec: PortSpec): Promise<void> {
    await this.run(addPortTx(bridge, spec));
  }

  async addPatchPair(bridgeA: string, portA: string, bridgeB: string, portB: string): Promise<void> {
    await this.run(addPatchPairTx(bridgeA, portA, bridgeB, portB));
  }

  /** Delete a port (and its QoS) from whatever bridge holds it. */
  async deletePort(name: string, opts: { ifExists?: boolean } = {}): Promise<boolean> {
    const found = locatePort(await this.run(locatePortTx(name)));
    if (!found?.bridge) {
      if (opts.ifExists) return false;
      throw new NetloomError('NOT_FOUND', `Port ${name} does not exist${found ? ' on any bridge' : ''}`, { field: 'port.name' });
    }
    await this.run(deletePortTx(found.bridge, name, found.portUuid, found.qos));
    return true;
  }

  async setControllers(bridge: string, controllers: readonly ControllerSpec[], failMode?: FailMode | null): Promise<void> {
    await this.run(setControllersTx(bridge, controllers, failMode));
  }

  async setFailMode(bridge: string, failMode: FailMode | null): Promise<void> {
    await this.run(setFailModeTx(bridge, failMode));
  }

  /** Create a QoS with queues and attach it to the port, replacing (and deleting) any it had. */
  async setPortQos(port: string, spec: QosSpec): Promise<string> {
    const found = locatePort(await this.run(locatePortTx(port)));
    if (!found) throw new NetloomError('NOT_FOUND', `Port ${port} does not exist`, { field: 'port' });
    const plan = setPortQosTx(port, spec, found.qos);
    return insertedUuid(plan, await this.run(plan), 'QoS');
  }

  /** Detach and delete the port's QoS and its queues; false when it had none. */
  async clearPortQos(port: string): Promise<boolean> {
    const found = locatePort(await this.run(locatePortTx(port)));
    if (!found) throw new NetloomError('NOT_FOUND', `Port ${port} does not exist`, { field: 'port' });
    if (!found.qos) return false;
    await this.run(clearPortQosTx(port, found.qos));
    return true;
  }

  /** Set keys of other_config / external_ids / options (name undefined for the Open_vSwitch row). */
  async setMapKeys(table: KeyedTable, name: string | undefined, column: MapColumn, entries: StringMap): Promise<void> {
    await this.run(setMapKeysTx(table, name, column, entries));
  }

  async clearMapKeys(table: KeyedTable, name: string | undefined, column: MapColumn, keys: readonly string[]): Promise<void> {
    await this.run(clearMapKeysTx(table, name, column, keys));
  }

  /**
   * Watch Interface rows: `initial` holds the interfaces present now; the listener gets every later
   * insert, modify (e.g. ofport assigned) and delete. Cancel with `monitor.cancel()`.
   */
  async watchInterfaces(listener: (events: InterfaceEvent[]) => void): Promise<{ initial: InterfaceEvent[]; monitor: Monitor }> {
    const monitor = await this.client.monitor(VSWITCH_DB, { Interface: { columns: INTERFACE_MONITOR_COLUMNS } });
    monitor.onUpdate((changes) => listener(changes.filter((c) => c.table === 'Interface').map(interfaceEvent)));
    return { initial: monitor.initial.map(interfaceEvent), monitor };
  }

  /**
   * Wait until the interface exists and ovs-vswitchd assigned it an ofport (server-side wait, no
   * polling) and return it. COMMAND_FAILED when vswitchd gave up (ofport -1, with the interface's
   * error), TIMEOUT when that did not happen within `timeoutMs`.
   */
  async waitForOfport(iface: string, timeoutMs = 10_000): Promise<number> {
    const results = await this.run(waitOfportTx(iface, timeoutMs));
    const row = rowsOf(results[2])[0];
    if (!row) throw new NetloomError('NOT_FOUND', `Interface ${iface} does not exist`, { field: 'interface' });
    const ofport = num(optionalValue(row.ofport));
    if (ofport === undefined || ofport < 0) {
      throw new NetloomError(
        'COMMAND_FAILED',
        `Interface ${iface} has no usable ofport (${String(ofport)}): ${String(optionalValue(row.error) ?? 'no error given')}`,
        {
          field: 'interface',
          details: { ofport },
        },
      );
    }
    return ofport;
  }
}
