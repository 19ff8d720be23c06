/**
 * OVSDB data on the wire (RFC 7047 section 5.1) and conversions to and from plain JavaScript.
 *
 * Wire forms: an atom is a string, number, boolean, `["uuid", U]` or `["named-uuid", N]`; a set is
 * `["set", [atom...]]` (a one-element set may also arrive as the bare atom); a map is
 * `["map", [[key, value]...]]`. Values built here are exactly the JSON that goes on the wire, so a
 * transaction can be compared with a golden JSON in tests.
 */
import { NetloomError } from '../../lib/errors';

export type UuidAtom = ['uuid', string];
export type NamedUuidAtom = ['named-uuid', string];
export type Atom = string | number | boolean | UuidAtom | NamedUuidAtom;
export type OvsSet = ['set', Atom[]];
export type OvsMap = ['map', Array<[Atom, Atom]>];
export type Datum = Atom | OvsSet | OvsMap;

/** A row as sent or received: column name to datum. */
export type Row = Record<string, Datum>;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ID_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isUuidString(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

export function uuid(value: string): UuidAtom {
  if (!isUuidString(value)) throw new NetloomError('INVALID_ARGUMENT', `not a UUID: ${JSON.stringify(value)}`, { field: 'uuid' });
  return ['uuid', value];
}

/** A reference to a row inserted earlier in the same transaction under `uuid-name` `name`. */
export function namedUuid(name: string): NamedUuidAtom {
  if (!ID_RE.test(name)) {
    throw new NetloomError('INVALID_ARGUMENT', `uuid-name must match [A-Za-z_][A-Za-z0-9_]*, got ${JSON.stringify(name)}`, {
      field: 'uuid-name',
    });
  }
  return ['named-uuid', name];
}

export function isUuidAtom(v: unknown): v is UuidAtom {
  return Array.isArray(v) && v.length === 2 && v[0] === 'uuid' && isUuidString(v[1]);
}

export function isNamedUuidAtom(v: unknown): v is NamedUuidAtom {
  return Array.isArray(v) && v.length === 2 && v[0] === 'named-uuid' && typeof v[1] === 'string' && ID_RE.test(v[1]);
}

export function isAtom(v: unknown): v is Atom {
  return (
    typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || isUuidAtom(v) || isNamedUuidAtom(v)
  );
}

export function isOvsSet(v: unknown): v is OvsSet {
  return Array.isArray(v) && v.length === 2 && v[0] === 'set' && Array.isArray(v[1]);
}

export function isOvsMap(v: unknown): v is OvsMap {
  return Array.isArray(v) && v.length === 2 && v[0] === 'map' && Array.isArray(v[1]);
}

export function isDatum(v: unknown): v is Datum {
  if (isAtom(v)) return true;
  if (isOvsSet(v)) return v[1].every(isAtom);
  if (isOvsMap(v)) return v[1].every((p) => Array.isArray(p) && p.length === 2 && isAtom(p[0]) && isAtom(p[1]));
  return false;
}

function checkAtom(v: unknown, field: string): Atom {
  if (!isAtom(v)) throw new NetloomError('INVALID_ARGUMENT', `not an OVSDB atom: ${JSON.stringify(v)}`, { field });
  return v;
}

/** `["set", [...]]` from an array or Set of atoms. */
export function ovsSet(values: Iterable<Atom>): OvsSet {
  return ['set', [...values].map((v, i) => checkAtom(v, `set[${i}]`))];
}

/** The empty set, which is how an optional column (min 0, max 1) is cleared. */
export function emptySet(): OvsSet {
  return ['set', []];
}

/** `["map", [[k, v]...]]` from a Map or a plain record (keys in insertion order). */
export function ovsMap(entries: ReadonlyMap<Atom, Atom> | Readonly<Record<string, Atom>>): OvsMap {
  const pairs: Array<[Atom, Atom]> = [];
  const it = entries instanceof Map ? entries.entries() : Object.entries(entries as Record<string, Atom>);
  for (const [k, v] of it) pairs.push([checkAtom(k, 'map key'), checkAtom(v, `map[${String(k)}]`)]);
  return ['map', pairs];
}

/** Plain JS accepted by `toDatum`. */
export type PlainValue =
  | Datum
  | readonly Atom[]
  | ReadonlySet<Atom>
  | ReadonlyMap<Atom, Atom>
  | Readonly<Record<string, Atom>>
  | undefined
  | null;

/**
 * Plain JS to a datum: string/number/boolean and uuid atoms stay atoms; arrays and Sets become
 * sets; Maps and plain objects become maps; undefined/null become the empty set (clears an optional
 * column). An array that is itself a uuid atom (`["uuid", <uuid>]`, `["named-uuid", <id>]`) is the
 * atom, not a two-element set: use `ovsSet` for such a set of strings.
 */
export function toDatum(v: PlainValue, field = 'value'): Datum {
  if (v === undefined || v === null) return emptySet();
  if (isAtom(v)) return v;
  if (isOvsSet(v) || isOvsMap(v)) {
    if (!isDatum(v)) throw new NetloomError('INVALID_ARGUMENT', `malformed OVSDB datum in ${field}: ${JSON.stringify(v)}`, { field });
    return v;
  }
  if (Array.isArray(v)) return ['set', v.map((a, i) => checkAtom(a, `${field}[${i}]`))];
  if (v instanceof Set) return ['set', [...v].map((a, i) => checkAtom(a, `${field}[${i}]`))];
  if (v instanceof Map) return ovsMap(v);
  if (typeof v === 'object') return ovsMap(v as Readonly<Record<string, Atom>>);
  throw new NetloomError('INVALID_ARGUMENT', `cannot express ${JSON.stringify(v)} as an OVSDB datum`, { field });
}

/** A row from plain JS values (see `toDatum`). */
export function toRow(values: Readonly<Record<string, PlainValue>>): Row {
  const row: Row = {};
  for (const [k, v] of Object.entries(values)) row[k] = toDatum(v, k);
  return row;
}

/** The atom's JS value: uuid atoms become their UUID (or name) string. */
export function atomValue(a: Atom): string | number | boolean {
  return Array.isArray(a) ? a[1] : a;
}

/** Elements of a set column as an array (a bare atom is a one-element set). */
export function setToArray(d: Datum | undefined): Atom[] {
  if (d === undefined) return [];
  if (isOvsSet(d)) return d[1];
  if (isOvsMap(d)) throw new NetloomError('DECODE_ERROR', `expected an OVSDB set, got a map: ${JSON.stringify(d).slice(0, 200)}`);
  return [d];
}

/** Elements of a set column as JS values (uuids as strings). */
export function setValues(d: Datum | undefined): Array<string | number | boolean> {
  return setToArray(d).map(atomValue);
}

/** The value of an optional column (set of at most one element), or undefined when empty. */
export function optionalValue(d: Datum | undefined): string | number | boolean | undefined {
  const items = setToArray(d);
  if (items.length > 1) throw new NetloomError('DECODE_ERROR', `expected at most one value, got ${items.length}`);
  return items.length === 0 ? undefined : atomValue(items[0] as Atom);
}

/** A map column as pairs of JS values. */
export function mapEntries(d: Datum | undefined): Array<[string | number | boolean, string | number | boolean]> {
  if (d === undefined) return [];
  if (!isOvsMap(d)) {
    if (isOvsSet(d) && d[1].length === 0) return []; // tolerate an empty set for an empty map
    throw new NetloomError('DECODE_ERROR', `expected an OVSDB map, got ${JSON.stringify(d).slice(0, 200)}`);
  }
  return d[1].map(([k, v]) => [atomValue(k), atomValue(v)]);
}

/** A map column as a Map of JS values. */
export function mapToMap(d: Datum | undefined): Map<string | number | boolean, string | number | boolean> {
  return new Map(mapEntries(d));
}

/** A string-keyed map column (other_config, external_ids, options...) as a plain record of strings. */
export function mapToRecord(d: Datum | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  // defineProperty: a key such as "__proto__" must become a property, not change the prototype
  for (const [k, v] of mapEntries(d))
    Object.defineProperty(out, String(k), { value: String(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** The UUID string of a uuid atom (for `_uuid` and reference columns). */
export function uuidValue(d: Datum | undefined, field = '_uuid'): string {
  if (!isUuidAtom(d)) throw new NetloomError('DECODE_ERROR', `expected a uuid atom in ${field}, got ${JSON.stringify(d)}`, { field });
  return d[1];
}
