/**
 * The CNM plugin without HTTP: takes a method path (`/NetworkDriver.Join`) and a request body,
 * returns a status and a JSON reply. Calls run one at a time (Docker may call concurrently), each
 * against a copy of the state that replaces the state only when the call succeeds, and the state
 * is saved before the reply whenever a call changed it. Errors become `{"Err": "..."}` (IPAM
 * calls: also `"Error"`, the field Docker's IPAM client reads):
 * HTTP 400 for a request that cannot be decoded or lacks fields, 404 for an unknown method (so
 * Docker knows it is not implemented), 200 for an operation that failed.
 */
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { CnmBackend } from './backend';
import * as ipam from './ipam-driver';
import * as net from './network-driver';
import * as p from './protocol';
import * as swarm from './swarm';
import { releaseStaleEndpoints, STALE_GRACE_MS } from './stale-endpoints';
import type { CnmState } from './state';
import type { StateStore } from './state-store';

export interface PluginReply {
  status: number;
  body: unknown;
}

export interface CnmPluginOptions {
  backend: CnmBackend;
  store: StateStore;
  logger?: Logger;
  driver?: Partial<net.NetworkDriverConfig>;
}

type Handler = (state: CnmState, body: unknown, config: net.NetworkDriverConfig) => Promise<unknown> | unknown;

export class CnmPlugin {
  private state: CnmState;
  private readonly backend: CnmBackend;
  private readonly store: StateStore;
  private readonly log: Logger | undefined;
  private readonly config: net.NetworkDriverConfig;
  private readonly handlers: Map<string, Handler>;
  private queue: Promise<unknown> = Promise.resolve();
  /** joined endpoints whose host end was seen gone, since when (monotonic ms; stale-endpoints.ts) */
  private readonly hostEndGoneSince = new Map<string, number>();

  constructor(opts: CnmPluginOptions) {
    this.backend = opts.backend;
    this.store = opts.store;
    this.log = opts.logger;
    this.config = { ...net.DEFAULT_NETWORK_DRIVER_CONFIG, ...opts.driver };
    this.state = this.store.load();
    this.handlers = this.buildHandlers();
  }

  /** A copy of the current state (for tests and diagnostics). */
  snapshot(): CnmState {
    return structuredClone(this.state);
  }

  /** Every method path this plugin answers. */
  methods(): string[] {
    return [...this.handlers.keys()];
  }

  private buildHandlers(): Map<string, Handler> {
    const b = this.backend;
    const nd = (m: p.NetworkDriverMethod): string => `/NetworkDriver.${m}`;
    const id = (m: p.IpamDriverMethod): string => `/IpamDriver.${m}`;
    const h = new Map<string, Handler>();
    h.set('/Plugin.Activate', () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }) satisfies p.ActivateResponse);
    // the scope is the socket's (a managed plugin for swarm asks on its own socket: CnmServer's driver view)
    h.set(nd('GetCapabilities'), (_s, _body, config) => net.networkCapabilities(config));
    h.set(nd('CreateNetwork'), (s, body) => net.createNetwork(s, b, p.parseRequest('CreateNetwork', p.createNetworkRequest, body)));
    h.set(nd('DeleteNetwork'), (s, body) => net.deleteNetwork(s, b, p.parseRequest('DeleteNetwork', p.networkIdRequest, body).NetworkID));
    h.set(nd('CreateEndpoint'), (s, body) => net.createEndpoint(s, b, p.parseRequest('CreateEndpoint', p.createEndpointRequest, body)));
    h.set(nd('DeleteEndpoint'), (s, body) => net.deleteEndpoint(s, b, p.parseRequest('DeleteEndpoint', p.endpointRequest, body)));
    h.set(nd('EndpointOperInfo'), (s, body) => net.endpointOperInfo(s, p.parseRequest('EndpointOperInfo', p.endpointRequest, body)));
    h.set(nd('Join'), (s, body, config) => net.join(s, b, config, p.parseRequest('Join', p.joinRequest, body)));
    h.set(nd('Leave'), (s, body) => net.leave(s, b, p.parseRequest('Leave', p.endpointRequest, body)));
    h.set(nd('DiscoverNew'), (_s, body) => (p.parseRequest('DiscoverNew', p.discoverRequest, body), {}));
    h.set(nd('DiscoverDelete'), (_s, body) => (p.parseRequest('DiscoverDelete', p.discoverRequest, body), {}));
    h.set(nd('ProgramExternalConnectivity'), (s, body) =>
      net.programExternalConnectivity(s, b, p.parseRequest('ProgramExternalConnectivity', p.externalConnectivityRequest, body)),
    );
    h.set(nd('RevokeExternalConnectivity'), (s, body) =>
      net.revokeExternalConnectivity(s, b, p.parseRequest('RevokeExternalConnectivity', p.endpointRequest, body)),
    );
    h.set(nd('AllocateNetwork'), (s, body) =>
      swarm.allocateNetwork(s, b, p.parseRequest('AllocateNetwork', p.allocateNetworkRequest, body)),
    );
    h.set(nd('FreeNetwork'), (s, body) => swarm.freeNetwork(s, p.parseRequest('FreeNetwork', p.networkIdRequest, body).NetworkID));
    h.set(id('GetCapabilities'), () => ipam.ipamCapabilities());
    h.set(id('GetDefaultAddressSpaces'), () => ipam.defaultAddressSpaces());
    h.set(id('RequestPool'), (s, body) => ipam.requestPool(s, b, p.parseRequest('RequestPool', p.requestPoolRequest, body)));
    h.set(id('ReleasePool'), (s, body) => ipam.releasePool(s, p.parseRequest('ReleasePool', p.releasePoolRequest, body).PoolID));
    h.set(id('RequestAddress'), (s, body) => ipam.requestAddress(s, b, p.parseRequest('RequestAddress', p.requestAddressRequest, body)));
    h.set(id('ReleaseAddress'), (s, body) => ipam.releaseAddress(s, b, p.parseRequest('ReleaseAddress', p.releaseAddressRequest, body)));
    return h;
  }

  /**
   * Answer one call. Never throws. `view` overrides the driver configuration for this call (the
   * socket it came on: e.g. Scope global on the managed plugin's socket for swarm).
   */
  handle(path: string, rawBody: string, view: Partial<net.NetworkDriverConfig> = {}): Promise<PluginReply> {
    const run = this.queue.then(() => this.handleNow(path, rawBody, { ...this.config, ...view }));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Release the joined endpoints whose host end has been gone for `graceMs` at `now` (monotonic ms;
   * stale-endpoints.ts), in turn with Docker's calls; returns their ids. Never throws.
   */
  sweepStaleEndpoints(now: number, graceMs = STALE_GRACE_MS): Promise<string[]> {
    const run = this.queue.then(async () => {
      const working = structuredClone(this.state);
      const before = JSON.stringify(working);
      try {
        const ids = await releaseStaleEndpoints(working, this.backend, this.hostEndGoneSince, now, graceMs);
        if (JSON.stringify(working) !== before) {
          this.store.save(working);
          this.state = working;
        }
        if (ids.length > 0) this.log?.warn({ endpoints: ids }, 'released endpoints whose container went without Leave or DeleteEndpoint');
        return ids;
      } catch (e) {
        this.log?.warn({ err: errorMessage(e) }, 'stale endpoint sweep failed');
        return [];
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async handleNow(path: string, rawBody: string, config: net.NetworkDriverConfig): Promise<PluginReply> {
    const method = path.replace(/^\//, '');
    const handler = this.handlers.get(path);
    if (!handler) {
      this.log?.warn({ method }, 'unknown plugin method');
      return { status: 404, body: p.errorResponse(method, `netloom: unknown method "${method}"`) };
    }
    const working = structuredClone(this.state);
    const before = JSON.stringify(working);
    try {
      const body = p.parseJsonBody(method, rawBody);
      const reply = await handler(working, body, config);
      if (JSON.stringify(working) !== before) {
        this.store.save(working);
        this.state = working;
      }
      this.log?.debug({ method, request: rawBody.slice(0, 4096), reply }, 'plugin call');
      return { status: 200, body: reply };
    } catch (e) {
      const malformed = p.isMalformedRequestError(e);
      this.log?.warn({ method, err: errorMessage(e) }, 'plugin call failed');
      return { status: malformed ? 400 : 200, body: p.errorResponse(method, `netloom: ${errorMessage(e)}`) };
    }
  }
}
