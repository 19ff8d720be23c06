/**
 * `-o table` of the inspects that show realization on the hosts (netmaster's Oper.realization,
 * Oper.ruleCounters and an endpoint's Oper.effectiveRules): a summary line and a table. The
 * default output stays Contiv's JSON, which carries the same fields.
 */
import type { Json, JsonObject } from './client';
import { str } from './client';
import { tabwrite } from './format';

const obj = (v: Json | undefined): JsonObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : ({} as JsonObject));
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const num = (o: JsonObject, k: string): string => (typeof o[k] === 'number' ? String(o[k]) : '0');

/** `realized on 2/3 hosts at revision 120 (pending: h3)`, or a note when netmaster does not say. */
function realizationLine(oper: JsonObject): string {
  const r = oper['realization'];
  if (r === undefined) return 'realization: not reported (netmaster runs without its agent API)';
  const o = obj(r);
  const pending = arr(o['pendingHosts']).filter((h): h is string => typeof h === 'string');
  const more = Number(num(o, 'hostsConcerned')) - Number(num(o, 'hostsRealized')) - pending.length;
  const list = pending.length > 0 ? ` (pending: ${pending.join(', ')}${more > 0 ? `, and ${more} more` : ''})` : '';
  return `realized on ${num(o, 'hostsRealized')}/${num(o, 'hostsConcerned')} hosts at revision ${num(o, 'revision')}${list}`;
}

function header(inspect: Json): { key: string; oper: JsonObject } {
  const v = obj(inspect);
  return { key: str(obj(v['Config']), 'key'), oper: obj(v['Oper']) };
}

/** A policy: its realization, then one line per rule with its counters summed over hosts. */
export function policyTable(inspect: Json): string {
  const { key, oper } = header(inspect);
  const rows = arr(oper['ruleCounters'])
    .map(obj)
    .map((r) => [str(r, 'ruleId'), num(r, 'packets'), num(r, 'bytes'), num(r, 'hosts')].join('\t') + '\n');
  return (
    `Policy ${key}: ${realizationLine(oper)}\n` + tabwrite('Rule\tPackets\tBytes\tHosts\n----\t-------\t-----\t-----\n' + rows.join(''))
  );
}

/** A group: its realization. */
export function groupTable(inspect: Json): string {
  const { key, oper } = header(inspect);
  return `EndpointGroup ${key}: ${realizationLine(oper)}\n`;
}

function addresses(set: JsonObject): string {
  const inc = arr(set['include']).filter((x): x is string => typeof x === 'string');
  const exc = arr(set['exclude']).filter((x): x is string => typeof x === 'string');
  const text = inc.length === 1 && inc[0] === '0.0.0.0/0' ? 'any' : inc.join(',');
  return exc.length > 0 ? `${text} except ${exc.join(',')}` : text || 'none';
}

function services(list: Json[]): string {
  if (list.length === 0) return 'any';
  return list
    .map(obj)
    .map((s) => {
      const proto = s['protocol'] === undefined ? 'any' : String(s['protocol']);
      const ports = arr(s['ports'])
        .map(obj)
        .map((p) => (num(p, 'from') === num(p, 'to') ? num(p, 'from') : `${num(p, 'from')}-${num(p, 'to')}`));
      return ports.length > 0 ? `${proto}/${ports.join(',')}` : proto;
    })
    .join(',');
}

/** An endpoint: its effective rules, both directions in evaluation order, and each direction's default. */
export function endpointRulesTable(inspect: Json): string {
  const v = obj(inspect);
  const oper = obj(v['Oper']);
  const id = str(oper, 'endpointID') || str(obj(v['Config']), 'key');
  const eff = oper['effectiveRules'];
  if (eff === undefined) return `Endpoint ${id}: effective rules not reported (netmaster runs without its agent API)\n`;
  const e = obj(eff);
  const rows: string[] = [];
  const defaults: string[] = [];
  for (const dir of ['ingress', 'egress'] as const) {
    const d = obj(e[dir]);
    for (const r of arr(d['rules']).map(obj))
      rows.push(
        [dir, num(r, 'priority'), str(r, 'action'), addresses(obj(r['peers'])), services(arr(r['services'])), str(r, 'id')].join('\t') +
          '\n',
      );
    defaults.push(`${dir} default: ${d['isolated'] === true ? 'deny' : 'allow'}`);
  }
  return (
    `Endpoint ${id} on ${str(e, 'host')}: ${defaults.join('; ')}\n` +
    tabwrite('Direction\tPriority\tAction\tPeers\tServices\tRule\n---------\t--------\t------\t-----\t--------\t----\n' + rows.join(''))
  );
}

/** A network: its address blocks per host with their use (issue 15), or a note when it has none. */
export function networkTable(inspect: Json): string {
  const { key, oper } = header(inspect);
  const blocks = arr(oper['blocks']).map(obj);
  if (blocks.length === 0) return `Network ${key}: no address blocks\n`;
  const rows = [...blocks]
    .sort((a, b) => (str(a, 'host') < str(b, 'host') ? -1 : str(a, 'host') > str(b, 'host') ? 1 : 0))
    .map((b) => [str(b, 'host'), str(b, 'cidr'), `${num(b, 'used')}/${num(b, 'size')}`].join('\t') + '\n');
  const used = blocks.reduce((n, b) => n + Number(num(b, 'used')), 0);
  const size = blocks.reduce((n, b) => n + Number(num(b, 'size')), 0);
  return (
    `Network ${key}: ${blocks.length} address blocks, ${used}/${size} addresses used\n` +
    tabwrite('Host\tBlock\tUsed\n----\t-----\t----\n' + rows.join(''))
  );
}
