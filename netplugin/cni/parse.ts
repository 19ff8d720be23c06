/**
 * Pure parsing and validation of one CNI request as the agent receives it from the shim: the CNI_*
 * environment (carried in HTTP headers) and the plugin configuration (the body, stdin verbatim).
 * Produces a typed request for the backend or throws a CniError with the spec's code: 4 for bad
 * environment, 6 for undecodable JSON, 1 for an unsupported cniVersion, 7 for a bad configuration,
 * 2 for a field this plugin does not support. Nothing here has side effects, so the backend is
 * never reached with bad input. Precedence of values is documented in docs/cni.md.
 */
import ipaddr from 'ipaddr.js';
import { labelsProblem, parseLabelPairs } from '../../lib/labels';
import { describePort, findClash, type PublishedPort } from '../state/published-port';
import { CniError, CNI_CODE } from './errors';
import { MAX_ENV_BYTES, type CniEnvVariable } from './limits';
import { mesosIdentity } from './mesos-identity';
import { NOMAD_ARGS, nomadIdentity, nomadMapping } from './nomad-identity';
import { compareVersions, CURRENT_CNI_VERSION, isSupportedVersion, parseResult, SUPPORTED_CNI_VERSIONS } from './version';
import type {
  AttachmentKey,
  CniAddRequest,
  CniCheckRequest,
  CniCommand,
  CniDelRequest,
  CniDns,
  CniGcRequest,
  CniResult,
  CniStatusRequest,
  NetworkRef,
  PodRef,
  PortMapping,
  RequestedIp,
} from './types';

/** The CNI_* environment of the plugin invocation (absent and empty are the same). */
export interface CniEnv {
  command?: string;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  path?: string;
}

export type ParsedCniRequest =
  | { command: 'VERSION'; cniVersion: string }
  | { command: 'ADD'; req: CniAddRequest }
  | { command: 'DEL'; req: CniDelRequest }
  | { command: 'CHECK'; req: CniCheckRequest }
  | { command: 'STATUS'; req: CniStatusRequest }
  | { command: 'GC'; req: CniGcRequest };

export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

/** Keys of runtimeConfig (capability arguments) this plugin understands. */
export const SUPPORTED_CAPABILITIES = ['ips', 'mac', 'portMappings'] as const;

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const ARG_KEY_RE = /^[A-Za-z0-9_]+$/;

function envError(variable: string, why: string): CniError {
  return new CniError(CNI_CODE.INVALID_ENV, `invalid environment variable ${variable}: ${why}`);
}

function configError(field: string, why: string): CniError {
  return new CniError(CNI_CODE.INVALID_CONFIG, `invalid network configuration: ${field} ${why}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ENV_VARIABLES: ReadonlyArray<[keyof CniEnv, CniEnvVariable]> = [
  ['command', 'CNI_COMMAND'],
  ['containerId', 'CNI_CONTAINERID'],
  ['netns', 'CNI_NETNS'],
  ['ifName', 'CNI_IFNAME'],
  ['args', 'CNI_ARGS'],
  ['path', 'CNI_PATH'],
];

/** Every CNI variable within its byte limit (code 4 naming the first that is not). */
export function checkEnvSizes(env: CniEnv): void {
  for (const [key, variable] of ENV_VARIABLES) {
    const bytes = Buffer.byteLength(env[key] ?? '');
    if (bytes > MAX_ENV_BYTES[variable]) throw envError(variable, `is ${bytes} bytes long, more than ${MAX_ENV_BYTES[variable]}`);
  }
}

/** The command, validated (code 4 when missing or unknown). */
export function parseCommand(raw: string | undefined): CniCommand {
  if (!raw) throw envError('CNI_COMMAND', 'is missing');
  if (!(CNI_COMMANDS as readonly string[]).includes(raw))
    throw envError('CNI_COMMAND', `unknown command "${raw}" (expected one of ${CNI_COMMANDS.join(', ')})`);
  return raw as CniCommand;
}

/** CNI_CONTAINERID per the spec's rule (alphanumeric first, then alphanumerics, _ . -). */
export function validateContainerId(raw: string | undefined): string {
  if (!raw) throw envError('CNI_CONTAINERID', 'is missing');
  if (!CONTAINER_ID_RE.test(raw))
    throw envError('CNI_CONTAINERID', `"${raw}" must start with a letter or digit and contain only letters, digits, _ . -`);
  return raw;
}

/** CNI_IFNAME per Linux rules: 1..15 bytes, not . or .., no / : or whitespace. */
export function validateIfName(raw: string | undefined): string {
  if (!raw) throw envError('CNI_IFNAME', 'is missing');
  if (raw === '.' || raw === '..') throw envError('CNI_IFNAME', `"${raw}" is not a valid interface name`);
  if (Buffer.byteLength(raw) > 15) throw envError('CNI_IFNAME', `"${raw}" is longer than 15 bytes`);
  if (/[/:\s]/.test(raw)) throw envError('CNI_IFNAME', `"${raw}" must not contain / : or whitespace`);
  return raw;
}

function validateNetns(raw: string | undefined, required: boolean): string | undefined {
  if (!raw) {
    if (required) throw envError('CNI_NETNS', 'is missing');
    return undefined;
  }
  if (!raw.startsWith('/')) throw envError('CNI_NETNS', `"${raw}" must be an absolute path to a network namespace`);
  return raw;
}

/** CNI_ARGS "K1=V1;K2=V2" as a map (code 4 on a malformed pair). */
export function parseCniArgs(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!raw) return out;
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw envError('CNI_ARGS', `"${pair}" is not a KEY=VALUE pair`);
    const key = pair.slice(0, eq);
    if (!ARG_KEY_RE.test(key)) throw envError('CNI_ARGS', `key "${key}" must be alphanumeric`);
    out.set(key, pair.slice(eq + 1));
  }
  return out;
}

/** The CNI_ARGS keys netloom reads (Nomad's are labels and, by the netconf's `nomad` mapping, tenant and group). */
export const KNOWN_CNI_ARGS: readonly string[] = [
  'IgnoreUnknown',
  'IP',
  'MAC',
  'K8S_POD_NAME',
  'K8S_POD_NAMESPACE',
  'K8S_POD_INFRA_CONTAINER_ID',
  'K8S_POD_UID',
  'NETLOOM_TENANT',
  'NETLOOM_NETWORK',
  'NETLOOM_GROUP',
  'NETLOOM_LABELS',
  ...NOMAD_ARGS,
];

/**
 * Unknown CNI_ARGS keys, as libcni's plugins treat them (pkg/types LoadArgs, which the reference
 * plugins use): an error naming the key unless the caller says IgnoreUnknown=1 (or true), which
 * every libcni runtime does (containerd, podman; Nomad sends IgnoreUnknown=true because one
 * CNI_ARGS goes to every plugin of a chain, with the user's own `cni { args }` among them). The spec
 * itself only defines the format. An IgnoreUnknown that is not a boolean is an error too.
 */
export function checkArgKeys(args: ReadonlyMap<string, string>): void {
  const ignore = args.get('IgnoreUnknown');
  let ignoreUnknown = false;
  if (ignore !== undefined && ignore !== '') {
    const v = ignore.toLowerCase();
    if (v !== '1' && v !== 'true' && v !== '0' && v !== 'false')
      throw envError('CNI_ARGS', `IgnoreUnknown="${ignore.slice(0, 64)}" is not a boolean (1, true, 0 or false)`);
    ignoreUnknown = v === '1' || v === 'true';
  }
  if (ignoreUnknown) return;
  for (const key of args.keys())
    if (!KNOWN_CNI_ARGS.includes(key))
      throw envError(
        'CNI_ARGS',
        `unknown key "${key}" (netloom reads ${KNOWN_CNI_ARGS.filter((k) => k !== 'IgnoreUnknown').join(', ')}; ` +
          'pass IgnoreUnknown=1 to have others ignored)',
      );
}

/** "10.1.0.5", "10.1.0.5/24" or an IPv6 form, as a RequestedIp; undefined if not an address. */
export function parseRequestedIp(s: string): RequestedIp | undefined {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(addr);
  const v6 = !v4 && addr.includes(':') && ipaddr.IPv6.isValid(addr);
  if (!v4 && !v6) return undefined;
  const ip = ipaddr.parse(addr).toString();
  if (slash < 0) return { ip };
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const prefixLength = Number(lenText);
  if (prefixLength > (v4 ? 32 : 128)) return undefined;
  return { ip, prefixLength };
}

/** Ranges no interface can be given as its address. */
const NOT_AN_INTERFACE_ADDRESS = new Set(['unspecified', 'broadcast', 'multicast', 'loopback']);

function requestedIpList(v: unknown, field: string, mkErr: (f: string, why: string) => CniError): RequestedIp[] {
  if (!Array.isArray(v)) throw mkErr(field, 'must be a list of IP addresses');
  return v.map((x, i) => {
    const r = typeof x === 'string' ? parseRequestedIp(x) : undefined;
    if (!r) throw mkErr(`${field}[${i}]`, `${JSON.stringify(x)} is not an IP address (optionally with /prefix)`);
    const range = ipaddr.parse(r.ip).range();
    if (NOT_AN_INTERFACE_ADDRESS.has(range)) throw mkErr(`${field}[${i}]`, `${r.ip} is a ${range} address, not one an interface can have`);
    return r;
  });
}

function macValue(v: unknown, field: string, mkErr: (f: string, why: string) => CniError): string {
  if (typeof v !== 'string' || !MAC_RE.test(v)) throw mkErr(field, `${JSON.stringify(v)} is not a MAC address like 02:00:00:00:00:01`);
  const mac = v.toLowerCase();
  // an interface's own address: the kernel refuses multicast ones (group bit) and all zeros
  if (mac === '00:00:00:00:00:00') throw mkErr(field, `${mac} is not a usable MAC address (all zeros)`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw mkErr(field, `${mac} is a multicast MAC address (an interface needs a unicast one)`);
  return mac;
}

/** The published port of a parsed mapping (hostIP absent = any address). */
export function publishedPort(m: PortMapping): PublishedPort {
  return { hostIp: m.hostIP ?? '', hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol };
}

/**
 * A key of a JSON object read as Go's encoding/json reads it into a struct field: the exact name,
 * else any case of it. The reference portmap plugin reads portMappings so, and containerd 1.6 sends
 * them with Go's own field names (`{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":""}`:
 * its go-cni PortMapping has no JSON tags).
 */
function goField(m: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(m, key)) return m[key];
  const lower = key.toLowerCase();
  const k = Object.keys(m).find((x) => x.toLowerCase() === lower);
  return k === undefined ? undefined : m[k];
}

function portMapping(m: unknown, f: string): PortMapping {
  if (!isObject(m)) throw configError(f, 'must be an object {"hostPort", "containerPort", "protocol", "hostIP"}');
  const port = (k: string): number => {
    const p = goField(m, k);
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)
      throw configError(`${f}.${k}`, `${JSON.stringify(p)} is not a port number 1..65535`);
    return p;
  };
  const given = goField(m, 'protocol');
  const raw = given === undefined || given === '' ? 'tcp' : given;
  const protocol = typeof raw === 'string' ? raw.toLowerCase() : raw;
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw configError(`${f}.protocol`, `${JSON.stringify(raw)} is not tcp or udp (netloom publishes TCP and UDP ports)`);
  const out: PortMapping = { hostPort: port('hostPort'), containerPort: port('containerPort'), protocol };
  const hostIP = goField(m, 'hostIP');
  if (hostIP !== undefined && hostIP !== null && hostIP !== '') {
    const h = typeof hostIP === 'string' ? parseRequestedIp(hostIP) : undefined;
    if (!h || h.prefixLength !== undefined) throw configError(`${f}.hostIP`, `${JSON.stringify(hostIP)} is not an IP address`);
    if (h.ip.includes(':')) throw configError(`${f}.hostIP`, `${h.ip} is IPv6; netloom publishes ports on IPv4 addresses only`);
    const range = ipaddr.parse(h.ip).range();
    if (range === 'multicast' || range === 'broadcast') throw configError(`${f}.hostIP`, `${h.ip} is a ${range} address, not a host's`);
    if (range !== 'unspecified') out.hostIP = h.ip; // 0.0.0.0: any address, as if absent
  }
  return out;
}

/** runtimeConfig.portMappings, each valid, with the field each came from. */
function runtimePortMappings(v: unknown): Array<[PortMapping, string]> {
  if (!Array.isArray(v)) throw configError('runtimeConfig.portMappings', 'must be a list');
  return v.map((m, i) => [portMapping(m, `runtimeConfig.portMappings[${i}]`), `runtimeConfig.portMappings[${i}]`]);
}

/** No two mappings wanting the same host socket (code 7 naming the second and the first). */
function noClash(mappings: ReadonlyArray<[PortMapping, string]>): PortMapping[] {
  const ports = mappings.map(([m]) => publishedPort(m));
  const clash = findClash(ports, [], (i) => i);
  if (clash) {
    throw configError(
      mappings[clash.index]?.[1] ?? 'portMappings',
      `wants host port ${describePort(ports[clash.index] ?? clash.theirs)}, which ${mappings[clash.owner]?.[1] ?? 'another mapping'} ` +
        `(${describePort(clash.theirs)}) has already`,
    );
  }
  return mappings.map(([m]) => m);
}

function optName(conf: Record<string, unknown>, key: string): string | undefined {
  const v = conf[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !NAME_RE.test(v) || v.length > 64)
    throw configError(key, 'must be a name of letters, digits, _ . - (at most 64, starting with a letter or digit)');
  return v;
}

function argName(args: Map<string, string>, key: string): string | undefined {
  const v = args.get(key);
  if (v === undefined || v === '') return undefined;
  if (!NAME_RE.test(v) || v.length > 64) throw envError('CNI_ARGS', `${key}="${v}" must be a name of letters, digits, _ . -`);
  return v;
}

function stringList(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw configError(field, 'must be a list of strings');
  return v as string[];
}

function parseDns(v: unknown): CniDns {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw configError('dns', 'must be an object');
  const out: CniDns = {};
  const ns = stringList(v.nameservers, 'dns.nameservers');
  if (ns) {
    ns.forEach((s, i) => {
      const r = parseRequestedIp(s);
      if (!r || r.prefixLength !== undefined) throw configError(`dns.nameservers[${i}]`, `"${s}" is not an IP address`);
    });
    out.nameservers = ns;
  }
  if (v.domain !== undefined) {
    if (typeof v.domain !== 'string') throw configError('dns.domain', 'must be a string');
    out.domain = v.domain;
  }
  const search = stringList(v.search, 'dns.search');
  if (search) out.search = search;
  const options = stringList(v.options, 'dns.options');
  if (options) out.options = options;
  return out;
}

/** The parts of a plugin configuration every command needs. */
interface CommonConf {
  conf: Record<string, unknown>;
  cniVersion: string;
  name: string;
}

/** Decode the body (code 6) and check cniVersion (1) and name/type (7). */
export function decodeNetconf(body: string): CommonConf {
  let conf: unknown;
  try {
    conf = JSON.parse(body);
  } catch (e) {
    throw new CniError(
      CNI_CODE.DECODE_FAILURE,
      'could not decode the network configuration as JSON',
      e instanceof Error ? e.message : String(e),
    );
  }
  if (!isObject(conf)) throw new CniError(CNI_CODE.DECODE_FAILURE, 'the network configuration must be a JSON object');
  const cniVersion = conf.cniVersion;
  if (typeof cniVersion !== 'string' || cniVersion === '') throw configError('cniVersion', 'is required (a string such as "1.1.0")');
  if (!isSupportedVersion(cniVersion)) {
    throw new CniError(
      CNI_CODE.INCOMPATIBLE_VERSION,
      `incompatible CNI version ${cniVersion}`,
      `this plugin supports ${SUPPORTED_CNI_VERSIONS.join(', ')}`,
    );
  }
  const name = conf.name;
  if (typeof name !== 'string' || !NAME_RE.test(name))
    throw configError('name', 'is required: letters, digits, _ . -, starting with a letter or digit');
  if (conf.type !== undefined && typeof conf.type !== 'string') throw configError('type', 'must be a string');
  if (conf.ipam !== undefined) {
    throw new CniError(
      CNI_CODE.UNSUPPORTED_FIELD,
      `unsupported field ipam=${JSON.stringify(conf.ipam)}`,
      'netloom allocates addresses itself; remove the ipam section',
    );
  }
  if (conf.agentSocket !== undefined && typeof conf.agentSocket !== 'string') throw configError('agentSocket', 'must be a string');
  return { conf, cniVersion, name };
}

/** The cniVersion of a body if it can be read, for error results; else the current version. */
export function peekCniVersion(body: string): string {
  try {
    const c: unknown = JSON.parse(body);
    if (isObject(c) && typeof c.cniVersion === 'string' && isSupportedVersion(c.cniVersion)) return c.cniVersion;
  } catch {
    // not JSON: the error result uses the current version
  }
  return CURRENT_CNI_VERSION;
}

/**
 * Tenant/network/group: CNI_ARGS NETLOOM_* beat the orchestrator's workload identity (Mesos'
 * NetworkInfo labels, Nomad's CNI_ARGS by the `nomad` mapping), which beats netconf keys, which
 * beat defaults.
 */
export function networkRef(
  conf: Record<string, unknown>,
  name: string,
  args: Map<string, string>,
  workload: Partial<Pick<NetworkRef, 'tenant' | 'network' | 'group'>> = {},
): NetworkRef {
  const tenant = argName(args, 'NETLOOM_TENANT') ?? workload.tenant ?? optName(conf, 'tenant') ?? 'default';
  const network = argName(args, 'NETLOOM_NETWORK') ?? workload.network ?? optName(conf, 'network') ?? name;
  const group = argName(args, 'NETLOOM_GROUP') ?? workload.group ?? optName(conf, 'group');
  return { cniNetwork: name, tenant, network, ...(group ? { group } : {}) };
}

function podRef(args: Map<string, string>): PodRef | undefined {
  const name = args.get('K8S_POD_NAME') || undefined;
  if (!name) return undefined; // podman, for one, passes K8S_POD_NAME alone
  const namespace = args.get('K8S_POD_NAMESPACE') || undefined;
  const infra = args.get('K8S_POD_INFRA_CONTAINER_ID') || undefined;
  const uid = args.get('K8S_POD_UID') || undefined;
  return { name, ...(namespace ? { namespace } : {}), ...(infra ? { infraContainerId: infra } : {}), ...(uid ? { uid } : {}) };
}

interface AttachmentExtras {
  requestedIps: RequestedIp[];
  requestedMac?: string;
  portMappings: PortMapping[];
  labels: Record<string, string>;
}

/** A `[{key, value}]` list (args.cni.labels, Mesos' NetworkInfo labels) into `into`. */
function keyValueList(list: unknown, field: string, into: Record<string, string>): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw configError(field, 'must be a list of {key, value}');
  list.forEach((l: unknown, i) => {
    if (!isObject(l) || typeof l.key !== 'string' || l.key === '' || typeof l.value !== 'string')
      throw configError(`${field}[${i}]`, 'must be {"key": string, "value": string}');
    into[l.key] = l.value;
  });
}

/** What the orchestrator says about the workload: Mesos' NetworkInfo (args) and Nomad's CNI_ARGS. */
export interface WorkloadIdentity {
  tenant?: string;
  network?: string;
  group?: string;
  labels: Record<string, string>;
  portMappings: PortMapping[];
}

/** Mesos' (netconf args) and Nomad's (CNI_ARGS) identity merged; Mesos' names win (a call has only one of them in practice). */
export function workloadIdentity(conf: Record<string, unknown>, args: ReadonlyMap<string, string>): WorkloadIdentity {
  const a = conf.args;
  const mesos = isObject(a) ? mesosIdentity(a) : undefined;
  const nomad = nomadIdentity(args, nomadMapping(conf));
  const tenant = mesos?.tenant ?? nomad?.tenant;
  const network = mesos?.network;
  const group = mesos?.group ?? nomad?.group;
  return {
    ...(tenant ? { tenant } : {}),
    ...(network ? { network } : {}),
    ...(group ? { group } : {}),
    labels: { ...nomad?.labels, ...mesos?.labels },
    portMappings: mesos?.portMappings ?? [],
  };
}

/**
 * An endpoint's labels, later sources winning per key: the orchestrator's (Nomad's NOMAD_* values
 * as `nomadproject.io/*`, Mesos' NetworkInfo labels other than those naming tenant, network and
 * group), the netconf's `args.cni.labels` (the CNI CONVENTIONS), then CNI_ARGS
 * `NETLOOM_LABELS=k=v,k2=v2` (CNI_ARGS keys are `[A-Za-z0-9_]` only, so labels ride in one value;
 * no other CNI_ARGS key is a label by its own name). Each label is checked (lib/labels.ts); an
 * error names the source and key.
 */
export function endpointLabels(
  ac: Record<string, unknown>,
  args: Map<string, string>,
  fromWorkload: Record<string, string> = {},
): Record<string, string> {
  const fromConf: Record<string, string> = { ...fromWorkload };
  keyValueList(ac.labels, 'args.cni.labels', fromConf);
  const confProblem = labelsProblem(fromConf, 'args.labels');
  if (confProblem) throw configError(confProblem.field, confProblem.why);
  const raw = args.get('NETLOOM_LABELS');
  let fromArgs: Record<string, string> = {};
  if (raw !== undefined) {
    try {
      fromArgs = parseLabelPairs(raw.split(','), 'NETLOOM_LABELS');
    } catch (e) {
      throw envError('CNI_ARGS', e instanceof Error ? e.message : String(e));
    }
  }
  const labels = { ...fromConf, ...fromArgs };
  const total = labelsProblem(labels, 'labels');
  if (total) throw configError(total.field, total.why);
  return labels;
}

/** runtimeConfig > args.cni > CNI_ARGS for IPs and MAC; labels: endpointLabels. */
export function attachmentExtras(
  conf: Record<string, unknown>,
  args: Map<string, string>,
  workload: WorkloadIdentity = { labels: {}, portMappings: [] },
): AttachmentExtras {
  const rc = conf.runtimeConfig;
  if (rc !== undefined && !isObject(rc)) throw configError('runtimeConfig', 'must be an object');
  const rcObj = rc ?? {};
  for (const [k, v] of Object.entries(rcObj)) {
    if (!(SUPPORTED_CAPABILITIES as readonly string[]).includes(k) && v !== null && !(Array.isArray(v) && v.length === 0)) {
      throw new CniError(
        CNI_CODE.UNSUPPORTED_FIELD,
        `unsupported field runtimeConfig.${k}=${JSON.stringify(v)}`,
        `supported capabilities: ${SUPPORTED_CAPABILITIES.join(', ')}`,
      );
    }
  }
  const a = conf.args;
  if (a !== undefined && !isObject(a)) throw configError('args', 'must be an object');
  const cniArgs = a?.cni;
  if (cniArgs !== undefined && !isObject(cniArgs)) throw configError('args.cni', 'must be an object');
  const ac = cniArgs ?? {};

  let requestedIps: RequestedIp[] = [];
  if (rcObj.ips !== undefined && rcObj.ips !== null) requestedIps = requestedIpList(rcObj.ips, 'runtimeConfig.ips', configError);
  else if (ac.ips !== undefined && ac.ips !== null) requestedIps = requestedIpList(ac.ips, 'args.cni.ips', configError);
  else {
    const ipArg = args.get('IP');
    if (ipArg) requestedIps = requestedIpList(ipArg.split(','), 'IP', (f, why) => envError('CNI_ARGS', `${f}: ${why}`));
  }

  let requestedMac: string | undefined;
  if (rcObj.mac !== undefined && rcObj.mac !== null && rcObj.mac !== '')
    requestedMac = macValue(rcObj.mac, 'runtimeConfig.mac', configError);
  else if (ac.mac !== undefined && ac.mac !== null && ac.mac !== '') requestedMac = macValue(ac.mac, 'args.cni.mac', configError);
  else if (args.get('MAC')) requestedMac = macValue(args.get('MAC'), 'MAC', (f, why) => envError('CNI_ARGS', `${f}: ${why}`));

  const fromRuntime = rcObj.portMappings === undefined || rcObj.portMappings === null ? [] : runtimePortMappings(rcObj.portMappings);
  const fromMesos = workload.portMappings.map((m, i): [PortMapping, string] => [
    m,
    `args.org.apache.mesos.network_info.port_mappings[${i}]`,
  ]);
  const pm = noClash([...fromRuntime, ...fromMesos]);

  const labels = endpointLabels(ac, args, workload.labels);
  return { requestedIps, ...(requestedMac ? { requestedMac } : {}), portMappings: pm, labels };
}

function optMtu(conf: Record<string, unknown>): number | undefined {
  const m = conf.mtu;
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 68 || m > 65535) throw configError('mtu', 'must be an integer 68..65535');
  return m;
}

/** The plugin-specific `defaultRoute` key: true/false, or absent (the backend decides; docs/cni.md). */
function optDefaultRoute(conf: Record<string, unknown>): boolean | undefined {
  const v = conf.defaultRoute;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw configError('defaultRoute', 'must be true or false');
  return v;
}

function prevResultOf(conf: Record<string, unknown>): CniResult | undefined {
  if (conf.prevResult === undefined || conf.prevResult === null) return undefined;
  return parseResult(conf.prevResult);
}

/**
 * GC's list of attachments to keep. The 1.1.0 spec names it `cni.dev/valid-attachments` in the GC
 * section and `cni.dev/attachments` in another passage, and runtimes on libcni send both: either
 * is accepted with the same meaning, and when both are there the attachments of both are kept.
 */
export const GC_ATTACHMENT_KEYS = ['cni.dev/valid-attachments', 'cni.dev/attachments'] as const;

function validAttachments(conf: Record<string, unknown>): AttachmentKey[] {
  const present = GC_ATTACHMENT_KEYS.filter((k) => conf[k] !== undefined && conf[k] !== null);
  if (present.length === 0) throw configError(GC_ATTACHMENT_KEYS.join(' or '), 'is required for GC');
  return present.flatMap((key) => {
    const v = conf[key];
    if (!Array.isArray(v)) throw configError(key, 'must be a list of {containerID, ifname}');
    return v.map((x: unknown, i) => {
      const f = `${key}[${i}]`;
      if (!isObject(x) || typeof x.containerID !== 'string' || typeof x.ifname !== 'string' || x.containerID === '' || x.ifname === '') {
        throw configError(f, 'must be {"containerID": string, "ifname": string}');
      }
      return { containerId: x.containerID, ifName: x.ifname };
    });
  });
}

function requireVersionAtLeast(cniVersion: string, min: string, command: string): void {
  if (compareVersions(cniVersion, min) < 0) {
    throw new CniError(CNI_CODE.INCOMPATIBLE_VERSION, `${command} needs cniVersion ${min} or later, the configuration says ${cniVersion}`);
  }
}

/** The whole request, validated: env first (4), then the configuration (6, 1, 7, 2). */
export function parseCniRequest(env: CniEnv, body: string): ParsedCniRequest {
  checkEnvSizes(env);
  const command = parseCommand(env.command);
  if (command === 'VERSION') return { command, cniVersion: peekCniVersion(body) };

  if (command === 'STATUS' || command === 'GC') {
    const { conf, cniVersion, name } = decodeNetconf(body);
    requireVersionAtLeast(cniVersion, '1.1.0', command);
    const network = networkRef(conf, name, new Map());
    if (command === 'STATUS') return { command, req: { network, cniVersion, netconf: conf } };
    return { command, req: { network, cniVersion, netconf: conf, validAttachments: validAttachments(conf) } };
  }

  // attachment commands: ADD, DEL, CHECK
  const containerId = validateContainerId(env.containerId);
  const ifName = validateIfName(env.ifName);
  const netnsPath = validateNetns(env.netns, command !== 'DEL');
  const args = parseCniArgs(env.args);
  checkArgKeys(args);
  const { conf, cniVersion, name } = decodeNetconf(body);
  const workload = workloadIdentity(conf, args);
  const network = networkRef(conf, name, args, workload);
  const pod = podRef(args);
  const extras = attachmentExtras(conf, args, workload);
  const prevResult = prevResultOf(conf);
  const base = {
    containerId,
    ifName,
    network,
    idempotencyKey: `${name}/${containerId}/${ifName}`,
    ...(pod ? { pod } : {}),
    labels: extras.labels,
    cniVersion,
    netconf: conf,
  };
  if (command === 'ADD') {
    const mtu = optMtu(conf);
    const defaultRoute = optDefaultRoute(conf);
    parseDns(conf.dns);
    return {
      command,
      req: {
        ...base,
        netnsPath: netnsPath as string,
        requestedIps: extras.requestedIps,
        ...(extras.requestedMac ? { requestedMac: extras.requestedMac } : {}),
        portMappings: extras.portMappings,
        ...(mtu !== undefined ? { mtu } : {}),
        ...(defaultRoute !== undefined ? { defaultRoute } : {}),
        ...(prevResult ? { prevResult } : {}),
      },
    };
  }
  if (command === 'CHECK') {
    requireVersionAtLeast(cniVersion, '0.4.0', 'CHECK');
    if (!prevResult) throw configError('prevResult', 'is required for CHECK');
    return { command, req: { ...base, netnsPath: netnsPath as string, prevResult } };
  }
  return { command, req: { ...base, ...(netnsPath ? { netnsPath } : {}), ...(prevResult ? { prevResult } : {}) } };
}

/** DNS of the network configuration (used when the backend returns none). */
export function netconfDns(conf: Readonly<Record<string, unknown>>): CniDns {
  return parseDns(conf.dns);
}
