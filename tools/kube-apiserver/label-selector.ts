/**
 * Label selectors in the string form of the `labelSelector` query parameter, as
 * k8s.io/apimachinery/pkg/labels parses them: requirements joined by commas, each `key`, `!key`,
 * `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key>1`, `key<1`.
 * Keys must be qualified names and values label values; a bad selector throws a SelectorError
 * (the server answers 400 with its message).
 */
import { isQualifiedName, isValidLabelValue } from './validation/names';

export type Operator = 'exists' | 'notexists' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export class SelectorError extends Error {}

type Token = { kind: 'id'; text: string } | { kind: 'op'; text: string } | { kind: 'end' };

const OPERATORS = ['==', '!=', '=', '!', '(', ')', ',', '>', '<'];

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => s.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j] as string) && !OPERATORS.some((o) => s.startsWith(o, j))) j++;
    out.push({ kind: 'id', text: s.slice(i, j) });
    i = j;
  }
  out.push({ kind: 'end' });
  return out;
}

const describe = (t: Token): string => (t.kind === 'end' ? 'EOS' : `'${t.text}'`);

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length > 0)
    throw new SelectorError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${errs.join('; ')}`);
}

function checkValue(v: string, i: number): void {
  const errs = isValidLabelValue(v);
  if (errs.length > 0)
    throw new SelectorError(`unable to parse requirement: values[${i}]: Invalid value: ${JSON.stringify(v)}: ${errs.join('; ')}`);
}

/** Parse a selector string ('' selects everything). */
export function parseLabelSelector(selector: string): Requirement[] {
  const tokens = lex(selector);
  let p = 0;
  const peek = (): Token => tokens[p] as Token;
  const next = (): Token => tokens[p++] as Token;
  const reqs: Requirement[] = [];
  if (peek().kind === 'end') return reqs;
  for (;;) {
    let t = next();
    let negated = false;
    if (t.kind === 'op' && t.text === '!') {
      negated = true;
      t = next();
    }
    if (t.kind !== 'id')
      throw new SelectorError(`unable to parse requirement: found ${describe(t)}, expected: !, identifier, or 'end of string'`);
    const key = t.text;
    checkKey(key);
    const after = peek();
    if (negated || after.kind === 'end' || (after.kind === 'op' && after.text === ',')) {
      reqs.push({ key, op: negated ? 'notexists' : 'exists', values: [] });
    } else {
      const opTok = next();
      const opText = opTok.kind === 'end' ? '' : opTok.text;
      if (opText === 'in' || opText === 'notin') {
        const open = next();
        if (!(open.kind === 'op' && open.text === '(')) throw new SelectorError(`found ${describe(open)}, expected:'('`);
        const values: string[] = [];
        for (;;) {
          const v = next();
          if (v.kind === 'op' && v.text === ')' && values.length === 0) break;
          if (v.kind !== 'id') throw new SelectorError(`found ${describe(v)}, expected: ',', ')' or identifier`);
          checkValue(v.text, values.length);
          values.push(v.text);
          const sep = next();
          if (sep.kind === 'op' && sep.text === ')') break;
          if (!(sep.kind === 'op' && sep.text === ',')) throw new SelectorError(`found ${describe(sep)}, expected: ',' or ')'`);
        }
        if (values.length === 0) throw new SelectorError(`for '${opText}' operator, values set can't be empty`);
        reqs.push({ key, op: opText, values });
      } else if (['=', '==', '!=', '>', '<'].includes(opText) && opTok.kind === 'op') {
        const v = peek();
        let value = '';
        if (v.kind === 'id') value = (next() as { text: string }).text;
        if (opText === '>' || opText === '<') {
          if (!/^-?\d+$/.test(value))
            throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
          reqs.push({ key, op: opText === '>' ? 'gt' : 'lt', values: [value] });
        } else {
          checkValue(value, 0);
          reqs.push({ key, op: opText === '!=' ? 'notin' : 'in', values: [value] });
        }
      } else {
        throw new SelectorError(`found ${describe(opTok)}, expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const sep = next();
    if (sep.kind === 'end') break;
    if (!(sep.kind === 'op' && sep.text === ',')) throw new SelectorError(`found ${describe(sep)}, expected: ',' or 'end of string'`);
  }
  return reqs;
}

/** Whether `labels` satisfy every requirement. */
export function matchesLabels(reqs: readonly Requirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(v as string);
      case 'notin':
        return !has || !r.values.includes(v as string);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v as string)) return false;
        const n = Number(v);
        const limit = Number(r.values[0]);
        return r.op === 'gt' ? n > limit : n < limit;
      }
    }
  });
}

/** The requirements of a map selector (a Service's spec.selector): every key equal to its value. */
export function mapSelector(selector: Readonly<Record<string, string>>): Requirement[] {
  return Object.entries(selector).map(([key, v]) => ({ key, op: 'in', values: [v] }));
}
