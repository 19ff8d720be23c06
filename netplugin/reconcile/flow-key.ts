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

/**
 * The canonical JSON text of a value: object keys sorted (undefined ones left out), strings lower
 * case, bigints and Buffers as strings. Written straight into the text, without the intermediate
 * objects: every reconcile keys and compares each of the host's flows (thousands with a few
 * hundred remote endpoints), so this is on the path of every change.
 */
function canonText(v: unknown): string {
  switch (typeof v) {
    case 'bigint':
      return `"${v.toString()}n"`;
    case 'string':
      return JSON.stringify(v.toLowerCase());
    case 'object':
      break;
    default:
      return JSON.stringify(v) ?? 'null';
  }
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return `"0x${v.toString('hex')}"`;
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + canonText(v[i]);
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  // Buffers inside JSON-revived objects
  if (o.type === 'Buffer' && Array.isArray(o.data)) return `"0x${Buffer.from(o.data as number[]).toString('hex')}"`;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonText(x)}`;
    first = false;
  }
  return `${out}}`;
}

/** The hex of a Buffer, or of a JSON-revived one ({ type: 'Buffer', data }); undefined for anything else. */
function bufferHex(v: object): string | undefined {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  const o = v as Record<string, unknown>;
  return o.type === 'Buffer' && Array.isArray(o.data) ? Buffer.from(o.data as number[]).toString('hex') : undefined;
}

/**
 * Whether canonText(a) === canonText(b), compared in place: most compared flows are equal, and
 * some carry tens of kilobytes of instructions (a flood to every local port), so writing both
 * texts at every reconcile was most of its diff.
 */
export function canonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const ha = bufferHex(a);
    const hb = bufferHex(b);
    if (ha !== undefined || hb !== undefined) return ha === hb;
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!canonEqual(a[i], b[i])) return false;
      return true;
    }
    const oa = a as Record<string, unknown>;
    const ob = b as Record<string, unknown>;
    let defined = 0;
    for (const k of Object.keys(oa)) {
      const x = oa[k];
      if (x === undefined) continue;
      defined++;
      if (!Object.hasOwn(ob, k) || !canonEqual(x, ob[k])) return false;
    }
    for (const k of Object.keys(ob)) if (ob[k] !== undefined) defined--;
    return defined === 0;
  }
  // mixed kinds that may still write the same text (a bigint and its "5n" string, NaN and null): rare
  return canonText(a) === canonText(b);
}

function fieldSortKey(f: OxmField): string {
  return f.field === 'raw' ? `raw:${f.oxmClass}:${f.oxmField}` : f.field;
}

export function canonicalMatch(match: Match): string {
  const sorted = [...match].sort((a, b) => (fieldSortKey(a) < fieldSortKey(b) ? -1 : fieldSortKey(a) > fieldSortKey(b) ? 1 : 0));
  return canonText(sorted);
}

/** The switch-side identity of a flow. */
export function flowKey(f: Pick<DesiredFlow, 'table' | 'priority' | 'match'>): string {
  return `${f.table}/${f.priority}/${canonicalMatch(f.match)}`;
}

/** Whether two flows with the same key would behave identically (actions, timeouts, owner). */
export function sameFlow(a: DesiredFlow, b: DesiredFlow): boolean {
  // the cheap fields first: most flows compared are equal, and the instructions decide last
  return (
    a.feature === b.feature &&
    (a.object ?? '') === (b.object ?? '') &&
    (a.idleTimeout ?? 0) === (b.idleTimeout ?? 0) &&
    (a.hardTimeout ?? 0) === (b.hardTimeout ?? 0) &&
    canonEqual(a.instructions, b.instructions)
  );
}
