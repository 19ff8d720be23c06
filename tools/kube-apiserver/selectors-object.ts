/** metav1.LabelSelector objects (matchLabels + matchExpressions) as requirements (label-selector.ts). */
import { isObject, type Json } from './json';
import type { Operator, Requirement } from './label-selector';

const OPS: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: 'notexists' };

export function labelSelectorRequirements(selector: Json | undefined): Requirement[] {
  if (!isObject(selector)) return [];
  const out: Requirement[] = [];
  if (isObject(selector.matchLabels))
    for (const [k, v] of Object.entries(selector.matchLabels)) out.push({ key: k, op: 'in', values: [String(v)] });
  if (Array.isArray(selector.matchExpressions))
    for (const e of selector.matchExpressions) {
      if (!isObject(e)) continue;
      const op = OPS[String(e.operator)];
      if (op) out.push({ key: String(e.key), op, values: Array.isArray(e.values) ? e.values.map(String) : [] });
    }
  return out;
}
