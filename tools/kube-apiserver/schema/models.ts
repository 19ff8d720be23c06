/**
 * The Kubernetes types, read from @kubernetes/client-node's generated models: every model class
 * carries `attributeTypeMap` (JSON field name, TypeScript type, OpenAPI format), generated from the
 * upstream OpenAPI spec. The stand-in uses them to drop unknown fields as the real server's typed
 * decoding does, to find the patch metadata of nested fields, and to serve /openapi/v2. Only the
 * models (not the whole client, which takes ~2 s to load) are imported.
 */
import * as generated from '@kubernetes/client-node/dist/gen/models/all.js';

/** The type of one field, as the stand-in needs it. */
export type FieldType =
  | { kind: 'primitive'; type: 'string' | 'integer' | 'number' | 'boolean'; format?: string }
  | { kind: 'model'; model: string }
  | { kind: 'array'; items: FieldType }
  | { kind: 'map'; values: FieldType }
  /** any JSON value (RawExtension, JSON fields): kept as is */
  | { kind: 'any' };

interface Attribute {
  baseName: string;
  type: string;
  format: string;
}

const registry = generated as unknown as Record<string, { attributeTypeMap?: Attribute[] } | undefined>;

/** One TypeScript type string of the generated models as a FieldType. */
export function parseType(type: string, format = ''): FieldType {
  const t = type.trim();
  const arr = /^Array<(.+)>$/.exec(t);
  if (arr) return { kind: 'array', items: parseType(arr[1] ?? 'any') };
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map) return { kind: 'map', values: parseType(map[1] ?? 'any') };
  switch (t) {
    case 'string':
    case 'String':
      return { kind: 'primitive', type: 'string', ...(format ? { format } : {}) };
    case 'Date':
      return { kind: 'primitive', type: 'string', format: format || 'date-time' };
    case 'IntOrString':
      return { kind: 'primitive', type: 'string', format: 'int-or-string' };
    case 'boolean':
      return { kind: 'primitive', type: 'boolean' };
    case 'number':
      return format === 'double'
        ? { kind: 'primitive', type: 'number', format }
        : { kind: 'primitive', type: 'integer', format: format || 'int64' };
    case 'any':
    case 'object':
      return { kind: 'any' };
    default:
      return registry[t]?.attributeTypeMap ? { kind: 'model', model: t } : { kind: 'any' };
  }
}

const fieldCache = new Map<string, ReadonlyMap<string, FieldType>>();

/** The fields of model `name` by JSON name, or undefined for a name that is not a model. */
export function modelFields(name: string): ReadonlyMap<string, FieldType> | undefined {
  const cached = fieldCache.get(name);
  if (cached) return cached;
  const attrs = registry[name]?.attributeTypeMap;
  if (!attrs) return undefined;
  const fields = new Map(attrs.map((a) => [a.baseName, parseType(a.type, a.format)] as const));
  fieldCache.set(name, fields);
  return fields;
}

/** The type of `field` in model `model` (undefined: not a field of it). */
export function fieldType(model: string, field: string): FieldType | undefined {
  return modelFields(model)?.get(field);
}

/** Every model reachable from `roots` (the roots included), for the OpenAPI definitions. */
export function reachableModels(roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (t: FieldType): void => {
    if (t.kind === 'model') walk(t.model);
    else if (t.kind === 'array') visit(t.items);
    else if (t.kind === 'map') visit(t.values);
  };
  const walk = (name: string): void => {
    if (seen.has(name)) return;
    const fields = modelFields(name);
    if (!fields) return;
    seen.add(name);
    for (const t of fields.values()) visit(t);
  };
  for (const r of roots) walk(r);
  return [...seen].sort();
}
