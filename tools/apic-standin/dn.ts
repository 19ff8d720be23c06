/**
 * APIC distinguished names: RNs joined by '/', where a bracketed part (`rspathAtt-[topology/pod-1/paths-101/pathep-[eth1/1]]`)
 * may itself hold '/' and nested brackets.
 */
import { ApicError } from './apic-error';

/** Split a DN into its RNs; a bracket left open or closed too often is an error. */
export function splitDn(dn: string): string[] {
  const rns: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of dn) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (depth < 0) throw ApicError.badRequest(`malformed dn '${dn}': unbalanced ']'`);
    if (ch === '/' && depth === 0) {
      rns.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw ApicError.badRequest(`malformed dn '${dn}': unbalanced '['`);
  rns.push(cur);
  if (rns.some((r) => r === '')) throw ApicError.badRequest(`malformed dn '${dn}': empty rn`);
  return rns;
}

/** The DN of the parent ('' for the root `uni` or `topology`). */
export function parentDn(dn: string): string {
  const rns = splitDn(dn);
  return rns.slice(0, -1).join('/');
}

export function lastRn(dn: string): string {
  const rns = splitDn(dn);
  return rns[rns.length - 1] ?? '';
}
