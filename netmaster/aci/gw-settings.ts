/**
 * The aciGw object read for the APIC: static path and node bindings (comma-separated DNs of the
 * forms the APIC accepts in fvRsPathAtt/fvRsNodeAtt), the physical domain, enforcement and the
 * common tenant. Checked when it is written (REST) and when the gateway uses it: a DN of the wrong
 * form, or no domain and no binding (an EPG reachable by nothing), is a NetloomError naming the field.
 */
import { NetloomError } from '../../lib/errors';
import type { AciGw } from '../model/schemas';

export const PATH_DN = /^topology\/pod-\d+\/(paths-\d+|protpaths-\d+-\d+)\/pathep-\[[^\]\s,]+\]$/;
export const NODE_DN = /^topology\/pod-\d+\/node-\d+$/;
const DOMAIN = /^[a-zA-Z0-9_.:-]{1,64}$/;

export interface GwSettings {
  pathBindings: string[];
  nodeBindings: string[];
  /** the physical domain's name ('' = none) */
  physicalDomain: string;
  enforce: boolean;
  includeCommonTenant: boolean;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** Only the forms of what is set (any aciGw write). */
export function checkGwForms(gw: AciGw): void {
  for (const p of list(gw.pathBindings))
    if (!PATH_DN.test(p))
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `pathBindings: '${p}' is not of the form topology/pod-N/paths-N/pathep-[IF] (or protpaths-N-N)`,
        {
          field: 'pathBindings',
        },
      );
  for (const n of list(gw.nodeBindings))
    if (!NODE_DN.test(n))
      throw new NetloomError('INVALID_ARGUMENT', `nodeBindings: '${n}' is not of the form topology/pod-N/node-N`, {
        field: 'nodeBindings',
      });
  if (gw.physicalDomain !== '' && !DOMAIN.test(gw.physicalDomain))
    throw new NetloomError('INVALID_ARGUMENT', `physicalDomain: '${gw.physicalDomain}' must be 1-64 of letters, digits, _ . : -`, {
      field: 'physicalDomain',
    });
}

/** What the gateway needs: forms right and at least a domain or a binding. */
export function gwSettings(gw: AciGw): GwSettings {
  checkGwForms(gw);
  const s: GwSettings = {
    pathBindings: list(gw.pathBindings),
    nodeBindings: list(gw.nodeBindings),
    physicalDomain: gw.physicalDomain,
    enforce: gw.enforcePolicies !== 'no',
    includeCommonTenant: gw.includeCommonTenant === 'yes',
  };
  if (s.physicalDomain === '' && s.pathBindings.length === 0 && s.nodeBindings.length === 0)
    throw new NetloomError('INVALID_ARGUMENT', 'aciGw needs a physicalDomain or path/node bindings: with none the EPGs reach nothing', {
      field: 'physicalDomain',
    });
  return s;
}
