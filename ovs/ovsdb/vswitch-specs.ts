/**
 * What a caller asks of the Open_vSwitch database (bridges, ports, controllers, QoS), as plain
 * data, with validation that names the bad field. Columns follow vswitch.ovsschema (8.x).
 */
import { NetloomError } from '../../lib/errors';

export const OPENFLOW_VERSIONS = ['OpenFlow10', 'OpenFlow11', 'OpenFlow12', 'OpenFlow13', 'OpenFlow14', 'OpenFlow15'] as const;
export type OpenFlowVersion = (typeof OPENFLOW_VERSIONS)[number];
export type FailMode = 'standalone' | 'secure';
export type ConnectionMode = 'in-band' | 'out-of-band';
/** Interface types netloom uses; '' / 'system' is a plain network device. */
export type InterfaceType = 'internal' | 'vxlan' | 'patch' | 'system' | 'geneve' | 'gre' | 'tap' | 'dpdk';
export type VlanMode = 'trunk' | 'access' | 'native-tagged' | 'native-untagged' | 'dot1q-tunnel';

export type StringMap = Readonly<Record<string, string>>;

export interface BridgeSpec {
  name: string;
  /** 'system' (kernel, the default when omitted) or 'netdev' (userspace) */
  datapathType?: string;
  failMode?: FailMode;
  protocols?: readonly OpenFlowVersion[];
  otherConfig?: StringMap;
  externalIds?: StringMap;
}

export interface PortSpec {
  name: string;
  /** interface type; omitted or 'system' means an existing network device */
  type?: InterfaceType;
  /** interface options, e.g. {remote_ip: 'flow', key: 'flow'} for vxlan, {peer: 'x'} for patch */
  options?: StringMap;
  ofportRequest?: number;
  /** access VLAN */
  tag?: number;
  trunks?: readonly number[];
  vlanMode?: VlanMode;
  mtuRequest?: number;
  /** the MAC an internal interface takes (Interface column `mac`) */
  mac?: string;
  /** external_ids of the Port row */
  externalIds?: StringMap;
  /** external_ids of the Interface row (e.g. attached-mac, iface-id) */
  interfaceExternalIds?: StringMap;
  otherConfig?: StringMap;
}

export interface ControllerSpec {
  /** e.g. tcp:127.0.0.1:6653, unix:/path, ptcp:6653 */
  target: string;
  connectionMode?: ConnectionMode;
  inactivityProbeMs?: number;
  maxBackoffMs?: number;
}

export interface QueueSpec {
  /** bits per second */
  minRate?: number;
  /** bits per second */
  maxRate?: number;
  burst?: number;
  priority?: number;
  dscp?: number;
  otherConfig?: StringMap;
  externalIds?: StringMap;
}

export interface QosSpec {
  /** e.g. linux-htb, linux-hfsc, egress-policer */
  type: string;
  /** bits per second (other_config:max-rate) */
  maxRate?: number;
  otherConfig?: StringMap;
  externalIds?: StringMap;
  /** queue number -> queue */
  queues?: Readonly<Record<number, QueueSpec>>;
}

function bad(field: string, message: string): NetloomError {
  return new NetloomError('INVALID_ARGUMENT', message, { field });
}

const NAME_RE = /^[A-Za-z0-9_.:@+-]+$/;

/** Port, interface and bridge names: 1-255 safe characters; kernel-backed ones at most 15. */
export function checkName(field: string, name: unknown, kernelDevice: boolean): string {
  if (typeof name !== 'string' || name === '') throw bad(field, `${field} must be a non-empty string`);
  if (!NAME_RE.test(name) || name.length > 255)
    throw bad(field, `${field} ${JSON.stringify(name)} has characters outside [A-Za-z0-9_.:@+-] or is too long`);
  if (kernelDevice && name.length > 15)
    throw bad(field, `${field} ${JSON.stringify(name)} is longer than 15 characters (a network device name)`);
  return name;
}

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw bad(field, `${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

function checkMap(field: string, m: unknown): void {
  if (m === undefined) return;
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad(field, `${field} must be an object of strings`);
  for (const [k, v] of Object.entries(m)) {
    if (k === '') throw bad(field, `${field} has an empty key`);
    if (typeof v !== 'string') throw bad(`${field}.${k}`, `${field}.${k} must be a string, got ${typeof v}`);
  }
}

function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw bad(field, `${field} must be one of ${allowed.join(', ')}, got ${String(v)}`);
  return v as T;
}

export function validateBridge(spec: BridgeSpec): void {
  checkName('bridge.name', spec.name, true);
  if (spec.datapathType !== undefined && !/^[a-z0-9_-]*$/.test(spec.datapathType)) {
    throw bad('bridge.datapathType', `bridge.datapathType ${JSON.stringify(spec.datapathType)} is not a datapath type`);
  }
  if (spec.failMode !== undefined) checkOneOf('bridge.failMode', spec.failMode, ['standalone', 'secure']);
  for (const p of spec.protocols ?? []) checkOneOf('bridge.protocols', p, OPENFLOW_VERSIONS);
  checkMap('bridge.otherConfig', spec.otherConfig);
  checkMap('bridge.externalIds', spec.externalIds);
}

export function validatePort(spec: PortSpec): void {
  const type = spec.type ?? 'system';
  checkOneOf('port.type', type, ['internal', 'vxlan', 'patch', 'system', 'geneve', 'gre', 'tap', 'dpdk']);
  checkName('port.name', spec.name, type === 'internal' || type === 'system' || type === 'tap');
  checkMap('port.options', spec.options);
  if (type === 'patch' && !spec.options?.peer) throw bad('port.options.peer', `patch port ${spec.name} needs options.peer`);
  if (type === 'vxlan' && !spec.options?.remote_ip)
    throw bad('port.options.remote_ip', `vxlan port ${spec.name} needs options.remote_ip (an IP or "flow")`);
  if (spec.ofportRequest !== undefined) checkInt('port.ofportRequest', spec.ofportRequest, 1, 65279);
  if (spec.tag !== undefined) checkInt('port.tag', spec.tag, 0, 4095);
  for (const [i, t] of (spec.trunks ?? []).entries()) checkInt(`port.trunks[${i}]`, t, 0, 4095);
  if (spec.vlanMode !== undefined)
    checkOneOf('port.vlanMode', spec.vlanMode, ['trunk', 'access', 'native-tagged', 'native-untagged', 'dot1q-tunnel']);
  if (spec.mtuRequest !== undefined) checkInt('port.mtuRequest', spec.mtuRequest, 1, 65535);
  if (spec.mac !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(spec.mac))
    throw bad('port.mac', `port.mac ${JSON.stringify(spec.mac)} must be a lower-case MAC like 02:00:00:00:00:01`);
  checkMap('port.externalIds', spec.externalIds);
  checkMap('port.interfaceExternalIds', spec.interfaceExternalIds);
  checkMap('port.otherConfig', spec.otherConfig);
}

export function validateController(spec: ControllerSpec, i: number): void {
  const f = `controllers[${i}]`;
  if (typeof spec.target !== 'string' || !/^(tcp|ssl|unix|ptcp|pssl|punix):\S+$/.test(spec.target)) {
    throw bad(`${f}.target`, `${f}.target must look like tcp:IP:PORT, unix:PATH, ptcp:PORT..., got ${JSON.stringify(spec.target)}`);
  }
  if (spec.connectionMode !== undefined) checkOneOf(`${f}.connectionMode`, spec.connectionMode, ['in-band', 'out-of-band']);
  if (spec.inactivityProbeMs !== undefined) checkInt(`${f}.inactivityProbeMs`, spec.inactivityProbeMs, 0, 2 ** 31 - 1);
  if (spec.maxBackoffMs !== undefined) checkInt(`${f}.maxBackoffMs`, spec.maxBackoffMs, 1000, 2 ** 31 - 1);
}

export function validateQos(spec: QosSpec): void {
  if (typeof spec.type !== 'string' || !/^[a-z0-9-]+$/.test(spec.type))
    throw bad('qos.type', `qos.type must be a QoS type like linux-htb, got ${JSON.stringify(spec.type)}`);
  if (spec.maxRate !== undefined) checkInt('qos.maxRate', spec.maxRate, 1, Number.MAX_SAFE_INTEGER);
  checkMap('qos.otherConfig', spec.otherConfig);
  checkMap('qos.externalIds', spec.externalIds);
  for (const [k, q] of Object.entries(spec.queues ?? {})) {
    const f = `qos.queues[${k}]`;
    checkInt(`${f} (queue number)`, Number(k), 0, 4294967295);
    for (const col of ['minRate', 'maxRate', 'burst', 'priority'] as const) {
      if (q[col] !== undefined) checkInt(`${f}.${col}`, q[col], 0, Number.MAX_SAFE_INTEGER);
    }
    if (q.dscp !== undefined) checkInt(`${f}.dscp`, q.dscp, 0, 63);
    checkMap(`${f}.otherConfig`, q.otherConfig);
    checkMap(`${f}.externalIds`, q.externalIds);
  }
}
