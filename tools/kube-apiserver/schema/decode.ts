/**
 * What the real server's typed decoding does to a request body: fields the type does not have are
 * dropped (kube-apiserver 1.20 drops them silently), nulls read as absent, and a value of the
 * wrong JSON type fails the request with 400 naming the field, as Go's JSON decoder does.
 */
import { isObject, type Json, type JsonObject } from '../json';
import { modelFields, type FieldType } from './models';

export class DecodeError extends Error {}

const GO_TYPE: Record<string, string> = { string: 'string', integer: 'int64', number: 'float64', boolean: 'bool' };

function jsonKind(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function fail(path: string, v: Json, want: string): never {
  throw new DecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go struct field ${path} of type ${want}`);
}

function decodeValue(v: Json, t: FieldType, path: string): Json | undefined {
  if (v === null) return undefined;
  switch (t.kind) {
    case 'any':
      return v;
    case 'primitive':
      if (t.format === 'int-or-string') {
        if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
        return fail(path, v, 'intstr.IntOrString');
      }
      if (t.type === 'integer') return typeof v === 'number' && Number.isInteger(v) ? v : fail(path, v, t.format ?? 'int64');
      if (t.type === 'number') return typeof v === 'number' ? v : fail(path, v, GO_TYPE.number as string);
      if (t.type === 'boolean') return typeof v === 'boolean' ? v : fail(path, v, 'bool');
      return typeof v === 'string' ? v : fail(path, v, 'string');
    case 'array':
      if (!Array.isArray(v)) return fail(path, v, 'array');
      return v.map((x) => decodeValue(x, t.items, path) ?? null);
    case 'map': {
      if (!isObject(v)) return fail(path, v, 'map');
      const out: JsonObject = {};
      for (const [k, x] of Object.entries(v)) {
        const d = decodeValue(x, t.values, path);
        if (d !== undefined) out[k] = d;
      }
      return out;
    }
    case 'model':
      if (!isObject(v)) return fail(path, v, t.model);
      return decodeModel(v, t.model, path);
  }
}

/** `value` as model `model` would keep it: unknown fields and nulls dropped; a wrong type throws a DecodeError. */
export function decodeModel(value: JsonObject, model: string, path = ''): JsonObject {
  const fields = modelFields(model);
  if (!fields) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (!t) continue;
    const d = decodeValue(v, t, path ? `${path}.${k}` : k);
    if (d !== undefined) out[k] = d;
  }
  return out;
}
