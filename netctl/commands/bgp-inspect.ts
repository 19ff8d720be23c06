/**
 * `netctl bgp inspect HOST [-o table|json|yaml]` (issue 16): the host's BGP speaker as its agent
 * sees it now (GET /api/v1/bgp-status/HOST/, a query netmaster routes to the host's agent):
 * neighbors with state, uptime and prefixes received/accepted/sent, the paths the host announces
 * and the routes it installed (protocol 80), with the stored Bgp object when the host has one.
 * Without -o: readable tables. A host without an agent is an error (exit 1), not an empty answer.
 */
import type { Command } from 'commander';
import { KINDS } from '../../lib/kinds';
import { asObject, type Json, type JsonObject } from '../client';
import { action, outputOption, str as optStr, type Runtime } from '../context';
import { tabwrite, toJson, toYaml } from '../format';
import { checkName } from '../validate';

const arr = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.map(asObject) : []);
const s = (o: JsonObject, k: string): string => {
  const v = o[k];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
};
const n = (o: JsonObject, k: string): number => Number(o[k] ?? 0) || 0;

/** Seconds as `1d2h3m4s` (leading zero units left out; `-` for 0: not up). */
export function formatUptime(seconds: number): string {
  if (!(seconds > 0)) return '-';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (rest >= size || parts.length > 0) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  parts.push(`${rest}s`);
  return parts.join('');
}

/** GoBGP's session state as operators know it from BIRD and other daemons (Established, Active...). */
const stateName = (st: string): string => (st === '' ? 'Unknown' : st.charAt(0) + st.slice(1).toLowerCase().replace('open', 'Open'));

/** The readable form of an agent's BGP status. */
export function formatBgpStatus(r: JsonObject): string {
  const out: string[] = [];
  const head = `Host ${s(r, 'host')}: AS ${s(r, 'as') || '-'}, router id ${s(r, 'routerId') || '-'}, gobgpd ${
    n(r, 'pid') > 0 ? `pid ${s(r, 'pid')}` : 'not running'
  }`;
  out.push(head);
  if (s(r, 'error') !== '') out.push(`  ${s(r, 'running') === 'true' ? 'last error' : 'not running'}: ${s(r, 'error')}`);
  const neighbors = arr(r['neighbors']);
  out.push('', 'Neighbors:');
  if (neighbors.length === 0) out.push('  (none)');
  else {
    const rows = ['Neighbor\tAS\tState\tUptime\tHold\tReceived\tAccepted\tSent\t'];
    for (const p of neighbors)
      rows.push(
        [
          s(p, 'address'),
          s(p, 'peerAs'),
          stateName(s(p, 'state')) + (p['adminDown'] === true ? ' (admin down)' : ''),
          formatUptime(n(p, 'uptimeSeconds')),
          s(p, 'negotiatedHoldTime') !== '0' && s(p, 'negotiatedHoldTime') !== '' ? s(p, 'negotiatedHoldTime') : s(p, 'holdTime'),
          s(p, 'received') || '0',
          s(p, 'accepted') || '0',
          s(p, 'advertised') || '0',
        ].join('\t') + '\t',
      );
    out.push(
      ...tabwrite(rows.join('\n') + '\n')
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l.trimEnd()}`),
    );
  }
  for (const [title, key] of [
    ['Announced paths', 'announced'],
    ['Installed routes (proto 80)', 'installed'],
  ] as const) {
    const routes = arr(r[key]);
    out.push('', `${title}:`);
    if (routes.length === 0) out.push('  (none)');
    for (const route of routes) {
      const hops = Array.isArray(route['nextHops']) ? route['nextHops'].map(String) : [];
      out.push(`  ${s(route, 'prefix')} via ${hops.join(', ') || '-'}`);
    }
  }
  return out.join('\n') + '\n';
}

export function registerBgpInspect(bgp: Command, rt: Runtime): void {
  const cmd = bgp
    .command('inspect')
    .description("Inspect a host's BGP speaker: sessions, announced paths, installed routes (and its Bgp object)")
    .argument('[hostname]');
  outputOption(cmd).action(
    action(rt, { min: 1, max: 1, missing: 'Host name required' }, async ({ args, opts, client, out }) => {
      const host = checkName(args[0], 'hostname');
      const c = client();
      const status = asObject(await c.get(`/api/v1/bgp-status/${host}/`));
      // the stored object, when the host has one (else it runs on the cluster-wide default)
      let config: Json = null;
      try {
        config = await c.get(`/api/v1/inspect/${KINDS.Bgp.collection}/${host}/`);
      } catch (e) {
        if ((e as { code?: string }).code !== 'NOT_FOUND') throw e;
      }
      const output = optStr(opts, 'output');
      if (output === 'json' || output === 'yaml') {
        const v = { ...status, config };
        out(output === 'yaml' ? toYaml(v) : toJson(v));
        return;
      }
      const from = config === null ? 'settings: the cluster-wide default (no Bgp object)' : 'settings: its Bgp object';
      out(formatBgpStatus(status).replace('\n', `\n  ${from}\n`));
    }),
  );
}
