/**
 * A port this host publishes for one of its endpoints (CNI `portMappings`, Docker `-p`):
 * connections to hostIp:hostPort (hostIp '' = any local address) go to the endpoint's
 * containerPort. Both front ends turn their own shapes into this one; the agent records it with
 * the endpoint and two published ports of one host must never claim the same host socket.
 */
import { z } from 'zod';

export const PUBLISHED_PROTOCOLS = ['tcp', 'udp'] as const;
export type PublishedProtocol = (typeof PUBLISHED_PROTOCOLS)[number];

export interface PublishedPort {
  /** IPv4 address of the host, '' for any */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: PublishedProtocol;
}

const port = z.number().int().min(1).max(65535);
export const publishedPortSchema = z.object({
  hostIp: z.string(),
  hostPort: port,
  containerPort: port,
  protocol: z.enum(PUBLISHED_PROTOCOLS),
});

/** Whether two published ports want the same host socket ('' overlaps every address). */
export function portsClash(a: PublishedPort, b: PublishedPort): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === '' || b.hostIp === '' || a.hostIp === b.hostIp);
}

/** `hostIp:hostPort/protocol` as a person reads it (`*` for any address). */
export function describePort(p: Pick<PublishedPort, 'hostIp' | 'hostPort' | 'protocol'>): string {
  return `${p.hostIp === '' ? '*' : p.hostIp}:${p.hostPort}/${p.protocol}`;
}

/** What a port clashes with: its owner (a claim, or an earlier port of the same list) and the port. */
export interface PortClash<O> {
  /** index of the port (of the list checked) that clashes */
  index: number;
  owner: O;
  theirs: PublishedPort;
}

const socketKey = (p: PublishedPort): string => `${p.protocol}/${p.hostPort}`;

/**
 * The first port of `ports` that clashes with one of `claims` or with an earlier port of `ports`
 * (then `owner` is `self(i)` for that earlier index i). Grouped by protocol and port, so a long
 * list costs no quadratic time.
 */
export function findClash<O>(
  ports: readonly PublishedPort[],
  claims: Iterable<{ owner: O; ports: readonly PublishedPort[] }>,
  self: (index: number) => O,
): PortClash<O> | undefined {
  const held = new Map<string, Array<{ owner: O; port: PublishedPort }>>();
  const hold = (owner: O, port: PublishedPort): void => {
    const k = socketKey(port);
    const list = held.get(k);
    if (list) list.push({ owner, port });
    else held.set(k, [{ owner, port }]);
  };
  for (const c of claims) for (const p of c.ports) hold(c.owner, p);
  for (let index = 0; index < ports.length; index++) {
    const mine = ports[index] as PublishedPort;
    const hit = held.get(socketKey(mine))?.find((h) => portsClash(h.port, mine));
    if (hit) return { index, owner: hit.owner, theirs: hit.port };
    hold(self(index), mine);
  }
  return undefined;
}
