/**
 * The services of a host's pipeline as checked, indexed data (the flows of features/service-lb.ts,
 * the select groups and the reject meter are all computed from it): one `ServicePortView` per
 * service port, with the index it carries in reg7 (bits 16..31), which is also its select group's
 * id, and its providers resolved to endpoints this host can deliver to.
 *
 * Index: a hash of the service port's name (`tenant:service:proto/port`) into 1..65535, the next
 * free one on a collision (ports taken in name order). It stays the same while the service port
 * exists whatever else comes and goes (barring a collision), so its group and flows are not
 * rewritten when other services change, and its counters keep counting.
 *
 * Providers this host cannot deliver to (an endpoint it does not know, or a remote one in a
 * network it has no path to) are left out of the buckets here: a connection sent there would be
 * black-holed. Services of a tenant the host does not know are an inconsistent state (netmaster
 * sends a service only to hosts with an endpoint in its tenant): NetloomError naming the field;
 * except a Kubernetes Service, which every host gets for its node ports (issue 19): no pod here can
 * call its cluster IP, so it has no flows (hostnet/node-ports.ts forwards its node ports).
 *
 * A select group's buckets go in one OpenFlow 1.3 group_mod, at most 65535 bytes: a bucket here is
 * 64 bytes (two set_field loads and a resubmit), so at most 1023 fit; a service port has at most
 * SERVICE_PROVIDERS_MAX (1000) providers, more is refused naming the field.
 */
import { NetloomError } from '../../lib/errors';
import { SERVICE_PROVIDERS_MAX } from '../../lib/kinds/limits';
import type { Bucket, GroupDesc, MeterConfig } from '../../ovs/openflow/messages';
import { OFPG_ANY, OFPMF, OFPP } from '../../ovs/openflow/messages';
import { objectHash } from '../reconcile/cookie';
import type { ServiceLB, ServicePort, Tenant } from '../state/host-state';
import { act } from './flow-builder';
import { EndpointView, NetworkView, pipelineView, PipelineInput } from './input';

/** The MAC the switch answers ARP for a service IP with (locally administered, beside the default gateway MAC). */
export const SERVICE_MAC = '02:6e:6c:00:00:02';
/** Meter of the packets sent to the agent for a reject (endpoint meters use 2 x ofport and up, so 1 is free). */
export const SERVICE_REJECT_METER_ID = 1;
/** Rejects per second the switch hands to the agent (a connection storm to a service without providers costs the agent no more) */
export const SERVICE_REJECT_PPS = 200;
export const SERVICE_REJECT_BURST = 100;
/** The bytes of a rejected packet sent to the agent: Ethernet, IPv4 and TCP headers with options fit. */
export const SERVICE_REJECT_MAX_LEN = 256;
/** Bits of reg7 holding the service port index. */
export const SVC_INDEX_MASK = 0xffff0000;

export interface ProviderView {
  endpointId: string;
  ip: string;
  ep: EndpointView;
  /** its port for this service port: its own (a Kubernetes named targetPort), else the port's targetPort */
  targetPort: number;
}

/**
 * Hairpin: a local provider calling its own service. Were it given itself, the packet would have
 * to leave by the port it came in on with its own address as source, which neither OVS (no output
 * to the input port) nor the provider's kernel (a martian source) lets through. So its new
 * connections go to a group of the other providers instead (with none, they are refused).
 */
export interface HairpinView {
  provider: ProviderView;
  /** (ofport << 16) + index: above every service port's own group id, unique on the bridge */
  groupId: number;
  /** the other providers, sorted by endpoint id */
  others: ProviderView[];
}

export interface ServicePortView {
  service: ServiceLB;
  tenant: Tenant;
  /** the service's network, when this host carries it (then the switch answers ARP for the service IP there) */
  net: NetworkView | undefined;
  port: ServicePort;
  /** 1..65535: reg7 bits 16..31 and the select group's id */
  index: number;
  /** `tenant:service:proto/port`, the flows' object */
  name: string;
  /** the providers this host can deliver to, sorted by endpoint id */
  providers: ProviderView[];
  /** the plugged local providers' own groups, sorted by endpoint id */
  hairpins: HairpinView[];
}

function bad(field: string, msg: string, code: 'INVALID_ARGUMENT' | 'CONFLICT' = 'INVALID_ARGUMENT'): never {
  throw new NetloomError(code, `pipeline input: ${field}: ${msg}`, { field });
}

/** reg7 of a service port (index in the high half) with the provider port in the low one. */
export function svcPortReg(index: number, port = 0): number {
  return index * 0x10000 + port;
}

/** An IPv4 address as the 32-bit number a register holds. */
export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** The name a provider's flows carry as object: `<service port name>><endpoint id>`. */
export function providerObject(sp: Pick<ServicePortView, 'name'>, endpointId: string): string {
  return `${sp.name}>${endpointId}`;
}

function build(input: PipelineInput): ServicePortView[] {
  const view = pipelineView(input);
  const tenants = new Map(view.tenants.map((t) => [t.name, t]));
  const nets = new Map(view.networks.map((nv) => [nv.net.key, nv]));
  const eps = new Map(view.endpoints.map((e) => [e.ep.id, e]));
  const epIps = new Map(view.endpoints.map((e) => [`${e.net.tenant.name}|${e.ep.ip}`, e.ep.id]));
  const out: ServicePortView[] = [];
  const keys = new Map<string, number>();
  const addrs = new Map<string, string>();
  input.state.services.forEach((s, i) => {
    const tenant = tenants.get(s.tenant);
    if (!tenant && s.kube) return;
    if (!tenant) bad(`services[${i}].tenant`, `unknown tenant '${s.tenant}'`);
    const prev = keys.get(s.key);
    if (prev !== undefined) bad(`services[${i}].key`, `service ${s.key} is also services[${prev}]`, 'CONFLICT');
    keys.set(s.key, i);
    const owner = epIps.get(`${s.tenant}|${s.ip}`);
    if (owner !== undefined) bad(`services[${i}].ip`, `${s.ip} is the address of endpoint ${owner}`, 'CONFLICT');
    const net = nets.get(s.network) ?? nets.get(`${s.tenant}:${s.network}`);
    if (net && net.tenant !== tenant) bad(`services[${i}].network`, `network ${net.net.key} belongs to another tenant than ${s.tenant}`);
    if (net && net.net.gateway === s.ip) bad(`services[${i}].ip`, `${s.ip} is the gateway of ${net.net.key}`, 'CONFLICT');
    const usable: Array<{ p: (typeof s.providers)[number]; ep: EndpointView }> = [];
    for (const p of s.providers) {
      const ep = eps.get(p.endpointId);
      if (!ep || ep.net.tenant !== tenant || (!ep.local && !ep.net.reachable)) continue;
      usable.push({ p, ep });
    }
    // one select group of them must fit one group_mod (netmaster sends at most this many)
    if (usable.length > SERVICE_PROVIDERS_MAX)
      bad(`services[${i}].providers`, `${usable.length} providers are more than the ${SERVICE_PROVIDERS_MAX} a service balances over`);
    usable.sort((a, b) => (a.p.endpointId < b.p.endpointId ? -1 : a.p.endpointId > b.p.endpointId ? 1 : 0));
    s.ports.forEach((port, j) => {
      const providers: ProviderView[] = usable.map(({ p, ep }) => ({
        endpointId: p.endpointId,
        ip: ep.ep.ip,
        ep,
        targetPort: p.targetPorts?.[j] || port.targetPort,
      }));
      const addr = `${s.tenant} ${port.protocol} ${s.ip}:${port.port}`;
      const other = addrs.get(addr);
      if (other !== undefined) bad(`services[${i}].ports[${j}]`, `${addr} is also a port of service ${other}`, 'CONFLICT');
      addrs.set(addr, s.key);
      out.push({ service: s, tenant, net, port, index: 0, name: `${s.key}:${port.protocol}/${port.port}`, providers, hairpins: [] });
    });
  });
  // indexes in name order, so that the same set of service ports always gets the same indexes
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (out.length > 0xffff) bad('services', `${out.length} service ports are more than the 65535 a host can hold`);
  const used = new Set<number>();
  for (const sp of out) {
    let idx = (objectHash(sp.name) % 0xffff) + 1;
    while (used.has(idx)) idx = (idx % 0xffff) + 1;
    used.add(idx);
    sp.index = idx;
    sp.hairpins = sp.providers.flatMap((p) =>
      p.ep.local && p.ep.ofport !== undefined
        ? [{ provider: p, groupId: p.ep.ofport * 0x10000 + idx, others: sp.providers.filter((o) => o !== p) }]
        : [],
    );
  }
  return out;
}

const views = new WeakMap<PipelineInput, ServicePortView[]>();

/** The checked service ports of an input, sorted by name (throws NetloomError on inconsistent state). */
export function servicePorts(input: PipelineInput): ServicePortView[] {
  let v = views.get(input);
  if (!v) {
    v = build(input);
    views.set(input, v);
  }
  return v;
}

/** A bucket: the provider into reg6/reg7, then the DNAT step. set_field loads, which OVS reports back as sent. */
function bucket(sp: Pick<ServicePortView, 'index'>, p: ProviderView): Bucket {
  return {
    weight: 1,
    watchPort: OFPP.ANY,
    watchGroup: OFPG_ANY,
    actions: [
      act.setReg('svcIp', ipv4ToNumber(p.ip)),
      act.setReg('svcPort', svcPortReg(sp.index, p.targetPort)),
      act.resubmit('serviceDnat'),
    ],
  };
}

/**
 * The select groups of the input's service ports that have providers (equal weights), and of
 * their local providers' hairpin connections when there are other providers; sorted by id.
 */
export function desiredGroups(input: PipelineInput): GroupDesc[] {
  const out: GroupDesc[] = [];
  for (const sp of servicePorts(input)) {
    if (sp.providers.length === 0) continue;
    out.push({ groupType: 'select', groupId: sp.index, buckets: sp.providers.map((p) => bucket(sp, p)) });
    for (const h of sp.hairpins)
      if (h.others.length > 0) out.push({ groupType: 'select', groupId: h.groupId, buckets: h.others.map((p) => bucket(sp, p)) });
  }
  return out.sort((a, b) => a.groupId - b.groupId);
}

/** The meter that limits rejects sent to the agent, when a service port has no provider. */
export function serviceMeters(input: PipelineInput): MeterConfig[] {
  const rejects = (sp: ServicePortView) => sp.providers.length === 0 || sp.hairpins.some((h) => h.others.length === 0);
  if (!servicePorts(input).some(rejects)) return [];
  return [
    {
      flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
      meterId: SERVICE_REJECT_METER_ID,
      bands: [{ type: 'drop', rate: SERVICE_REJECT_PPS, burstSize: SERVICE_REJECT_BURST }],
    },
  ];
}
