/**
 * Stored values checked against the current schemas (part of the consistency check): an intent
 * object under `cfg/<type>/<key>` must be `{config, oper}` JSON whose config passes its kind's
 * schema, makes the key it is stored under and fits the per-object size limit; an endpoint under
 * `ep/<id>` must pass the endpoint schema with that id. A value written before a limit existed,
 * or straight into etcd, is reported here rather than trusted. Pure.
 */
import { LIMITS } from '../../lib/kinds/limits';
import { keyFromFields } from '../../lib/kinds';
import { kindOf, shown } from '../model/keys';
import { endpointSchema, OBJECT_TYPES, schemas, type ObjectType } from '../model/schemas';
import { layout } from '../store/layout';

export interface InvalidValue {
  key: string;
  /** the start of the stored value */
  value: string;
  /** the field at fault ('' for the value as a whole) */
  field: string;
  reason: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why the value stored under `key` (a full etcd key) is invalid, or undefined when it is valid or not a value checked here. */
export function checkStoredValue(key: string, value: string): InvalidValue | undefined {
  const bad = (field: string, reason: string): InvalidValue => ({ key, value: shown(value, 200), field, reason });
  const cfgRoot = layout.cfgRoot();
  const epRoot = layout.epPrefix();
  let parsed: unknown;
  if (key.startsWith(cfgRoot) || key.startsWith(epRoot)) {
    try {
      parsed = JSON.parse(value);
    } catch {
      return bad('', 'not JSON');
    }
  }
  if (key.startsWith(cfgRoot)) {
    const rest = key.slice(cfgRoot.length);
    const slash = rest.indexOf('/');
    const type = rest.slice(0, slash);
    const objKey = rest.slice(slash + 1);
    if (slash < 0 || !(OBJECT_TYPES as readonly string[]).includes(type)) return bad('', `no object kind '${shown(type)}'`);
    if (!isObject(parsed) || !isObject(parsed.config)) return bad('config', 'not an object of the form {config, oper}');
    const r = schemas[type as ObjectType].safeParse(parsed.config);
    if (!r.success) {
      const issue = r.error.issues[0];
      return bad(issue ? issue.path.map(String).join('.') : '', issue?.message ?? 'invalid');
    }
    const size = Buffer.byteLength(JSON.stringify(parsed.config));
    if (size > LIMITS.objectBytes) return bad('config', `${size} bytes as JSON, more than the limit of ${LIMITS.objectBytes}`);
    const built = keyFromFields(kindOf(type as ObjectType), r.data);
    if (built !== objKey) return bad('key', `stored under '${shown(objKey)}' but its fields make the key '${shown(built)}'`);
    return undefined;
  }
  if (key.startsWith(epRoot)) {
    const r = endpointSchema.safeParse(parsed);
    if (!r.success) {
      const issue = r.error.issues[0];
      return bad(issue ? issue.path.map(String).join('.') : '', issue?.message ?? 'invalid');
    }
    const id = key.slice(epRoot.length);
    if (r.data.endpointID !== id) return bad('endpointID', `stored under '${shown(id)}' but its endpointID is '${r.data.endpointID}'`);
  }
  return undefined;
}
