/**
 * netloom's OpenFlow 1.3 library: the connection layer (dial a bridge or listen for switches, then
 * send, request, barrier, bundle, events) on top of the codec, and the codec's typed messages
 * (CODEC.md). Import from here.
 */
// the message model: every message type, match, action and instruction, and the protocol constants
export * from './messages';
export { encodeMessage, decodeMessage, readHeader, errorNames, errorFor, OfDecodeError } from './codec';
export { canonicalMatch } from './match-order';
export { OfConnection, mergeMultipart } from './connection';
export type { OfEvents, OfConnectionOptions, ReplyTo } from './connection';
export { OfConnectionCore } from './connection-core';
export type { ConnectionOptions, ConnectionState, DisconnectInfo, BarrierResult, OfFrameChannel, CoreEvents } from './connection-core';
export { ReconnectingSwitch, dialSwitch } from './connection-dial';
export type { DialOptions } from './connection-dial';
export { OfListener } from './connection-listen';
export type { ListenerEvents } from './connection-listen';
export { OfSwitchError, nameOfError } from './connection-errors';
export { OfBundleError } from './connection-bundle';
export type { BundleOptions, BundleFailure, BundlePhase } from './connection-bundle';
export { BoundedEventQueue } from './connection-events';
export { DEFAULT_BACKOFF } from './connection-dial';
export type { SwitchFeatures } from './connection-wire';
export { OfFramer, OfFramingError } from './framer';
export { parseOfAddress, formatOfAddress, connectTransport, listenTransport } from './transport-address';
export type { OfAddress } from './transport-address';
export type { Transport } from './transport';

import { OfConnection, OfConnectionOptions } from './connection';
import { DialOptions, dialSwitch } from './connection-dial';
import { ConnectionOptions } from './connection-core';
import { OfListener } from './connection-listen';

/**
 * Connect to a switch (e.g. `unix:${OVS_RUNDIR}/br0.mgmt`) with reconnect, and return the typed
 * connection once the first handshake is done.
 */
export async function connectSwitch(
  address: string,
  opts: DialOptions & OfConnectionOptions & { timeoutMs?: number } = {},
): Promise<OfConnection> {
  const sw = await dialSwitch(address, opts);
  return new OfConnection(sw, opts);
}

/**
 * Listen on `address` (`tcp:127.0.0.1:0`, `unix:PATH`) for switches whose controller is set to it,
 * and hand each one that completes the handshake to `onSwitch` as a typed connection. A switch
 * that reconnects (say after ovs-vswitchd restarts) arrives again as a new connection.
 */
export async function listenForSwitches(
  address: string,
  onSwitch: (conn: OfConnection) => void,
  opts: ConnectionOptions & OfConnectionOptions = {},
): Promise<OfListener> {
  const listener = await OfListener.listen(address, opts);
  listener.on('switch', (core) => onSwitch(new OfConnection(core, opts)));
  return listener;
}
