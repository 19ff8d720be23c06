/**
 * The Kubernetes API server stand-in: HTTPS with bearer tokens in front of the registry
 * (registry.ts) and watch streams (watch.ts) over etcd, discovery, /openapi/v2 and server-side
 * Tables for kubectl, and the namespace and EndpointSlice controllers kube-controller-manager
 * would run. Errors
 * leave as Status objects. One request per line in the structured log (debug; writes at info).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { EtcdKV, etcdOptions } from '../../netmaster/store/kv';
import { authenticate, type User } from './auth';
import { bootstrap } from './bootstrap';
import { startEndpointSliceController, type Controller } from './controllers/endpointslices';
import { startNamespaceController } from './controllers/namespaces';
import { apiGroupList, apiGroupOf, apiResourceList, apiVersions, SERVED_VERSION, versionInfo } from './discovery';
import { isObject, type Json, type JsonObject } from './json';
import { parseListQuery } from './list-query';
import { createApiMetrics, type ApiMetrics } from './metrics';
import { MAX_BODY_BYTES, parseBody, representation, type Representation } from './negotiate';
import { buildOpenApi } from './openapi/document';
import { encodeOpenApi } from './openapi/protobuf';
import { PATCH_TYPES, Registry, type Subresource } from './registry';
import type { ResourceDef } from './resources';
import { parseRoute } from './routes';
import { DEFAULT_RANGES, type ServiceRanges } from './service-ips';
import { ApiError, badRequest, internalError, methodNotSupported, unauthorized, unsupportedMediaType } from './status';
import { ObjectStore } from './store';
import { toTable, type IncludeObject } from './table';
import { serveWatch } from './watch';

export interface KubeApiServerOptions {
  etcdEndpoints: string[];
  etcdTls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** etcd key prefix (kube-apiserver's --etcd-prefix) */
  etcdPrefix?: string;
  host: string;
  /** 0: any free port */
  port: number;
  /** serve HTTPS with this certificate; without it plain HTTP (development only) */
  tls?: { cert: Buffer; key: Buffer };
  /** token -> user; empty: every request is anonymous and allowed (development only) */
  users: ReadonlyMap<string, User>;
  serviceRanges?: ServiceRanges;
  /** the address the `kubernetes` Service's EndpointSlice names (default: host, or 127.0.0.1 for 0.0.0.0) */
  advertiseAddress?: string;
  bookmarkIntervalMs?: number;
  minRequestTimeoutMs?: number;
  /** run the EndpointSlice controller (default true) */
  endpointSliceController?: boolean;
  /** how long a deleted namespace stays Terminating before it goes with its objects (default 2 s) */
  namespaceDeletionDelayMs?: number;
  /** bound pods are deleted gracefully, through their kubelet (Registry's gracefulPodDeletion) */
  gracefulPodDeletion?: boolean;
  logger: Logger;
}

export interface KubeApiServer {
  url: string;
  port: number;
  registry: Registry;
  store: ObjectStore;
  stop(): Promise<void>;
}

const PATCH = 'PATCH';
const STATUS_PATH_ONLY = 'the server could not find the requested resource';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function dryRunOf(params: URLSearchParams, body?: Json): boolean {
  const values = params.getAll('dryRun');
  if (isObject(body) && Array.isArray(body.dryRun)) values.push(...body.dryRun.map(String));
  for (const v of values) if (v !== 'All') throw badRequest(`Invalid dry run value: ${JSON.stringify(v)}: supported values: "All"`);
  return values.length > 0;
}

function includeObjectOf(params: URLSearchParams): IncludeObject {
  const v = params.get('includeObject') ?? 'Metadata';
  if (v !== 'None' && v !== 'Metadata' && v !== 'Object') throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}`);
  return v;
}

export async function startKubeApiServer(o: KubeApiServerOptions): Promise<KubeApiServer> {
  const logger = o.logger;
  const kv = new EtcdKV(etcdOptions(o.etcdEndpoints, o.etcdTls), { logger });
  const store = new ObjectStore(kv, o.etcdPrefix ?? '/registry', logger);
  const ranges = o.serviceRanges ?? DEFAULT_RANGES;
  const registry = new Registry({ store, serviceRanges: ranges, ...(o.gracefulPodDeletion ? { gracefulPodDeletion: true } : {}) });
  const metrics: ApiMetrics = createApiMetrics();
  const bookmarkIntervalMs = o.bookmarkIntervalMs ?? 60_000;
  const minRequestTimeoutMs = o.minRequestTimeoutMs ?? 1_800_000;
  let openapi: { json: string; proto: Buffer } | undefined;
  const openApiDoc = (): { json: string; proto: Buffer } => {
    if (!openapi) {
      const doc = buildOpenApi(SERVED_VERSION.gitVersion);
      openapi = { json: JSON.stringify(doc), proto: encodeOpenApi(doc) };
    }
    return openapi;
  };
  let address = '';

  const present = (r: ResourceDef, rep: Representation, params: URLSearchParams, body: JsonObject, isList: boolean): JsonObject => {
    if (rep.kind !== 'table') return body;
    const items = isList ? ((body.items as JsonObject[]) ?? []) : [body];
    const listMeta =
      isList && isObject(body.metadata)
        ? body.metadata
        : { resourceVersion: String((isObject(body.metadata) && body.metadata.resourceVersion) || '') };
    return { ...toTable(r, items, listMeta, includeObjectOf(params)), apiVersion: rep.apiVersion };
  };

  const handleResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    params: URLSearchParams,
    route: Extract<ReturnType<typeof parseRoute>, { kind: 'resource' }>,
    verbOut: { verb: string },
  ): Promise<void> => {
    const { resource: r, namespace: ns, name, subresource } = route;
    if (subresource !== undefined && !(subresource === 'status' && r.statusSubresource))
      throw new ApiError(404, 'NotFound', STATUS_PATH_ONLY);
    const sub: Subresource = subresource === 'status' ? 'status' : undefined;
    const method = req.method ?? 'GET';
    const needsNamespace = r.namespaced && ns === undefined;
    if (method === 'GET') {
      const rep = representation(req.headers.accept);
      if (name !== undefined) {
        if (needsNamespace) throw new ApiError(404, 'NotFound', STATUS_PATH_ONLY);
        verbOut.verb = 'get';
        sendJson(res, 200, present(r, rep, params, await registry.get(r, ns, name), false));
        return;
      }
      const q = parseListQuery(r, params);
      if (q.watch || route.watchPath) {
        verbOut.verb = 'watch';
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        metrics.watches.inc({ resource: r.plural });
        res.on('close', () => metrics.watches.dec({ resource: r.plural }));
        await serveWatch({
          store,
          resource: r,
          namespace: ns,
          query: q,
          sink: {
            send: (ev) => {
              if (!res.writableEnded) res.write(`${JSON.stringify(ev)}\n`);
            },
            end: () => {
              if (!res.writableEnded) res.end();
            },
            onClose: (cb) => res.on('close', cb),
          },
          present: (obj) => present(r, rep, params, obj, false),
          bookmarkIntervalMs,
          minRequestTimeoutMs,
          logger,
        });
        return;
      }
      verbOut.verb = 'list';
      sendJson(res, 200, present(r, rep, params, await registry.list(r, ns, q), true));
      return;
    }
    const raw = await readBody(req);
    if (method === 'POST') {
      if (name !== undefined || needsNamespace) throw methodNotSupported(r, 'create');
      verbOut.verb = 'create';
      const body = parseBody(raw, req.headers['content-type']);
      sendJson(res, 201, await registry.create(r, ns, body, { dryRun: dryRunOf(params) }));
    } else if (method === 'PUT') {
      if (name === undefined || needsNamespace) throw methodNotSupported(r, 'update');
      verbOut.verb = 'update';
      const body = parseBody(raw, req.headers['content-type']);
      sendJson(res, 200, await registry.update(r, ns, name, body, { dryRun: dryRunOf(params) }, sub));
    } else if (method === PATCH) {
      if (name === undefined || needsNamespace) throw methodNotSupported(r, 'patch');
      verbOut.verb = 'patch';
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      // server-side apply (application/apply-patch+yaml) and anything else: 415 before reading the body
      if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(PATCH_TYPES.join(', '));
      const body = parseBody(raw, 'application/json');
      sendJson(res, 200, await registry.patch(r, ns, name, type, body, { dryRun: dryRunOf(params) }, sub));
    } else if (method === 'DELETE') {
      const options: Json = raw.length > 0 ? parseBody(raw, 'application/json') : {};
      const dryRun = dryRunOf(params, options);
      if (name === undefined) {
        verbOut.verb = 'deletecollection';
        sendJson(res, 200, await registry.deleteCollection(r, ns, parseListQuery(r, params), { dryRun }));
        return;
      }
      if (needsNamespace) throw methodNotSupported(r, 'delete');
      verbOut.verb = 'delete';
      const pre = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
      // DeleteOptions.gracePeriodSeconds, or the query parameter of that name
      const graceText = params.get('gracePeriodSeconds');
      const grace =
        isObject(options) && typeof options.gracePeriodSeconds === 'number'
          ? options.gracePeriodSeconds
          : graceText !== null
            ? Number(graceText)
            : undefined;
      if (grace !== undefined && !Number.isInteger(grace))
        throw badRequest(`gracePeriodSeconds: invalid value ${JSON.stringify(graceText)}`);
      sendJson(
        res,
        200,
        await registry.delete(r, ns, name, {
          dryRun,
          ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
          preconditions: {
            ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
            ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
          },
        }),
      );
    } else throw methodNotSupported(r, method.toLowerCase());
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const route = parseRoute(url.pathname);
    const verbOut = { verb: (req.method ?? 'GET').toLowerCase() };
    const resourceLabel = route.kind === 'resource' ? route.resource.plural : route.kind;
    let user: User | undefined;
    try {
      if (route.kind === 'health') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
      user = authenticate(o.users, req.headers.authorization);
      if (!user && o.users.size > 0) throw unauthorized();
      switch (route.kind) {
        case 'version':
          return sendJson(res, 200, versionInfo());
        case 'metrics':
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(await metrics.registry.metrics());
          return;
        case 'openapi': {
          const doc = openApiDoc();
          if ((req.headers.accept ?? '').includes('protobuf')) {
            res.writeHead(200, {
              'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
              'Content-Length': doc.proto.length,
            });
            res.end(doc.proto);
          } else {
            res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(doc.json) });
            res.end(doc.json);
          }
          return;
        }
        case 'api':
          return sendJson(res, 200, apiVersions(address));
        case 'apis':
          return sendJson(res, 200, apiGroupList());
        case 'group': {
          const g = apiGroupOf(route.group);
          if (!g) throw new ApiError(404, 'NotFound', STATUS_PATH_ONLY);
          return sendJson(res, 200, g);
        }
        case 'groupVersion': {
          const l = apiResourceList(route.group, route.version);
          if (!l) throw new ApiError(404, 'NotFound', STATUS_PATH_ONLY);
          return sendJson(res, 200, l);
        }
        case 'resource':
          await handleResource(req, res, url.searchParams, route, verbOut);
          return;
        default:
          throw new ApiError(404, 'NotFound', STATUS_PATH_ONLY);
      }
    } catch (e) {
      const err = e instanceof ApiError ? e : internalError(errorMessage(e));
      if (!(e instanceof ApiError)) logger.error({ err: errorMessage(e), path: url.pathname, method: req.method }, 'request failed');
      if (res.headersSent) res.end();
      else sendJson(res, err.code, err.status());
    } finally {
      const code = String(res.statusCode);
      metrics.requests.inc({ verb: verbOut.verb, resource: resourceLabel, code });
      const line = {
        method: req.method,
        path: url.pathname,
        query: url.search,
        code: res.statusCode,
        user: user?.name,
        ms: Math.round(performance.now() - started),
      };
      if (verbOut.verb === 'get' || verbOut.verb === 'list' || verbOut.verb === 'watch' || route.kind !== 'resource')
        logger.debug(line, 'request');
      else logger.info(line, 'request');
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => logger.error({ err: errorMessage(e) }, 'request handler failed'));
  };
  const server: Server = o.tls ? createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const advertiseAddress = o.advertiseAddress ?? (o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host);
  address = `${advertiseAddress}:${port}`;
  const controllers: Controller[] = [];
  const stopControllers = async (): Promise<void> => {
    await Promise.all(controllers.map((c) => c.stop()));
  };
  try {
    await bootstrap(registry, { ranges, advertiseAddress, port, logger });
    controllers.push(await startNamespaceController({ store, registry, logger, delayMs: o.namespaceDeletionDelayMs ?? 2000 }));
    if (o.endpointSliceController !== false) controllers.push(await startEndpointSliceController({ store, registry, logger }));
  } catch (e) {
    await stopControllers();
    server.closeAllConnections();
    server.close();
    kv.close();
    throw e;
  }
  const url = `${o.tls ? 'https' : 'http'}://${advertiseAddress.includes(':') ? `[${advertiseAddress}]` : advertiseAddress}:${port}`;
  logger.info(
    { url, etcd: o.etcdEndpoints, prefix: store.prefix, tls: Boolean(o.tls), users: o.users.size },
    'kube-apiserver stand-in serving',
  );
  return {
    url,
    port,
    registry,
    store,
    async stop() {
      await stopControllers();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      kv.close();
    },
  };
}
