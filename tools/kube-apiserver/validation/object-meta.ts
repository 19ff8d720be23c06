/** ObjectMeta checks as apimachinery's ValidateObjectMeta makes them: name (per resource), labels, annotations. */
import { invalid, required, root, tooMany, type FieldError, type FieldPath } from '../field-errors';
import { isObject, type JsonObject } from '../json';
import { isQualifiedName, isValidLabelValue } from './names';

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateLabels(labels: unknown, path: FieldPath): FieldError[] {
  const out: FieldError[] = [];
  if (!isObject(labels)) return out;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) out.push(invalid(path, k, m));
    for (const m of isValidLabelValue(String(v))) out.push(invalid(path, v, m));
  }
  return out;
}

function validateAnnotations(annotations: unknown, path: FieldPath): FieldError[] {
  const out: FieldError[] = [];
  if (!isObject(annotations)) return out;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) out.push(invalid(path, k, m));
    size += k.length + String(v).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT)
    out.push({
      ...tooMany(path, size, TOTAL_ANNOTATION_SIZE_LIMIT),
      type: 'FieldValueTooLong',
      detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
    });
  return out;
}

/** `nameCheck` gives the reasons a name is refused (the resource's own rule). */
export function validateObjectMeta(obj: JsonObject, namespaced: boolean, nameCheck: (name: string) => string[]): FieldError[] {
  const path = root('metadata');
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const out: FieldError[] = [];
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '') out.push(required(path.child('name'), 'name or generateName is required'));
  else for (const m of nameCheck(name)) out.push(invalid(path.child('name'), name, m));
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (namespaced && ns === '') out.push(required(path.child('namespace')));
  out.push(...validateLabels(meta.labels, path.child('labels')));
  out.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  return out;
}
