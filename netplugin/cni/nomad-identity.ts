/**
 * What a Nomad allocation's CNI call says about its workload, as endpoint labels and (when the
 * network configuration asks for it) tenant and group. Nomad's client puts NOMAD_REGION,
 * NOMAD_NAMESPACE, NOMAD_JOB_ID, NOMAD_GROUP_NAME and NOMAD_ALLOC_ID in CNI_ARGS on ADD and CHECK
 * (nomad client/allocrunner/networking_cni.go, addNomadWorkloadCNIArgs; a value containing ";" is
 * left out, since CNI_ARGS is ";"-separated), always with IgnoreUnknown=true; its DEL carries none.
 * The mapping is the netconf's `nomad` object: `{"tenant": "namespace"|"config", "group":
 * "job"|"group"|"none"}`, default `config`/`none` (Nomad's values are labels only). Pure;
 * docs/orchestrators.md.
 */
import { NAME_RE } from '../../lib/kinds/fields';
import { LIMITS } from '../../lib/kinds/limits';
import { labelValueProblem } from '../../lib/labels';
import { CniError, CNI_CODE } from './errors';

/** The CNI_ARGS keys Nomad sends, each with the endpoint label it becomes. */
export const NOMAD_ARG_LABELS = {
  NOMAD_REGION: 'nomadproject.io/region',
  NOMAD_NAMESPACE: 'nomadproject.io/namespace',
  NOMAD_JOB_ID: 'nomadproject.io/job',
  NOMAD_GROUP_NAME: 'nomadproject.io/group',
  NOMAD_ALLOC_ID: 'nomadproject.io/alloc',
} as const;

export type NomadArg = keyof typeof NOMAD_ARG_LABELS;
export const NOMAD_ARGS = Object.keys(NOMAD_ARG_LABELS) as NomadArg[];

export const NOMAD_TENANT_SOURCES = ['config', 'namespace'] as const;
export const NOMAD_GROUP_SOURCES = ['none', 'job', 'group'] as const;

/** The netconf's `nomad` mapping, with its defaults. */
export interface NomadMapping {
  tenant: (typeof NOMAD_TENANT_SOURCES)[number];
  group: (typeof NOMAD_GROUP_SOURCES)[number];
}

export const DEFAULT_NOMAD_MAPPING: NomadMapping = { tenant: 'config', group: 'none' };

export interface NomadIdentity {
  labels: Record<string, string>;
  tenant?: string;
  group?: string;
}

function configError(field: string, why: string): CniError {
  return new CniError(CNI_CODE.INVALID_CONFIG, `invalid network configuration: ${field} ${why}`);
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw configError(field, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')} (got ${JSON.stringify(v)})`);
  return v as T;
}

/** The netconf's `nomad` object (code 7 naming the field when it is not one). */
export function nomadMapping(conf: Record<string, unknown>): NomadMapping {
  const m = conf.nomad;
  if (m === undefined || m === null) return DEFAULT_NOMAD_MAPPING;
  if (typeof m !== 'object' || Array.isArray(m)) throw configError('nomad', 'must be an object {"tenant", "group"}');
  const o = m as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'tenant' && k !== 'group') throw configError(`nomad.${k}`, 'is not a key of the Nomad mapping (tenant, group)');
  return {
    tenant: oneOf(o.tenant, NOMAD_TENANT_SOURCES, 'nomad.tenant') ?? DEFAULT_NOMAD_MAPPING.tenant,
    group: oneOf(o.group, NOMAD_GROUP_SOURCES, 'nomad.group') ?? DEFAULT_NOMAD_MAPPING.group,
  };
}

/** A Nomad value used as a netloom name (code 4 naming the CNI_ARGS key when it cannot be one). */
function asName(args: ReadonlyMap<string, string>, key: NomadArg, as: string): string | undefined {
  const v = args.get(key);
  if (v === undefined || v === '') return undefined;
  if (v.length > LIMITS.name || !NAME_RE.test(v))
    throw new CniError(
      CNI_CODE.INVALID_ENV,
      `invalid environment variable CNI_ARGS: ${key}="${v.slice(0, 64)}" cannot be a netloom ${as} name ` +
        `(letters, digits, '-', '.', at most ${LIMITS.name}); the network configuration's nomad.${as} maps it`,
    );
  return v;
}

/**
 * Nomad's workload identity from CNI_ARGS: every NOMAD_* value present as a label, the tenant and
 * group where the mapping takes them from Nomad. Undefined when the call carries no NOMAD_* key.
 */
export function nomadIdentity(args: ReadonlyMap<string, string>, mapping: NomadMapping): NomadIdentity | undefined {
  const labels: Record<string, string> = {};
  for (const key of NOMAD_ARGS) {
    const v = args.get(key);
    if (v === undefined || v === '') continue;
    const why = labelValueProblem(v);
    if (why) throw new CniError(CNI_CODE.INVALID_ENV, `invalid environment variable CNI_ARGS: ${key}="${v.slice(0, 64)}": ${why}`);
    labels[NOMAD_ARG_LABELS[key]] = v;
  }
  if (Object.keys(labels).length === 0) return undefined;
  const tenant = mapping.tenant === 'namespace' ? asName(args, 'NOMAD_NAMESPACE', 'tenant') : undefined;
  const groupKey: NomadArg | undefined =
    mapping.group === 'job' ? 'NOMAD_JOB_ID' : mapping.group === 'group' ? 'NOMAD_GROUP_NAME' : undefined;
  const group = groupKey ? asName(args, groupKey, 'group') : undefined;
  return { labels, ...(tenant ? { tenant } : {}), ...(group ? { group } : {}) };
}
