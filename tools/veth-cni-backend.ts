/**
 * A CniBackend that really plugs a container in, minus Open vSwitch: a veth pair whose container
 * end (named CNI_IFNAME, with an address from a small in-memory IPAM over one subnet and a default
 * route) goes into the container's namespace, and whose host end stays in the agent's namespace.
 * Used by the integration tests and the CNI benchmark as "the real work of an ADD"; the production
 * backend (OVS port, tenant IPAM from netmaster) is the agent's own and implements the same
 * interface.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../lib/errors';
import { run } from '../lib/exec';
import type {
  AttachmentKey,
  CniAddRequest,
  CniBackend,
  CniCheckReport,
  CniCheckRequest,
  CniDelRequest,
  CniGcReport,
  CniGcRequest,
  CniResult,
  CniStatus,
} from '../netplugin/cni/types';

export interface VethBackendOptions {
  /** IPv4 subnet to allocate from, e.g. 10.77.0.0/24; .1 is the gateway */
  subnet: string;
  /** MTU when the network configuration has none */
  mtu?: number;
  /** prefix of host-side interface names (at most 4 characters; the rest is a hash) */
  hostPrefix?: string;
  /** named network namespace for the host ends (default: the agent's own namespace) */
  hostNetns?: string;
}

export interface VethAttachment extends AttachmentKey {
  key: string;
  cniNetwork: string;
  ip: string;
  hostIf: string;
  netnsPath: string;
}

function hashHex(s: string): string {
  return createHash('sha1').update(s).digest('hex');
}

/** A locally administered unicast MAC derived from `seed`. */
export function macFromSeed(seed: string): string {
  const h = hashHex(seed);
  const bytes = [0x02, ...[0, 1, 2, 3, 4].map((i) => parseInt(h.slice(i * 2, i * 2 + 2), 16))];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export class VethBackend implements CniBackend {
  private readonly network: [ipaddr.IPv4, number];
  private readonly gateway: string;
  private readonly mtu: number;
  private readonly hostPrefix: string;
  /** `ip` arguments that select the host ends' namespace, and that namespace as a path */
  private readonly ipHost: string[];
  private readonly hostNsPath: string;
  /** by idempotency key */
  private readonly attachments = new Map<string, VethAttachment>();
  private readonly usedIps = new Set<string>();
  private ready = true;

  constructor(opts: VethBackendOptions) {
    const len = ipaddr.IPv4.parseCIDR(opts.subnet)[1];
    this.network = [ipaddr.IPv4.networkAddressFromCIDR(opts.subnet), len];
    this.gateway = this.nth(1);
    this.mtu = opts.mtu ?? 1500;
    this.hostPrefix = (opts.hostPrefix ?? 'nlv').slice(0, 4);
    this.ipHost = opts.hostNetns ? ['-n', opts.hostNetns] : [];
    this.hostNsPath = opts.hostNetns ? `/run/netns/${opts.hostNetns}` : `/proc/${process.pid}/ns/net`;
  }

  /** Make STATUS report the agent not ready (code 50) or ready again. */
  setReady(ready: boolean): void {
    this.ready = ready;
  }

  list(): VethAttachment[] {
    return [...this.attachments.values()];
  }

  hostIfName(key: string): string {
    return (this.hostPrefix + hashHex(key)).slice(0, 15);
  }

  private nth(n: number): string {
    const base = this.network[0].toByteArray();
    const v = base.reduce((acc, b) => acc * 256 + b, 0) + n;
    return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
  }

  private allocate(req: CniAddRequest): string {
    const size = 2 ** (32 - this.network[1]);
    const wanted = req.requestedIps.find((r) => !r.ip.includes(':'));
    if (wanted) {
      if (!ipaddr.parse(wanted.ip).match(this.network)) {
        throw new NetloomError(
          'INVALID_ARGUMENT',
          `requested IP ${wanted.ip} is outside ${this.network[0].toString()}/${this.network[1]}`,
          { field: 'ips' },
        );
      }
      if (this.usedIps.has(wanted.ip) || wanted.ip === this.gateway)
        throw new NetloomError('IN_USE', `requested IP ${wanted.ip} is in use`, { field: 'ips' });
      this.usedIps.add(wanted.ip);
      return wanted.ip;
    }
    for (let i = 2; i < size - 1; i++) {
      const ip = this.nth(i);
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
    throw new NetloomError('EXHAUSTED', `no free address in ${this.network[0].toString()}/${this.network[1]}`);
  }

  private release(a: VethAttachment): void {
    this.attachments.delete(a.key);
    this.usedIps.delete(a.ip);
  }

  async add(req: CniAddRequest): Promise<CniResult> {
    if (!existsSync(req.netnsPath))
      throw new NetloomError('NOT_FOUND', `network namespace ${req.netnsPath} does not exist`, { field: 'CNI_NETNS' });
    const existing = this.attachments.get(req.idempotencyKey);
    if (existing) throw new NetloomError('ALREADY_EXISTS', `attachment ${req.containerId}/${req.ifName} exists already (DEL it first)`);
    const ip = this.allocate(req);
    const hostIf = this.hostIfName(req.idempotencyKey);
    const mtu = req.mtu ?? this.mtu;
    const hostMac = macFromSeed(`host/${req.idempotencyKey}`);
    const ctrMac = req.requestedMac ?? macFromSeed(`ctr/${req.idempotencyKey}`);
    const a: VethAttachment = {
      key: req.idempotencyKey,
      containerId: req.containerId,
      ifName: req.ifName,
      cniNetwork: req.network.cniNetwork,
      ip,
      hostIf,
      netnsPath: req.netnsPath,
    };
    try {
      // ONE `ip` run inside the container's namespace does everything: the host end is created
      // directly in the host namespace and up (`netns` + `up` on the main device; the kernel
      // refuses `up` on a veth peer), the container end stays here and gets address and route
      const len = this.network[1];
      const script = [
        `link add ${hostIf} up netns ${this.hostNsPath} address ${hostMac} mtu ${mtu} type veth peer name ${req.ifName} address ${ctrMac} mtu ${mtu}`,
        `link set ${req.ifName} up`,
        `addr add ${ip}/${len} dev ${req.ifName}`,
        `route add default via ${this.gateway} dev ${req.ifName}`,
        'link set lo up',
        '',
      ].join('\n');
      const r = await run('nsenter', [`--net=${req.netnsPath}`, 'ip', '-b', '-'], { input: script, allowFailure: true });
      if (r.code !== 0) {
        if (r.stderr.includes('File exists'))
          throw new NetloomError('ALREADY_EXISTS', `interface ${req.ifName} or ${hostIf} exists already`, { field: 'CNI_IFNAME' });
        throw new NetloomError('COMMAND_FAILED', `plugging ${req.ifName} into ${req.netnsPath}: ${r.stderr.trim()}`);
      }
    } catch (e) {
      this.usedIps.delete(ip);
      await run('ip', [...this.ipHost, 'link', 'del', hostIf], { allowFailure: true });
      throw e;
    }
    this.attachments.set(a.key, a);
    return {
      interfaces: [
        { name: hostIf, mac: hostMac, mtu },
        { name: req.ifName, mac: ctrMac, mtu, sandbox: req.netnsPath },
      ],
      ips: [{ address: `${ip}/${this.network[1]}`, gateway: this.gateway, interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: this.gateway }],
      dns: {},
    };
  }

  async del(req: CniDelRequest): Promise<void> {
    const a = this.attachments.get(req.idempotencyKey);
    if (a) this.release(a);
    // also when the agent forgot the attachment: the host end's name follows from the key
    await run('ip', [...this.ipHost, 'link', 'del', a?.hostIf ?? this.hostIfName(req.idempotencyKey)], { allowFailure: true });
  }

  async check(req: CniCheckRequest): Promise<CniCheckReport> {
    const problems: string[] = [];
    const a = this.attachments.get(req.idempotencyKey);
    if (!a) problems.push(`no attachment ${req.containerId}/${req.ifName} on network ${req.network.cniNetwork}`);
    if (!existsSync(req.netnsPath)) return { problems: [...problems, `network namespace ${req.netnsPath} is gone`] };
    const r = await run('nsenter', [`--net=${req.netnsPath}`, 'ip', '-j', 'addr', 'show', 'dev', req.ifName], { allowFailure: true });
    if (r.code !== 0) return { problems: [...problems, `interface ${req.ifName} is missing in ${req.netnsPath}`] };
    const links = JSON.parse(r.stdout) as Array<{ operstate?: string; addr_info?: Array<{ local: string; prefixlen: number }> }>;
    const have = new Set((links[0]?.addr_info ?? []).map((x) => `${x.local}/${x.prefixlen}`));
    const idx = req.prevResult.interfaces.findIndex((i) => i.name === req.ifName && i.sandbox !== undefined);
    for (const ip of req.prevResult.ips) {
      if (ip.interface === idx && !have.has(ip.address)) problems.push(`address ${ip.address} is missing on ${req.ifName}`);
    }
    return { problems };
  }

  async status(): Promise<CniStatus> {
    return this.ready ? { ready: true } : { ready: false, code: 50, message: 'netloom agent is not ready' };
  }

  async gc(req: CniGcRequest): Promise<CniGcReport> {
    const valid = new Set(req.validAttachments.map((v) => `${v.containerId}/${v.ifName}`));
    const released: AttachmentKey[] = [];
    const errors: string[] = [];
    for (const a of this.list()) {
      if (a.cniNetwork !== req.network.cniNetwork || valid.has(`${a.containerId}/${a.ifName}`)) continue;
      this.release(a);
      const r = await run('ip', [...this.ipHost, 'link', 'del', a.hostIf], { allowFailure: true });
      if (r.code !== 0 && !r.stderr.includes('Cannot find device')) errors.push(`${a.hostIf}: ${r.stderr.trim()}`);
      released.push({ containerId: a.containerId, ifName: a.ifName });
    }
    return { released, errors };
  }
}
