/**
 * A CnmBackend for integration tests that does real plumbing: one switch per Docker network
 * (`nlcb<id>`: a Linux bridge, or a netdev bridge of a private OVS when one is given) in dockerd's
 * network namespace (root, or the test's own), one veth pair per joined endpoint
 * (`nlc<id>h` on the bridge, `nlc<id>c` for Docker to move into the container), and an in-memory
 * address allocator per tenant+subnet. It records every call so tests can check what the server
 * asked for.
 */
import { run } from '../../../lib/exec';
import { ovsCtl, OvsInstance } from '../../../deploy/lab/ovs-instance';
import { NetloomError } from '../../../lib/errors';
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
} from '../../../netplugin/cnm/backend';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import { bareAddress, macForAddress, parseSubnet, subnetContains } from '../../../netplugin/cnm/addresses';
import type { NetworkBinding } from '../../../netplugin/cnm/options';
import type { PublishedPort } from '../../../netplugin/state/published-port';

export const LINK_PREFIX = 'nlc';

function ipToInt(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function bridgeName(dockerNetworkId: string): string {
  return `${LINK_PREFIX}b${dockerNetworkId.slice(0, 8)}`;
}

export class VethTestBackend implements CnmBackend {
  readonly calls: Array<{ op: string; arg: unknown }> = [];
  /** tenant|subnet -> addresses in use */
  private readonly used = new Map<string, Set<string>>();
  private readonly bridges = new Map<string, string>();
  /** Join answers with this gateway when set (Docker programs external connectivity only on an endpoint with one) */
  joinGateway: string | undefined;

  /**
   * `netns`: the network namespace dockerd runs in (undefined: the root namespace); `ovs`: plug
   * host sides into this OVS instance (running in the same namespace) instead of Linux bridges.
   */
  constructor(
    private readonly netns?: string,
    private readonly ovs?: OvsInstance,
    private readonly mtu = 1500,
  ) {}

  private vsctl(args: string[]): Promise<string> {
    if (!this.ovs) throw new Error('no OVS instance');
    return ovsCtl(this.ovs, 'ovs-vsctl', args);
  }

  private ip(args: string[], allowFailure = false): ReturnType<typeof run> {
    return run('ip', [...(this.netns ? ['-n', this.netns] : []), ...args], { allowFailure });
  }

  private async linkExists(name: string): Promise<boolean> {
    return (await this.ip(['link', 'show', name], true)).code === 0;
  }

  private pool(tenant: string, subnet: string): Set<string> {
    const key = `${tenant}|${subnet}`;
    let s = this.used.get(key);
    if (!s) this.used.set(key, (s = new Set()));
    return s;
  }

  async resolvePool(req: ResolvePoolRequest): Promise<ResolvePoolResult> {
    this.calls.push({ op: 'resolvePool', arg: req });
    if (!req.subnet) throw new NetloomError('INVALID_ARGUMENT', 'the test backend needs --subnet', { field: 'Pool' });
    return { subnet: req.subnet };
  }

  async allocateAddress(req: AllocateAddressRequest): Promise<string> {
    this.calls.push({ op: 'allocateAddress', arg: req });
    const subnet = parseSubnet(req.pool.subnet, 'subnet');
    const used = this.pool(req.pool.tenant, subnet.cidr);
    if (req.preferred !== undefined) {
      if (used.has(req.preferred)) throw new NetloomError('IN_USE', `${req.preferred} is in use`, { field: 'Address' });
      used.add(req.preferred);
      return req.preferred;
    }
    const range = parseSubnet(req.range ?? subnet.cidr, 'range');
    const first = ipToInt(range.network) + 1;
    const last = ipToInt(range.network) + 2 ** (32 - range.prefix) - 2;
    for (let n = first; n <= last; n++) {
      const a = intToIp(n);
      if (!used.has(a) && subnetContains(subnet, a)) {
        used.add(a);
        return a;
      }
    }
    throw new NetloomError('EXHAUSTED', `no free address in ${range.cidr}`);
  }

  async releaseAddress(pool: PoolScope, address: string): Promise<void> {
    this.calls.push({ op: 'releaseAddress', arg: { pool, address } });
    this.pool(pool.tenant, parseSubnet(pool.subnet, 'subnet').cidr).delete(address);
  }

  async createNetwork(req: CreateNetworkRequest): Promise<void> {
    this.calls.push({ op: 'createNetwork', arg: req });
    if (req.subnet && req.gateway) this.pool(req.binding.tenant, req.subnet).add(req.gateway);
    const br = bridgeName(req.dockerNetworkId);
    if (this.ovs) {
      await this.vsctl(['--may-exist', 'add-br', br, '--', 'set', 'bridge', br, 'datapath_type=netdev']);
    } else if (!(await this.linkExists(br))) {
      await this.ip(['link', 'add', br, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    }
    await this.ip(['link', 'set', br, 'up']);
    this.bridges.set(req.dockerNetworkId, br);
  }

  async deleteNetwork(dockerNetworkId: string, binding: NetworkBinding): Promise<void> {
    this.calls.push({ op: 'deleteNetwork', arg: { dockerNetworkId, binding } });
    if (this.ovs) await this.vsctl(['--if-exists', 'del-br', bridgeName(dockerNetworkId)]);
    else await this.ip(['link', 'del', bridgeName(dockerNetworkId)], true);
    this.bridges.delete(dockerNetworkId);
  }

  async createEndpoint(req: CreateEndpointRequest): Promise<CreateEndpointResult> {
    this.calls.push({ op: 'createEndpoint', arg: req });
    if (!req.address)
      throw new NetloomError('INVALID_ARGUMENT', 'the test backend needs an address from IPAM', { field: 'Interface.Address' });
    return { macAddress: macForAddress(bareAddress(req.address, 'address')) };
  }

  async join(req: JoinRequest): Promise<JoinResult> {
    this.calls.push({ op: 'join', arg: req });
    const names = endpointLinkNames(req.endpointId, LINK_PREFIX);
    if (!(await this.linkExists(names.host))) {
      await this.ip([
        'link',
        'add',
        names.host,
        'mtu',
        String(this.mtu),
        'type',
        'veth',
        'peer',
        'name',
        names.container,
        'mtu',
        String(this.mtu),
      ]);
    }
    await this.ip(['link', 'set', names.container, 'address', req.macAddress], true);
    if (this.ovs) {
      await this.vsctl(['--may-exist', 'add-port', bridgeName(req.dockerNetworkId), names.host]);
      await this.ip(['link', 'set', names.host, 'up']);
    } else {
      await this.ip(['link', 'set', names.host, 'master', bridgeName(req.dockerNetworkId), 'up']);
    }
    return { srcName: names.container, hostIfName: names.host, mtu: this.mtu, ...(this.joinGateway ? { gateway: this.joinGateway } : {}) };
  }

  private async removeVeth(endpointId: string): Promise<void> {
    const names = endpointLinkNames(endpointId, LINK_PREFIX);
    if (this.ovs) await this.vsctl(['--if-exists', 'del-port', names.host]);
    if (await this.linkExists(names.host)) await this.ip(['link', 'del', names.host], true);
  }

  async leave(ref: EndpointRef): Promise<void> {
    this.calls.push({ op: 'leave', arg: ref });
    await this.removeVeth(ref.endpointId);
  }

  async deleteEndpoint(ref: EndpointRef): Promise<void> {
    this.calls.push({ op: 'deleteEndpoint', arg: ref });
    await this.removeVeth(ref.endpointId);
  }

  async existingHostEnds(hostIfNames: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const n of hostIfNames) if (await this.linkExists(n)) out.add(n);
    return out;
  }

  async programExternalConnectivity(ref: EndpointRef, ports: PublishedPort[]): Promise<void> {
    this.calls.push({ op: 'programExternalConnectivity', arg: { ...ref, ports } });
  }

  async revokeExternalConnectivity(ref: EndpointRef): Promise<void> {
    this.calls.push({ op: 'revokeExternalConnectivity', arg: ref });
  }

  /** Remove every link this backend may have made (test teardown). */
  async cleanup(): Promise<void> {
    const out = (await this.ip(['-o', 'link', 'show'])).stdout;
    const names = out
      .split('\n')
      .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
      .filter((n) => n.startsWith(LINK_PREFIX));
    for (const n of names) await this.ip(['link', 'del', n], true);
  }
}
