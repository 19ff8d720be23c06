/**
 * The query parameters of list and watch requests (metav1.ListOptions), parsed and checked:
 * selectors, limit/continue, resourceVersion(+Match), watch, timeoutSeconds, allowWatchBookmarks.
 */
import { badRequest } from './status';
import { parseFieldSelector, type FieldRequirement } from './field-selector';
import { parseLabelSelector, SelectorError, type Requirement } from './label-selector';
import { selectableFields, type ResourceDef } from './resources';

export interface ListQuery {
  labels: Requirement[];
  fields: FieldRequirement[];
  limit: number;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: 'Exact' | 'NotOlderThan' | undefined;
  watch: boolean;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
}

const truthy = (v: string | null): boolean => v !== null && v !== 'false' && v !== '0';

function nonNegativeInt(params: URLSearchParams, name: string): number | undefined {
  const v = params.get(name);
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw badRequest(`invalid ${name}: ${JSON.stringify(v)}: must be a non-negative integer`);
  return Number(v);
}

export function parseListQuery(r: ResourceDef, params: URLSearchParams): ListQuery {
  let labels: Requirement[];
  let fields: FieldRequirement[];
  try {
    labels = parseLabelSelector(params.get('labelSelector') ?? '');
    fields = parseFieldSelector(params.get('fieldSelector') ?? '');
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
  const known = new Set(Object.keys(selectableFields(r, {})));
  for (const f of fields) if (!known.has(f.field)) throw badRequest(`field label not supported: ${f.field}`);
  const rv = params.get('resourceVersion');
  const match = params.get('resourceVersionMatch');
  if (match !== null && match !== '' && match !== 'Exact' && match !== 'NotOlderThan')
    throw badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
  if (rv !== null && rv !== '' && !/^\d+$/.test(rv)) throw badRequest(`invalid resourceVersion: ${JSON.stringify(rv)}`);
  const cont = params.get('continue');
  if (cont && rv && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  return {
    labels,
    fields,
    limit: nonNegativeInt(params, 'limit') ?? 0,
    continueToken: cont || undefined,
    resourceVersion: rv || undefined,
    resourceVersionMatch: match === 'Exact' || match === 'NotOlderThan' ? match : undefined,
    watch: truthy(params.get('watch')),
    timeoutSeconds: nonNegativeInt(params, 'timeoutSeconds'),
    allowBookmarks: truthy(params.get('allowWatchBookmarks')),
  };
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

export function encodeContinue(revision: string, start: string): string {
  const t: ContinueToken = { v: 'meta.k8s.io/v1', rv: Number(revision), start };
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(token: string): { revision: string; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..'))
      throw new Error('bad token');
    return { revision: String(t.rv), start: t.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}
