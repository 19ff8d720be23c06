/**
 * Service ClusterIPs from the service CIDR and NodePorts from the node port range, as
 * kube-apiserver allocates them: a requested address or port is honoured when free and in range,
 * refused with the real server's 422 otherwise; none requested: a free one at random. What is
 * taken is read from the stored Services themselves; the caller commits the Service guarded on
 * the services range being unchanged since that read, so two creates never get the same address.
 */
import ipaddr from 'ipaddr.js';
import { invalid, root, type FieldError } from './field-errors';
import { isObject, type JsonObject } from './json';

export interface ServiceRanges {
  /** e.g. 10.96.0.0/16 */
  cidr: string;
  nodePortMin: number;
  nodePortMax: number;
}

export const DEFAULT_RANGES: ServiceRanges = { cidr: '10.96.0.0/16', nodePortMin: 30000, nodePortMax: 32767 };

/** The range's usable addresses as numbers: network and broadcast excluded (IPv4 only). */
export function ipRange(cidr: string): { first: number; last: number; base: number; bits: number } {
  const [addr, bits] = ipaddr.parseCIDR(cidr);
  if (addr.kind() !== 'ipv4') throw new Error(`service CIDR ${cidr}: only IPv4 is supported`);
  const base = ipToNumber(ipaddr.IPv4.networkAddressFromCIDR(cidr).toString());
  const size = 2 ** (32 - bits);
  return { first: base + 1, last: base + size - 2, base, bits };
}

function ipToNumber(ip: string): number {
  return ipaddr.IPv4.parse(ip)
    .toByteArray()
    .reduce((n, b) => n * 256 + b, 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function takenBy(services: readonly JsonObject[], except: string | undefined): { ips: Set<string>; ports: Set<number> } {
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (const s of services) {
    const meta = isObject(s.metadata) ? s.metadata : {};
    if (except !== undefined && `${String(meta.namespace)}/${String(meta.name)}` === except) continue;
    const spec = isObject(s.spec) ? s.spec : {};
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== 'None') ips.add(spec.clusterIP);
    for (const p of Array.isArray(spec.ports) ? spec.ports : []) if (isObject(p) && typeof p.nodePort === 'number') ports.add(p.nodePort);
  }
  return { ips, ports };
}

const usesNodePorts = (type: unknown): boolean => type === 'NodePort' || type === 'LoadBalancer';

/**
 * Fill `svc`'s spec.clusterIP/clusterIPs and node ports (in place), given every stored Service
 * (`existing`, the Service itself left out by `self` = namespace/name) and, on update, the old
 * spec whose allocations it keeps. Returns the errors of refused requests (none: all allocated).
 */
export function allocateServiceAddresses(
  svc: JsonObject,
  existing: readonly JsonObject[],
  ranges: ServiceRanges,
  self: string,
  old?: JsonObject,
  random: () => number = Math.random,
): FieldError[] {
  const spec = isObject(svc.spec) ? svc.spec : (svc.spec = {});
  const oldSpec = old && isObject(old.spec) ? old.spec : undefined;
  const { ips, ports } = takenBy(existing, self);
  const errors: FieldError[] = [];
  const path = root('spec');
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else {
    // an update that leaves the address out keeps the one it has (apiserver's patchAllocatedValues)
    if ((spec.clusterIP === undefined || spec.clusterIP === '') && oldSpec && typeof oldSpec.clusterIP === 'string')
      spec.clusterIP = oldSpec.clusterIP;
    const wanted = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
    const range = ipRange(ranges.cidr);
    if (wanted === 'None') spec.clusterIPs = ['None'];
    else if (wanted !== '') {
      const unchanged = oldSpec?.clusterIP === wanted;
      let n: number | undefined;
      try {
        n = ipToNumber(wanted);
      } catch {
        n = undefined;
      }
      if (n === undefined)
        errors.push(invalid(path.child('clusterIPs').index(0), wanted, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
      else if (!unchanged && (n < range.first || n > range.last))
        errors.push(
          invalid(
            path.child('clusterIPs'),
            [wanted],
            `failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${ranges.cidr}`,
          ),
        );
      else if (!unchanged && ips.has(wanted))
        errors.push(invalid(path.child('clusterIPs'), [wanted], `failed to allocate IP ${wanted}: provided IP is already allocated`));
      else spec.clusterIPs = [wanted];
    } else {
      const size = range.last - range.first + 1;
      if (ips.size >= size) errors.push(invalid(path.child('clusterIPs'), [], 'failed to allocate IP: range is full'));
      else {
        let n = range.first + Math.floor(random() * size);
        while (ips.has(numberToIp(n))) n = n >= range.last ? range.first : n + 1;
        spec.clusterIP = numberToIp(n);
        spec.clusterIPs = [spec.clusterIP];
      }
    }
    if (spec.clusterIP !== undefined && spec.clusterIP !== 'None') {
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    } else if (spec.clusterIP === 'None') spec.ipFamilyPolicy ??= 'SingleStack';
  }
  const svcPorts = Array.isArray(spec.ports) ? spec.ports.filter(isObject) : [];
  const oldPorts = oldSpec && Array.isArray(oldSpec.ports) ? oldSpec.ports.filter(isObject) : [];
  svcPorts.forEach((p, i) => {
    const pp = path.child('ports').index(i);
    if (!usesNodePorts(spec.type)) {
      if (p.nodePort !== undefined && p.nodePort !== 0)
        errors.push({
          type: 'FieldValueForbidden',
          field: pp.child('nodePort').text,
          detail: `may not be used when \`type\` is '${String(spec.type ?? 'ClusterIP')}'`,
        });
      return;
    }
    const previous = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
    if ((p.nodePort === undefined || p.nodePort === 0) && typeof previous?.nodePort === 'number') p.nodePort = previous.nodePort;
    if (typeof p.nodePort === 'number' && p.nodePort !== 0) {
      const unchanged = oldPorts.some((o) => o.nodePort === p.nodePort);
      if (!unchanged && (p.nodePort < ranges.nodePortMin || p.nodePort > ranges.nodePortMax))
        errors.push(
          invalid(
            pp.child('nodePort'),
            p.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${ranges.nodePortMin}-${ranges.nodePortMax}`,
          ),
        );
      else if (!unchanged && ports.has(p.nodePort))
        errors.push(invalid(pp.child('nodePort'), p.nodePort, 'provided port is already allocated'));
      else ports.add(p.nodePort);
      return;
    }
    const size = ranges.nodePortMax - ranges.nodePortMin + 1;
    if (ports.size >= size) {
      errors.push(invalid(pp.child('nodePort'), 0, 'range is full'));
      return;
    }
    let n = ranges.nodePortMin + Math.floor(random() * size);
    while (ports.has(n)) n = n >= ranges.nodePortMax ? ranges.nodePortMin : n + 1;
    p.nodePort = n;
    ports.add(n);
  });
  return errors;
}
