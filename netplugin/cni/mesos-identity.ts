/**
 * What a Mesos container's CNI call says about its workload. Mesos' network/cni isolator passes no
 * CNI_ARGS; it puts the container's NetworkInfo for this network into the configuration it sends
 * (and checkpoints for the DEL) as `args["org.apache.mesos"].network_info`
 * (mesos src/slave/containerizer/mesos/isolators/network/cni/cni.cpp, attach(): the protobuf as
 * JSON, so `labels: {labels: [{key, value}]}` and `port_mappings: [{host_port, container_port,
 * protocol}]`). As Contiv's Mesos plugin did, and as netloom reads a Kubernetes pod, the labels
 * `netloom.io/tenant|network|group` (first) and `io.contiv.tenant|network|net-group` name the
 * tenant, network and group; every other label is an endpoint label. A port mapping without a
 * protocol is TCP (Mesos' own port-mapper plugin reads it so). Pure; docs/orchestrators.md.
 */
import { labelsProblem } from '../../lib/labels';
import { ANNOTATION, CONTIV_LABEL } from '../kube/pod-identity';
import { CniError, CNI_CODE } from './errors';
import type { PortMapping } from './types';

/** The key Mesos reserves in the configuration's `args`. */
export const MESOS_ARGS_KEY = 'org.apache.mesos';
export const NETWORK_INFO_FIELD = `args.${MESOS_ARGS_KEY}.network_info`;

export interface MesosIdentity {
  /** the NetworkInfo labels that do not name tenant, network or group */
  labels: Record<string, string>;
  tenant?: string;
  network?: string;
  group?: string;
  portMappings: PortMapping[];
}

function configError(field: string, why: string): CniError {
  return new CniError(CNI_CODE.INVALID_CONFIG, `invalid network configuration: ${field} ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What netloom accepts as a tenant, network or group name in a CNI configuration (parse.ts's rule). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const IDENTITY_LABELS: ReadonlyArray<['tenant' | 'network' | 'group', readonly string[]]> = [
  ['tenant', [ANNOTATION.tenant, CONTIV_LABEL.tenant]],
  ['network', [ANNOTATION.network, CONTIV_LABEL.network]],
  ['group', [ANNOTATION.group, CONTIV_LABEL.group]],
];
const IDENTITY_KEYS = new Set(IDENTITY_LABELS.flatMap(([, keys]) => keys));

/** NetworkInfo.labels.labels as a map; a Mesos Label's value is optional (absent = ''). */
function labelList(v: unknown): Record<string, string> {
  const field = `${NETWORK_INFO_FIELD}.labels`;
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw configError(field, 'must be an object {"labels": [{key, value}]}');
  const list = v.labels;
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) throw configError(`${field}.labels`, 'must be a list of {key, value}');
  const out: Record<string, string> = {};
  list.forEach((l: unknown, i) => {
    const value = isObject(l) ? (l.value ?? '') : undefined;
    if (!isObject(l) || typeof l.key !== 'string' || l.key === '' || typeof value !== 'string')
      throw configError(`${field}.labels[${i}]`, 'must be {"key": string, "value": string}');
    out[l.key] = value;
  });
  return out;
}

function port(m: Record<string, unknown>, key: string, field: string): number {
  const p = m[key];
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
    throw configError(`${field}.${key}`, `${JSON.stringify(p)} is not a port number 1..65535`);
  return p;
}

function portMappings(v: unknown): PortMapping[] {
  const field = `${NETWORK_INFO_FIELD}.port_mappings`;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw configError(field, 'must be a list of {host_port, container_port, protocol}');
  return v.map((m: unknown, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(m)) throw configError(f, 'must be an object {"host_port", "container_port", "protocol"}');
    const raw = m.protocol === undefined || m.protocol === null || m.protocol === '' ? 'tcp' : m.protocol;
    const protocol = typeof raw === 'string' ? raw.toLowerCase() : raw;
    if (protocol !== 'tcp' && protocol !== 'udp')
      throw configError(`${f}.protocol`, `${JSON.stringify(raw)} is not tcp or udp (netloom publishes TCP and UDP ports)`);
    return { hostPort: port(m, 'host_port', f), containerPort: port(m, 'container_port', f), protocol };
  });
}

/**
 * The identity in `args["org.apache.mesos"]`, or undefined when the configuration has no such key.
 * The key without a `network_info` object is refused (code 7 naming it): Mesos always sends one,
 * so a configuration without it was made by hand and would attach the container to the wrong place.
 */
export function mesosIdentity(args: Record<string, unknown>): MesosIdentity | undefined {
  const mesos = args[MESOS_ARGS_KEY];
  if (mesos === undefined) return undefined;
  if (!isObject(mesos)) throw configError(`args.${MESOS_ARGS_KEY}`, 'must be an object {"network_info": {...}}');
  const info = mesos.network_info;
  if (!isObject(info))
    throw configError(
      NETWORK_INFO_FIELD,
      info === undefined
        ? "is required when args carry Mesos' key (the isolator always sends the container's NetworkInfo)"
        : 'must be an object',
    );
  const all = labelList(info.labels);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) if (!IDENTITY_KEYS.has(k)) labels[k] = v;
  const problem = labelsProblem(labels, `${NETWORK_INFO_FIELD}.labels`);
  if (problem) throw configError(problem.field, problem.why);
  const out: MesosIdentity = { labels, portMappings: portMappings(info.port_mappings) };
  for (const [what, keys] of IDENTITY_LABELS) {
    const key = keys.find((k) => all[k] !== undefined && all[k] !== '');
    if (key === undefined) continue;
    const v = all[key] ?? '';
    if (v.length > 64 || !NAME_RE.test(v))
      throw configError(
        `${NETWORK_INFO_FIELD}.labels.${key}`,
        `"${v.slice(0, 64)}" is not a netloom ${what} name (letters, digits, _ . -, at most 64)`,
      );
    out[what] = v;
  }
  return out;
}
