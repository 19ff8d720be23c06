/**
 * Endpoint plumbing in Linux: the veth pair of an endpoint. For CNI, in two stages so that the kernel
 * work overlaps the control plane's round trip. Stage 1 (`createVeth`, before netmaster answers)
 * makes the pair from inside the container's namespace in ONE `ip -b` run: the host end directly in
 * the agent's namespace and up, the container end with the MAC the agent asks netmaster for, and
 * up; lo up. `ethtool -K <if> tx off` there when asked (the userspace datapath's checksum fix) runs
 * beside stage 2. Stage 2 (`configureContainer`, with what netmaster allocated) sets address and
 * default route, and MAC or MTU where they differ from stage 1's, in one more `ip -b`. When the
 * address is known before the veth is made (chosen from this host's address blocks), stage 1 sets
 * it in its own run and there is no stage 2. Where the compiled helper (netloom-veth.c) is built,
 * stage 1 is that one small program (rtnetlink and the ethtool ioctl) instead of `ip` and
 * `nsenter ethtool`: fewer program starts on every ADD. For CNM both
 * ends stay in the agent's namespace and Docker moves the container end. Removal is idempotent.
 * The commands go through a `CommandRunner` (the agent's shell pool).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { NetloomError } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';

/** The host-side name of an endpoint's veth: `nl` + 11 hex digits of its id (13 characters). */
export function hostIfName(endpointId: string): string {
  return `nl${createHash('sha1').update(endpointId).digest('hex').slice(0, 11)}`;
}

const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Stage 1 of a CNI ADD: what is known before the control plane answers. */
export interface VethPlumbing {
  hostIf: string;
  ifName: string;
  netnsPath: string;
  /** the MAC the agent asks netmaster for (stage 2 changes it in the rare case netmaster has another) */
  mac: string;
  /** MTU of both ends for now (stage 2 changes the container end's when the network needs another) */
  mtu: number;
  /**
   * the container's address and gateway when they are known already (chosen from this host's
   * address blocks): stage 1 then does stage 2's work in the same run
   */
  address?: { ip: string; prefixLength: number; gateway: string };
}

/** Stage 2: the container's addressing once netmaster allocated it, and corrections of stage 1. */
export interface ContainerAddressing {
  ifName: string;
  netnsPath: string;
  ip: string;
  prefixLength: number;
  /** '' for no default route */
  gateway: string;
  /** set when it differs from stage 1's */
  mac?: string;
  mtu?: number;
}

function check(p: { hostIf?: string; ifName: string; mac?: string; mtu?: number }): void {
  if (p.hostIf !== undefined && !IFNAME_RE.test(p.hostIf))
    throw new NetloomError('INVALID_ARGUMENT', `bad host interface name ${JSON.stringify(p.hostIf)}`, { field: 'hostIf' });
  if (!IFNAME_RE.test(p.ifName))
    throw new NetloomError('INVALID_ARGUMENT', `bad interface name ${JSON.stringify(p.ifName)}`, { field: 'ifName' });
  if (p.mac !== undefined && !MAC_RE.test(p.mac))
    throw new NetloomError('INVALID_ARGUMENT', `bad MAC ${JSON.stringify(p.mac)}`, { field: 'mac' });
  if (p.mtu !== undefined && (!Number.isInteger(p.mtu) || p.mtu < 68 || p.mtu > 65535))
    throw new NetloomError('INVALID_ARGUMENT', `bad MTU ${p.mtu}`, { field: 'mtu' });
}

/**
 * The `ip -b` script of stage 1, run inside the container's namespace (pure): the veth pair, its
 * host end made in the agent's namespace and up there (`up` applies to it), the container end with
 * its MAC and up, without address; lo up.
 */
export function vethScript(p: Omit<VethPlumbing, 'netnsPath'>, hostNsPath: string): string {
  check(p);
  const lines = [
    `link add ${p.hostIf} up netns ${hostNsPath} mtu ${p.mtu} type veth peer name ${p.ifName} address ${p.mac} mtu ${p.mtu}`,
    `link set ${p.ifName} up`,
    'link set lo up',
  ];
  const addressing = p.address ? addressScript({ ifName: p.ifName, ...p.address }) : '';
  return `${lines.join('\n')}\n${addressing}`;
}

/** The `ip -b` script of stage 2, run inside the container's namespace (pure). */
export function addressScript(p: Omit<ContainerAddressing, 'netnsPath'>): string {
  check(p);
  if (!IPV4_RE.test(p.ip)) throw new NetloomError('INVALID_ARGUMENT', `bad IPv4 address ${JSON.stringify(p.ip)}`, { field: 'ip' });
  if (p.gateway !== '' && !IPV4_RE.test(p.gateway))
    throw new NetloomError('INVALID_ARGUMENT', `bad gateway ${JSON.stringify(p.gateway)}`, { field: 'gateway' });
  const lines: string[] = [];
  if (p.mac !== undefined || p.mtu !== undefined)
    lines.push(`link set ${p.ifName}${p.mac !== undefined ? ` address ${p.mac}` : ''}${p.mtu !== undefined ? ` mtu ${p.mtu}` : ''}`);
  lines.push(`addr add ${p.ip}/${p.prefixLength} dev ${p.ifName}`);
  if (p.gateway !== '') lines.push(`route add default via ${p.gateway} dev ${p.ifName}`);
  return lines.join('\n') + '\n';
}

const NAMED_NETNS_RE = /^(?:\/var)?\/run\/netns\/([A-Za-z0-9_.-]{1,255})$/;

/**
 * The command that runs an `ip -b -` batch inside the namespace at `netnsPath` (pure): `ip -n NAME`
 * for a named namespace (/run/netns/NAME, as podman, containerd and `ip netns` make them): one
 * program started instead of two (nsenter, then ip), and a start costs ~4 ms on this machine
 * kind; `nsenter --net=PATH ip` for any other path (/proc/PID/ns/net, Docker's).
 */
export function ipBatchIn(netnsPath: string): [string, string[]] {
  const name = NAMED_NETNS_RE.exec(netnsPath)?.[1];
  if (name !== undefined && name !== '.' && name !== '..') return ['ip', ['-n', name, '-b', '-']];
  return ['nsenter', [`--net=${netnsPath}`, 'ip', '-b', '-']];
}

function needNetns(netnsPath: string): void {
  if (!existsSync(netnsPath)) throw new NetloomError('NOT_FOUND', `network namespace ${netnsPath} does not exist`, { field: 'netns' });
}

/** The compiled stage 1 (netloom-veth.c, built by deploy/install.sh into dist/bin/), from dist/netplugin/plumbing/. */
export const VETH_HELPER = resolve(__dirname, '../../bin/netloom-veth');

/** The arguments of the compiled stage 1 (pure): what `vethScript` says, and `--tx-off` for the checksum fix. */
export function vethHelperArgs(p: VethPlumbing, hostNsPath: string, txOff: boolean): string[] {
  check(p);
  const args = ['--netns', p.netnsPath, '--host-netns', hostNsPath, '--host-if', p.hostIf, '--if', p.ifName, '--mac', p.mac];
  args.push('--mtu', String(p.mtu));
  if (p.address) {
    addressScript({ ifName: p.ifName, ...p.address }); // validates address and gateway
    args.push('--address', `${p.address.ip}/${p.address.prefixLength}`);
    if (p.address.gateway !== '') args.push('--gateway', p.address.gateway);
  }
  if (txOff) args.push('--tx-off');
  return args;
}

/** How stage 1 runs: `ip -b` (and `ethtool` apart), or the compiled helper, which also turns tx checksum off when asked. */
export interface VethOptions {
  /** the compiled helper's path (VETH_HELPER), when it is there */
  helper?: string;
  /** with the helper: turn the container end's tx checksum offload off in the same run */
  txOff?: boolean;
}

/**
 * Stage 1: create the veth pair, one program run inside the container's namespace: the compiled
 * helper when given (its exit status says how far it got: 1 nothing made, 2 addressing failed, 3
 * tx checksum failed), else `ip -b`.
 */
export async function createVeth(
  p: VethPlumbing,
  runner: CommandRunner = run,
  hostNsPath = `/proc/${process.pid}/ns/net`,
  opts: VethOptions = {},
): Promise<void> {
  needNetns(p.netnsPath);
  if (opts.helper !== undefined) return createVethByHelper(p, runner, hostNsPath, opts.helper, opts.txOff === true);
  const r = await runner(...ipBatchIn(p.netnsPath), {
    input: vethScript(p, hostNsPath),
    allowFailure: true,
    timeoutMs: 10_000,
  });
  if (r.code !== 0) {
    // `ip -b` names the line that failed; past the first three the pair exists and its addressing failed
    const line = Number(/Command failed -:(\d+)/.exec(r.stderr)?.[1] ?? 0);
    if (p.address && line > 3) {
      await removeHostIf(p.hostIf, runner);
      // as in stage 2: an address or default route the container has already is a conflict
      const code = r.stderr.includes('File exists') ? 'ALREADY_EXISTS' : 'COMMAND_FAILED';
      const what = p.address.gateway !== '' ? 'its address or default route exists already: ' : 'its address exists already: ';
      throw new NetloomError(
        code,
        `configuring ${p.ifName} in ${p.netnsPath}: ${code === 'ALREADY_EXISTS' ? what : ''}${r.stderr.trim()}`,
        {
          field: 'ifName',
        },
      );
    }
    if (r.stderr.includes('File exists')) {
      // not ours to remove: an interface of that name is in one of the namespaces already
      throw new NetloomError('ALREADY_EXISTS', `interface ${p.ifName} (in ${p.netnsPath}) or ${p.hostIf} exists already`, {
        field: 'ifName',
      });
    }
    await removeHostIf(p.hostIf, runner);
    throw new NetloomError('COMMAND_FAILED', `creating ${p.ifName} in ${p.netnsPath}: ${r.stderr.trim()}`);
  }
}

async function createVethByHelper(
  p: VethPlumbing,
  runner: CommandRunner,
  hostNsPath: string,
  helper: string,
  txOff: boolean,
): Promise<void> {
  const r = await runner(helper, vethHelperArgs(p, hostNsPath, txOff), { allowFailure: true, timeoutMs: 10_000 });
  if (r.code === 0) return;
  const why = r.stderr.trim().replace(/^netloom-veth: /, '');
  const exists = r.stderr.includes('File exists');
  if (r.code === 1 && exists) {
    // not ours to remove: an interface of that name is in one of the namespaces already
    throw new NetloomError('ALREADY_EXISTS', `interface ${p.ifName} (in ${p.netnsPath}) or ${p.hostIf} exists already`, {
      field: 'ifName',
    });
  }
  await removeHostIf(p.hostIf, runner);
  if (r.code === 2) {
    // as in stage 2: an address or default route the container has already is a conflict
    const what = p.address?.gateway ? 'its address or default route exists already: ' : 'its address exists already: ';
    throw new NetloomError(
      exists ? 'ALREADY_EXISTS' : 'COMMAND_FAILED',
      `configuring ${p.ifName} in ${p.netnsPath}: ${exists ? what : ''}${why}`,
      {
        field: 'ifName',
      },
    );
  }
  throw new NetloomError('COMMAND_FAILED', `creating ${p.ifName} in ${p.netnsPath}: ${why || `exit ${r.code}`}`);
}

/**
 * The userspace datapath's checksum fix: `ethtool -K ifName tx off` inside the container, so that
 * its stack writes full checksums (OVS netdev does not complete partial ones from a veth).
 */
export async function disableTxChecksum(netnsPath: string, ifName: string, runner: CommandRunner = run): Promise<void> {
  check({ ifName, mtu: 1500 });
  const r = await runner('nsenter', [`--net=${netnsPath}`, 'ethtool', '-K', ifName, 'tx', 'off'], {
    allowFailure: true,
    timeoutMs: 10_000,
  });
  if (r.code !== 0)
    throw new NetloomError('COMMAND_FAILED', `turning tx checksum offload off on ${ifName} in ${netnsPath}: ${r.stderr.trim()}`);
}

/** Stage 2: address and default route inside the container, and MAC or MTU when they change (one `ip -b`). */
export async function configureContainer(p: ContainerAddressing, runner: CommandRunner = run): Promise<void> {
  needNetns(p.netnsPath);
  const r = await runner(...ipBatchIn(p.netnsPath), {
    input: addressScript(p),
    allowFailure: true,
    timeoutMs: 10_000,
  });
  if (r.code !== 0) {
    // the container has that address or a default route already (another attachment's): a conflict, not a failure of ours
    const code = r.stderr.includes('File exists') ? 'ALREADY_EXISTS' : 'COMMAND_FAILED';
    const what = p.gateway !== '' ? 'its address or default route exists already' : 'its address exists already';
    throw new NetloomError(
      code,
      `configuring ${p.ifName} in ${p.netnsPath}: ${code === 'ALREADY_EXISTS' ? `${what}: ` : ''}${r.stderr.trim()}`,
      {
        field: 'ifName',
      },
    );
  }
}

/** Set the MTU of the container end (when the network's differs from the one stage 1 used). */
export async function setContainerMtu(netnsPath: string, ifName: string, mtu: number, runner: CommandRunner = run): Promise<void> {
  check({ ifName, mtu });
  const r = await runner('nsenter', [`--net=${netnsPath}`, 'ip', 'link', 'set', ifName, 'mtu', String(mtu)], { allowFailure: true });
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `setting the MTU of ${ifName} in ${netnsPath}: ${r.stderr.trim()}`);
}

/** Set the MTU of a host end (in the agent's namespace). */
export async function setHostIfMtu(hostIf: string, mtu: number, runner: CommandRunner = run): Promise<void> {
  check({ hostIf, ifName: hostIf, mtu });
  const r = await runner('ip', ['link', 'set', hostIf, 'mtu', String(mtu)], { allowFailure: true });
  if (r.code !== 0) throw new NetloomError('COMMAND_FAILED', `setting the MTU of ${hostIf}: ${r.stderr.trim()}`);
}

/** CNM: both ends in the agent's namespace; Docker moves `ctrIf` into the sandbox. */
export async function plumbPair(
  p: { hostIf: string; ctrIf: string; mac: string; mtu: number; txChecksumOff: boolean },
  runner: CommandRunner = run,
): Promise<void> {
  check({ hostIf: p.hostIf, ifName: p.ctrIf, mac: p.mac, mtu: p.mtu });
  const script = `link add ${p.hostIf} mtu ${p.mtu} type veth peer name ${p.ctrIf} address ${p.mac} mtu ${p.mtu}\nlink set ${p.hostIf} up\n`;
  const r = await runner('ip', ['-b', '-'], { input: script, allowFailure: true });
  if (r.code !== 0 && !r.stderr.includes('File exists'))
    throw new NetloomError('COMMAND_FAILED', `creating veth ${p.hostIf}/${p.ctrIf}: ${r.stderr.trim()}`);
  if (p.txChecksumOff) await runner('ethtool', ['-K', p.ctrIf, 'tx', 'off'], { allowFailure: true });
}

/** Delete the host end (and with it the container end); a missing interface is fine. */
export async function removeHostIf(hostIf: string, runner: CommandRunner = run): Promise<void> {
  const r = await runner('ip', ['link', 'del', hostIf], { allowFailure: true });
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) {
    throw new NetloomError('COMMAND_FAILED', `deleting ${hostIf}: ${r.stderr.trim()}`);
  }
}
