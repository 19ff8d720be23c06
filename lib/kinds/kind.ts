/**
 * The descriptor of one intent object kind: everything netmaster and netctl share about it, as
 * data. A kind file (lib/kinds/network.ts, ...) declares one; lib/kinds/index.ts lists them. The
 * zod schema is a factory taking zod, so that netctl (which never validates) does not pay for
 * loading zod at start-up.
 */
import type { z } from 'zod';
import type { Fields, Zod } from './fields';

export type { Zod };

/** A field of this kind that names another object of the same tenant (`tenant:<value>`). */
export interface Reference {
  /** the field holding the name (a string, or a list of names) */
  field: string;
  /** the kind it names (kinds without checks of their own are refused when it does not exist) */
  kind: string;
  /** true: the target cannot be deleted while this object names it (IN_USE) */
  holds: boolean;
}

export interface KindDescriptor<S extends z.ZodObject = z.ZodObject> {
  /** the type name used in store keys, errors and the watch (Contiv's: `endpointGroup`, `Bgp`) */
  type: string;
  /** Contiv's REST collection: `/api/v1/<collection>/` (Contiv's own plurals: `policys`, `Bgps`) */
  collection: string;
  /** what errors call one object: `endpoint group` */
  label: string;
  /** the fields whose values, joined by ':', make the key (`t1:net1`); a singleton's is its fixed `name` */
  key: readonly string[];
  /** the longest a key part may be (default LIMITS.name: Contiv's names; Kubernetes names are longer) */
  keyMax?: number;
  /** `tenant`: lives in a tenant (the key starts with the tenant name); `global`: outside tenants */
  scope: 'tenant' | 'global';
  /**
   * The kind this one lives under when not directly under its tenant (a rule under its policy):
   * it is deleted with its parent instead of keeping the parent (and the tenant) in use.
   */
  parent?: string;
  /** always exists (created at start, changed by POST) and can never be deleted */
  permanent?: boolean;
  /**
   * Objects another system is the source of (written by netmaster itself, never over REST): REST
   * lists and inspects them and answers a write with 405 naming this source.
   */
  readOnlySource?: string;
  /** the config's schema: Contiv's field names and defaults */
  schema: (z: Zod, f: Fields) => S;
  /** fields naming other objects (beyond the tenant), in the order their checks run */
  references: readonly Reference[];
  /**
   * Contiv's `links` on output, by link name: the kind linked and the field naming it (`a|b`: the
   * first of them that is set). A link whose field is unset is `{}`, as Contiv rendered it; a
   * tenant link's key is the tenant name, others `tenant:<value>`; null is an always-empty placeholder.
   */
  links?: Readonly<Record<string, { kind: string; field: string } | null>>;
  /**
   * Contiv's `link-sets` on output, by set name (present, even empty, when declared): the
   * objects of the same tenant related to this one, each as `key: {type, key}`. `names`: this
   * object's field naming them (a name or a list); `namedBy`: their field naming this object
   * (`a|b`: either); null: a set of a kind netloom does not have (Contiv's volumes), always empty.
   */
  linkSets?: Readonly<Record<string, LinkSet | null>>;
  /** netctl's view of the kind */
  netctl: NetctlShape;
}

/** One of Contiv's link-sets: objects of `kind` named by this object's field, or naming it in theirs. */
export type LinkSet = { kind: string; names: string } | { kind: string; namedBy: string };

/** A column of netctl's `ls` table, as Contiv's netctl printed it. */
export interface Column {
  header: string;
  /** the dashes under the header (Contiv's were not always as long as the header) */
  underline: string;
  field: string;
  /**
   * `text` as is (the default), `int` a number (missing is 0), `list` names joined by commas,
   * `bool` true or false, `labels` an object's `key=value` pairs joined by commas, `count` a list's length
   */
  format?: 'text' | 'int' | 'list' | 'bool' | 'labels' | 'count';
}

/** How netctl shows and sends objects of a kind. */
export interface NetctlShape {
  /** the field `ls -q` prints, one per line */
  nameField: string;
  /**
   * Contiv's placeholders in the request body: `link-sets: {}`, and `links` with an empty object
   * per declared link (Contiv's generated structs had them for most kinds, not all)
   */
  linkSets: boolean;
  links: boolean;
  /** the `ls` table; absent where Contiv's table was irregular and netctl renders it itself */
  columns?: readonly Column[];
  /** every line of the table ends with a tab (Contiv's tenant table did: its one column is padded) */
  trailingTab?: boolean;
}

/** Declare a kind; the identity function keeps the schema's precise type for netmaster's types. */
export function defineKind<S extends z.ZodObject>(k: KindDescriptor<S>): KindDescriptor<S> {
  return k;
}

/** The key of an object of kind `k`, built from its body. */
export function keyFromFields(k: Pick<KindDescriptor, 'key'>, obj: object): string {
  const o = obj as Record<string, unknown>;
  return k.key.map((f) => (o[f] === undefined ? '' : String(o[f]))).join(':');
}
