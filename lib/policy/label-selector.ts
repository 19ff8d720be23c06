/**
 * Kubernetes label selectors (metav1.LabelSelector) matched against a label set (pure), as
 * apimachinery's LabelSelectorAsSelector does: every matchLabels pair and every expression must
 * hold; an empty selector (no pairs, no expressions) selects everything. Operators: `In` (the key
 * is present with one of the values), `NotIn` (the key is absent, or present with none of the
 * values), `Exists` (present, any value), `DoesNotExist` (absent). An operator this file does not
 * know selects nothing (the agent's schema refuses one before it gets here).
 *
 * Whether a selector is set at all (a NetworkPolicy peer's absent podSelector or
 * namespaceSelector) is the caller's business: this file matches a selector that is there.
 */
import { compareStrings } from '../compare';

export interface SelectorRequirement {
  key: string;
  operator: string;
  values: readonly string[];
}

export interface LabelSelector {
  matchLabels?: Readonly<Record<string, string>> | null;
  matchExpressions?: readonly SelectorRequirement[] | null;
}

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

const has = (labels: Readonly<Record<string, string>>, key: string): boolean => Object.prototype.hasOwnProperty.call(labels, key);

function requirementHolds(r: SelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  switch (r.operator) {
    case 'In':
      return has(labels, r.key) && r.values.includes(labels[r.key]!);
    case 'NotIn':
      return !has(labels, r.key) || !r.values.includes(labels[r.key]!);
    case 'Exists':
      return has(labels, r.key);
    case 'DoesNotExist':
      return !has(labels, r.key);
    default:
      return false;
  }
}

/** Whether `selector` selects a thing labelled `labels`. */
export function selects(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (!has(labels, k) || labels[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) if (!requirementHolds(r, labels)) return false;
  return true;
}

/** The selector as one canonical text (pairs and expressions sorted): equal texts select alike. */
export function selectorKey(selector: LabelSelector): string {
  const pairs = Object.entries(selector.matchLabels ?? {})
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([k, v]) => `${k}=${v}`);
  const exprs = (selector.matchExpressions ?? []).map((r) => `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`).sort();
  return JSON.stringify([pairs, exprs]);
}
