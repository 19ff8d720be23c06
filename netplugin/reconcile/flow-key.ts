/**
 * Identity and equality of flows for the reconciler. Two flows are the same flow (one replaces the
 * other on the switch) when table, priority and match are equal; they are equal when their
 * instructions and timeouts are too. Matches are compared in a canonical form (entries sorted by
 * field, values normalised), so the order a feature wrote them in does not matter.
 */
import type { Instruction, Match, OxmField } from '../../ovs/openflow/messages';
import type { Feature } from './cookie';

/** A flow as a pipeline feature computes it: plain data, no cookie generation, no xid. */
export interface DesiredFlow {
  table: number;
  priority: number;
  match: Match;
  instructions: Instruction[];
  feature: Feature;
  /** the object the flow serves (endpoint id, network key...), hashed into the cookie */
  object?: string;
  idleTimeout?: number;
  hardTimeout?: number;
}

function canon(v: unknown): unknown {
  if (typeof v === 'bigint') return `${v.toString()}n`;
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  if (typeof v === 'string') return v.toLowerCase();
  if (Array.isArray(v)) return v.map(canon);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    // Buffers inside JSON-revived objects
    if (o.type === 'Buffer' && Array.isArray(o.data)) return `0x${Buffer.from(o.data as number[]).toString('hex')}`;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, canon(o[k])]),
    );
  }
  return v;
}

function fieldSortKey(f: OxmField): string {
  return f.field === 'raw' ? `raw:${f.oxmClass}:${f.oxmField}` : f.field;
}

export function canonicalMatch(match: Match): string {
  const sorted = [...match].sort((a, b) => (fieldSortKey(a) < fieldSortKey(b) ? -1 : fieldSortKey(a) > fieldSortKey(b) ? 1 : 0));
  return JSON.stringify(canon(sorted));
}

/** The switch-side identity of a flow. */
export function flowKey(f: Pick<DesiredFlow, 'table' | 'priority' | 'match'>): string {
  return `${f.table}/${f.priority}/${canonicalMatch(f.match)}`;
}

/** Whether two flows with the same key would behave identically (actions, timeouts, owner). */
export function sameFlow(a: DesiredFlow, b: DesiredFlow): boolean {
  return (
    JSON.stringify(canon(a.instructions)) === JSON.stringify(canon(b.instructions)) &&
    (a.idleTimeout ?? 0) === (b.idleTimeout ?? 0) &&
    (a.hardTimeout ?? 0) === (b.hardTimeout ?? 0) &&
    a.feature === b.feature &&
    (a.object ?? '') === (b.object ?? '')
  );
}
