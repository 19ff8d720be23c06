/**
 * The agent's CNI backend. ADD asks the control plane for an endpoint (idempotency key = CNI
 * network + container id + interface) and, at the same time, creates the veth pair (host end named
 * after the attachment, so known before netmaster answers) and puts its host end on br-int; with
 * the allocation it then configures the container end (MAC, MTU from the network, address, default
 * route) while the agent installs the endpoint's flows, and answers when both are done. A failure
 * anywhere undoes every part. Published ports (portMappings) are reserved on the host before
 * anything is made (a host port another endpoint has fails the ADD) and kept with the endpoint's
 * record, so they live and die with it. DEL undoes an attachment (the three parts at once) and is idempotent,
 * also for an ADD that died half-way; CHECK looks at the interface and address inside the namespace; GC
 * releases what is not listed; STATUS is ready when OVS and the control plane are connected.
 */
import { errorMessage, NetloomError } from '../../lib/errors';
import { randomMac } from '../../lib/mac';
import type { Agent } from '../agent/agent';
import type { EndpointRecord } from '../agent/endpoint-store';
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
} from '../cni/types';
import { publishedPort } from '../cni/parse';
import type { PublishedPort } from '../state/published-port';
import { endpointMtu, VXLAN_OVERHEAD } from '../pipeline/mtu';
import {
  configureContainer,
  containerAddresses,
  createVeth,
  disableTxChecksum,
  hostIfName,
  removeHostIf,
  setHostIfMtu,
} from '../plumbing/veth';

function resultOf(rec: EndpointRecord): CniResult {
  return {
    interfaces: [{ name: rec.hostIf }, { name: rec.ifName, mac: rec.mac, mtu: rec.mtu, sandbox: rec.netnsPath }],
    ips: [{ address: `${rec.ip}/${rec.prefixLength}`, ...(rec.gateway ? { gateway: rec.gateway } : {}), interface: 1 }],
    routes: rec.gateway ? [{ dst: '0.0.0.0/0', gw: rec.gateway }] : [],
    dns: {},
  };
}

/** A promise that never rejects: its outcome, for steps that are awaited later (no unhandled rejection meanwhile). */
function settled<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value): PromiseFulfilledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason }),
  );
}

function unwrap<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** Wait for every promise; then throw the first failure, if any (nothing is left running). */
async function settleAll(ps: readonly Promise<unknown>[]): Promise<void> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export class AgentCniBackend implements CniBackend {
  constructor(private readonly agent: Agent) {}

  async add(req: CniAddRequest): Promise<CniResult> {
    const existing = this.agent.store.get(req.idempotencyKey);
    if (existing) return this.again(req, existing);
    // host ports are reserved first: a clash fails the ADD before anything is made
    const ports = req.portMappings.map(publishedPort);
    this.agent.claimPorts(req.idempotencyKey, ports, (i) => `runtimeConfig.portMappings[${i}]`);
    try {
      return await this.addNew(req, ports);
    } finally {
      // the record (live once added) holds the ports from now on, or the ADD failed
      this.agent.releasePortClaim(req.idempotencyKey);
    }
  }

  /** A repeated ADD: the recorded attachment when its interface is still there. */
  private async again(req: CniAddRequest, existing: EndpointRecord): Promise<CniResult> {
    const addrs = await containerAddresses(existing.netnsPath, existing.ifName, this.agent.runner);
    if (addrs?.includes(`${existing.ip}/${existing.prefixLength}`)) return resultOf(existing);
    throw new NetloomError('ALREADY_EXISTS', `attachment ${req.containerId}/${req.ifName} exists but its interface is gone; DEL it first`, {
      field: 'CNI_CONTAINERID',
    });
  }

  private async addNew(req: CniAddRequest, ports: PublishedPort[]): Promise<CniResult> {
    const hostIf = hostIfName(req.idempotencyKey);
    // the MTU of the network when this host knows it already, else the smallest it can be (VXLAN);
    // stage 2 raises the container end's MTU (and the host end's) when the network allows more
    const known = this.agent.currentState?.networks.find((n) => n.tenant === req.network.tenant && n.name === req.network.network);
    const underlay = this.agent.config.underlayMtu;
    const capped = (m: number): number => (req.mtu !== undefined ? Math.min(req.mtu, m) : m);
    const firstMtu = capped(known ? endpointMtu(known, underlay) : underlay - VXLAN_OVERHEAD);
    const runner = this.agent.runner;
    // the MAC is chosen here (or by the runtime) so that stage 1 can set it; netmaster records it
    // (CONFLICT in the ~2^-40 case of a clash: the runtime retries the ADD)
    const mac = req.requestedMac ?? randomMac();
    // netmaster allocates while the kernel makes the veth; then, at the same time: the checksum fix
    // and the OVS port (after the veth), the container's addressing (after both), the flows (after
    // the port and the allocation)
    const allocating = this.agent.allocator.create({
      idempotencyKey: req.idempotencyKey,
      host: this.agent.hostName,
      tenant: req.network.tenant,
      network: req.network.network,
      ...(req.network.group ? { group: req.network.group } : {}),
      containerId: req.containerId,
      ...(req.pod ? { containerName: req.pod.name } : {}),
      ifName: req.ifName,
      ...(req.requestedIps[0] ? { requestedIp: req.requestedIps[0].ip } : {}),
      requestedMac: mac,
      labels: req.labels,
    });
    const veth = createVeth({ hostIf, ifName: req.ifName, netnsPath: req.netnsPath, mac, mtu: firstMtu }, runner);
    const txOff = this.agent.txChecksumOffFor(known);
    const checksum = settled(txOff ? veth.then(() => disableTxChecksum(req.netnsPath, req.ifName, runner)) : veth);
    const port = settled(veth.then(() => this.agent.plugPort(hostIf, { 'netloom-attachment': req.idempotencyKey })));
    const [alloc, made] = await Promise.allSettled([allocating, veth]);
    if (alloc.status === 'rejected' || made.status === 'rejected') {
      await Promise.all([checksum, port]);
      await this.unplug(hostIf).catch((u: unknown) =>
        this.agent.logger.warn({ err: errorMessage(u) }, 'cleanup after a failed ADD failed'),
      );
      if (alloc.status === 'fulfilled') await this.release({ endpointId: alloc.value.id, idempotencyKey: req.idempotencyKey });
      throw alloc.status === 'rejected' ? alloc.reason : (made as PromiseRejectedResult).reason;
    }
    const a = alloc.value;
    const rec: EndpointRecord = {
      endpointId: a.id,
      idempotencyKey: req.idempotencyKey,
      kind: 'cni',
      frontNetwork: req.network.cniNetwork,
      containerId: req.containerId,
      ifName: req.ifName,
      netnsPath: req.netnsPath,
      hostIf,
      networkKey: a.networkKey,
      ip: a.ip,
      prefixLength: a.prefixLength,
      mac: a.mac,
      gateway: a.gateway,
      mtu: firstMtu,
      ...(ports.length > 0 ? { portMappings: ports } : {}),
      // kept on where the workaround applies: the agent turns it off if its packets may later reach a tunnel
      ...(this.agent.config.txChecksumOff && !txOff ? { txChecksumOn: true as const } : {}),
    };
    try {
      rec.mtu = capped(endpointMtu(await this.agent.network(a.networkKey), underlay));
      await settleAll([
        configureContainer(
          {
            ...rec,
            // an ADD retried after a crash gets the endpoint of the first try, with its MAC
            ...(a.mac !== mac ? { mac: a.mac } : { mac: undefined }),
            ...(rec.mtu !== firstMtu ? { mtu: rec.mtu } : { mtu: undefined }),
          },
          runner,
        ),
        rec.mtu !== firstMtu ? setHostIfMtu(hostIf, rec.mtu, runner) : Promise.resolve(),
        checksum.then(unwrap),
        port.then(unwrap).then((ofport) => this.agent.attachPlugged(rec, ofport)),
        port.then(unwrap).then(() => this.agent.labelPort(hostIf, { 'iface-id': a.id, 'attached-mac': a.mac })),
      ]);
    } catch (e) {
      await this.undo(rec).catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u) }, 'cleanup after a failed ADD failed'));
      throw e;
    }
    return resultOf(rec);
  }

  /** Take a host end off br-int and delete it (idempotent). */
  private async unplug(hostIf: string): Promise<void> {
    await settleAll([this.agent.unplugPort(hostIf), removeHostIf(hostIf, this.agent.runner)]);
  }

  private async release(ref: { endpointId?: string; idempotencyKey: string }): Promise<void> {
    await this.agent.allocator
      .delete(ref)
      .catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u), ...ref }, 'releasing the endpoint after a failed ADD failed'));
  }

  /** Unplug and release an attachment: the three parts at once (each is idempotent). */
  private async undo(rec: Pick<EndpointRecord, 'endpointId' | 'hostIf' | 'idempotencyKey'>): Promise<void> {
    await settleAll([
      this.agent.detachEndpoint(rec),
      removeHostIf(rec.hostIf, this.agent.runner),
      this.agent.allocator.delete({ endpointId: rec.endpointId, idempotencyKey: rec.idempotencyKey }),
    ]);
  }

  async del(req: CniDelRequest): Promise<void> {
    const rec = this.agent.store.get(req.idempotencyKey);
    if (rec) await this.undo(rec);
    else {
      // no record: nothing, or an ADD that died half-way (its host end is named after the attachment)
      await settleAll([this.unplug(hostIfName(req.idempotencyKey)), this.agent.allocator.delete({ idempotencyKey: req.idempotencyKey })]);
    }
  }

  async check(req: CniCheckRequest): Promise<CniCheckReport> {
    const problems: string[] = [];
    const rec = this.agent.store.get(req.idempotencyKey);
    if (!rec) return { problems: [`no attachment ${req.containerId}/${req.ifName} on network ${req.network.cniNetwork}`] };
    const addrs = await containerAddresses(req.netnsPath, req.ifName, this.agent.runner);
    if (addrs === undefined) return { problems: [`interface ${req.ifName} is missing in ${req.netnsPath}`] };
    const want = `${rec.ip}/${rec.prefixLength}`;
    if (!addrs.includes(want)) problems.push(`address ${want} is missing on ${req.ifName}`);
    if (this.agent.localPorts[rec.endpointId] === undefined) problems.push(`host interface ${rec.hostIf} is not on the bridge`);
    return { problems };
  }

  async status(): Promise<CniStatus> {
    const r = this.agent.ready;
    if (!r.ovs) return { ready: false, code: 50, message: 'netloom agent is not connected to Open vSwitch' };
    if (!r.controlPlane) return { ready: false, code: 50, message: 'netloom agent is not connected to netmaster' };
    return { ready: true };
  }

  async gc(req: CniGcRequest): Promise<CniGcReport> {
    const valid = new Set(req.validAttachments.map((v) => `${v.containerId}/${v.ifName}`));
    const released: AttachmentKey[] = [];
    const errors: string[] = [];
    for (const rec of this.agent.store.list()) {
      if (rec.kind !== 'cni' || rec.frontNetwork !== req.network.cniNetwork || valid.has(`${rec.containerId}/${rec.ifName}`)) continue;
      try {
        await this.undo(rec);
        released.push({ containerId: rec.containerId, ifName: rec.ifName });
      } catch (e) {
        errors.push(`${rec.containerId}/${rec.ifName}: ${errorMessage(e)}`);
      }
    }
    return { released, errors };
  }
}
