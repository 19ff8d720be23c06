/**
 * The stand-in's management information tree: managed objects by DN, changed by POSTed nested
 * trees (create, modify, `status: "deleted"`) and DELETE of a DN, read back by DN or by class.
 * A POST is checked whole (classes, containment, RNs, properties) before anything changes, as an
 * APIC applies a request all or nothing.
 */
import { ApicError } from './apic-error';
import { classRule, checkProps } from './classes';
import { lastRn, parentDn, splitDn } from './dn';

export interface Mo {
  cls: string;
  /** properties without dn and status */
  attrs: Record<string, string>;
}

/** One object as the APIC's JSON carries it: `{fvTenant: {attributes: {...}, children: [...]}}`. */
export type WireMo = Record<string, { attributes: Record<string, string>; children?: WireMo[] }>;

type Op = { kind: 'put'; dn: string; mo: Mo } | { kind: 'delete'; dn: string };

export type QueryTarget = 'self' | 'children' | 'subtree';
export type RspSubtree = 'no' | 'children' | 'full';

export interface QueryOptions {
  target?: QueryTarget;
  rspSubtree?: RspSubtree;
  /** only objects of these classes are returned (query-target children/subtree; self too) */
  targetClasses?: readonly string[];
}

function unwrap(node: unknown, where: string): { cls: string; attributes: Record<string, unknown>; children: unknown[] } {
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    throw ApicError.badRequest(`${where}: an object of one class expected`);
  const entries = Object.entries(node);
  if (entries.length !== 1) throw ApicError.badRequest(`${where}: exactly one class per object expected`);
  const [cls, inner] = entries[0] as [string, unknown];
  const i = (inner ?? {}) as { attributes?: unknown; children?: unknown };
  if (typeof i !== 'object') throw ApicError.badRequest(`${where}: ${cls} must be an object`);
  const attributes = (i.attributes ?? {}) as Record<string, unknown>;
  if (typeof attributes !== 'object' || Array.isArray(attributes))
    throw ApicError.badRequest(`${where}: ${cls}.attributes must be an object`);
  const children = i.children ?? [];
  if (!Array.isArray(children)) throw ApicError.badRequest(`${where}: ${cls}.children must be a list`);
  return { cls, attributes, children };
}

export class Mit {
  private readonly mos = new Map<string, Mo>();
  private readonly kids = new Map<string, Set<string>>();

  constructor() {
    this.mos.set('uni', { cls: 'polUni', attrs: {} });
  }

  get(dn: string): Mo | undefined {
    return this.mos.get(dn);
  }

  get size(): number {
    return this.mos.size;
  }

  /** Apply a POSTed tree whose top object is at `urlDn`. */
  post(urlDn: string, body: unknown): void {
    splitDn(urlDn);
    const ops: Op[] = [];
    const overlay = new Map<string, Mo | null>();
    this.plan(body, urlDn, 'body', ops, overlay, true);
    for (const op of ops) {
      if (op.kind === 'put') this.put(op.dn, op.mo);
      else this.remove(op.dn);
    }
  }

  /** DELETE of a DN: the object and its subtree; false when it did not exist. */
  delete(dn: string): boolean {
    splitDn(dn);
    if (dn === 'uni') throw ApicError.badRequest('uni cannot be deleted');
    if (!this.mos.has(dn)) return false;
    this.remove(dn);
    return true;
  }

  private current(dn: string, overlay: Map<string, Mo | null>): Mo | undefined {
    const o = overlay.get(dn);
    if (o === null) return undefined;
    return o ?? this.mos.get(dn);
  }

  private plan(
    node: unknown,
    dnHint: string | undefined,
    where: string,
    ops: Op[],
    overlay: Map<string, Mo | null>,
    top: boolean,
    parent?: string,
  ): void {
    const { cls, attributes, children } = unwrap(node, where);
    const rule = classRule(cls);
    for (const [k, v] of Object.entries(attributes))
      if (typeof v !== 'string') throw ApicError.badProperty(cls, k, JSON.stringify(v), 'must be a string');
    const attrs = attributes as Record<string, string>;
    const status = attrs.status ?? '';
    if (!['', 'created', 'modified', 'created,modified', 'deleted'].includes(status))
      throw ApicError.badProperty(cls, 'status', status, 'unknown status');
    // the DN: the URL's for the top object, else the given dn, else the parent's + the RN
    let dn: string;
    if (top) {
      dn = dnHint ?? '';
      if (attrs.dn !== undefined && attrs.dn !== dn) throw ApicError.badRequest(`dn ${attrs.dn} in the body differs from the URL's ${dn}`);
    } else if (attrs.dn !== undefined) dn = attrs.dn;
    else if (attrs.rn !== undefined) dn = `${parent}/${attrs.rn}`;
    else {
      const prevRn = rule.rn(attrs);
      dn = `${parent}/${prevRn}`;
    }
    const pdn = parentDn(dn);
    if (!top && pdn !== parent) throw ApicError.badRequest(`${cls} ${dn} is not a child of ${parent}`);
    const existing = this.current(dn, overlay);
    if (existing && existing.cls !== cls) throw ApicError.badRequest(`${dn} is a ${existing.cls}, not a ${cls}`);
    if (status === 'deleted') {
      if (existing) {
        ops.push({ kind: 'delete', dn });
        overlay.set(dn, null);
        for (const d of this.subtreeDns(dn)) overlay.set(d, null);
      }
      return;
    }
    if (status === 'created' && existing) throw new ApicError(400, '103', `${cls} ${dn} already exists`);
    if (status === 'modified' && !existing) throw ApicError.notFound(dn);
    // containment: the parent exists and may hold this class
    if (cls === 'polUni') {
      if (dn !== 'uni') throw ApicError.rnMismatch(cls, dn, lastRn(dn));
    } else {
      const p = this.current(pdn, overlay);
      if (!p) throw ApicError.parentMissing(pdn);
      if (!rule.parents.includes(p.cls)) throw ApicError.containment(p.cls, cls);
    }
    const { dn: _dn, status: _status, rn: _rn, ...props } = attrs;
    const merged = { ...(existing?.attrs ?? {}), ...props };
    checkProps(cls, merged);
    const rn = rule.rn(merged);
    if (cls !== 'polUni' && rn !== lastRn(dn)) throw ApicError.rnMismatch(cls, dn, rn);
    if (cls !== 'polUni') {
      const mo = { cls, attrs: merged };
      ops.push({ kind: 'put', dn, mo });
      overlay.set(dn, mo);
    }
    children.forEach((c, i) => this.plan(c, undefined, `${where}.children[${i}]`, ops, overlay, false, dn));
  }

  private put(dn: string, mo: Mo): void {
    this.mos.set(dn, mo);
    const p = parentDn(dn);
    let set = this.kids.get(p);
    if (!set) this.kids.set(p, (set = new Set()));
    set.add(dn);
  }

  private remove(dn: string): void {
    for (const d of this.subtreeDns(dn)) {
      this.mos.delete(d);
      this.kids.delete(d);
    }
    this.mos.delete(dn);
    this.kids.delete(dn);
    this.kids.get(parentDn(dn))?.delete(dn);
  }

  /** DNs of the direct children, sorted. */
  childDns(dn: string): string[] {
    return [...(this.kids.get(dn) ?? [])].sort();
  }

  /** DNs of every descendant, parents before children. */
  subtreeDns(dn: string): string[] {
    const out: string[] = [];
    for (const c of this.childDns(dn)) out.push(c, ...this.subtreeDns(c));
    return out;
  }

  /** An object in APIC's JSON, with children to the depth asked. */
  wire(dn: string, rsp: RspSubtree = 'no'): WireMo {
    const mo = this.mos.get(dn);
    if (!mo) throw ApicError.notFound(dn);
    const inner: { attributes: Record<string, string>; children?: WireMo[] } = { attributes: { ...mo.attrs, dn, status: '' } };
    if (rsp !== 'no') {
      const kids = this.childDns(dn).map((c) => this.wire(c, rsp === 'full' ? 'full' : 'no'));
      if (kids.length > 0) inner.children = kids;
    }
    return { [mo.cls]: inner };
  }

  /** GET /api/mo/<dn>: the objects the query targets (none when the DN does not exist). */
  queryDn(dn: string, q: QueryOptions = {}): WireMo[] {
    splitDn(dn);
    if (!this.mos.has(dn)) return [];
    const target = q.target ?? 'self';
    const dns = target === 'self' ? [dn] : target === 'children' ? this.childDns(dn) : [dn, ...this.subtreeDns(dn)];
    return this.select(dns, q);
  }

  /** GET /api/class/<cls>: every object of the class. */
  queryClass(cls: string, q: QueryOptions = {}): WireMo[] {
    classRule(cls);
    const dns = [...this.mos.entries()]
      .filter(([, m]) => m.cls === cls)
      .map(([d]) => d)
      .sort();
    return this.select(dns, q);
  }

  private select(dns: string[], q: QueryOptions): WireMo[] {
    const classes = q.targetClasses;
    return dns.filter((d) => !classes || classes.includes(this.mos.get(d)?.cls ?? '')).map((d) => this.wire(d, q.rspSubtree ?? 'no'));
  }

  /** Every object (not the root), for the state file. */
  dump(): Array<{ dn: string; cls: string; attrs: Record<string, string> }> {
    return this.subtreeDns('uni').map((dn) => ({ dn, cls: this.mos.get(dn)?.cls ?? '', attrs: this.mos.get(dn)?.attrs ?? {} }));
  }

  /** Rebuild from `dump()`'s output (parents come first in it). */
  static load(objects: ReadonlyArray<{ dn: string; cls: string; attrs: Record<string, string> }>): Mit {
    const m = new Mit();
    for (const o of objects) m.put(o.dn, { cls: o.cls, attrs: { ...o.attrs } });
    return m;
  }
}
