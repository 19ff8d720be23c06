/**
 * The agent's CNM (Docker remote driver) backend, on the same allocator as CNI: IPAM asks the
 * control plane for an endpoint (address and MAC) and keeps it pending by address until Docker's
 * CreateEndpoint claims it; Join creates the veth pair in the agent's namespace (the container end
 * with the endpoint's MAC and the network's MTU, tx checksum off when configured), puts the host end
 * on br-int and returns the container end's name for Docker to move; Program/RevokeExternalConnectivity
 * publish the endpoint's ports (`-p`) or stop; Leave unplugs; DeleteEndpoint and ReleaseAddress give
 * the endpoint back. Every call is idempotent. In a routed network (BGP mode) Join routes the host end
 * instead (no br-int: route `proto 81`, proxy ARP, see plumbing/routed-veth.ts) and gives the
 * container the link-local gateway 169.254.1.1 with an on-link route to it; the container keeps the
 * address with the pool's prefix that Docker gave it (the host's proxy ARP answers its neighbours).
 */
import { randomUUID } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Agent } from '../agent/agent';
import type { EndpointRecord } from '../agent/endpoint-store';
import type { AllocatedEndpoint } from '../agent/fabric';
import type {
  AllocateAddressRequest,
  CnmBackend,
  CreateEndpointRequest,
  CreateEndpointResult,
  CreateNetworkRequest,
  EndpointRef,
  JoinRequest,
  JoinResult,
  PoolScope,
  ResolvePoolRequest,
  ResolvePoolResult,
} from '../cnm/backend';
import type { NetworkBinding } from '../cnm/options';
import { endpointLabelsOf, findEndpointContainer, type ContainerListApi } from '../docker/container-labels';
import { moveToNetloomIpam, type IpamMoveApi } from '../docker/ipam-move';
import { PORT_MAP_OPTION } from '../cnm/port-map';
import type { PublishedPort } from '../state/published-port';
import { endpointMtu } from '../pipeline/mtu';
import { hostIfName, plumbPair, removeHostIf } from '../plumbing/veth';
import { plumbRoutedHost, removeRoutedEndpoint, ROUTED_GATEWAY } from '../plumbing/routed-veth';
import { isRouted } from '../routed/routed-networks';
import type { Network } from '../state/host-state';

interface Pending {
  key: string;
  alloc: AllocatedEndpoint;
}

/** The container end's name for a host end `nlXXXXXXXXXXX`: same digits, `nc` prefix. */
export function containerIfName(hostIf: string): string {
  return `nc${hostIf.slice(2)}`;
}

export interface AgentCnmBackendOptions {
  /**
   * this host's dockerd: short-form networks are remade with netloom's IPAM (docker/ipam-move.ts)
   * and containers' labels become their endpoints' labels (docker/container-labels.ts)
   */
  docker?: IpamMoveApi & ContainerListApi;
}

export class AgentCnmBackend implements CnmBackend {
  /** allocated addresses not yet claimed by an endpoint, by `tenant:network/ip` */
  private readonly pending = new Map<string, Pending>();
  /** Docker networks being remade with netloom's IPAM (they take no endpoints meanwhile) */
  private readonly moving = new Set<string>();

  constructor(
    private readonly agent: Agent,
    private readonly opts: AgentCnmBackendOptions = {},
  ) {}

  /**
   * The netloom network a pool or Docker network names: from the desired state when this host
   * carries it, else from the control plane (a host with no endpoint in it yet). NOT_FOUND from
   * the control plane names the tenant and network (or subnet).
   */
  private async findNetwork(tenant: string, network: string | undefined, subnet: string | undefined): Promise<Network> {
    const local = this.agent.currentState?.networks.find(
      (n) => n.tenant === tenant && (network ? n.name === network : n.subnet === subnet),
    );
    if (local) return local;
    // by name when named (the callers check the subnet), else by subnet
    return this.agent.allocator.lookupNetwork({ tenant, ...(network ? { network } : subnet !== undefined ? { subnet } : {}) });
  }

  async resolvePool(req: ResolvePoolRequest): Promise<ResolvePoolResult> {
    const net = await this.findNetwork(req.tenant, req.network, req.subnet);
    if (net.subnet === '') throw new NetloomError('INVALID_ARGUMENT', `network ${net.key} has no IPv4 subnet`, { field: 'subnet' });
    if (req.subnet !== undefined && req.subnet !== net.subnet) {
      throw new NetloomError('CONFLICT', `network ${net.key} has subnet ${net.subnet}, not ${req.subnet}`, { field: 'subnet' });
    }
    return { subnet: net.subnet, ...(net.gateway ? { gateway: net.gateway } : {}) };
  }

  async allocateAddress(req: AllocateAddressRequest): Promise<string> {
    const net = await this.findNetwork(req.pool.tenant, req.pool.network, req.pool.subnet);
    const id = randomUUID();
    const key = `cnm/${id}`;
    const alloc = await this.agent.allocator.create({
      idempotencyKey: key,
      host: this.agent.hostName,
      tenant: net.tenant,
      network: net.name,
      containerId: key,
      ifName: 'eth0',
      ...(req.preferred ? { requestedIp: req.preferred } : {}),
      ...(req.mac ? { requestedMac: req.mac } : {}),
      labels: {},
    });
    if (req.range && !ipaddr.IPv4.parse(alloc.ip).match(ipaddr.IPv4.parseCIDR(req.range))) {
      await this.agent.allocator.delete({ endpointId: alloc.id, idempotencyKey: key });
      throw new NetloomError('EXHAUSTED', `the allocated address ${alloc.ip} is outside --ip-range ${req.range}`, { field: 'range' });
    }
    this.pending.set(`${net.key}/${alloc.ip}`, { key, alloc });
    return alloc.ip;
  }

  async releaseAddress(pool: PoolScope, address: string): Promise<void> {
    const k = [...this.pending.keys()].find((x) => x.endsWith(`/${address}`) && x.startsWith(`${pool.tenant}:`));
    if (!k) return;
    const p = this.pending.get(k);
    this.pending.delete(k);
    if (p) await this.agent.allocator.delete({ endpointId: p.alloc.id, idempotencyKey: p.key });
  }

  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    const net = await this.findNetwork(req.binding.tenant, req.binding.network, undefined);
    const docker = this.opts.docker;
    if (req.foreignIpamSpace !== undefined && docker) {
      // the short form: Docker's own IPAM serves it; remake it with ours once dockerd stored it
      const id = req.dockerNetworkId;
      this.moving.add(id);
      void moveToNetloomIpam(docker, id, req.binding, net)
        .then(
          (newId) =>
            this.agent.logger.info(
              { from: id.slice(0, 12), to: newId.slice(0, 12), network: net.key },
              "Docker network remade with netloom's IPAM",
            ),
          (e: unknown) =>
            this.agent.logger.warn(
              { network: id.slice(0, 12), err: errorMessage(e) },
              "could not remake a Docker network with netloom's IPAM",
            ),
        )
        .finally(() => this.moving.delete(id));
      return;
    }
    if (req.subnet !== undefined && net.subnet !== req.subnet) {
      throw new NetloomError(
        'CONFLICT',
        `network ${net.key} has subnet ${net.subnet}, not ${req.subnet}` +
          (req.foreignIpamSpace !== undefined ? ' (give --ipam-driver netloom, or run the agent with --docker-socket)' : ''),
        { field: 'subnet' },
      );
    }
  }

  async deleteNetwork(_dockerNetworkId: string, _binding: NetworkBinding): Promise<void> {
    // netloom networks belong to netmaster; a Docker network only binds to one
  }

  private recordKey(ref: EndpointRef): string {
    return `cnm/${ref.dockerNetworkId}/${ref.endpointId}`;
  }

  async createEndpoint(req: CreateEndpointRequest): Promise<CreateEndpointResult> {
    if (this.moving.has(req.dockerNetworkId)) {
      throw new NetloomError(
        'UNAVAILABLE',
        `Docker network ${req.dockerNetworkId.slice(0, 12)} was made with Docker's default IPAM: netloom is remaking it with its own ` +
          'under the same name; run the command again in a moment',
        { field: 'NetworkID' },
      );
    }
    const existing = this.agent.store.get(this.recordKey(req));
    if (existing) return { address: `${existing.ip}/${existing.prefixLength}`, macAddress: existing.mac };
    const key = `${req.binding.tenant}:${req.binding.network}`;
    const bare = req.address?.split('/')[0];
    let alloc: AllocatedEndpoint;
    let pend = bare ? this.pending.get(`${key}/${bare}`) : undefined;
    if (pend && req.macAddress && pend.alloc.mac !== req.macAddress) {
      // `docker run --mac-address`: Docker sets that MAC in the container itself, so the endpoint
      // (flows, netmaster) must have it: the address reserved by IPAM is allocated again with it
      this.pending.delete(`${key}/${bare}`);
      await this.agent.allocator.delete({ endpointId: pend.alloc.id, idempotencyKey: pend.key });
      pend = undefined;
    }
    if (pend) {
      alloc = pend.alloc;
      this.pending.delete(`${key}/${bare}`);
    } else {
      alloc = await this.agent.allocator.create({
        idempotencyKey: this.recordKey(req),
        host: this.agent.hostName,
        tenant: req.binding.tenant,
        network: req.binding.network,
        containerId: req.endpointId,
        ifName: 'eth0',
        ...(bare ? { requestedIp: bare } : {}),
        ...(req.macAddress ? { requestedMac: req.macAddress } : {}),
        labels: {},
      });
    }
    const net = await this.agent.network(alloc.networkKey);
    const hostIf = hostIfName(alloc.id);
    const rec: EndpointRecord = {
      endpointId: alloc.id,
      idempotencyKey: this.recordKey(req),
      kind: 'cnm',
      frontNetwork: req.dockerNetworkId,
      containerId: req.endpointId,
      ifName: containerIfName(hostIf),
      netnsPath: '',
      hostIf,
      networkKey: alloc.networkKey,
      ip: alloc.ip,
      prefixLength: alloc.prefixLength,
      mac: alloc.mac,
      gateway: alloc.gateway,
      mtu: endpointMtu(net, this.agent.config.underlayMtu),
    };
    this.agent.store.put(rec);
    return { address: `${rec.ip}/${rec.prefixLength}`, macAddress: rec.mac };
  }

  private record(ref: EndpointRef): EndpointRecord {
    const rec = this.agent.store.get(this.recordKey(ref));
    if (!rec) throw new NetloomError('NOT_FOUND', `endpoint ${ref.endpointId} is not known to the agent`, { field: 'EndpointID' });
    return rec;
  }

  async join(req: JoinRequest): Promise<JoinResult> {
    const rec = this.record(req);
    const state = this.agent.currentState;
    const net = state?.networks.find((n) => n.key === rec.networkKey);
    if (state && net && isRouted(state, net)) return this.joinRouted(req, rec);
    // Docker moves the container end into a namespace the agent never learns: it could not turn
    // the offload off later (agent.ts fixTxChecksum), so a CNM container keeps the workaround
    await plumbPair(
      { hostIf: rec.hostIf, ctrIf: rec.ifName, mac: rec.mac, mtu: rec.mtu, txChecksumOff: this.agent.txChecksumOffFor(undefined) },
      this.agent.runner,
    );
    await this.agent.attachEndpoint(rec);
    this.syncDockerLabels(req, rec);
    return { srcName: rec.ifName, ...(rec.gateway ? { gateway: rec.gateway } : {}), mtu: rec.mtu, hostIfName: rec.hostIf };
  }

  /** Join a routed network: the veth, the host end routed to (before the answer), policy and QoS applied. */
  private async joinRouted(req: JoinRequest, rec: EndpointRecord): Promise<JoinResult> {
    await plumbPair({ hostIf: rec.hostIf, ctrIf: rec.ifName, mac: rec.mac, mtu: rec.mtu, txChecksumOff: false }, this.agent.runner);
    await plumbRoutedHost({ hostIf: rec.hostIf, ip: rec.ip }, this.agent.runner);
    const routed = { ...rec, routed: true };
    await this.agent.attachRouted(routed);
    this.syncDockerLabels(req, routed);
    return {
      srcName: rec.ifName,
      gateway: ROUTED_GATEWAY,
      staticRoutes: [{ destination: `${ROUTED_GATEWAY}/32` }],
      mtu: rec.mtu,
      hostIfName: rec.hostIf,
    };
  }

  /** Unplug an endpoint's host end: off br-int, or its route (routed), then the veth. */
  private async unplugHost(rec: EndpointRecord): Promise<void> {
    await this.agent.detachEndpoint(rec);
    if (rec.routed) {
      await removeRoutedEndpoint(rec, this.agent.runner);
      await this.agent.routed.forget(rec.hostIf);
    } else await removeHostIf(rec.hostIf, this.agent.runner);
  }

  /**
   * After Join (dockerd cannot be asked during it): the joining container's labels onto the
   * netloom endpoint, in the background; failures are logged, the container runs regardless.
   */
  private syncDockerLabels(ref: EndpointRef, rec: EndpointRecord): void {
    const docker = this.opts.docker;
    const setLabels = this.agent.allocator.setLabels?.bind(this.agent.allocator);
    if (!docker || !setLabels) return;
    const log = this.agent.logger;
    void (async () => {
      const c = await findEndpointContainer(docker, ref.dockerNetworkId, ref.endpointId);
      const { labels, dropped } = endpointLabelsOf(c.Labels);
      for (const d of dropped)
        log.warn({ container: c.Id.slice(0, 12), field: d.field }, `Docker label not used as an endpoint label: ${d.why}`);
      if (Object.keys(labels).length > 0) await setLabels(rec.endpointId, labels);
    })().catch((e: unknown) => log.warn({ endpoint: rec.endpointId, err: errorMessage(e) }, 'Docker labels not set on the endpoint'));
  }

  async leave(ref: EndpointRef): Promise<void> {
    const rec = this.agent.store.get(this.recordKey(ref));
    if (!rec) return;
    await this.unplugHost(rec);
    // still an endpoint until DeleteEndpoint; its ports are published again only by a new ProgramExternalConnectivity
    const { portMappings: _gone, routed: _r, ...kept } = rec;
    this.agent.store.put(kept);
  }

  async programExternalConnectivity(ref: EndpointRef, ports: PublishedPort[]): Promise<void> {
    const rec = this.record(ref);
    await this.agent.publishPorts(rec.idempotencyKey, ports, (i) => `Options.${PORT_MAP_OPTION}.${i}.HostPort`);
  }

  async revokeExternalConnectivity(ref: EndpointRef): Promise<void> {
    const rec = this.agent.store.get(this.recordKey(ref));
    if (rec?.portMappings) await this.agent.publishPorts(rec.idempotencyKey, [], () => '');
  }

  async existingHostEnds(hostIfNames: readonly string[]): Promise<Set<string>> {
    // one listing of the agent's namespace, not a command per endpoint
    const r = await this.agent.runner('ip', ['-o', 'link', 'show']);
    const here = new Set(r.stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? ''));
    return new Set(hostIfNames.filter((n) => here.has(n)));
  }

  async deleteEndpoint(ref: EndpointRef): Promise<void> {
    const rec = this.agent.store.get(this.recordKey(ref));
    if (!rec) return;
    await this.unplugHost(rec);
    await this.agent.allocator.delete({ endpointId: rec.endpointId, idempotencyKey: rec.idempotencyKey });
  }
}
