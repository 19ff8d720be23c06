/**
 * The REST API on Contiv's paths (express 5): `/api/v1/<coll>/` and `/api/v1/<coll>/<key>/`,
 * inspect, endpoints, watch (server-sent events), consistency, OpenAPI, /version, /info and
 * /metrics. Every route but /healthz needs a credential once one is configured (auth.ts). Bodies
 * are JSON whatever the Content-Type (netctl sends none). Errors are 4xx JSON
 * `{error, field, code}`, or 500 text for Contiv's own client (contiv-client.ts); a rejected
 * request writes nothing (the service commits atomically).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { NetmasterService, ChangeEvent, SkippedChange } from '../service/service';
import { errorBody, httpStatusOf, toNetloomError } from './errors';
import { LIMITS } from '../../lib/kinds/limits';
import { registerKindRoutes } from './kind-routes';
import { jsonBody, param, type Handler } from './request';
import { createMetrics, type RestMetrics } from './metrics';
import { openApiDocument } from './openapi';
import type { TraceRequest } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { BgpInspectResult__Output } from '../../proto/gen/netloom/v1/BgpInspectResult';
import { runTrace } from '../trace/trace-service';
import { tagInUse } from '../model/network-tag';
import { checkHost } from '../agent/registry';
import { restAuth, type RestAuthOptions } from './auth';
import { contivEndpointLabels, contivErrorText, isContivClient } from './contiv-client';

export interface RestOptions {
  service: NetmasterService;
  logger: Logger;
  /**
   * who may call (auth.ts): tokens and client certificates, roles admin and read-only; with none
   * configured the API is open (netmaster --insecure)
   */
  auth?: RestAuthOptions;
  /** collect process metrics too (one netmaster per process) */
  defaultMetrics?: boolean;
  /** SSE heartbeat interval (ms) */
  heartbeatMs?: number;
  /**
   * the agent side once it runs (it starts after REST listens): `trace` asks an agent wherever
   * it is held, `traceHere` only an agent whose query stream is open on this replica
   */
  agents?: () => AgentQueryApi | undefined;
}

export interface AgentQueryApi {
  trace(host: string, trace: TraceRequest): Promise<TraceResult__Output>;
  traceHere(host: string, trace: TraceRequest): Promise<TraceResult__Output>;
  /** netctl bgp inspect: the host's BGP sessions and routes from its agent (issue 16) */
  bgp(host: string): Promise<BgpInspectResult__Output>;
  bgpHere(host: string): Promise<BgpInspectResult__Output>;
}

export function netloomVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function createApp(opts: RestOptions): { app: express.Express; metrics: RestMetrics } {
  const svc = opts.service;
  const log = opts.logger;
  const metrics = createMetrics(svc, { defaultMetrics: opts.defaultMetrics ?? false });
  const version = netloomVersion();
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // metrics and access log for every request
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';
      const status = String(res.statusCode);
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.requests.inc({ method: req.method, route, status });
      metrics.latency.observe({ method: req.method, route, status }, secs);
      const line = { method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(secs * 1e4) / 10 };
      // a caller's mistake sent to Contiv's client as 500 is logged as the 4xx it is
      const meant = typeof res.locals['meantStatus'] === 'number' ? (res.locals['meantStatus'] as number) : res.statusCode;
      if (meant >= 500) log.error(line, 'request');
      else if (req.method === 'GET') log.debug(line, 'request');
      else log.info(line, 'request');
    });
    next();
  });

  // Contiv's own client (contiv-client.ts): endpoint labels as its model types them
  app.use((req, res, next) => {
    if (isContivClient(req)) {
      const json = res.json.bind(res);
      res.json = (body: unknown) => json(contivEndpointLabels(body));
    }
    next();
  });

  // every route but /healthz needs credentials (when configured), checked before the body is read
  app.use(restAuth({ ...opts.auth, logger: log }));

  // bodies are JSON whatever the Content-Type says (netctl sends none), at most LIMITS.bodyBytes (413 above)
  app.use(express.text({ type: () => true, limit: LIMITS.bodyBytes }));

  const wrap =
    (h: Handler) =>
    (req: Request, res: Response, next: NextFunction): void => {
      h(req, res).catch(next);
    };

  app.get('/version', (_req, res) => {
    res.json({
      Version: version,
      GitCommit: process.env.NETLOOM_GIT_COMMIT ?? 'unknown',
      BuildTime: process.env.NETLOOM_BUILD_TIME ?? 'unknown',
      version,
    });
  });

  // readiness: answers 200 only while etcd answers (503 UNAVAILABLE otherwise)
  app.get(
    '/healthz',
    wrap(async (_req, res) => {
      res.json({ ok: true, revision: await svc.currentRevision(), intentCopy: svc.cacheReady });
    }),
  );

  app.get(
    '/info',
    wrap(async (_req, res) => {
      const g = (await svc.get('global', 'global')).config;
      res.json({
        Version: version,
        ClusterMode: 'netloom',
        NetworkInfraType: g.networkInfraType,
        FwdMode: g.fwdMode,
        ArpMode: g.arpMode,
        Vlans: g.vlans,
        Vxlans: g.vxlans,
        PvtSubnet: g.pvtSubnet,
        Objects: await svc.objectCounts(),
      });
    }),
  );

  app.get(
    '/metrics',
    wrap(async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    }),
  );

  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApiDocument(version));
  });

  app.get(
    '/api/v1/consistency',
    wrap(async (_req, res) => {
      res.json(await svc.checkConsistency());
    }),
  );
  app.post(
    '/api/v1/consistency',
    wrap(async (req, res) => {
      const body = jsonBody(req) as { repair?: unknown };
      res.json(await svc.checkConsistency({ repair: body.repair !== false }));
    }),
  );

  app.get('/api/v1/watch', (req, res, next) => {
    const since = String(req.query.since ?? req.headers['last-event-id'] ?? '0');
    if (!/^\d+$/.test(since)) {
      next(new NetloomError('INVALID_ARGUMENT', `since must be an etcd revision (a number), got '${since}'`, { field: 'since' }));
      return;
    }
    let stop: (() => Promise<void>) | undefined;
    let closed = false;
    const send = (e: ChangeEvent) => {
      if (closed) return;
      res.write(`id: ${e.revision}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`);
    };
    // a change whose stored value cannot be served: named (key, why) instead of sent; its id
    // moves a reconnecting client past it like any change
    const skipped = (s: SkippedChange) => {
      if (closed) return;
      res.write(`id: ${s.revision}\nevent: skipped\ndata: ${JSON.stringify(s)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': keepalive\n\n'), opts.heartbeatMs ?? 15_000);
    const end = () => {
      closed = true;
      clearInterval(heartbeat);
      void stop?.().catch(() => undefined);
    };
    req.on('close', end);
    svc
      .watch(
        since,
        send,
        (err) => {
          if (!closed) res.write(`event: error\ndata: ${JSON.stringify({ error: err.message, code: 'UNAVAILABLE' })}\n\n`);
          res.end();
          end();
        },
        skipped,
      )
      .then((s) => {
        stop = s;
        if (closed) void s().catch(() => undefined);
        else {
          res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
          res.flushHeaders();
          res.write(': watching\n\n');
        }
      })
      .catch((e: unknown) => {
        clearInterval(heartbeat);
        next(e);
      });
  });

  // endpoints
  app.get(
    '/api/v1/endpoints/',
    wrap(async (req, res) => {
      const f: { network?: string; host?: string } = {};
      if (typeof req.query.network === 'string') f.network = req.query.network;
      if (typeof req.query.host === 'string') f.host = req.query.host;
      res.json(await svc.listEndpoints(f));
    }),
  );
  app.post(
    '/api/v1/endpoints/',
    wrap(async (req, res) => {
      res.json(await svc.createEndpoint(jsonBody(req)));
    }),
  );
  app.get(
    '/api/v1/endpoints/:id/',
    wrap(async (req, res) => {
      res.json(await svc.getEndpoint(param(req, 'id')));
    }),
  );
  app.delete(
    '/api/v1/endpoints/:id/',
    wrap(async (req, res) => {
      await svc.deleteEndpoint(param(req, 'id'));
      res.json(param(req, 'id'));
    }),
  );
  app.get(
    '/api/v1/inspect/endpoints/:id/',
    wrap(async (req, res) => {
      res.json(await svc.inspectEndpoint(param(req, 'id')));
    }),
  );

  // netctl trace: ofproto/trace on the hosts of two endpoints (netmaster/trace/)
  const agentsOrFail = (): AgentQueryApi => {
    const a = opts.agents?.();
    if (!a) throw new NetloomError('UNAVAILABLE', 'this netmaster runs no agent API (or it is still starting): no agent can be asked');
    return a;
  };
  app.post(
    '/api/v1/trace/',
    wrap(async (req, res) => {
      const agents = agentsOrFail();
      res.json(
        await runTrace(
          {
            listEndpoints: () => svc.listEndpoints(),
            getTenant: (n) => svc.get('tenant', n),
            traceOnAgent: (h, t) => agents.trace(h, t),
            networkTag: async (k) => {
              const n = await svc.get('network', k);
              return tagInUse(n.config, n.oper);
            },
          },
          jsonBody(req),
        ),
      );
    }),
  );
  // netctl bgp inspect HOST: the host's BGP sessions and routes, from its agent (issue 16)
  app.get(
    '/api/v1/bgp-status/:host/',
    wrap(async (req, res) => {
      const host = String(req.params.host);
      checkHost(host);
      res.json(await agentsOrFail().bgp(host));
    }),
  );
  // another replica forwards a query for an agent whose query stream is open here (query-router.ts)
  app.post(
    '/api/v1/internal/agent-query/',
    wrap(async (req, res) => {
      const body = jsonBody(req) as { host?: unknown; trace?: unknown; bgp?: unknown };
      if (typeof body.host !== 'string') throw new NetloomError('INVALID_ARGUMENT', 'host is required', { field: 'host' });
      checkHost(body.host);
      if (typeof body.bgp === 'object' && body.bgp !== null) {
        res.json(await agentsOrFail().bgpHere(body.host));
        return;
      }
      if (typeof body.trace !== 'object' || body.trace === null)
        throw new NetloomError('INVALID_ARGUMENT', 'trace is required', { field: 'trace' });
      res.json(await agentsOrFail().traceHere(body.host, body.trace as TraceRequest));
    }),
  );

  // Contiv's collections, one route set for every kind
  registerKindRoutes(app, svc, wrap);

  app.use((req, _res, next) => {
    next(new NetloomError('NOT_FOUND', `no such path: ${req.method} ${req.path}`, { field: 'path' }));
  });

  // error handler: 4xx JSON for the caller's mistakes, 5xx for ours
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = toNetloomError(err);
    const status = httpStatusOf(e);
    if (status >= 500) log.error({ err: e }, 'request failed');
    // Contiv's client shows a message only with 500 (and takes a 404 on DELETE for success)
    res.locals['meantStatus'] = status;
    if (isContivClient(req)) res.status(500).type('text/plain').send(contivErrorText(e));
    else res.status(status).json(errorBody(e));
  });

  return { app, metrics };
}
