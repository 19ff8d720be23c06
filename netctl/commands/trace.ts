/**
 * `netctl trace -t T --from EP|IP --to EP|IP -l tcp|udp|icmp [-P PORT]` (netloom): asks netmaster
 * (`POST /api/v1/trace/`) to have the agents of the source and destination hosts trace a synthetic
 * packet (the first of a new connection) through their OVS pipelines with ofproto/trace, and prints
 * the verdict, the policy rule that allowed or denied it and on which host, and each host's path
 * through the pipeline in its table names. `-o json|yaml` prints netmaster's answer as is.
 *
 * The exit code is 0 whatever the verdict (a denied packet is an answer, not a failure); 1 when
 * netmaster or an agent could not trace, 2 for bad usage.
 */
import type { Command } from 'commander';
import { asObject, type Json, type JsonObject } from '../client';
import { action, optional, outputOption, str, tenantOption, type Runtime } from '../context';
import { UsageError } from '../errors';
import { toJson, toYaml } from '../format';
import { intOption, oneOf } from '../validate';

const arr = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.map(asObject) : []);
const s = (o: JsonObject, k: string): string => {
  const v = o[k];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
};

/** "rule t1:p1/r1 (egress on host1)" or "isolation of ep (ingress on host2)". */
export function describeDecision(d: JsonObject): string {
  const iso = s(d, 'isolationEndpoint');
  const what = iso
    ? `isolation default deny of endpoint ${iso}`
    : s(d, 'rule')
      ? `policy ${s(d, 'policy')} rule ${s(d, 'rule')}`
      : `policy flow ${s(d, 'object') || '(unknown object)'}`;
  return `${what} (${s(d, 'direction')} on ${s(d, 'host')}, table ${s(d, 'table')} ${s(d, 'tableName')})`;
}

function endpointLine(e: JsonObject): string {
  const name = s(e, 'name') ? ` ${s(e, 'name')}` : '';
  return `${s(e, 'ip')} (${s(e, 'endpoint')}${name}, ${s(e, 'network')}, on ${s(e, 'host')})`;
}

function outputLine(o: JsonObject): string {
  switch (s(o, 'kind')) {
    case 'endpoint':
      return `output to endpoint ${s(o, 'endpoint')} (port ${s(o, 'port')})`;
    case 'tunnel':
      return `output to VXLAN VNI ${s(o, 'tunId')} -> ${s(o, 'tunDst')} (port ${s(o, 'port')})`;
    case 'uplink':
      return `output to uplink VLAN ${s(o, 'vlan')} (port ${s(o, 'port')})`;
    default:
      return `output to port ${s(o, 'port')}`;
  }
}

/** The readable form of a trace answer. */
export function formatTrace(r: JsonObject): string {
  const lines: string[] = [];
  const port = s(r, 'port') ? `:${s(r, 'port')}` : '';
  lines.push(`${s(r, 'protocol')} ${endpointLine(asObject(r['from']))} -> ${s(asObject(r['to']), 'ip')}${port}`);
  lines.push(`  to ${endpointLine(asObject(r['to']))}`);
  const verdict = s(r, 'verdict');
  const by = r['decidedBy'] ? asObject(r['decidedBy']) : undefined;
  if (verdict === 'allow')
    lines.push(`verdict: ALLOW${by ? ` by ${describeDecision(by)}` : ' (no policy rule decided: passed by the table-miss flows)'}`);
  else if (verdict === 'deny') lines.push(`verdict: DENY by ${by ? describeDecision(by) : '?'}`);
  else {
    const at = r['droppedAt'] ? asObject(r['droppedAt']) : undefined;
    lines.push(
      `verdict: DROP${at ? ` in table ${s(at, 'table')} ${s(at, 'tableName')} on ${s(at, 'host')}${s(at, 'object') ? ` (${s(at, 'feature')} ${s(at, 'object')})` : ''}` : ''}`,
    );
  }
  const decisions = arr(r['decisions']);
  if (decisions.length > 1) for (const d of decisions) lines.push(`  ${s(d, 'action')}: ${describeDecision(d)}`);
  for (const hop of arr(r['hops'])) {
    lines.push('', `host ${s(hop, 'host')}: ${s(hop, 'flow')}`);
    let pass = '0';
    for (const st of arr(hop['steps'])) {
      if (s(st, 'pass') !== pass) {
        pass = s(st, 'pass');
        lines.push('  (conntrack: recirculated as ct_state=new|trk)');
      }
      const owner = [s(st, 'feature'), s(st, 'object')].filter((x) => x !== '').join(' ');
      const actions = Array.isArray(st['actions']) ? (st['actions'] as Json[]).map(String).join(', ') : '';
      lines.push(`  ${s(st, 'table').padStart(3)} ${s(st, 'tableName').padEnd(13)} ${owner ? `[${owner}] ` : ''}${actions || 'drop'}`);
    }
    const outs = arr(hop['outputs']);
    if (outs.length === 0) lines.push('  => dropped');
    for (const o of outs) lines.push(`  => ${outputLine(o)}`);
    if (s(hop, 'raw')) lines.push('', s(hop, 'raw').trimEnd());
  }
  return lines.join('\n') + '\n';
}

export function registerTrace(program: Command, rt: Runtime): void {
  outputOption(
    tenantOption(
      program
        .command('trace')
        .description(
          "Trace a packet between two endpoints through the hosts' OVS pipelines: the verdict and the policy rule that decided it",
        )
        .option('--from <endpoint>', 'source endpoint: id, container name or IP')
        .option('--to <endpoint>', 'destination endpoint: id, container name or IP')
        .option('-l, --protocol <protocol>', 'tcp, udp or icmp')
        .option('-P, --port <port>', 'destination port (tcp, udp)')
        .option('--src-port <port>', 'source port (tcp, udp; default 40000)')
        .option('--raw', "also print each host's ofproto/trace output"),
    ),
  ).action(
    action(rt, { min: 0, max: 0, missing: '' }, async ({ opts, client, out }) => {
      const from = optional(opts, 'from');
      const to = optional(opts, 'to');
      if (!from) throw new UsageError('--from is required (an endpoint id, container name or IP)', 'from');
      if (!to) throw new UsageError('--to is required (an endpoint id, container name or IP)', 'to');
      const protocol = oneOf(optional(opts, 'protocol')?.toLowerCase(), '--protocol', ['tcp', 'udp', 'icmp']);
      if (!protocol) throw new UsageError('-l/--protocol is required: tcp, udp or icmp', 'protocol');
      const portText = optional(opts, 'port');
      if (protocol === 'icmp' && portText !== undefined) throw new UsageError('-P/--port is for tcp and udp, not icmp', 'port');
      if (protocol !== 'icmp' && portText === undefined) throw new UsageError(`-P/--port is required for ${protocol}`, 'port');
      const srcText = optional(opts, 'srcPort');
      const body = {
        tenant: str(opts, 'tenant') || 'default',
        from,
        to,
        protocol,
        ...(portText !== undefined ? { port: intOption(portText, '--port', 0, 1, 65535) } : {}),
        ...(srcText !== undefined ? { srcPort: intOption(srcText, '--src-port', 0, 1, 65535) } : {}),
        ...(opts['raw'] === true ? { raw: true } : {}),
      };
      const res = await client().post('/api/v1/trace/', body);
      const format = str(opts, 'output');
      out(format === 'json' ? toJson(res) : format === 'yaml' ? toYaml(res) : formatTrace(asObject(res)));
    }),
  );
}
