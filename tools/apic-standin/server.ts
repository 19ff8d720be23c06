/**
 * The APIC stand-in's HTTP(S) server: aaaLogin/aaaRefresh/aaaLogout, POST/GET/DELETE of
 * /api/mo/<dn>.json, GET /api/class/<class>.json, errors in APIC's format. Every API call is
 * recorded (method, DN, query, body, status) for tests; `/_standin/*` (never recorded) reads and
 * clears the record, injects faults and expires tokens. The tree is kept in a JSON file when one
 * is given, so a restarted stand-in holds what it held.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../lib/clock';
import { ApicError } from './apic-error';
import { Faults, type FaultSpec } from './faults';
import { Mit, type QueryOptions, type QueryTarget, type RspSubtree } from './mit';
import { Sessions } from './sessions';
import { UserCerts } from './signatures';

export interface ApicStandinOptions {
  host?: string;
  /** 0: any free port */
  port?: number;
  user: string;
  password: string;
  /** default 600 */
  tokenLifetimeSeconds?: number;
  /** user certificates for signed requests: DN (uni/userext/user-USER/usercert-NAME) -> PEM certificate */
  userCerts?: Record<string, string | Buffer>;
  /** HTTPS with this certificate and key; HTTP without */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** the tree is loaded from and saved to this file */
  statePath?: string;
  clock?: Clock;
}

export interface RecordedCall {
  seq: number;
  method: string;
  /** the URL path */
  path: string;
  /** the DN of /api/mo calls, the class of /api/class calls */
  dn?: string;
  cls?: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
}

export interface RunningApicStandin {
  url: string;
  port: number;
  mit: () => Mit;
  calls: RecordedCall[];
  clearCalls(): void;
  faults: Faults;
  sessions: Sessions;
  close(): Promise<void>;
}

const COOKIE = 'APIC-cookie';

function cookiesOf(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k) cookies.set(k, v.join('='));
  }
  return cookies;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 16 * 1024 * 1024) throw new ApicError(413, '413', 'request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw ApicError.badRequest('malformed JSON body');
  }
}

function queryOptions(q: URLSearchParams): QueryOptions {
  const target = q.get('query-target') ?? 'self';
  if (!['self', 'children', 'subtree'].includes(target))
    throw ApicError.badRequest(`query-target '${target}' must be self, children or subtree`);
  const rsp = q.get('rsp-subtree') ?? 'no';
  if (!['no', 'children', 'full'].includes(rsp)) throw ApicError.badRequest(`rsp-subtree '${rsp}' must be no, children or full`);
  const classes = q.get('target-subtree-class');
  return {
    target: target as QueryTarget,
    rspSubtree: rsp as RspSubtree,
    ...(classes ? { targetClasses: classes.split(',').map((c) => c.trim()) } : {}),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function loadState(path: string | undefined): Mit {
  if (!path || !existsSync(path)) return new Mit();
  const data = JSON.parse(readFileSync(path, 'utf8')) as { objects: Parameters<typeof Mit.load>[0] };
  return Mit.load(data.objects);
}

export async function startApicStandin(opts: ApicStandinOptions): Promise<RunningApicStandin> {
  const mit = loadState(opts.statePath);
  const sessions = new Sessions({
    user: opts.user,
    password: opts.password,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 600,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const userCerts = new UserCerts(opts.user, opts.userCerts ?? {});
  const faults = new Faults(opts.clock);
  const calls: RecordedCall[] = [];
  let seq = 0;

  const save = (): void => {
    if (!opts.statePath) return;
    const tmp = `${opts.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ objects: mit.dump() }));
    renameSync(tmp, opts.statePath);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    if (path === '/_standin/calls' && req.method === 'GET') return send(res, 200, calls);
    if (path === '/_standin/calls' && req.method === 'DELETE') {
      calls.length = 0;
      return send(res, 200, {});
    }
    if (path === '/_standin/faults' && req.method === 'POST') {
      faults.set((parseJson(await readBody(req)) ?? {}) as FaultSpec);
      return send(res, 200, {});
    }
    if (path === '/_standin/faults' && req.method === 'DELETE') {
      faults.clear();
      return send(res, 200, {});
    }
    if (path === '/_standin/expire-tokens' && req.method === 'POST') {
      sessions.expireAll();
      return send(res, 200, {});
    }
    send(res, 404, { error: `no stand-in control ${req.method} ${path}` });
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL, call: RecordedCall): Promise<void> => {
    const text = await readBody(req);
    const body = parseJson(text);
    if (body !== undefined) call.body = body;
    const injected = faults.take();
    if (injected !== undefined) throw new ApicError(injected, String(injected), 'Service Unavailable (fault injected by the stand-in)');
    const path = call.path;
    const method = req.method ?? 'GET';
    if (path === '/api/aaaLogin.json' && method === 'POST') {
      const attrs = (body as { aaaUser?: { attributes?: { name?: unknown; pwd?: unknown } } } | undefined)?.aaaUser?.attributes;
      const t = sessions.login(attrs?.name, attrs?.pwd);
      return send(res, 200, loginReply(t.token, t.refreshTimeoutSeconds, opts.user), {
        'set-cookie': `${COOKIE}=${t.token}; path=/; HttpOnly`,
      });
    }
    const cookies = cookiesOf(req);
    const token = cookies.get(COOKIE);
    if (path === '/api/aaaRefresh.json' && (method === 'GET' || method === 'POST')) {
      const t = sessions.refresh(token);
      return send(res, 200, loginReply(t.token, t.refreshTimeoutSeconds, opts.user), {
        'set-cookie': `${COOKIE}=${t.token}; path=/; HttpOnly`,
      });
    }
    if (path === '/api/aaaLogout.json' && method === 'POST') {
      sessions.logout(token);
      return send(res, 200, { totalCount: '0', imdata: [] });
    }
    // a token when there is one (APIC's order), else a signature over exactly what was sent
    if (token === undefined && UserCerts.signed(cookies)) userCerts.check(cookies, method, `${url.pathname}${url.search}`, text);
    else sessions.check(token);
    const mo = /^\/api\/(?:node\/)?mo\/(.+)\.json$/.exec(path);
    const cl = /^\/api\/(?:node\/)?class\/([A-Za-z]+)\.json$/.exec(path);
    if (mo) {
      const dn = mo[1] ?? '';
      call.dn = dn;
      if (method === 'GET') {
        const imdata = mit.queryDn(dn, queryOptions(url.searchParams));
        return send(res, 200, { totalCount: String(imdata.length), imdata });
      }
      if (method === 'POST') {
        mit.post(dn, body);
        save();
        return send(res, 200, { totalCount: '0', imdata: [] });
      }
      if (method === 'DELETE') {
        mit.delete(dn);
        save();
        return send(res, 200, { totalCount: '0', imdata: [] });
      }
    }
    if (cl && method === 'GET') {
      call.cls = cl[1] ?? '';
      const imdata = mit.queryClass(call.cls, queryOptions(url.searchParams));
      return send(res, 200, { totalCount: String(imdata.length), imdata });
    }
    throw new ApicError(400, '400', `unsupported ${method} ${path}`);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://standin');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    if (path.startsWith('/_standin/')) {
      control(req, res, path).catch((e: unknown) => send(res, 400, { error: String(e) }));
      return;
    }
    const call: RecordedCall = { seq: ++seq, method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), status: 0 };
    calls.push(call);
    res.on('finish', () => (call.status = res.statusCode));
    api(req, res, url, call).catch((e: unknown) => {
      const err = e instanceof ApicError ? e : new ApicError(500, '500', String(e));
      send(res, err.status, err.body());
    });
  };

  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = opts.tls ? 'https' : 'http';
  return {
    url: `${scheme}://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    mit: () => mit,
    calls,
    clearCalls: () => void (calls.length = 0),
    faults,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function loginReply(token: string, refreshTimeoutSeconds: number, userName: string): unknown {
  return {
    totalCount: '1',
    imdata: [
      {
        aaaLogin: {
          attributes: { token, refreshTimeoutSeconds: String(refreshTimeoutSeconds), maximumLifetimeSeconds: '86400', userName },
        },
      },
    ],
  };
}
