/**
 * The `ip rule` / `ip route` commands that turn what the kernel holds into what is desired (pure).
 * Netloom's rules are those at priorities RULE_PRIORITY_MIN..MAX, its routes those with protocol
 * ROUTE_PROTO (whatever their table): every one of them that is not desired is removed, so what a
 * crashed agent left behind goes at the next start. Inputs are `ip -j rule show` and
 * `ip -j route show table all proto 77` as parsed JSON.
 */
import { NetloomError } from '../../lib/errors';
import type { HostNetState } from './desired-state';
import { hex32, MARK_MASK, ROUTE_PROTO, RULE_PRIORITY, RULE_PRIORITY_MAX, RULE_PRIORITY_MIN } from './numbering';

export interface KernelRule {
  priority: number;
  fwmark: number;
  fwmask: number;
  table: string;
}

export interface KernelRoute {
  dst: string;
  dev: string;
  /** 'main' for the main table */
  table: string;
}

/** One command: program and arguments. */
export type Command = readonly [string, readonly string[]];

function rec(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new NetloomError('INTERNAL', `${what} is not an object`);
  return v as Record<string, unknown>;
}

function list(text: string, what: string): Record<string, unknown>[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch (e) {
    throw new NetloomError('INTERNAL', `${what}: output is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(raw)) throw new NetloomError('INTERNAL', `${what}: output is not a list`);
  return raw.map((r, i) => rec(r, `${what}[${i}]`));
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/** netloom's rules in `ip -j rule show` (those in its priority range). */
export function parseRules(text: string): KernelRule[] {
  return list(text, 'ip rule show')
    .filter((r) => {
      const p = num(r.priority);
      return p >= RULE_PRIORITY_MIN && p <= RULE_PRIORITY_MAX;
    })
    .map((r) => ({
      priority: num(r.priority),
      fwmark: r.fwmark === undefined ? 0 : num(r.fwmark),
      fwmask: r.fwmask === undefined ? 0xffffffff : num(r.fwmask),
      table: String(r.table ?? ''),
    }));
}

/** Routes in `ip -j route show table all proto 77` (all netloom's). */
export function parseRoutes(text: string): KernelRoute[] {
  return list(text, 'ip route show').map((r) => ({ dst: String(r.dst ?? ''), dev: String(r.dev ?? ''), table: String(r.table ?? 'main') }));
}

export function desiredRules(s: HostNetState): KernelRule[] {
  return s.gateways.map((g) => ({ priority: RULE_PRIORITY, fwmark: g.mark, fwmask: MARK_MASK, table: String(g.table) }));
}

export function desiredRoutes(s: HostNetState): KernelRoute[] {
  return s.gateways.flatMap((g) => [
    { dst: 'default', dev: g.port, table: String(g.table) },
    ...g.subnets.filter((x) => x.hostRoute).map((x) => ({ dst: x.subnet, dev: g.port, table: 'main' })),
  ]);
}

const ruleKey = (r: KernelRule) => `${r.priority} ${r.fwmark}/${r.fwmask} ${r.table}`;
const routeKey = (r: KernelRoute) => `${r.table} ${r.dst} ${r.dev}`;

function ruleArgs(op: 'add' | 'del', r: KernelRule): Command {
  return ['ip', ['rule', op, 'priority', String(r.priority), 'fwmark', `${hex32(r.fwmark)}/${hex32(r.fwmask)}`, 'lookup', r.table]];
}

function routeArgs(op: 'replace' | 'del', r: KernelRoute): Command {
  return [
    'ip',
    ['route', op, r.dst, 'dev', r.dev, 'table', r.table, 'proto', String(ROUTE_PROTO), ...(op === 'replace' ? ['scope', 'link'] : [])],
  ];
}

/**
 * The commands, removals first: stale rules and routes deleted, missing ones added. A route whose
 * destination and table are desired on another device is replaced in place (no gap).
 */
export function planKernel(desired: HostNetState, have: { rules: readonly KernelRule[]; routes: readonly KernelRoute[] }): Command[] {
  const wantRules = desiredRules(desired);
  const wantRoutes = desiredRoutes(desired);
  const wantR = new Set(wantRules.map(ruleKey));
  const haveR = new Set(have.rules.map(ruleKey));
  const wantT = new Set(wantRoutes.map(routeKey));
  const haveT = new Set(have.routes.map(routeKey));
  const replaced = new Set(wantRoutes.map((r) => `${r.table} ${r.dst}`));
  return [
    ...have.rules.filter((r) => !wantR.has(ruleKey(r))).map((r) => ruleArgs('del', r)),
    ...have.routes.filter((r) => !wantT.has(routeKey(r)) && !replaced.has(`${r.table} ${r.dst}`)).map((r) => routeArgs('del', r)),
    ...wantRules.filter((r) => !haveR.has(ruleKey(r))).map((r) => ruleArgs('add', r)),
    ...wantRoutes.filter((r) => !haveT.has(routeKey(r))).map((r) => routeArgs('replace', r)),
  ];
}
