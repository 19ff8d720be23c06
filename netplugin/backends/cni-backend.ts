/**
 * The agent's CNI backend: ADD asks the control plane for an endpoint (idempotency key = CNI
 * network + container id + interface), plumbs the veth into the container (name, MAC, MTU from the
 * network, address, default route), puts the host end on br-int and waits for its flows; DEL undoes
 * that and is idempotent; CHECK looks at the interface and address inside the namespace; GC
 * releases what is not listed; STATUS is ready when OVS and the control plane are connected.
 */
import { errorMessage, NetloomError } from '../../lib/errors';
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
import { endpointMtu } from '../pipeline/mtu';
import { containerAddresses, hostIfName, plumbContainer, removeHostIf } from '../plumbing/veth';

function resultOf(rec: EndpointRecord): CniResult {
  return {
    interfaces: [
      { name: rec.hostIf },
      { name: rec.ifName, mac: rec.mac, mtu: rec.mtu, sandbox: rec.netnsPath },
    ],
    ips: [{ address: `${rec.ip}/${rec.prefixLength}`, ...(rec.gateway ? { gateway: rec.gateway } : {}), interface: 1 }],
    routes: rec.gateway ? [{ dst: '0.0.0.0/0', gw: rec.gateway }] : [],
    dns: {},
  };
}

export class AgentCniBackend implements CniBackend {
  constructor(private readonly agent: Agent) {}

  async add(req: CniAddRequest): Promise<CniResult> {
    const existing = this.agent.store.get(req.idempotencyKey);
    if (existing) {
      const addrs = await containerAddresses(existing.netnsPath, existing.ifName);
      if (addrs?.includes(`${existing.ip}/${existing.prefixLength}`)) return resultOf(existing);
      throw new NetloomError('ALREADY_EXISTS', `attachment ${req.containerId}/${req.ifName} exists but its interface is gone; DEL it first`, { field: 'CNI_CONTAINERID' });
    }
    const alloc = await this.agent.allocator.create({
      idempotencyKey: req.idempotencyKey,
      host: this.agent.hostName,
      tenant: req.network.tenant,
      network: req.network.network,
      ...(req.network.group ? { group: req.network.group } : {}),
      containerId: req.containerId,
      ...(req.pod ? { containerName: req.pod.name } : {}),
      ifName: req.ifName,
      ...(req.requestedIps[0] ? { requestedIp: req.requestedIps[0].ip } : {}),
      ...(req.requestedMac ? { requestedMac: req.requestedMac } : {}),
      labels: req.labels,
    });
    const rec: EndpointRecord = {
      endpointId: alloc.id,
      idempotencyKey: req.idempotencyKey,
      kind: 'cni',
      frontNetwork: req.network.cniNetwork,
      containerId: req.containerId,
      ifName: req.ifName,
      netnsPath: req.netnsPath,
      hostIf: hostIfName(alloc.id),
      networkKey: alloc.networkKey,
      ip: alloc.ip,
      prefixLength: alloc.prefixLength,
      mac: alloc.mac,
      gateway: alloc.gateway,
      mtu: 0,
    };
    try {
      const net = await this.agent.network(alloc.networkKey);
      const netMtu = endpointMtu(net, this.agent.config.underlayMtu);
      rec.mtu = req.mtu !== undefined ? Math.min(req.mtu, netMtu) : netMtu;
      await plumbContainer({ ...rec, txChecksumOff: this.agent.config.txChecksumOff });
      await this.agent.attachEndpoint(rec);
    } catch (e) {
      await this.undo(rec).catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u) }, 'cleanup after a failed ADD failed'));
      throw e;
    }
    return resultOf(rec);
  }

  private async undo(rec: Pick<EndpointRecord, 'endpointId' | 'hostIf' | 'idempotencyKey'>): Promise<void> {
    await this.agent.detachEndpoint(rec);
    await removeHostIf(rec.hostIf);
    await this.agent.allocator.delete({ endpointId: rec.endpointId, idempotencyKey: rec.idempotencyKey });
  }

  async del(req: CniDelRequest): Promise<void> {
    const rec = this.agent.store.get(req.idempotencyKey);
    if (rec) await this.undo(rec);
    else await this.agent.allocator.delete({ idempotencyKey: req.idempotencyKey });
  }

  async check(req: CniCheckRequest): Promise<CniCheckReport> {
    const problems: string[] = [];
    const rec = this.agent.store.get(req.idempotencyKey);
    if (!rec) return { problems: [`no attachment ${req.containerId}/${req.ifName} on network ${req.network.cniNetwork}`] };
    const addrs = await containerAddresses(req.netnsPath, req.ifName);
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
