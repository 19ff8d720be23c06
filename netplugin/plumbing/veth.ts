/**
 * Endpoint plumbing in Linux: the veth pair of an endpoint. For CNI the container end goes straight
 * into the container's namespace with its name, MAC, MTU, address and default route, all in ONE
 * `ip -b` run inside that namespace (the host end is created directly in the agent's namespace),
 * plus `ethtool -K <if> tx off` there when asked (the userspace datapath's checksum fix). For CNM
 * both ends stay in the agent's namespace and Docker moves the container end. Removal is
 * idempotent. Attaching the host end to the bridge is `ovs-port.ts`.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';

/** The host-side name of an endpoint's veth: `nl` + 11 hex digits of its id (13 characters). */
export function hostIfName(endpointId: string): string {
  return `nl${createHash('sha1').update(endpointId).digest('hex').slice(0, 11)}`;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface ContainerPlumbing {
  hostIf: string;
  ifName: string;
  netnsPath: string;
  mac: string;
  ip: string;
  prefixLength: number;
  /** '' for no default route */
  gateway: string;
  mtu: number;
  /** run `ethtool -K ifName tx off` in the container (userspace datapath) */
  txChecksumOff: boolean;
}

function check(p: Pick<ContainerPlumbing, 'hostIf' | 'ifName' | 'mac' | 'mtu'>): void {
  if (!IFNAME_RE.test(p.hostIf)) throw new NetloomError('INVALID_ARGUMENT', `bad host interface name ${JSON.stringify(p.hostIf)}`, { field: 'hostIf' });
  if (!IFNAME_RE.test(p.ifName)) throw new NetloomError('INVALID_ARGUMENT', `bad interface name ${JSON.stringify(p.ifName)}`, { field: 'ifName' });
  if (!MAC_RE.test(p.mac)) throw new NetloomError('INVALID_ARGUMENT', `bad MAC ${JSON.stringify(p.mac)}`, { field: 'mac' });
  if (!Number.isInteger(p.mtu) || p.mtu < 68 || p.mtu > 65535) throw new NetloomError('INVALID_ARGUMENT', `bad MTU ${p.mtu}`, { field: 'mtu' });
}

/** The `ip -b` script that plumbs a container end, run inside the container's namespace (pure). */
export function containerScript(p: ContainerPlumbing, hostNsPath: string): string {
  check(p);
  if (!IPV4_RE.test(p.ip)) throw new NetloomError('INVALID_ARGUMENT', `bad IPv4 address ${JSON.stringify(p.ip)}`, { field: 'ip' });
  if (p.gateway !== '' && !IPV4_RE.test(p.gateway)) throw new NetloomError('INVALID_ARGUMENT', `bad gateway ${JSON.stringify(p.gateway)}`, { field: 'gateway' });
  const lines = [
    // the host end is made in the agent's namespace and brought up there (`up` applies to it)
    `link add ${p.hostIf} up netns ${hostNsPath} mtu ${p.mtu} type veth peer name ${p.ifName} address ${p.mac} mtu ${p.mtu}`,
    `link set ${p.ifName} up`,
    `addr add ${p.ip}/${p.prefixLength} dev ${p.ifName}`,
    'link set lo up',
  ];
  if (p.gateway !== '') lines.push(`route add default via ${p.gateway} dev ${p.ifName}`);
  return lines.join('\n') + '\n';
}

/** Create the veth pair with its container end configured inside `netnsPath`. */
export async function plumbContainer(p: ContainerPlumbing, hostNsPath = `/proc/${process.pid}/ns/net`): Promise<void> {
  if (!existsSync(p.netnsPath)) throw new NetloomError('NOT_FOUND', `network namespace ${p.netnsPath} does not exist`, { field: 'netns' });
  const script = containerScript(p, hostNsPath);
  const sh = p.txChecksumOff ? 'ip -b - && ethtool -K "$1" tx off >/dev/null' : 'ip -b -';
  const r = await run('nsenter', [`--net=${p.netnsPath}`, 'sh', '-c', sh, 'sh', p.ifName], { input: script, allowFailure: true, timeoutMs: 10_000 });
  if (r.code !== 0) {
    await removeHostIf(p.hostIf);
    if (r.stderr.includes('File exists')) throw new NetloomError('ALREADY_EXISTS', `interface ${p.ifName} or ${p.hostIf} exists already`, { field: 'ifName' });
    throw new NetloomError('COMMAND_FAILED', `plumbing ${p.ifName} in ${p.netnsPath}: ${r.stderr.trim()}`);
  }
}

/** CNM: both ends in the agent's namespace; Docker moves `ctrIf` into the sandbox. */
export async function plumbPair(p: { hostIf: string; ctrIf: string; mac: string; mtu: number; txChecksumOff: boolean }): Promise<void> {
  check({ hostIf: p.hostIf, ifName: p.ctrIf, mac: p.mac, mtu: p.mtu });
  const script = `link add ${p.hostIf} mtu ${p.mtu} type veth peer name ${p.ctrIf} address ${p.mac} mtu ${p.mtu}\nlink set ${p.hostIf} up\n`;
  const r = await run('ip', ['-b', '-'], { input: script, allowFailure: true });
  if (r.code !== 0 && !r.stderr.includes('File exists')) throw new NetloomError('COMMAND_FAILED', `creating veth ${p.hostIf}/${p.ctrIf}: ${r.stderr.trim()}`);
  if (p.txChecksumOff) await run('ethtool', ['-K', p.ctrIf, 'tx', 'off'], { allowFailure: true });
}

/** Delete the host end (and with it the container end); a missing interface is fine. */
export async function removeHostIf(hostIf: string): Promise<void> {
  const r = await run('ip', ['link', 'del', hostIf], { allowFailure: true });
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) {
    throw new NetloomError('COMMAND_FAILED', `deleting ${hostIf}: ${r.stderr.trim()}`);
  }
}

/** Addresses on `ifName` inside `netnsPath` (`ip/prefix`), or undefined when it is missing. */
export async function containerAddresses(netnsPath: string, ifName: string): Promise<string[] | undefined> {
  if (!existsSync(netnsPath)) return undefined;
  const r = await run('nsenter', [`--net=${netnsPath}`, 'ip', '-j', 'addr', 'show', 'dev', ifName], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
  return (links[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}
