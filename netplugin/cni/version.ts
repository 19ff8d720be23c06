/**
 * CNI spec versions this plugin speaks and the conversion of a 1.1.0 result to the version a
 * network configuration asked for (1.0.0 lacks the 1.1.0 interface/route fields; 0.3.x/0.4.0 carry
 * `version` on each IP and know only dst/gw on routes; 0.1.0/0.2.0 have one `ip4` and one `ip6`
 * with their routes and no interfaces, which Mesos still reads). Also the reverse: reading a `prevResult`
 * of any supported version into the 1.1.0 shape.
 */
import { CniError, CNI_CODE } from './errors';
import type { CniDns, CniInterface, CniIpConfig, CniResult, CniRoute } from './types';

export const CURRENT_CNI_VERSION = '1.1.0';
export const SUPPORTED_CNI_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** -1, 0 or 1 comparing two dotted versions numerically. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function isSupportedVersion(v: string): boolean {
  return (SUPPORTED_CNI_VERSIONS as readonly string[]).includes(v);
}

/** The VERSION command's answer. */
export function versionResult(inputVersion?: string): { cniVersion: string; supportedVersions: string[] } {
  const v = inputVersion && /^\d+\.\d+\.\d+$/.test(inputVersion) ? inputVersion : CURRENT_CNI_VERSION;
  return { cniVersion: v, supportedVersions: [...SUPPORTED_CNI_VERSIONS] };
}

function ipFamily(cidr: string): '4' | '6' {
  return cidr.includes(':') ? '6' : '4';
}

function dnsOut(d: CniDns): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (d.nameservers?.length) o.nameservers = [...d.nameservers];
  if (d.domain) o.domain = d.domain;
  if (d.search?.length) o.search = [...d.search];
  if (d.options?.length) o.options = [...d.options];
  return o;
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

/** The IP config of one family in the 0.1.0/0.2.0 shape: the first address of that family, its routes. */
function ipConfig020(r: CniResult, family: '4' | '6'): Record<string, unknown> | undefined {
  const ip = r.ips.find((i) => ipFamily(i.address) === family);
  if (!ip) return undefined;
  const routes = r.routes.filter((rt) => ipFamily(rt.dst) === family).map((rt) => defined({ dst: rt.dst, gw: rt.gw }));
  return defined({ ip: ip.address, gateway: ip.gateway, routes: routes.length > 0 ? routes : undefined });
}

/**
 * A result in the 0.1.0/0.2.0 shape (`{cniVersion, ip4, ip6, dns}`), converted as libcni converts
 * a newer one down (pkg/types/040 convertTo02x): the first address of each family only, each
 * route under the family of its destination, interfaces dropped; no address at all cannot be
 * said in that shape (an error, as libcni's).
 */
function formatResult020(r: CniResult, cniVersion: string): Record<string, unknown> {
  const ip4 = ipConfig020(r, '4');
  const ip6 = ipConfig020(r, '6');
  if (!ip4 && !ip6)
    throw new CniError(CNI_CODE.INTERNAL, `cannot give a cniVersion ${cniVersion} result: it needs an IP address and the result has none`);
  return defined({ cniVersion, ip4, ip6, dns: dnsOut(r.dns) });
}

/** A 1.1.0-shaped result as the JSON object of `cniVersion` (which must be supported). */
export function formatResult(r: CniResult, cniVersion: string): Record<string, unknown> {
  if (!isSupportedVersion(cniVersion)) {
    throw new CniError(
      CNI_CODE.INCOMPATIBLE_VERSION,
      `cniVersion ${cniVersion} is not supported`,
      `supported: ${SUPPORTED_CNI_VERSIONS.join(', ')}`,
    );
  }
  if (compareVersions(cniVersion, '0.3.0') < 0) return formatResult020(r, cniVersion);
  const v11 = compareVersions(cniVersion, '1.1.0') >= 0;
  const v10 = compareVersions(cniVersion, '1.0.0') >= 0;
  const interfaces = r.interfaces.map((i) =>
    defined({
      name: i.name,
      mac: i.mac,
      ...(v11 ? { mtu: i.mtu, socketPath: i.socketPath, pciID: i.pciID } : {}),
      sandbox: i.sandbox,
    }),
  );
  const ips = r.ips.map((ip) =>
    defined({ ...(v10 ? {} : { version: ipFamily(ip.address) }), address: ip.address, gateway: ip.gateway, interface: ip.interface }),
  );
  const routes = r.routes.map((rt) =>
    defined({
      dst: rt.dst,
      gw: rt.gw,
      ...(v11 ? { mtu: rt.mtu, advmss: rt.advmss, priority: rt.priority, table: rt.table, scope: rt.scope } : {}),
    }),
  );
  const out: Record<string, unknown> = { cniVersion, interfaces, ips };
  if (routes.length > 0) out.routes = routes;
  out.dns = dnsOut(r.dns);
  return out;
}

// ---- reading a prevResult (any supported version) ----

function fail(field: string, why: string): never {
  throw new CniError(CNI_CODE.INVALID_CONFIG, `invalid prevResult: ${field} ${why}`);
}

function optString(o: Record<string, unknown>, k: string, where: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') fail(`${where}.${k}`, 'must be a string');
  return v;
}

function optUint(o: Record<string, unknown>, k: string, where: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${where}.${k}`, 'must be a non-negative integer');
  return v;
}

function optStringList(o: Record<string, unknown>, k: string, where: string): string[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(`${where}.${k}`, 'must be a list of strings');
  return v as string[];
}

function objects(v: unknown, where: string): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(where, 'must be a list');
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`${where}[${i}]`, 'must be an object');
    return x as Record<string, unknown>;
  });
}

/** A prevResult of any supported version, in the 1.1.0 shape. */
export function parseResult(raw: unknown): CniResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('prevResult', 'must be an object');
  const o = raw as Record<string, unknown>;
  const interfaces: CniInterface[] = objects(o.interfaces, 'interfaces').map((i, n) => {
    const name = optString(i, 'name', `interfaces[${n}]`);
    if (!name) fail(`interfaces[${n}].name`, 'is required');
    return defined({
      name,
      mac: optString(i, 'mac', `interfaces[${n}]`),
      mtu: optUint(i, 'mtu', `interfaces[${n}]`),
      sandbox: optString(i, 'sandbox', `interfaces[${n}]`),
      socketPath: optString(i, 'socketPath', `interfaces[${n}]`),
      pciID: optString(i, 'pciID', `interfaces[${n}]`),
    }) as unknown as CniInterface;
  });
  const ips: CniIpConfig[] = objects(o.ips, 'ips').map((ip, n) => {
    const address = optString(ip, 'address', `ips[${n}]`);
    if (!address || !address.includes('/')) fail(`ips[${n}].address`, 'must be an address in CIDR notation');
    const iface = optUint(ip, 'interface', `ips[${n}]`);
    if (iface !== undefined && iface >= interfaces.length)
      fail(`ips[${n}].interface`, `is ${iface} but there are ${interfaces.length} interfaces`);
    return defined({ address, gateway: optString(ip, 'gateway', `ips[${n}]`), interface: iface }) as unknown as CniIpConfig;
  });
  const routes: CniRoute[] = objects(o.routes, 'routes').map((rt, n) => {
    const dst = optString(rt, 'dst', `routes[${n}]`);
    if (!dst) fail(`routes[${n}].dst`, 'is required');
    const w = `routes[${n}]`;
    return defined({
      dst,
      gw: optString(rt, 'gw', w),
      mtu: optUint(rt, 'mtu', w),
      advmss: optUint(rt, 'advmss', w),
      priority: optUint(rt, 'priority', w),
      table: optUint(rt, 'table', w),
      scope: optUint(rt, 'scope', w),
    }) as unknown as CniRoute;
  });
  const d = o.dns;
  let dns: CniDns = {};
  if (d !== undefined && d !== null) {
    if (typeof d !== 'object' || Array.isArray(d)) fail('dns', 'must be an object');
    const dd = d as Record<string, unknown>;
    dns = defined({
      nameservers: optStringList(dd, 'nameservers', 'dns'),
      domain: optString(dd, 'domain', 'dns'),
      search: optStringList(dd, 'search', 'dns'),
      options: optStringList(dd, 'options', 'dns'),
    }) as CniDns;
  }
  return { interfaces, ips, routes, dns };
}

/**
 * Our ADD result appended to the result of earlier plugins in a chain (interface indexes of ours
 * shifted past theirs); DNS from ours where set, else theirs.
 */
export function mergeWithPrevResult(prev: CniResult | undefined, ours: CniResult): CniResult {
  if (!prev) return ours;
  const shift = prev.interfaces.length;
  return {
    interfaces: [...prev.interfaces, ...ours.interfaces],
    ips: [...prev.ips, ...ours.ips.map((ip) => (ip.interface === undefined ? ip : { ...ip, interface: ip.interface + shift }))],
    routes: [...prev.routes, ...ours.routes],
    dns: Object.keys(dnsOut(ours.dns)).length > 0 ? ours.dns : prev.dns,
  };
}
