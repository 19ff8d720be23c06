/**
 * OpenFlow endpoint addresses in OVS's notation and the sockets behind them: `tcp:HOST:PORT` and
 * `unix:PATH` to connect to (active), `ptcp:PORT[:HOST]` / `tcp:HOST:PORT` and `punix:PATH` /
 * `unix:PATH` to listen on (passive).
 */
import { createConnection, createServer, Server, Socket } from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { NetloomError } from '../../lib/errors';
import { socketTransport, Transport } from './transport';

export type OfAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parse `tcp:HOST:PORT`, `ptcp:PORT[:HOST]`, `unix:PATH` or `punix:PATH`. */
export function parseOfAddress(s: string, field = 'address'): OfAddress {
  const bad = (why: string): never => {
    throw new NetloomError('INVALID_ARGUMENT', `OpenFlow address "${s}" ${why}`, { field });
  };
  const colon = s.indexOf(':');
  if (colon < 0) bad('needs a scheme (tcp:, ptcp:, unix:, punix:)');
  const scheme = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  const port = (p: string): number => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n > 65535) bad(`has a bad port "${p}"`);
    return n;
  };
  switch (scheme) {
    case 'unix':
    case 'punix':
      if (rest === '') bad('has an empty path');
      return { kind: 'unix', path: rest };
    case 'tcp': {
      const i = rest.lastIndexOf(':');
      if (i <= 0) bad('must be tcp:HOST:PORT');
      return { kind: 'tcp', host: rest.slice(0, i).replace(/^\[|\]$/g, ''), port: port(rest.slice(i + 1)) };
    }
    case 'ptcp': {
      const i = rest.indexOf(':');
      if (i < 0) return { kind: 'tcp', host: '0.0.0.0', port: port(rest) };
      return { kind: 'tcp', host: rest.slice(i + 1).replace(/^\[|\]$/g, '') || '0.0.0.0', port: port(rest.slice(0, i)) };
    }
    default:
      return bad(`has unknown scheme "${scheme}"`);
  }
}

export function formatOfAddress(a: OfAddress): string {
  return a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host}:${a.port}`;
}

/** Connect to `address`; resolves with a Transport once the socket is open. */
export function connectTransport(address: OfAddress | string, timeoutMs = 5000): Promise<Transport> {
  const a = typeof address === 'string' ? parseOfAddress(address) : address;
  const desc = formatOfAddress(a);
  return new Promise((resolve, reject) => {
    const sock: Socket = a.kind === 'unix' ? createConnection({ path: a.path }) : createConnection({ host: a.host, port: a.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new NetloomError('TIMEOUT', `connecting to ${desc} took more than ${timeoutMs} ms`, { field: 'address' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(socketTransport(sock, desc));
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new NetloomError('UNAVAILABLE', `cannot connect to ${desc}: ${e.message}`, { field: 'address', cause: e }));
    });
  });
}

export interface TransportListener {
  /** the bound address (with the real port when 0 was asked for) */
  address: OfAddress;
  close(): Promise<void>;
}

/** Listen on `address`; every accepted socket becomes a Transport handed to `onTransport`. */
export function listenTransport(address: OfAddress | string, onTransport: (t: Transport) => void): Promise<TransportListener> {
  const a = typeof address === 'string' ? parseOfAddress(address) : address;
  if (a.kind === 'unix' && existsSync(a.path)) unlinkSync(a.path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const remote = a.kind === 'unix' ? `unix:${a.path}` : `tcp:${sock.remoteAddress}:${sock.remotePort}`;
    onTransport(socketTransport(sock, remote));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) =>
      reject(new NetloomError('UNAVAILABLE', `cannot listen on ${formatOfAddress(a)}: ${e.message}`, { field: 'address', cause: e })),
    );
    const ready = (): void => {
      const bound = server.address();
      const actual: OfAddress =
        a.kind === 'tcp' && bound && typeof bound === 'object' ? { kind: 'tcp', host: a.host, port: bound.port } : a;
      resolve({
        address: actual,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => {
              if (a.kind === 'unix' && existsSync(a.path)) unlinkSync(a.path);
              res();
            });
          }),
      });
    };
    if (a.kind === 'unix') server.listen(a.path, ready);
    else server.listen(a.port, a.host, ready);
  });
}
