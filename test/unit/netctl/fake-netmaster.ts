/**
 * An in-process fake of netmaster's REST API for netctl's unit tests: a node:http server on an
 * ephemeral 127.0.0.1 port that records every request (method, path, headers, raw body) and
 * answers like the reference: objects stored per collection and key, `{"Config","Oper"}` for
 * inspect, the key as a JSON string for deletes, 404 JSON errors, plus canned answers per request.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

type Obj = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface CannedAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export class FakeNetmaster {
  readonly requests: RecordedRequest[] = [];
  readonly store = new Map<string, Map<string, Obj>>();
  /** answers that replace the normal behaviour, by "METHOD /path" */
  readonly canned = new Map<string, CannedAnswer>();
  endpoints: Obj[] = [];
  consistency: unknown = { consistent: true, problems: [] };
  version: Obj = { GitCommit: 'abc123', Version: '1.2.3', BuildTime: '2026-11-25' };
  private server: http.Server | https.Server | undefined;
  url = '';

  constructor() {
    this.put('tenants', 'default', { key: 'default', tenantName: 'default' });
    this.put('globals', 'global', {
      key: 'global',
      arpMode: 'proxy',
      fwdMode: 'bridge',
      name: 'global',
      networkInfraType: 'default',
      pvtSubnet: '172.19.0.0/16',
      vlans: '1-4094',
      vxlans: '1-10000',
    });
  }

  put(coll: string, key: string, obj: Obj): void {
    let m = this.store.get(coll);
    if (!m) this.store.set(coll, (m = new Map()));
    m.set(key, obj);
  }

  get(coll: string, key: string): Obj | undefined {
    return this.store.get(coll)?.get(key);
  }

  /** Requests other than the listed read-only ones, for "what did the command send". */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  /** Listen on an ephemeral 127.0.0.1 port; with `tls`, serve HTTPS with that key and certificate. */
  async start(tls?: { key: string; cert: string }): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const rec: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(rec);
        const a = this.answer(rec);
        res.writeHead(a.status, { 'Content-Type': a.contentType ?? 'application/json' });
        res.end(a.body);
      });
    };
    const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private json(status: number, v: unknown): CannedAnswer {
    return { status, body: JSON.stringify(v) };
  }

  private notFound(what: string): CannedAnswer {
    return this.json(404, { error: `${what} not found`, code: 'NOT_FOUND' });
  }

  private answer(r: RecordedRequest): CannedAnswer {
    const canned = this.canned.get(`${r.method} ${r.path}`);
    if (canned) return canned;
    if (r.method === 'GET' && r.path === '/version') return this.json(200, this.version);
    if (r.method === 'GET' && r.path === '/api/v1/consistency') return this.json(200, this.consistency);
    if (r.method === 'GET' && r.path === '/api/v1/endpoints/') return this.json(200, this.endpoints);
    let m = /^\/api\/v1\/inspect\/endpoints\/([^/]+)\/$/.exec(r.path);
    if (m && r.method === 'GET') {
      const ep = this.endpoints.find((e) => e['endpointID'] === m![1]);
      return ep ? this.json(200, { Oper: ep }) : this.notFound(`endpoint ${m[1]}`);
    }
    m = /^\/api\/v1\/inspect\/([A-Za-z]+)\/([^/]+)\/$/.exec(r.path);
    if (m && r.method === 'GET') {
      const o = this.get(m[1]!, m[2]!);
      return o ? this.json(200, { Config: o, Oper: { numEndpoints: 0 } }) : this.notFound(`${m[1]} ${m[2]}`);
    }
    m = /^\/api\/v1\/([A-Za-z]+)\/$/.exec(r.path);
    if (m && r.method === 'GET') return this.json(200, [...(this.store.get(m[1]!)?.values() ?? [])]);
    m = /^\/api\/v1\/([A-Za-z]+)\/([^/]+)\/$/.exec(r.path);
    if (m) {
      const [, coll, key] = m as unknown as [string, string, string];
      if (r.method === 'GET') {
        const o = this.get(coll, key);
        return o ? this.json(200, o) : this.notFound(`${coll} ${key}`);
      }
      if (r.method === 'POST' || r.method === 'PUT') {
        let body: Obj;
        try {
          body = JSON.parse(r.body) as Obj;
        } catch {
          return this.json(400, { error: 'body is not JSON', code: 'INVALID_ARGUMENT' });
        }
        const stored = { ...body, key };
        this.put(coll, key, stored);
        return this.json(200, stored);
      }
      if (r.method === 'DELETE') {
        if (!this.store.get(coll)?.delete(key)) return this.notFound(`${coll} ${key}`);
        return this.json(200, key);
      }
    }
    return this.json(404, { error: `no route for ${r.method} ${r.path}`, code: 'NOT_FOUND' });
  }
}

/** Mocha hooks: a new FakeNetmaster for each test, handed to `use` and started before it, stopped after it. */
export function fakeNetmasterPerTest(use: (fake: FakeNetmaster) => void): void {
  let fake: FakeNetmaster | undefined;
  beforeEach(async () => {
    fake = new FakeNetmaster();
    use(fake);
    await fake.start();
  });
  afterEach(async () => {
    await fake?.stop();
  });
}

/** An http URL on 127.0.0.1 where nothing listens (a port just bound and closed again). */
export async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
