/**
 * netloom's OVSDB client (RFC 7047) and its Open_vSwitch helpers: the API the agent uses.
 *
 *   const client = await connect('/var/run/openvswitch/db.sock');   // or 'tcp:127.0.0.1:6640'
 *   const vs = new VSwitch(client);
 *   await vs.addBridge({ name: 'br-int', datapathType: 'netdev', protocols: ['OpenFlow13'] });
 *   await vs.addPort('br-int', { name: 'vxlan0', type: 'vxlan', options: { remote_ip: 'flow', key: 'flow' } });
 *   const m = await client.monitor('Open_vSwitch', { Interface: { columns: ['name', 'ofport'] } });
 *   m.onUpdate((changes) => ...);
 */
import { ConnectOptions, OvsdbClient, OvsdbTarget } from './client';

export { OvsdbClient, Monitor, parseTarget, checkTransactResults } from './client';
export type { OvsdbTarget, ConnectOptions, DatabaseSchema, MonitorListener, LockListener } from './client';
export { OvsdbError, isOvsdbError, codeForOvsdbError } from './errors';
export { JsonStreamSplitter, DEFAULT_MAX_MESSAGE_BYTES } from './framing';
export { JsonRpcConnection } from './rpc';
export type { RpcOptions, KeepaliveOptions, RequestOptions, RpcStats } from './rpc';
export * from './datum';
export * from './operations';
export { rowChanges } from './monitor';
export { ReconnectingOvsdb } from './reconnect';
export type { ReconnectOptions, ConnectionState, StateListener } from './reconnect';
export type { MonitorRequest, MonitorRequests, MonitorSelect, RowChange, RowChangeKind, TableUpdates } from './monitor';
export * from './vswitch-specs';
export * from './vswitch-tx';
export { VSwitch, assembleState, interfaceEvent, rootState, locatePort } from './vswitch';
export type {
  InterfaceEvent,
  RootState,
  BridgeState,
  PortState,
  InterfaceState,
  ControllerState,
  QosState,
  QueueState,
  VSwitchState,
} from './vswitch';

/** Connect to an OVSDB server: a unix socket path, `unix:PATH` or `tcp:HOST:PORT`. */
export function connect(target: OvsdbTarget, opts?: ConnectOptions): Promise<OvsdbClient> {
  return OvsdbClient.connect(target, opts);
}
