/** metav1.LabelSelector checks (matchLabels, matchExpressions) as apimachinery's ValidateLabelSelector makes them. */
import { forbidden, invalid, required, type FieldError, type FieldPath } from '../field-errors';
import { isObject } from '../json';
import { isQualifiedName, isValidLabelValue } from './names';
import { validateLabels } from './object-meta';

export function validateLabelSelector(selector: unknown, path: FieldPath): FieldError[] {
  if (!isObject(selector)) return [];
  const out = validateLabels(selector.matchLabels, path.child('matchLabels'));
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((e, i) => {
    const p = path.child('matchExpressions').index(i);
    const expr = isObject(e) ? e : {};
    const values = Array.isArray(expr.values) ? expr.values : [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) out.push(required(p.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) out.push(forbidden(p.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        out.push(invalid(p.child('operator'), expr.operator ?? '', 'not a valid selector operator'));
    }
    const key = typeof expr.key === 'string' ? expr.key : '';
    for (const m of isQualifiedName(key)) out.push(invalid(p.child('key'), key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(String(v))) out.push(invalid(p.child('values').index(j), v, m));
    });
  });
  return out;
}
