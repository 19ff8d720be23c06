/**
 * Serves a CnmPlugin over HTTP on a unix socket, where dockerd finds plugins by file name
 * (`/run/docker/plugins/netloom.sock` -> driver name `netloom`). Every call is a POST; replies use
 * Docker's plugin content type. A stale socket file left by a dead server is replaced; a live one
 * (another server answering) is an error, never stolen.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { errorMessage, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { CnmPlugin } from './plugin';
import type { NetworkDriverConfig } from './network-driver';
import { MAX_BODY_BYTES } from './limits';
import { errorResponse, PLUGIN_CONTENT_TYPE } from './protocol';

export const DEFAULT_SOCKET_PATH = '/run/docker/plugins/netloom.sock';
/** A client that has not sent its whole request by then is cut off (Docker's calls take milliseconds to send). */
const REQUEST_TIMEOUT_MS = 30_000;

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

function send(res: ServerResponse, status: number, body: unknown, closing = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': PLUGIN_CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    ...(closing ? { Connection: 'close' } : {}),
  });
  res.end(text);
}

export class CnmServer {
  private server: Server | undefined;
  private closing = false;

  constructor(
    private readonly plugin: CnmPlugin,
    readonly socketPath: string = DEFAULT_SOCKET_PATH,
    private readonly log?: Logger,
    /** the driver configuration as callers on this socket see it (e.g. `{ scope: 'global' }` for swarm) */
    private readonly view: Partial<NetworkDriverConfig> = {},
  ) {}

  async start(): Promise<void> {
    if (this.server) return;
    mkdirSync(dirname(this.socketPath), { recursive: true });
    if (existsSync(this.socketPath)) {
      if (await socketAnswers(this.socketPath)) {
        throw new NetloomError('ALREADY_EXISTS', `another server answers on ${this.socketPath}`, { field: 'socketPath' });
      }
      unlinkSync(this.socketPath);
    }
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((e: unknown) => {
        // plugin.handle never throws; this is the HTTP side failing (e.g. the client went away mid-reply)
        this.log?.warn({ err: errorMessage(e) }, 'CNM request failed');
        if (!res.headersSent) send(res, 500, { Err: `netloom: ${errorMessage(e)}` }, true);
      });
    });
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    server.headersTimeout = REQUEST_TIMEOUT_MS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.socketPath, 0o660);
    this.server = server;
    this.log?.info({ socket: this.socketPath }, 'CNM plugin listening');
  }

  /**
   * Stop accepting calls, let calls in progress finish (so that their state is saved and Docker
   * gets the reply) for up to `graceMs`, then end every connection and remove the socket file.
   */
  async stop(graceMs = 5000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.closing = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    if (existsSync(this.socketPath)) unlinkSync(this.socketPath);
    this.closing = false;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = path.replace(/^\//, '');
    if (req.method !== 'POST') {
      send(res, 405, errorResponse(method, `netloom: ${req.method ?? '?'} is not supported; plugin calls are POSTs`));
      return;
    }
    const tooLarge = (): void => {
      // closing: the rest of the body is not read
      send(res, 413, errorResponse(method, `netloom: request body larger than ${MAX_BODY_BYTES} bytes`), true);
      req.destroy();
    };
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      tooLarge();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          tooLarge();
          return;
        }
        chunks.push(chunk as Buffer);
      }
    } catch {
      return; // client went away
    }
    const reply = await this.plugin.handle(path, Buffer.concat(chunks).toString('utf8'), this.view);
    send(res, reply.status, reply.body, this.closing);
  }
}
