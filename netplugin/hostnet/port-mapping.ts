/**
 * A published port (CNI portMappings, Docker -p) as the nftables renderer takes it: connections to
 * hostIp:hostPort (hostIp '' = any local address of the host) are DNATed to the endpoint's
 * endpointIp:containerPort and routed to its tenant's gateway port with the tenant's mark.
 * `checkPortMapping` refuses what the renderer could not write, naming the field.
 */
import ipaddr from 'ipaddr.js';
import { NetloomError } from '../../lib/errors';
import { MAX_GATEWAY_VRF } from './numbering';

export interface PortMapping {
  endpointId: string;
  tenantVrfId: number;
  endpointIp: string;
  /** '' = any local address */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

function bad(field: string, msg: string): never {
  throw new NetloomError('INVALID_ARGUMENT', `port mapping: ${field}: ${msg}`, { field });
}

const isPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;

/** Throws INVALID_ARGUMENT naming the field of `portMappings[i]` that cannot be rendered. */
export function checkPortMapping(m: PortMapping, i: number): void {
  const f = (name: string) => `portMappings[${i}].${name}`;
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(m.endpointId)) bad(f('endpointId'), `${JSON.stringify(m.endpointId)} is not an endpoint id`);
  if (!Number.isInteger(m.tenantVrfId) || m.tenantVrfId < 1 || m.tenantVrfId > MAX_GATEWAY_VRF)
    bad(f('tenantVrfId'), `${m.tenantVrfId} is not a vrfId 1..${MAX_GATEWAY_VRF}`);
  if (!ipaddr.IPv4.isValidFourPartDecimal(m.endpointIp)) bad(f('endpointIp'), `${JSON.stringify(m.endpointIp)} is not an IPv4 address`);
  if (m.hostIp !== '' && !ipaddr.IPv4.isValidFourPartDecimal(m.hostIp))
    bad(f('hostIp'), `${JSON.stringify(m.hostIp)} is not an IPv4 address (or '' for any)`);
  if (!isPort(m.hostPort)) bad(f('hostPort'), `${m.hostPort} is not a port 1..65535`);
  if (!isPort(m.containerPort)) bad(f('containerPort'), `${m.containerPort} is not a port 1..65535`);
  if (m.protocol !== 'tcp' && m.protocol !== 'udp') bad(f('protocol'), `${JSON.stringify(m.protocol)} must be tcp or udp`);
}

/**
 * A stable order (host address, protocol, port) so the same mappings always render the same text;
 * mappings on a given host address come before those on any address (the first rule that matches wins).
 */
export function comparePortMappings(a: PortMapping, b: PortMapping): number {
  const key = (m: PortMapping) =>
    `${m.hostIp === '' ? '~' : m.hostIp}|${m.protocol}|${String(m.hostPort).padStart(5, '0')}|${m.endpointId}`;
  const [ka, kb] = [key(a), key(b)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
