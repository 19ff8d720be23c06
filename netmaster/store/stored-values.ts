/**
 * What netmaster accepts when it reads a value back from etcd. etcd holds whatever anyone wrote
 * into it (an older netmaster, etcdctl, an attacker on the management network), so every intent
 * object and endpoint is checked on the way in: at most MAX_STORED_VALUE_BYTES, JSON, the
 * `{config, oper}` shape, the current schema, stored under the key its fields make. A value that
 * fails is a BadStoredValue naming its key and why; the readers skip it and report it
 * (bad-values.ts), so one bad key never stops a list, a stream or a start.
 */
import { keyOf } from '../model/keys';
import { tagRecordProblem } from '../model/network-tag';
import { groupTagRecordProblem } from '../model/group-tag';
import { LIMITS } from '../../lib/kinds/limits';
import { endpointSchema, schemas, OBJECT_TYPES, type Endpoint, type ObjectType } from '../model/schemas';
import { dottedPath } from '../../lib/validation';
import { layout } from './layout';
import { ETCD_MAX_RECEIVE_BYTES } from './paging';

/**
 * The largest stored value served: above etcd's default request limit (1.5 MiB, so nothing
 * written through a default etcd is refused) and small enough that one object always fits one
 * agent message (4 MiB, agent/desired-state.ts) with room for its neighbours' framing.
 */
export const MAX_STORED_VALUE_BYTES = 2 * 1024 * 1024;

/** What a bad value was meant to be: an intent object type, 'endpoint', or 'other' (a key of no known type). */
export type StoredKind = ObjectType | 'endpoint' | 'other';

export class BadStoredValue extends Error {
  constructor(
    readonly key: string,
    readonly kind: StoredKind,
    readonly reason: string,
  ) {
    super(`stored value of ${key} cannot be served: ${reason}`);
    this.name = 'BadStoredValue';
  }
}

/** The stored form of an intent object. */
export interface CheckedObject<C = unknown> {
  config: C;
  oper: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(key: string, kind: StoredKind, value: string): unknown {
  // Buffer.byteLength is exact for what etcd holds (values are read as UTF-8)
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_STORED_VALUE_BYTES) throw new BadStoredValue(key, kind, `${bytes} bytes, over the ${MAX_STORED_VALUE_BYTES}-byte limit`);
  try {
    return JSON.parse(value) as unknown;
  } catch (e) {
    throw new BadStoredValue(key, kind, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function schemaReason(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const i = issues[0];
  if (!i) return 'fails the schema';
  const path = dottedPath(i.path);
  return `fails the schema: ${path === '' ? '' : `${path}: `}${i.message}`;
}

/** The intent object of `type` stored under `objKey`, checked; throws BadStoredValue. */
export function checkIntent<C = unknown>(type: ObjectType, objKey: string, value: string): CheckedObject<C> {
  const key = layout.cfg(type, objKey);
  if (!(OBJECT_TYPES as readonly string[]).includes(type)) throw new BadStoredValue(key, 'other', `no object type '${type}'`);
  const v = parseJson(key, type, value);
  if (!isRecord(v) || !isRecord(v.config)) throw new BadStoredValue(key, type, 'not an object {config, oper}');
  if (v.oper !== undefined && !isRecord(v.oper)) throw new BadStoredValue(key, type, 'oper is not an object');
  const r = schemas[type].safeParse(v.config);
  if (!r.success) throw new BadStoredValue(key, type, schemaReason(r.error.issues));
  let made: string;
  try {
    made = keyOf(type, r.data as never);
  } catch (e) {
    throw new BadStoredValue(key, type, `no key can be made of its fields (${e instanceof Error ? e.message : String(e)})`);
  }
  if (made !== objKey) throw new BadStoredValue(key, type, `its fields make the key '${made}', not '${objKey}'`);
  const oper = (v.oper as Record<string, unknown> | undefined) ?? {};
  // a network must say which tag it uses (its config's, or the allocated one in its oper)
  // and a group's own VLAN (ACI mode) must be one
  const tagProblem =
    type === 'network'
      ? tagRecordProblem(r.data as { pktTag: number }, oper)
      : type === 'endpointGroup'
        ? groupTagRecordProblem(oper)
        : undefined;
  if (tagProblem) throw new BadStoredValue(key, type, tagProblem);
  const size = Buffer.byteLength(JSON.stringify(v.config));
  if (size > LIMITS.objectBytes)
    throw new BadStoredValue(key, type, `config: ${size} bytes as JSON, more than the limit of ${LIMITS.objectBytes}`);
  // served as stored (the schema's output would only add defaults the stored value already has)
  return { config: v.config as C, oper };
}

/** The endpoint stored under `ep/<id>`, checked; throws BadStoredValue. */
export function checkEndpoint(id: string, value: string): Endpoint {
  const key = layout.ep(id);
  const v = parseJson(key, 'endpoint', value);
  const r = endpointSchema.safeParse(v);
  if (!r.success) throw new BadStoredValue(key, 'endpoint', schemaReason(r.error.issues));
  if (r.data.endpointID !== id) throw new BadStoredValue(key, 'endpoint', `its endpointID is '${r.data.endpointID}', not '${id}'`);
  return v as Endpoint;
}

/** Why a value that could not even be received is bad (kv.ts skips or flags such keys). */
export const TOO_LARGE_TO_RECEIVE = `larger than the etcd client's receive limit (${ETCD_MAX_RECEIVE_BYTES} bytes)`;

/** What a key holds, as a bad value's kind. */
export function kindOfKey(key: string): StoredKind {
  const ik = intentKey(key);
  if (ik) return (OBJECT_TYPES as readonly string[]).includes(ik.type) ? ik.type : 'other';
  return key.startsWith(layout.epPrefix()) ? 'endpoint' : 'other';
}

/** An intent object's etcd key split into type and object key (undefined: not under cfg/ or no type). */
export function intentKey(key: string): { type: ObjectType; objKey: string } | undefined {
  const root = layout.cfgRoot();
  if (!key.startsWith(root)) return undefined;
  const rest = key.slice(root.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? undefined : { type: rest.slice(0, slash) as ObjectType, objKey: rest.slice(slash + 1) };
}

/** A key/value as read (kv.ts KeyValue): `tooLarge` when its value could not be received. */
interface ReadKv {
  key: string;
  value: string;
  tooLarge?: true;
}

/** The intent object in a key/value read under `cfg/`, checked; throws BadStoredValue. */
export function checkIntentKv<C = unknown>(kv: ReadKv): CheckedObject<C> {
  const ik = intentKey(kv.key);
  if (!ik) throw new BadStoredValue(kv.key, 'other', 'not an intent object key');
  if (kv.tooLarge) throw new BadStoredValue(kv.key, kindOfKey(kv.key), TOO_LARGE_TO_RECEIVE);
  return checkIntent<C>(ik.type, ik.objKey, kv.value);
}

/** The endpoint in a key/value read under `ep/`, checked; throws BadStoredValue. */
export function checkEndpointKv(kv: ReadKv): Endpoint {
  if (kv.tooLarge) throw new BadStoredValue(kv.key, 'endpoint', TOO_LARGE_TO_RECEIVE);
  return checkEndpoint(kv.key.slice(layout.epPrefix().length), kv.value);
}

/**
 * Why the value under `key` cannot be served, or undefined when it can (or is not an intent
 * object or endpoint: those are the values checked here). For the consistency check.
 */
export function problemOf(key: string, value: string): BadStoredValue | undefined {
  try {
    const ik = intentKey(key);
    if (ik) checkIntent(ik.type, ik.objKey, value);
    else if (key.startsWith(layout.epPrefix())) checkEndpoint(key.slice(layout.epPrefix().length), value);
    return undefined;
  } catch (e) {
    if (e instanceof BadStoredValue) return e;
    return new BadStoredValue(key, 'other', e instanceof Error ? e.message : String(e));
  }
}
