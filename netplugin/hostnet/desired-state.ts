/**
 * What the host's kernel should hold for netloom (pure): from the agent's pipeline input and the
 * host's own addresses, one gateway per tenant that has a local endpoint in a network with a
 * subnet and a gateway (those are the endpoints that can send to the host: their gateway MAC is
 * where the switch picks up what leaves the tenant). Each gateway lists the tenant's local
 * subnets with their `nat` setting and whether the host reaches them by a main-table route: not
 * when another tenant's gateway on this host has an overlapping subnet, nor when the subnet
 * overlaps a network the host is itself connected to (the route would take the host's own
 * traffic). Port mappings are carried as given (checked) and sorted.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import { NetworkView, pipelineView, PipelineInput, PipelineView } from '../pipeline/input';
import { DEFAULT_UNDERLAY_MTU, endpointMtu } from '../pipeline/mtu';
import type { Tenant } from '../state/host-state';
import { gatewayPortMac, gatewayPortName, MAX_GATEWAY_VRF, routeTable, tenantMark } from './numbering';
import { checkPortMapping, comparePortMappings, type PortMapping } from './port-mapping';
import { nodePortRules, type NodePorts } from './node-ports';

/** What the agent knows of its host besides the pipeline input. */
export interface HostFacts {
  /** the host's own IPv4 addresses with their prefix (10.213.1.1/24), loopback and gateway ports left out */
  addresses: readonly string[];
  /** the underlay's MTU (default 1500): the gateway port takes its tenant's smallest endpoint MTU */
  underlayMtu?: number;
}

export interface GatewaySubnet {
  /** tenant:network */
  network: string;
  subnet: string;
  /** masquerade what leaves the host from it */
  nat: boolean;
  /** the host reaches it by a main-table route through the gateway port */
  hostRoute: boolean;
}

export interface TenantGateway {
  tenant: string;
  vrfId: number;
  /** the kernel conntrack zone of the tenant's connections (the tenant's ctZone) */
  ctZone: number;
  /** nlgw<vrfId> */
  port: string;
  mac: string;
  /** fwmark of packets going back to the tenant (0x10000|vrfId) */
  mark: number;
  /** routing table the mark selects (10000+vrfId) */
  table: number;
  /**
   * the smallest MTU of the tenant's local endpoints: what the kernel sends them (from the world,
   * from the host) is fragmented or gets PMTU errors in the kernel, not dropped by the switch
   */
  mtu: number;
  /** sorted by subnet */
  subnets: GatewaySubnet[];
}

export interface HostNetState {
  /** sorted by vrfId */
  gateways: TenantGateway[];
  /** sorted (comparePortMappings) */
  portMappings: PortMapping[];
  /** Kubernetes node ports served here (node-ports.ts); absent when there is none */
  nodePorts?: NodePorts;
}

/**
 * The tenant's networks the gateway port serves on this host: a local endpoint, a subnet and a
 * gateway (sorted by networkId, as the view). Shared with the pipeline feature.
 */
export function gatewayNetworks(view: PipelineView, t: Tenant): NetworkView[] {
  return view.networks.filter((nv) => nv.tenant === t && nv.hasLocal && nv.gatewayMac !== undefined && nv.net.subnet !== '');
}

/** The tenants that get a gateway port on this host, checked (vrfId within the mark's 16 bits). */
export function gatewayTenants(view: PipelineView): Tenant[] {
  return view.tenants.filter((t) => {
    if (gatewayNetworks(view, t).length === 0) return false;
    if (t.vrfId > MAX_GATEWAY_VRF) {
      const i = view.input.state.tenants.indexOf(t);
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `host network: tenants[${i}].vrfId: ${t.vrfId} does not fit a gateway mark (1..${MAX_GATEWAY_VRF})`,
        {
          field: `tenants[${i}].vrfId`,
        },
      );
    }
    return true;
  });
}

type Cidr = [ipaddr.IPv4, number];

function overlaps(a: Cidr, b: Cidr): boolean {
  const len = Math.min(a[1], b[1]);
  return a[0].match(b[0], len);
}

function parseCidr(s: string, field: string): Cidr {
  try {
    const [addr, len] = ipaddr.parseCIDR(s);
    if (addr.kind() !== 'ipv4') throw new Error('not IPv4');
    return [addr as ipaddr.IPv4, len];
  } catch {
    throw new NetloomError('INVALID_ARGUMENT', `host network: ${field}: ${JSON.stringify(s)} is not an IPv4 address with prefix`, {
      field,
    });
  }
}

/** The desired host-network state (throws NetloomError naming the field on bad input). */
export function desiredHostNet(input: PipelineInput, facts: HostFacts, portMappings: readonly PortMapping[] = []): HostNetState {
  const view = pipelineView(input);
  const hostNets = facts.addresses.map((a, i) => parseCidr(a, `addresses[${i}]`));
  const tenants = gatewayTenants(view);
  const all = tenants.flatMap((t) =>
    gatewayNetworks(view, t).map((nv) => ({ t, nv, cidr: parseCidr(nv.net.subnet, `${nv.net.key}.subnet`) })),
  );
  const underlay = facts.underlayMtu ?? DEFAULT_UNDERLAY_MTU;
  const gateways = tenants.map((t): TenantGateway => {
    const mtu = Math.min(...gatewayNetworks(view, t).map((nv) => endpointMtu(nv.net, underlay)));
    const subnets = all
      .filter((x) => x.t === t)
      .map(({ nv, cidr }): GatewaySubnet => {
        const clash = all.some((o) => o.t !== t && overlaps(o.cidr, cidr)) || hostNets.some((h) => overlaps(h, cidr));
        return { network: nv.net.key, subnet: nv.net.subnet, nat: nv.net.nat !== false, hostRoute: !clash };
      })
      .sort((a, b) => (a.subnet < b.subnet ? -1 : a.subnet > b.subnet ? 1 : 0));
    return {
      tenant: t.name,
      vrfId: t.vrfId,
      ctZone: t.ctZone,
      port: gatewayPortName(t.vrfId),
      mac: gatewayPortMac(t.vrfId),
      mark: tenantMark(t.vrfId),
      table: routeTable(t.vrfId),
      mtu,
      subnets,
    };
  });
  portMappings.forEach((m, i) => checkPortMapping(m, i));
  const nodePorts = nodePortRules(input, new Set(tenants.map((t) => t.vrfId)));
  return { gateways, portMappings: [...portMappings].sort(comparePortMappings), ...(nodePorts.rules.length > 0 ? { nodePorts } : {}) };
}
