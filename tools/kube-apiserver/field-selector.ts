/**
 * Field selectors (`fieldSelector=metadata.name=x,status.phase!=Running`) as
 * k8s.io/apimachinery/pkg/fields parses them: terms joined by commas, each `field=value`,
 * `field==value` or `field!=value`, with `\,` `\=` `\\` escapes in values. Which fields a resource
 * supports is its own (resources.ts); any other is refused as the real server does.
 */
import { SelectorError } from './label-selector';

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

/** Split on unescaped `sep`. */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(v: string, whole: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i] as string;
    if (c === '\\') {
      const n = v[i + 1];
      if (n !== '\\' && n !== ',' && n !== '=') throw new SelectorError(`invalid field selector: '${whole}': invalid escape sequence`);
      out += n;
      i++;
    } else if (c === ',' || c === '=') throw new SelectorError(`invalid field selector: '${whole}': unescaped ${c}`);
    else out += c;
  }
  return out;
}

export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === '') return [];
  return splitUnescaped(selector, ',').map((term) => {
    for (const [op, equal] of [
      ['!=', false],
      ['==', true],
      ['=', true],
    ] as const) {
      const at = term.indexOf(op);
      if (at > 0) return { field: term.slice(0, at).trim(), equal, value: unescape(term.slice(at + op.length), selector) };
    }
    throw new SelectorError(`invalid selector: '${selector}'; can't understand '${term}'`);
  });
}

/** Whether an object's field values (by field name) satisfy every requirement. */
export function matchesFields(reqs: readonly FieldRequirement[], fields: Readonly<Record<string, string>>): boolean {
  return reqs.every((r) => ((fields[r.field] ?? '') === r.value) === r.equal);
}
