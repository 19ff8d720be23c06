/**
 * Docker's published ports as ProgramExternalConnectivity carries them: `Options` holds the
 * sandbox's labels, among them `com.docker.network.portmap` (libnetwork types.PortBinding:
 * `{Proto, IP, Port, HostIP, HostPort, HostPortEnd}`, Proto 6 = tcp, 17 = udp, 132 = sctp; IPs as
 * text, '' when unset) and `com.docker.network.endpoint.exposedports` (`{Proto, Port}`, nothing to
 * publish, only checked for shape). Parsed into netloom's PublishedPort, refusing what netloom
 * cannot publish with an error that names the field.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { describePort, findClash, type PublishedPort } from '../state/published-port';
import { MAX_MAP_ENTRIES, MAX_SHORT_TEXT } from './limits';
import { parseRequest } from './protocol';

export const PORT_MAP_OPTION = 'com.docker.network.portmap';
export const EXPOSED_PORTS_OPTION = 'com.docker.network.endpoint.exposedports';

const PROTOCOLS: Record<number, PublishedPort['protocol'] | undefined> = { 6: 'tcp', 17: 'udp' };

const u16 = z.number().int().min(0).max(65535);
const ipText = z
  .string()
  .max(MAX_SHORT_TEXT)
  .nullish()
  .transform((s) => s ?? '');
const binding = z.object({
  Proto: z.number().int().min(0).max(255),
  IP: ipText,
  Port: u16,
  HostIP: ipText,
  HostPort: u16,
  HostPortEnd: u16.nullish().transform((n) => n ?? 0),
});
const exposed = z.object({ Proto: z.number().int().min(0).max(255), Port: u16 });
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .max(MAX_MAP_ENTRIES, `at most ${MAX_MAP_ENTRIES} entries`)
    .nullish()
    .transform((l) => l ?? []);
const options = z.object({ Options: z.looseObject({ [PORT_MAP_OPTION]: list(binding), [EXPOSED_PORTS_OPTION]: list(exposed) }) });

type Binding = z.output<typeof binding>;

function bad(method: string, field: string, why: string): NetloomError {
  return new NetloomError('INVALID_ARGUMENT', `${method}: ${field}: ${why}`, { field });
}

function publishedOf(method: string, b: Binding, field: string): PublishedPort {
  const protocol = PROTOCOLS[b.Proto];
  if (!protocol) {
    const name = b.Proto === 132 ? 'sctp' : `protocol ${b.Proto}`;
    throw bad(method, `${field}.Proto`, `${name} cannot be published by netloom (tcp and udp can)`);
  }
  if (b.Port === 0) throw bad(method, `${field}.Port`, 'the container port must be 1..65535');
  if (b.HostPort === 0) {
    throw bad(
      method,
      `${field}.HostPort`,
      'netloom does not pick host ports (-P, or -p with no host port); publish with -p HOSTPORT:CONTAINERPORT',
    );
  }
  if (b.HostPortEnd !== 0 && b.HostPortEnd !== b.HostPort) {
    throw bad(
      method,
      `${field}.HostPortEnd`,
      `a range of host ports (${b.HostPort}-${b.HostPortEnd}) is not supported by netloom; publish one host port per container port`,
    );
  }
  let hostIp = '';
  if (b.HostIP !== '') {
    if (!ipaddr.isValid(b.HostIP)) throw bad(method, `${field}.HostIP`, `${JSON.stringify(b.HostIP)} is not an IP address`);
    const a = ipaddr.process(b.HostIP);
    if (a.kind() !== 'ipv4') throw bad(method, `${field}.HostIP`, `${b.HostIP} is IPv6; netloom publishes ports on IPv4 addresses only`);
    const range = a.range();
    if (range === 'multicast' || range === 'broadcast') throw bad(method, `${field}.HostIP`, `${b.HostIP} is a ${range} address`);
    if (range !== 'unspecified') hostIp = a.toString(); // 0.0.0.0: any address
  }
  return { hostIp, hostPort: b.HostPort, containerPort: b.Port, protocol };
}

/**
 * The ports to publish from a ProgramExternalConnectivity request's Options (pure): [] when it
 * carries no port map. Two bindings that want the same host socket are refused.
 */
export function parsePortMap(method: string, body: { Options: Record<string, unknown> }): PublishedPort[] {
  const o = parseRequest(method, options, { Options: body.Options }).Options;
  const field = (i: number): string => `Options.${PORT_MAP_OPTION}.${i}`;
  const ports = o[PORT_MAP_OPTION].map((b, i) => publishedOf(method, b, field(i)));
  const clash = findClash(ports, [], (i) => i);
  if (clash) {
    const mine = ports[clash.index] ?? clash.theirs;
    throw bad(
      method,
      `${field(clash.index)}.HostPort`,
      `host port ${describePort(mine)} is published twice (${field(clash.owner)} has ${describePort(clash.theirs)})`,
    );
  }
  return ports;
}
