/**
 * Listening on a unix socket for the CNI shim: creates the socket's directory, replaces a stale
 * socket file left by an earlier agent (but refuses one a live server answers on), restricts the socket to root (mode 0600) and serves the
 * CNI handler on it.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { NetloomError } from '../../lib/errors';
import { createCniHandler, type CniHandlerOptions } from './handler';
import { MAX_HEADER_BYTES } from './limits';

export const DEFAULT_AGENT_SOCKET = '/run/netloom/netplugin.sock';

export interface CniServer {
  server: Server;
  socketPath: string;
  close(): Promise<void>;
}

/** True when something accepts connections on the unix socket `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(path);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(1000, () => done(false));
  });
}

async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new NetloomError('ALREADY_EXISTS', `${path} exists and is not a socket`, { field: 'socketPath' });
  if (await socketAnswers(path)) throw new NetloomError('IN_USE', `another server answers on ${path}`, { field: 'socketPath' });
  unlinkSync(path);
}

/** Serve the CNI handler on `socketPath`; resolves once listening. */
export async function listenCni(socketPath: string, opts: CniHandlerOptions): Promise<CniServer> {
  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  await removeStaleSocket(socketPath);
  // headers carry the CNI variables: room for all of them at their limits (limits.ts)
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, createCniHandler(opts));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  return {
    server,
    socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          try {
            unlinkSync(socketPath);
          } catch {
            // already removed
          }
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
