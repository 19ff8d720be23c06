/**
 * Contiv's object keys (`t1`, `t1:net1`, `t1:pol1:1`, `host1`, `global`), its REST collection
 * names, and parsing of request bodies into typed objects with errors naming the bad field.
 */
import { NetloomError } from '../../lib/errors';
import { parseWith, type ValidationErrorOptions } from '../../lib/validation';
import { ALL_KINDS, keyFromFields, type KindDescriptor } from '../../lib/kinds';
import { LIMITS } from '../../lib/kinds/limits';
import { schemas, type ObjectOf, type ObjectType } from './schemas';

/** The descriptor of a kind (lib/kinds): its key fields, collection, references and links. */
export function kindOf(type: ObjectType): KindDescriptor {
  const k = ALL_KINDS.find((d) => d.type === type);
  if (!k) throw new NetloomError('INTERNAL', `no kind ${String(type)}`);
  return k;
}

/** The key an object is stored and addressed under, built from its body. */
export function keyOf<T extends ObjectType>(type: T, obj: ObjectOf[T]): string {
  return keyFromFields(kindOf(type), obj);
}

/** The tenant an object belongs to, or undefined for global objects (global, Bgp, aciGw). */
export function tenantOf(type: ObjectType, obj: object): string | undefined {
  if (kindOf(type).scope === 'global') return undefined;
  return (obj as { tenantName?: string }).tenantName;
}

/** REST collection name (Contiv's own plurals) to object type; no prototype, so `constructor` is no collection. */
export const COLLECTIONS: Readonly<Record<string, ObjectType>> = Object.assign(
  Object.create(null) as Record<string, ObjectType>,
  Object.fromEntries(ALL_KINDS.map((k) => [k.collection, k.type as ObjectType])),
);

/** At most `max` characters of a caller's text, for messages. */
export function shown(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length} characters)`;
}

/**
 * Refuse a key no object of `type` can have (another number of `:` parts than its key fields,
 * or an empty or over-long part): NOT_FOUND naming `key`, before any read.
 */
export function checkKeyShape(type: ObjectType, key: string): void {
  const k = kindOf(type);
  const parts = key.split(':');
  const max = k.keyMax ?? LIMITS.name;
  if (parts.length !== k.key.length || parts.some((p) => p === '' || p.length > max)) {
    throw new NetloomError('NOT_FOUND', `${type} ${shown(key)} does not exist (a ${k.label} key is ${k.key.join(':')})`, { field: 'key' });
  }
}

export function collectionOf(type: ObjectType): string {
  return kindOf(type).collection;
}

/**
 * How a request body's validation error reads (REST and agent API): zod's reason alone as the
 * message, the bad field in `field`, as REST clients have always seen it.
 */
export const BODY_ERRORS: ValidationErrorOptions = { what: 'request body', rootField: 'body', message: (first) => first.reason };

/** Parse and default a request body as an object of `type`; throws INVALID_ARGUMENT. */
export function parseObject<T extends ObjectType>(type: T, body: unknown): ObjectOf[T] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new NetloomError('INVALID_ARGUMENT', `the body must be a JSON object describing a ${type}`, { field: 'body' });
  }
  const fields = Object.keys(body).length;
  if (fields > LIMITS.bodyFields) {
    throw new NetloomError('INVALID_ARGUMENT', `the body has ${fields} fields, more than the limit of ${LIMITS.bodyFields}`, {
      field: 'body',
    });
  }
  // Go clients send null for empty slices and strings: treat null as "not given" (the default)
  const withoutNulls = Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([, v]) => v !== null));
  const out = { ...(parseWith(schemas[type], withoutNulls, BODY_ERRORS) as Record<string, unknown>) };
  delete out.key;
  delete out.links;
  delete out['link-sets'];
  checkObjectSize(type, out);
  return out as unknown as ObjectOf[T];
}

/** Every field is bounded; this caps the whole object as stored, naming its largest field. */
function checkObjectSize(type: ObjectType, obj: Record<string, unknown>): void {
  const size = Buffer.byteLength(JSON.stringify(obj));
  if (size <= LIMITS.objectBytes) return;
  const sizes = Object.entries(obj).map(([f, v]) => [f, Buffer.byteLength(JSON.stringify(v) ?? '')] as const);
  const [field = 'body'] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a), ['body', 0] as const);
  throw new NetloomError(
    'INVALID_ARGUMENT',
    `the ${type} is ${size} bytes as JSON, more than the limit of ${LIMITS.objectBytes}; ${field} is the largest field`,
    {
      field,
    },
  );
}

/**
 * Contiv's `links` on output: which objects this one points at, as `{type, key}` pairs
 * (empty placeholders where nothing is linked, as Contiv rendered them). A link's field may be
 * `a|b`: the first of those that is set.
 */
export function linksOf(type: ObjectType, obj: object): Record<string, { type?: string; key?: string }> {
  const o = obj as Record<string, unknown>;
  const t = String(o.tenantName ?? '');
  const out: Record<string, { type?: string; key?: string }> = {};
  for (const [name, link] of Object.entries(kindOf(type).links ?? {})) {
    const value = link ? String(link.field.split('|').reduce<unknown>((v, f) => v || o[f], '') || '') : '';
    out[name] = value === '' || !link ? {} : { type: link.kind, key: link.kind === 'tenant' ? value : `${t}:${value}` };
  }
  return out;
}
