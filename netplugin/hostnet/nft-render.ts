/**
 * The nftables table `inet netloom`, rendered as a whole from the desired host-network state
 * (pure; the same state always gives the same text). The applier loads it with `nft -f` in one
 * transaction that deletes and re-adds the table, so the kernel holds exactly this.
 *
 * - raw-prerouting (priority raw, before conntrack): what a tenant's gateway port sends gets the
 *   tenant's conntrack zone in the ORIGINAL direction only (`ct original zone set`). Two tenants
 *   with the same addresses therefore never share a connection, while replies (from the world,
 *   already translated back by masquerade, or from the host itself) are looked up in the reply
 *   direction's default zone and still find their connection: a zone for both directions would
 *   need the reply's tenant before conntrack, which only the connection knows.
 * - mangle-prerouting / mangle-output: a new connection from a gateway port gets the tenant mark
 *   (0x10000|vrfId) as its ct mark; packets going back to the tenant (replies of its connections;
 *   original-direction packets of a published port's connections, which carry the DNAT bit too)
 *   get it as fwmark, which `ip rule` sends to the tenant's table (`default dev nlgw<vrfId>`).
 *   The output chain is a route chain, so the host's own replies are routed again with the mark.
 * - mangle-input: what a tenant sends to the host itself carries the tenant mark once delivered
 *   locally (after the routing decision, so forwarded packets never have it): with the
 *   tcp_fwmark_accept and fwmark_reflect sysctls (applier.ts) the host's SYN-ACKs, accepted
 *   sockets, echo replies and resets take the tenant's table even when its subnet overlaps
 *   another tenant's (no main-table route then).
 * - nat-prerouting / nat-output: published ports, DNAT to the endpoint with the tenant mark and the
 *   DNAT bit (prerouting: from other hosts and the world; output: from the host itself); Kubernetes
 *   node ports the same way, to one of the local providers at random, or (externalTrafficPolicy
 *   Cluster) to a remote provider's host at the node port, marked for masquerade (node-ports.ts).
 * (nft 1.0 knows the dstnat/srcnat priority names only on prerouting/postrouting: -100 and 100 elsewhere.)
 * - nat-input: no rule; its presence makes conntrack pick unique reply tuples for connections to
 *   the host (two tenants' endpoints with the same address and source port get distinct ones).
 * - nat-postrouting: masquerade, for subnets with nat on, of what a tenant sends out of any
 *   interface that is not a gateway port; and of node port connections forwarded to another host.
 * - forward: a tenant never reaches another tenant through the host's kernel, except through a
 *   published port.
 * A host without a gateway has the table only for node ports (forwarded to the providers' hosts
 * or dropped): the tenant chains are then empty.
 */
import type { HostNetState, TenantGateway } from './desired-state';
import { GATEWAY_PORT_PREFIX, hex32, MARK_DNAT, MARK_NODEPORT_HOP, MARK_TENANT, NFT_FAMILY, NFT_TABLE } from './numbering';
import type { PortMapping } from './port-mapping';
import type { NodePortRule, NodePorts } from './node-ports';
import { replaceTableScript } from './nft-table';

const ANY_GATEWAY = `"${GATEWAY_PORT_PREFIX}*"`;
const KIND_BITS = hex32(MARK_TENANT | MARK_DNAT);

function chain(name: string, hook: string, lines: readonly string[]): string[] {
  return [`\tchain ${name} {`, `\t\t${hook}`, ...lines.map((l) => `\t\t${l}`), '\t}'];
}

/** The rules that put the tenant mark on packets going back to a tenant (both mark chains). */
const MARK_BACK = [
  `ct direction reply ct mark & ${KIND_BITS} == ${hex32(MARK_TENANT)} meta mark set ct mark`,
  `ct direction original ct mark & ${KIND_BITS} == ${KIND_BITS} meta mark set ct mark`,
];

function dnatRule(m: PortMapping): string {
  const mark = hex32(MARK_TENANT | MARK_DNAT | m.tenantVrfId);
  const dst = m.hostIp === '' ? 'fib daddr type local' : `ip daddr ${m.hostIp}`;
  return `${dst} ${m.protocol} dport ${m.hostPort} meta mark set ${mark} ct mark set ${mark} dnat ip to ${m.endpointIp}:${m.containerPort}`;
}

function masquerade(g: TenantGateway): string[] {
  return g.subnets.filter((s) => s.nat).map((s) => `iifname "${g.port}" ip saddr ${s.subnet} oifname != ${ANY_GATEWAY} masquerade`);
}

/**
 * A Kubernetes node port's rules (node-ports.ts), in order: what a peer host forwarded goes to a
 * local provider (or is dropped: it is never forwarded twice); then, from anyone else, a local
 * provider (its share of all providers, when some are remote: `numgen random mod N < L`, then
 * one of the L at random), else another host's provider through its host at the same port,
 * marked for masquerade; with no provider left to choose, dropped (externalTrafficPolicy Local
 * on a host without a local provider).
 */
function nodePortLines(r: NodePortRule, peers: readonly string[]): string[] {
  const mark = hex32(MARK_TENANT | MARK_DNAT | r.tenantVrfId);
  const port = `fib daddr type local ${r.protocol} dport ${r.nodePort}`;
  const comment = `comment "${r.service}"`;
  const pick = (n: number, targets: string[]) => `numgen random mod ${n} map { ${targets.map((t, i) => `${i} : ${t}`).join(', ')} }`;
  const local =
    r.backends.length > 0
      ? `meta mark set ${mark} ct mark set ${mark} dnat ip to ${pick(
          r.backends.length,
          r.backends.map((b) => `${b.ip} . ${b.port}`),
        )}`
      : 'drop';
  const total = r.backends.length + r.remote.length;
  const out: string[] = [];
  if (peers.length > 0) out.push(`ip saddr { ${peers.join(', ')} } ${port} ${local} ${comment}`);
  if (r.remote.length === 0) return [...out, `${port} ${local} ${comment}`];
  if (r.backends.length > 0) out.push(`${port} numgen random mod ${total} < ${r.backends.length} ${local} ${comment}`);
  out.push(
    `${port} ct mark set ${hex32(MARK_NODEPORT_HOP)} dnat ip to ${pick(
      r.remote.length,
      r.remote.map((h) => `${h} . ${r.nodePort}`),
    )} ${comment}`,
  );
  return out;
}

/** Local backends are reached with their tenant's mark: only through a gateway of that tenant. */
function nodePortsLines(np: NodePorts | undefined, served: ReadonlySet<number>): string[] {
  return (np?.rules ?? []).filter((r) => r.backends.length === 0 || served.has(r.tenantVrfId)).flatMap((r) => nodePortLines(r, np!.peers));
}

/** The table's text, or '' when nothing is desired (the applier then removes the table). */
export function renderNftTable(s: HostNetState): string {
  const served = new Set(s.gateways.map((g) => g.vrfId));
  const mappings = s.portMappings.filter((m) => served.has(m.tenantVrfId));
  const dnat = [...mappings.map(dnatRule), ...nodePortsLines(s.nodePorts, served)];
  // a host without any tenant still answers the node ports of Kubernetes Services (node-ports.ts)
  if (s.gateways.length === 0 && dnat.length === 0) return '';
  const lines = [
    `table ${NFT_FAMILY} ${NFT_TABLE} {`,
    ...chain(
      'raw-prerouting',
      'type filter hook prerouting priority raw; policy accept;',
      s.gateways.map((g) => `iifname "${g.port}" ct original zone set ${g.ctZone}`),
    ),
    ...chain('mangle-prerouting', 'type filter hook prerouting priority mangle; policy accept;', [
      ...s.gateways.map((g) => `iifname "${g.port}" ct state new ct mark set ${hex32(g.mark)}`),
      ...MARK_BACK,
    ]),
    ...chain('mangle-output', 'type route hook output priority mangle; policy accept;', MARK_BACK),
    ...chain(
      'mangle-input',
      'type filter hook input priority mangle; policy accept;',
      s.gateways.map((g) => `iifname "${g.port}" meta mark set ${hex32(g.mark)}`),
    ),
    ...chain('nat-prerouting', 'type nat hook prerouting priority dstnat; policy accept;', dnat),
    ...chain('nat-output', 'type nat hook output priority -100; policy accept;', dnat),
    ...chain('nat-input', 'type nat hook input priority 100; policy accept;', []),
    ...chain('nat-postrouting', 'type nat hook postrouting priority srcnat; policy accept;', [
      ...s.gateways.flatMap(masquerade),
      ...(s.nodePorts?.rules.some((r) => r.remote.length > 0)
        ? [`ct mark & ${hex32(MARK_NODEPORT_HOP)} == ${hex32(MARK_NODEPORT_HOP)} masquerade`]
        : []),
    ]),
    ...chain('forward', 'type filter hook forward priority filter; policy accept;', [
      `iifname ${ANY_GATEWAY} oifname ${ANY_GATEWAY} ct status dnat accept`,
      `iifname ${ANY_GATEWAY} oifname ${ANY_GATEWAY} drop`,
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** The `nft -f` script that makes the kernel hold exactly `table` (or no netloom table when ''), atomically. */
export function nftScript(table: string): string {
  return replaceTableScript(NFT_FAMILY, NFT_TABLE, table);
}
