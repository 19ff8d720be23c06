/**
 * The input limits of the intent API, in one place. Every string, list, label set, object and
 * request body netmaster accepts is bounded by one of these (fields.ts builds the field schemas
 * from them; a unit test walks every kind's schema to prove no field is left unbounded), so no
 * single stored value can grow past what the agent API, the watch and netctl can carry.
 */
export const LIMITS = {
  /** a name (Contiv's rule: DNS labels) */
  name: 64,
  /** any other string field, unless its kind declares a tighter bound */
  string: 256,
  /** entries of a list field */
  list: 256,
  /** an endpoint's labels: how many, and the length of each key and value */
  labels: 64,
  labelKey: 253,
  labelValue: 253,
  /** one object as stored: its JSON, in bytes */
  objectBytes: 64 * 1024,
  /** fields of a request body (known or not; unknown ones are dropped): far more than any kind has */
  bodyFields: 64,
  /** a REST request body, in bytes (express answers 413 above it): room for the largest object and its placeholders */
  bodyBytes: 256 * 1024,
} as const;

/** C0 control characters (NUL, newlines, tabs, escape...) and DEL: never part of a field's value. */
export const CONTROL_RE = /[\u0000-\u001f\u007f]/; // eslint-disable-line no-control-regex -- the point is to match them

/** A `..` path part (`..`, `../x`, `x/..`): refused in values used as names, which may end up in paths. */
export const DOT_DOT_RE = /(^|[/\\])\.\.([/\\]|$)/;

/**
 * The providers a service balances over, at most (a Kubernetes Service's ready endpoints, a
 * serviceLB's matching endpoints): each is a bucket of an OpenFlow select group, and one OpenFlow
 * 1.3 group_mod (at most 65535 bytes) carries at most 1023 of the agent's 64-byte buckets.
 * netmaster sends the first this many (by endpoint id) and warns; the agent refuses more.
 */
export const SERVICE_PROVIDERS_MAX = 1000;
