/**
 * APIC managed objects as netmaster handles them: a flat map from DN to class and properties
 * (what the gateway diffs), and the RNs of the classes it writes. Every object netloom owns
 * carries OWNER_ANNOTATION, so that what a user made by hand under the same tenant is never read
 * as netloom's and never touched.
 */
import { createHash } from 'node:crypto';

export const OWNER_ANNOTATION = 'orchestrator:netloom';

export interface Mo {
  cls: string;
  /** properties without dn and status; naming properties included */
  attrs: Record<string, string>;
}

/** DN -> object: one tenant's tree (desired, or as read from the APIC). */
export type FlatTree = Map<string, Mo>;

/** APIC's names: 1-64 of letters, digits, `_ . : -`; longer derived names keep a hash of the rest. */
export function aciName(s: string): string {
  const clean = s.replace(/[^a-zA-Z0-9_.:-]/g, '_');
  if (clean.length <= 64) return clean;
  return `${clean.slice(0, 55)}-${createHash('sha256').update(s).digest('hex').slice(0, 8)}`;
}

/** The RN of an object of the classes netloom writes, from its naming properties. */
export function rnOf(cls: string, a: Readonly<Record<string, string>>): string {
  switch (cls) {
    case 'fvTenant':
      return `tn-${a.name}`;
    case 'fvCtx':
      return `ctx-${a.name}`;
    case 'fvBD':
      return `BD-${a.name}`;
    case 'fvRsCtx':
      return 'rsctx';
    case 'fvSubnet':
      return `subnet-[${a.ip}]`;
    case 'fvAp':
      return `ap-${a.name}`;
    case 'fvAEPg':
      return `epg-${a.name}`;
    case 'fvRsBd':
      return 'rsbd';
    case 'fvRsPathAtt':
      return `rspathAtt-[${a.tDn}]`;
    case 'fvRsNodeAtt':
      return `rsnodeAtt-[${a.tDn}]`;
    case 'fvRsDomAtt':
      return `rsdomAtt-[${a.tDn}]`;
    case 'fvRsProv':
      return `rsprov-${a.tnVzBrCPName}`;
    case 'fvRsCons':
      return `rscons-${a.tnVzBrCPName}`;
    case 'vzFilter':
      return `flt-${a.name}`;
    case 'vzEntry':
      return `e-${a.name}`;
    case 'vzBrCP':
      return `brc-${a.name}`;
    case 'vzSubj':
      return `subj-${a.name}`;
    case 'vzRsSubjFiltAtt':
      return `rssubjFiltAtt-${a.tnVzFilterName}`;
    default:
      throw new Error(`no RN rule for class ${cls}`);
  }
}

/** The parent DN of a DN (brackets may hold '/'). */
export function parentOf(dn: string): string {
  let depth = 0;
  for (let i = dn.length - 1; i >= 0; i--) {
    const ch = dn[i];
    if (ch === ']') depth++;
    else if (ch === '[') depth--;
    else if (ch === '/' && depth === 0) return dn.slice(0, i);
  }
  return '';
}

/** How deep a DN is (RNs in it). */
export function depthOf(dn: string): number {
  let n = 0;
  for (let d = dn; d !== ''; d = parentOf(d)) n++;
  return n;
}
