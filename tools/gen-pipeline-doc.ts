/**
 * Writes docs/pipeline.md from the pipeline's declarations (tables with their contracts,
 * registers, cookie features, flow builders), so the document cannot drift from the code: a unit
 * test compares the file with `pipelineDoc()`. What the declarations cannot say (how inputs are
 * checked, what each builder writes in detail, known limits) is prose kept here.
 *
 *   npm run docs:pipeline    (after the build)
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FEATURES, type Feature } from '../netplugin/reconcile/cookie';
import { FLOW_BUILDERS } from '../netplugin/pipeline/compute';
import { PIPELINE, REG_MEANING, REGS, type TableName, type TableSpec } from '../netplugin/pipeline/tables';

/** The document, relative to the repository root. */
export const PIPELINE_DOC = 'docs/pipeline.md';

/** Per flow builder: its file under netplugin/pipeline/features/ and what it writes, in detail. */
const BUILDER_PROSE: Record<string, { file: string; what: string }> = {
  tableMiss: { file: 'table-miss.ts', what: 'priority 0, empty match: drop or goto, from `PIPELINE`' },
  classifier: {
    file: 'classifier.ts',
    what:
      'local port (prio 100): load reg0, reg3, reg1 (if a group), reg8 (if a group VLAN), reg5=local, goto spoofguard. Uplink + `vlan_vid=0x1000\\|tag`: ' +
      'pop_vlan, load reg0, reg3, reg5=uplink, goto arp. VXLAN port + `tun_id=VNI`: load reg0, reg3, reg5=tunnel, goto arp. ' +
      'Only for networks with a local endpoint. ACI mode: per group with its own VLAN (`pktTag`), uplink + its VLAN: the same ' +
      'plus load reg1 and reg8 = the group.',
  },
  underlay: {
    file: 'underlay.ts',
    what:
      'one-bridge hosts only (`--one-bridge`: the uplink on br-int, the VTEP address on its local port): uplink + ' +
      '`vlan_vid=0` (untagged, prio 100) -> output LOCAL (ARP for the VTEP; tunnel packets, popped by OVS on the way); ' +
      '`in_port=LOCAL` -> output uplink.',
  },
  spoofguard: {
    file: 'spoofguard.ts',
    what: 'per local port: IPv4 with own MAC and IP; ARP with own MAC, `arp_sha` and `arp_spa`; goto egressQos. IPv6 and other ethertypes are dropped (not supported yet).',
  },
  qos: {
    file: 'qos.ts',
    what:
      'per local port whose group has a netprofile: `in_port + ip` (prio 110, DSCP > 0) -> `meter:<2*ofport>` (bandwidth > 0), ' +
      '`set_field:DSCP->ip_dscp`, goto arp; `in_port` (prio 100, bandwidth > 0) -> `meter:<2*ofport>`, goto arp. The ' +
      "meters themselves (`netplugin/pipeline/meters.ts`: kbps, burst, one drop band; ingress `2*ofport+1` on l2Forward's " +
      'unicast flow) are applied around the flow bundle by `netplugin/reconcile/meter-reconciler.ts`.',
  },
  arp: {
    file: 'arp.ts',
    what:
      'responder (prio 100): `reg0, reg5 flag, arp_op=1, arp_tpa` -> move eth_src->eth_dst, load eth_src, load arp_op=2, ' +
      'move arp_sha->arp_tha, move arp_spa->arp_tpa, load arp_sha, load arp_spa, output IN_PORT. Gateway: always, requests ' +
      'from local ports. Proxy mode: every known endpoint of the network for requests from local ports, and local endpoints ' +
      'of VLAN networks for requests from the uplink (reply re-tagged); then drop ARP requests (prio 10) and ' +
      'broadcast/multicast ARP (prio 9). Flood mode: requests miss and flood in l2Forward. ACI mode: an uplink responder ' +
      "also matches reg8 (the request's VLAN: a group's, 0 the network's) and re-tags with that VLAN.",
  },
  gatewayIcmp: {
    file: 'gateway-icmp.ts',
    what:
      '`reg0, local, eth_dst=gw MAC, icmp type 8, ipv4_dst=gw` (prio 100) -> swap MACs and IPs, type 0, TTL 64, output ' +
      'IN_PORT (OVS fixes the checksums). Routing mode also: `reg3, local, eth_dst=a tenant gw MAC, ipv4_dst=another ' +
      'gateway of the tenant` (prio 90), the same reply.',
  },
  group: {
    file: 'groups.ts',
    what:
      'srcGroup: remote endpoints, `reg3 + ipv4_src` -> reg1. dstClassify: every endpoint with a group, `reg3 + ipv4_dst` ' +
      '-> reg2. Both by tenant, not network, so they hold for routed packets too (subnets do not overlap inside a tenant).',
  },
  serviceLb: {
    file: 'service-lb.ts',
    what:
      'arp: `reg0, local, arp_tpa=service IP` -> reply with the service MAC. serviceLB: `reg3, local, ip_proto, ipv4_dst=service IP, ' +
      'tcp_dst/udp_dst=port` -> load reg7=index<<16, `ct(zone, nat, table=serviceEndpoint)`. serviceEndpoint: `reg7 index, +trk+new` ' +
      '-> `group:<index>` (select, one bucket per provider: set_field reg6=provider IP, reg7=index<<16|target port, ' +
      'resubmit(,serviceDnat)), or with no provider `meter:1` + `controller(max_len=256)` (the agent answers RST / ICMP port ' +
      'unreachable); hairpin (110): `reg7 index, +trk+new, ipv4_src=local provider` -> `group:<ofport<<16|index>` (the other providers) or the reject; `reg7 index, +trk+est, ipv4_dst=provider` (90) goto dstClassify (counts). serviceDnat: `reg6, reg7, ip_proto` -> ' +
      '`ct(commit, zone, nat(dst=provider:port), table=dstClassify)`. l3Forward: `reg3, eth_dst=service MAC, ipv4_dst=endpoint` -> ' +
      'load eth_dst, reg0, goto l2Forward. Groups (`netplugin/pipeline/services.ts`) are applied around the flow bundle by ' +
      '`netplugin/reconcile/group-reconciler.ts`.',
  },
  conntrack: {
    file: 'conntrack.ts',
    what:
      'conntrack: `reg3 + ip` -> `ct(zone=ctZone, nat, table=ctState)` (`nat`: service connections keep their provider, replies get the service address back); for tenants with services, `reg3 + ip + +trk, ct_zone=ctZone` (110, tracked by the service tables) goto ctState. ctState: `+trk+inv` drop (200); `+trk+est, ct_mark=generation` ' +
      'goto l3Forward (150: admitted under the current policy); `+trk+est+rpl, ct_mark=DENIED` drop (140); `+trk+est+rpl` goto ' +
      'l3Forward (130); `+trk+rel` goto ctCommit (90); the rest (new, and original-direction packets of connections admitted ' +
      'under an older policy) miss into egressPolicy. ctCommit: `reg3, denied flag, +trk+est` -> `ct(commit, ct_mark=DENIED)`, ' +
      'drop (200); denied flag -> drop (150); `reg3 + ip + +trk` -> `ct(commit, zone, ct_mark=generation)`, goto l3Forward (100). ' +
      'Non-IP never enters conntrack.',
  },
  policy: {
    file: 'policy.ts',
    what:
      'compiled policy per local endpoint. Priority 1000 + 2 x rule priority (+1 for deny). A rule is `conjunction(id, k/n)` ' +
      'over up to 3 clauses: self (egress `in_port`; ingress `reg3 + ipv4_dst`), peer prefixes (egress `ipv4_dst`, ingress ' +
      '`ipv4_src`, masked), services (`ip_proto` + masked `tcp_dst`/`udp_dst`); the `conj_id` flow decides: allow -> goto ' +
      'ingressPolicy / ctCommit, deny -> set denied flag, goto ctCommit. A rule whose cross product is no bigger is written ' +
      'as plain flows. Isolation (prio 100): self -> deny. The deciding flow carries the rule id as cookie object.',
  },
  policyPickup: {
    file: 'policy-pickup.ts',
    what:
      "ctState, only while some local endpoint's policy can deny (a deny rule or isolation): `+trk+new, tcp, " +
      'tcp_flags=+syn-ack` -> goto egressPolicy (60); per such endpoint `+trk+new, tcp, in_port` and `+trk+new, tcp, reg3 + ' +
      'ipv4_dst` -> drop (50). A TCP segment other than a SYN that conntrack does not know (picked up in the middle, as after ' +
      'an ovs-vswitchd restart) would be judged with its sender as the opener; at those endpoints it is dropped instead.',
  },
  l3Routing: {
    file: 'l3-routing.ts',
    what:
      'fwdMode routing only: per tenant, per gateway MAC of its networks, per endpoint of a reachable network with a ' +
      "gateway: `reg3, eth_dst=gw MAC, ipv4_dst` -> load eth_src = destination network's gateway MAC, eth_dst = endpoint " +
      'MAC, dec_ttl, reg0 = destination network, routed flag, goto l2Forward. Routing happens on the sending host; the ' +
      'receiving host bridges.',
  },
  hostGateway: {
    file: 'host-gateway.ts',
    what:
      'per tenant whose gateway port `nlgw<vrfId>` has an ofport (`LocalFacts.bridge.gateways`; docs/hostnet.md): classifier ' +
      '`in_port=gw port` (prio 100) -> load reg3, reg5=from host (32), goto arp. arp: `reg3, from-host flag, arp_op=1, ' +
      'arp_tpa=local endpoint` (prio 100) -> reply with the host-side router MAC out of IN_PORT. l3Forward: `reg3, from-host ' +
      'flag, ipv4_dst=local endpoint` (prio 105) -> load eth_src = its gateway MAC, eth_dst = its MAC, reg0 = its network, ' +
      'goto l2Forward; `reg0, local flag, eth_dst=gw MAC, ip` + `ipv4_dst=a subnet of the tenant` (prio 20) -> drop; ' +
      "`reg0, local flag, eth_dst=gw MAC, ip` (prio 10) -> load eth_src = gw MAC, eth_dst = the port's MAC, dec_ttl, output " +
      'the gateway port.',
  },
  l2Forward: {
    file: 'l2-forward.ts',
    what:
      "`reg0 + eth_dst` (prio 100): local port (first `meter:<2*ofport+1>` when the endpoint's netprofile has a bandwidth); " +
      'remote VXLAN: `set_field tun_id=VNI, tun_dst=VTEP`, output VXLAN port; ' +
      'remote VLAN: push_vlan, `vlan_vid=0x1000\\|tag`, output uplink. Broadcast/multicast ' +
      '(`eth_dst=01:00:00:00:00:00/01:00:00:00:00:00`): from a local port (prio 50) to every local port of the network, ' +
      'then to the uplink (tagged) or to each VTEP of the network; from elsewhere (prio 40) to local ports only (split ' +
      'horizon). OVS never outputs to the input port, so the sender is skipped. ACI mode (a VLAN network with group VLANs): ' +
      'a local endpoint of a group VLAN matches `reg8=group` too (prio 100); per endpoint and group VLAN G other than its ' +
      'own, `reg0, reg8=G, eth_dst` (prio 105) -> push G, output uplink; a local endpoint of a group VLAN, from other local ' +
      'packets (prio 90) -> push the network VLAN, output uplink; per group VLAN, floods `reg0, reg8=G` from a local port ' +
      "(prio 55: G's ports and the uplink with G) and from the uplink (prio 45: G's ports); the network VLAN's floods reach " +
      'only ports of no group VLAN.',
  },
};

const INTRO = `# The netplugin OVS pipeline

<!-- Generated by tools/gen-pipeline-doc.ts from netplugin/pipeline/ (npm run docs:pipeline); do not edit by hand. -->

Each host's integration bridge \`br-int\` (fail_mode secure, OpenFlow 1.3, netloom as its only
controller) runs the pipeline below. It is declared as data in \`netplugin/pipeline/tables.ts\`;
features are pure functions from the host's desired state to flows in these tables, and the
reconciler (\`netplugin/reconcile/\`) is the one place that talks to the switch.`;

const CONTRACTS = `## Table contracts

Each table declares the fields its flows may match, the tables they may continue in (goto_table,
\`ct(table=)\`, resubmit; the miss's included) and the cookie features whose flows it holds; every
table also holds its miss flow under \`tableMiss\`. \`netplugin/pipeline/contract.ts\` checks flows
against these declarations, and every pipeline unit test computes its flows through that check. A
new stage (the policy tables, say) declares its fields here and its flows are held to them.`;

const COOKIES = `## Cookies

\`0xA7\` mark (bits 63-56), feature id (55-48), agent generation (47-32), object hash (31-0); see
\`netplugin/reconcile/cookie.ts\`. A restarted agent re-adds its flows under a new generation (an
ADD of an identical match replaces the flow in place, counters kept) and deletes older
generations in the same atomic bundle, so the datapath never has a gap.`;

const INPUTS = `## Inputs

Features are pure functions \`(input: PipelineInput) => DesiredFlow[]\`
(\`netplugin/pipeline/features/*.ts\`); \`computePipeline(input)\` (\`netplugin/pipeline/compute.ts\`)
concatenates them in pipeline order, each iterating its objects sorted by id, so the same input
always gives the same list, whatever order netmaster sent the objects in.

\`PipelineInput\` is \`{ state: HostState, local: LocalFacts }\` (\`netplugin/state/host-state.ts\`):
\`HostState\` mirrors \`proto/netloom/agent.proto\` with proto-loader's camelCase names (load with
\`keepCase:false, longs:String|Number, enums:String, defaults:true\`); \`LocalFacts\` is what only the
agent knows: \`hostName\`, \`vtepIp\`, \`ports\` (endpoint id -> \`{ofport, intfName}\`; a local endpoint
without an entry is not plugged yet and gets no port flows) and \`bridge\` (\`uplink\` ofport for VLAN
networks, \`vxlan\` ofport of the ONE flow-based VXLAN port with \`options:key=flow
options:remote_ip=flow options:tos=inherit\`). \`parseHostState\` / \`parseLocalFacts\` check the shape (zod);
\`pipelineView\` (\`netplugin/pipeline/input.ts\`) checks what needs several objects: references
(tenant, network, group), a netprofile's DSCP (0..63) and 32-bit rate and burst, unique tenant vrfId/ctZone, networkId, VLAN/VNI tag, groupId, endpoint
id, a MAC once per network, an IPv4 address once per tenant, endpoint inside its subnet and not the
gateway, a VTEP for every remote endpoint of a VXLAN network (from \`vteps\` by host, else the
endpoint's \`vtepIp\`). Errors are \`NetloomError\` (\`INVALID_ARGUMENT\` or \`CONFLICT\`) with \`field\`
naming the bad input, e.g. \`endpoints[3].ip\`.

Register values: reg0 = \`Network.networkId\`, reg1/reg2 = \`EndpointGroup.groupId\`, reg3 =
\`Tenant.vrfId\`; the conntrack zone is \`Tenant.ctZone\` (an immediate per tenant, not reg3).
A network with a gateway but no \`gatewayMac\` uses \`02:6e:6c:00:00:01\`.`;

const FEATURES_INTRO = `## Features

The flow builders (\`FLOW_BUILDERS\` in \`netplugin/pipeline/compute.ts\`), in pipeline order, each
named like its function (\`<name>Flows\`) and held to the tables and cookie features it declares.`;

const AFTER = `Reachability: flows towards other hosts (remote unicast, floods) exist only for networks the host
can reach: those with a local endpoint and, in routing mode, the other gateway-networks of a tenant
that has a local endpoint in a gateway-network. So VXLAN tunnels go only to hosts that share a
network (or, routing, a tenant) with this one, even if netmaster sends more VTEPs.

Endpoint MTU (\`netplugin/pipeline/mtu.ts\`, \`endpointMtu(network, underlayMtu = 1500)\`): VXLAN
underlay - 50 (1450), VLAN the underlay MTU; a non-zero \`Network.mtu\` can only lower it.

## Testing without a switch

\`test/support/packet-tracer.ts\` interprets DesiredFlow[] (or add FlowMods) like OVS for the fields
and actions above (priorities, masks, prerequisites, goto, apply/write actions, set_field,
reg_load/move, VLAN push/pop, output incl. IN_PORT and hairpin suppression, resubmit, dec_ttl, ct
with a tiny per-zone conntrack, meters recorded but never dropping) and returns outputs with the final packet and the trace.
\`test/unit/pipeline/\` traces scenarios across four hosts through \`computePipeline\`, every flow
checked against the table contracts (\`test/unit/pipeline/checked-pipeline.ts\`).

## Known limits (for later issues)

- IPv4 only: IPv6 from endpoints is dropped by spoofguard.
- Unknown unicast is dropped, also on VLAN networks (no external devices learned on the uplink).
- ARP is answered only for endpoints netmaster told us about; in flood mode ARP crosses VXLAN.
- The output table and reg4 are unused; policy tables hold only their miss flows.
- QoS meters only unicast to and all traffic from an endpoint: floods to a local port pass no
  ingress meter.
- Routing mode over VLAN: routed frames leave every host's uplink with the (shared) gateway MAC
  as source, so a physical switch on the trunk sees that MAC on many ports. A per-host router
  MAC for routed egress would fix it; not done.
- A switch-built ARP reply answers a request for the asker's own address (gratuitous ARP) with its
  own MAC; duplicate-address probes (sender 0.0.0.0) are dropped by spoofguard.
- In routing mode netmaster must send a host every gateway-network of the tenants it has
  endpoints in (with their endpoints and the VTEPs of their hosts), not only its own networks.`;

/** A markdown table; `|` inside a cell is escaped unless it already is. */
function mdTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string): string => s.replace(/(?<!\\)\|/g, '\\|');
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
}

function code(names: readonly string[], none = 'none'): string {
  return names.length === 0 ? none : names.map((n) => `\`${n}\``).join(', ');
}

function tableId(name: TableName): number {
  const t = PIPELINE.find((x) => x.name === name);
  if (!t) throw new Error(`gen-pipeline-doc: unknown table ${name}`);
  return t.id;
}

function missText(t: TableSpec): string {
  return t.miss.kind === 'drop' ? 'drop' : `goto ${tableId(t.miss.table)}`;
}

function tablesSection(): string {
  const rows = PIPELINE.map((t) => [String(t.id), t.name, t.purpose, missText(t)]);
  return mdTable(['table', 'name', 'what it does', 'on a miss'], rows);
}

function contractsSection(): string {
  const rows = PIPELINE.map((t) => [
    `${t.id} ${t.name}`,
    code(t.match, t.reserved ? 'none yet (reserved)' : 'none'),
    t.next.length === 0 ? 'none' : t.next.map((n) => `${n} (${tableId(n)})`).join(', '),
    code(t.cookies),
  ]);
  return `${CONTRACTS}\n\n${mdTable(['table', 'may match', 'may continue in', 'cookie features'], rows)}`;
}

function registersSection(): string {
  const rows = (Object.keys(REGS) as (keyof typeof REGS)[]).map((k) => [REGS[k], REG_MEANING[k]]);
  return `## Registers\n\n${mdTable(['register', 'meaning'], rows)}`;
}

function cookieFeaturesSection(): string {
  const holders = (f: Feature): string => {
    if (f === 'tableMiss') return 'every table (its miss flow)';
    const ts = PIPELINE.filter((t) => t.cookies.includes(f)).map((t) => t.name);
    return ts.length === 0 ? 'none yet' : ts.join(', ');
  };
  const rows = (Object.keys(FEATURES) as Feature[]).map((f) => [String(FEATURES[f]), `\`${f}\``, holders(f)]);
  return `${COOKIES}\n\nFeature ids, and the tables that hold their flows:\n\n${mdTable(['id', 'feature', 'tables'], rows)}`;
}

function buildersSection(): string {
  const known = new Set(FLOW_BUILDERS.map((b) => b.name));
  const stale = Object.keys(BUILDER_PROSE).filter((n) => !known.has(n));
  if (stale.length > 0) throw new Error(`gen-pipeline-doc: prose for builders that do not exist: ${stale.join(', ')}`);
  const rows = FLOW_BUILDERS.map((b) => {
    const prose = BUILDER_PROSE[b.name];
    if (!prose) throw new Error(`gen-pipeline-doc: no prose for builder ${b.name} (add it to BUILDER_PROSE)`);
    const tables = b.tables.length === PIPELINE.length ? 'all' : b.tables.map((t) => `${t} (${tableId(t)})`).join(', ');
    return [prose.file, b.name, tables, code(b.cookies), prose.what];
  });
  return `${FEATURES_INTRO}\n\n${mdTable(['file', 'builder', 'tables', 'cookie features', 'what'], rows)}`;
}

/** The whole of docs/pipeline.md. */
export function pipelineDoc(): string {
  return (
    [INTRO, tablesSection(), contractsSection(), registersSection(), cookieFeaturesSection(), INPUTS, buildersSection(), AFTER].join(
      '\n\n',
    ) + '\n'
  );
}

if (require.main === module) {
  const path = resolve(__dirname, '..', '..', PIPELINE_DOC);
  writeFileSync(path, pipelineDoc());
  process.stdout.write(`wrote ${path}\n`);
}
