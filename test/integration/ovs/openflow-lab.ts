/**
 * Shared setup of the OpenFlow integration tests: a private Open vSwitch in its own network
 * namespace (`ofx-<name>`, directory /tmp/nl-ofconn/<name>) with one netdev bridge br0 speaking
 * only OpenFlow 1.3 in secure fail mode, "containers" (namespaces with a veth into br0), and
 * teardown that removes all of it even after a failure.
 */
import { rmSync } from 'node:fs';
import { run } from '../../../lib/exec';
import { addNetns, delNetns, linkUp, addAddr } from '../../../deploy/lab/netns';
import { OvsInstance, ovsCtl, startOvs, stopOvs } from '../../../deploy/lab/ovs-instance';

export interface OfxBridge {
  name: string;
  ns: string;
  dir: string;
  inst: OvsInstance;
  /** the bridge's management socket, which our connection dials (as ovs-ofctl does) */
  mgmt: string;
  containers: string[];
}

export const BRIDGE_ARGS = [
  '--may-exist',
  'add-br',
  'br0',
  '--',
  'set',
  'bridge',
  'br0',
  'datapath_type=netdev',
  'protocols=OpenFlow13',
  'fail_mode=secure',
];

export async function startBridge(name: string): Promise<OfxBridge> {
  const ns = `ofx-${name}`;
  const dir = `/tmp/nl-ofconn/${name}`;
  await stopBridgeByName(name);
  await addNetns(ns);
  const inst = await startOvs(dir, ns);
  await ovsCtl(inst, 'ovs-vsctl', BRIDGE_ARGS);
  return { name, ns, dir, inst, mgmt: `unix:${inst.runDir}/br0.mgmt`, containers: [] };
}

async function stopBridgeByName(name: string, containers: string[] = []): Promise<void> {
  await stopOvs(`/tmp/nl-ofconn/${name}`);
  for (const c of containers) await delNetns(c);
  await delNetns(`ofx-${name}`);
  rmSync(`/tmp/nl-ofconn/${name}`, { recursive: true, force: true });
}

export async function stopBridge(b: OfxBridge | undefined): Promise<void> {
  if (!b) return;
  await stopBridgeByName(b.name, b.containers);
}

export function ofctl(b: OfxBridge, args: string[]): Promise<string> {
  return ovsCtl(b.inst, 'ovs-ofctl', ['-O', 'OpenFlow13', ...args]);
}

export function vsctl(b: OfxBridge, args: string[]): Promise<string> {
  return ovsCtl(b.inst, 'ovs-vsctl', args);
}

/** Flow lines of `ovs-ofctl dump-flows br0`, without the reply header. */
export async function dumpFlowLines(b: OfxBridge): Promise<string[]> {
  const out = await ofctl(b, ['dump-flows', 'br0']);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('OFPST_FLOW'));
}

export interface Container {
  ns: string;
  ofport: number;
  mac: string;
  ip: string;
}

/**
 * A "container": namespace `ofx-<bridge>-<name>` with eth0 (ip/24, fixed MAC, tx checksum offload
 * off for TCP over the netdev datapath) whose peer is port `<name>` of br0 with OpenFlow port
 * number `ofport`.
 */
export async function addContainer(b: OfxBridge, name: string, ofport: number, ip: string, mac: string): Promise<Container> {
  const ns = `ofx-${b.name}-${name}`;
  b.containers.push(ns);
  await addNetns(ns);
  await run('ip', ['-n', b.ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', mac]);
  await linkUp(name, b.ns);
  await linkUp('eth0', ns);
  await addAddr('eth0', `${ip}/24`, ns);
  await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: ns, allowFailure: true });
  await vsctl(b, ['add-port', 'br0', name, '--', 'set', 'Interface', name, `ofport_request=${ofport}`]);
  return { ns, ofport, mac, ip };
}
