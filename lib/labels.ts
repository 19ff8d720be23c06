/**
 * Endpoint labels (what service selectors and groups match): the one check every source uses
 * (CNI_ARGS, the netconf's `args`, Docker container labels, the lab's `--label`), so that a label
 * netmaster would refuse, or one a `key=value` selector could not name, is refused at the edge
 * with the field that carried it. Keys: 1-253 of letters, digits, `_ . / -`, starting and ending
 * with a letter or digit (Kubernetes' `prefix/name` and Docker's `com.example.x` both fit);
 * values: up to 253 characters, no control characters, no `,` or `=` (selector syntax). Pure.
 */
import { NetloomError } from './errors';
import { CONTROL_RE, LIMITS } from './kinds/limits';

const KEY_RE = /^[A-Za-z0-9]([A-Za-z0-9_./-]*[A-Za-z0-9])?$/;

/** Why `key` cannot be a label key, or undefined when it can. */
export function labelKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a label key must not be empty';
  if (key.length > LIMITS.labelKey) return `a label key has at most ${LIMITS.labelKey} characters`;
  if (!KEY_RE.test(key)) return 'a label key is letters, digits, _ . / -, starting and ending with a letter or digit';
  return undefined;
}

/** Why `value` cannot be a label value, or undefined when it can. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > LIMITS.labelValue) return `a label value has at most ${LIMITS.labelValue} characters`;
  if (CONTROL_RE.test(value)) return 'a label value must not contain control characters';
  if (/[,=]/.test(value)) return "a label value must not contain ',' or '='";
  return undefined;
}

/** The first problem of a label set as `{field, why}` (field: `<where>.<key>`), or undefined. */
export function labelsProblem(labels: Record<string, string>, where: string): { field: string; why: string } | undefined {
  const keys = Object.keys(labels);
  if (keys.length > LIMITS.labels) return { field: where, why: `at most ${LIMITS.labels} labels` };
  for (const k of keys) {
    const shown = k.slice(0, 64);
    const why = labelKeyProblem(k) ?? labelValueProblem(labels[k] ?? '');
    if (why !== undefined) return { field: `${where}.${shown}`, why };
  }
  return undefined;
}

/** Throw INVALID_ARGUMENT naming the label's field when a label set has a problem. */
export function checkLabels(labels: Record<string, string>, where: string): Record<string, string> {
  const p = labelsProblem(labels, where);
  if (p) throw new NetloomError('INVALID_ARGUMENT', `${p.field}: ${p.why}`, { field: p.field });
  return labels;
}

/**
 * `k=v,k2=v2` (CNI_ARGS NETLOOM_LABELS) or repeated `k=v` (a command line) as labels; a later
 * key wins. Throws INVALID_ARGUMENT naming `where` for a pair without `=`.
 */
export function parseLabelPairs(pairs: readonly string[], where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new NetloomError('INVALID_ARGUMENT', `${where}: "${pair.slice(0, 64)}" is not a KEY=VALUE label`, { field: where });
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return checkLabels(out, where);
}
