/**
 * One netmaster: etcd client, service and REST server wired together, started and stopped as a
 * unit. Used by main.ts, the tests (several in one process) and the benchmark.
 */
import { createLogger, type Logger } from '../lib/logger';
import { createApp } from './rest/app';
import { listen, type RunningServer } from './rest/server';
import { NetmasterService } from './service/service';
import { EtcdKV, etcdOptions } from './store/kv';
import { IntentCache } from './store/intent-cache';
import { registerBadValuesMetric } from './store/bad-values';
import { fingerprintsOf } from './auth/identity';
import type { RestCredentials } from '../lib/rest-credentials';
import { startAgentSide, type AgentSideOptions, type RunningAgentSide } from './agent/wiring';

export interface NetmasterOptions {
  etcdEndpoints: string[];
  etcdTls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  host?: string;
  /** 0: an ephemeral port */
  port?: number;
  /** HTTPS; with `clientCa` REST clients may authenticate with a certificate of that CA */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** the admin role's bearer token */
  authToken?: string;
  /** the read-only role's bearer token */
  readOnlyToken?: string;
  logger?: Logger;
  defaultMetrics?: boolean;
  /** keep a watch-fed copy of the intent so creates skip a read round trip (default true) */
  cache?: boolean;
  /** serve the gRPC agent API and run the leader-elected dead-host cleanup (docs/agent-api.md) */
  agent?: AgentSideOptions;
  /**
   * the REST URL other replicas reach this one at (forwarded agent queries: netctl trace);
   * default the URL REST listens on
   */
  advertiseUrl?: string;
}

export interface RunningNetmaster {
  service: NetmasterService;
  server: RunningServer;
  url: string;
  /** the agent API, when started */
  agent?: RunningAgentSide;
  stop(): Promise<void>;
}

/**
 * How this replica authenticates to the others' REST APIs (forwarded agent queries): its own
 * certificate (a replica's role), trusting the client CA (replicas share it), and the admin token.
 */
function peerCredentials(opts: NetmasterOptions): RestCredentials {
  return {
    ...(opts.tls?.clientCa ? { ca: opts.tls.clientCa, cert: opts.tls.cert, key: opts.tls.key } : {}),
    ...(opts.authToken ? { token: opts.authToken } : {}),
  };
}

export async function startNetmaster(opts: NetmasterOptions): Promise<RunningNetmaster> {
  const logger = opts.logger ?? createLogger('netmaster');
  // stored values it cannot serve are skipped and logged (once each) by every reader of this client
  const kv = new EtcdKV(etcdOptions(opts.etcdEndpoints, opts.etcdTls), { logger });
  const cache = opts.cache === false ? undefined : new IntentCache(kv, logger);
  const service = new NetmasterService({ kv, logger, ...(cache ? { cache } : {}) });
  try {
    await service.init();
    await cache?.start();
  } catch (e) {
    await cache?.stop();
    kv.close();
    throw e;
  }
  let agent: RunningAgentSide | undefined;
  const { app, metrics } = createApp({
    service,
    logger,
    agents: () => {
      const s = agent?.server;
      return (
        s && {
          trace: (h, t) => s.traceOnAgent(h, t),
          traceHere: (h, t) => s.queries.trace(h, t),
          bgp: (h) => s.bgpOnAgent(h),
          bgpHere: (h) => s.queries.bgp(h),
        }
      );
    },
    auth: {
      ...(opts.authToken ? { adminTokens: [opts.authToken] } : {}),
      ...(opts.readOnlyToken ? { readOnlyTokens: [opts.readOnlyToken] } : {}),
      clientCertificates: opts.tls?.clientCa !== undefined,
      own: new Set(opts.tls ? fingerprintsOf(opts.tls.cert) : []),
    },
    defaultMetrics: opts.defaultMetrics ?? false,
  });
  registerBadValuesMetric(metrics.registry, kv.badValues);
  const server = await listen(app, opts.host ?? '127.0.0.1', opts.port ?? 0, opts.tls);
  try {
    agent = opts.agent
      ? await startAgentSide(
          service,
          {
            ...opts.agent,
            restUrl: opts.advertiseUrl ?? server.url,
            restCredentials: peerCredentials(opts),
            ...(opts.tls ? { ownCertificates: [opts.tls.cert] } : {}),
          },
          logger,
          metrics.registry,
        )
      : undefined;
  } catch (e) {
    await server.close();
    await cache?.stop();
    kv.close();
    throw e;
  }
  if (agent) service.realization = agent.server.realization;
  logger.info({ url: server.url, etcd: opts.etcdEndpoints }, 'netmaster serving');
  return {
    service,
    server,
    url: server.url,
    ...(agent ? { agent } : {}),
    async stop() {
      service.realization = undefined;
      await agent?.stop();
      await server.close();
      await cache?.stop();
      kv.close();
      logger.info('netmaster stopped');
    },
  };
}
