/**
 * netmaster's gRPC agent service (proto/netloom/agent.proto): Register/Heartbeat (registry.ts),
 * WatchDesiredState (desired-state.ts over a shared cluster-cache.ts), CreateEndpoint and
 * DeleteEndpoint through the NetmasterService, LookupNetwork from the cache (network-lookup.ts).
 * With `tls.clientCa` it serves mutual TLS and enforces host identity: an agent must present a
 * certificate signed by `clientCa`, and every call acts for the one host that certificate names
 * (../auth/identity.ts; netmaster's own certificate acts for none). The liveness task is not
 * started here: it runs on the leader only (see liveness.ts and netmaster/ha/leader.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { isNetloomError, NetloomError } from '../../lib/errors';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { loadAgentProto } from '../../proto/loader';
import type { AgentHandlers } from '../../proto/gen/netloom/v1/Agent';
import type { Endpoint as ProtoEndpoint } from '../../proto/gen/netloom/v1/Endpoint';
import type { CreateEndpointRequest__Output } from '../../proto/gen/netloom/v1/CreateEndpointRequest';
import { podBodyOf, podMessage } from '../kube/pod';
import type { DeleteEndpointRequest__Output } from '../../proto/gen/netloom/v1/DeleteEndpointRequest';
import type { ListNetworksRequest__Output } from '../../proto/gen/netloom/v1/ListNetworksRequest';
import type { SetEndpointLabelsRequest__Output } from '../../proto/gen/netloom/v1/SetEndpointLabelsRequest';
import type { LookupNetworkRequest__Output } from '../../proto/gen/netloom/v1/LookupNetworkRequest';
import type { Network__Output as ProtoNetwork } from '../../proto/gen/netloom/v1/Network';
import type { Endpoint } from '../model/schemas';
import type { NetmasterService } from '../service/service';
import type { EtcdKV } from '../store/kv';
import { cacheReaches, ClusterCache } from './cluster-cache';
import { DEFAULT_MAX_MESSAGE_BYTES, serveDesiredState } from './desired-state';
import { FanOut } from './fan-out';
import { PastClusters } from './past-clusters';
import { registerStreamMetrics } from './stream-metrics';
import { ViewEngine } from './view-engine';
import { serializeUpdate, UpdateEncoder } from './update-encoder';
import { listNetworks, lookupNetwork } from './network-lookup';
import { AgentRegistry, checkHost, type AgentRegistryMetrics } from './registry';
import { InspectRealization } from './inspect-realization';
import { RealizationPublisher } from './realization-publisher';
import { toServiceError } from '../../proto/status';
import type { QueryAnswer__Output } from '../../proto/gen/netloom/v1/QueryAnswer';
import type { TraceRequest } from '../../proto/gen/netloom/v1/TraceRequest';
import type { TraceResult__Output } from '../../proto/gen/netloom/v1/TraceResult';
import type { BgpInspectResult__Output } from '../../proto/gen/netloom/v1/BgpInspectResult';
import { AgentQueries } from './agent-queries';
import { bgpOnAgent, traceOnAgent } from './query-router';
import type { RestCredentials } from '../../lib/rest-credentials';
import { fingerprintsOf, hostOfCertificate, namesOf, type PeerCert } from '../auth/identity';
import type { ClaimBlockRequest__Output } from '../../proto/gen/netloom/v1/ClaimBlockRequest';
import type { ReleaseBlockRequest__Output } from '../../proto/gen/netloom/v1/ReleaseBlockRequest';
import type { SyncEndpointsRequest__Output } from '../../proto/gen/netloom/v1/SyncEndpointsRequest';
import { blockOfCidr, checkNetworkKey, claimBlock } from './block-rpc';
import { createBlockMetrics, type BlockMetrics } from './block-metrics';

export interface AgentServerTls {
  cert: Buffer;
  key: Buffer;
  /**
   * CA that signs agent certificates; when set, clients without a valid certificate are refused
   * and each call may only act for the host its certificate names (PERMISSION_DENIED otherwise)
   */
  clientCa?: Buffer;
}

export interface AgentServerOptions {
  service: NetmasterService;
  /** defaults to service.kv */
  kv?: EtcdKV;
  /** host:port; port 0 picks a free one (default 127.0.0.1:9998) */
  listen?: string;
  tls?: AgentServerTls;
  leaseTtlSeconds?: number;
  /** this replica's id in the agent records it writes (default: host name, pid, random suffix) */
  replicaId?: string;
  /** the agent registry's metrics (createAgentRegistryMetrics) */
  registryMetrics?: AgentRegistryMetrics;
  /** answered by Register (default: etcd's cluster id, in hex) */
  clusterId?: string;
  logger: Logger;
  clock?: Clock;
  /** the largest desired-state message (snapshots go in parts under it; default just under 4 MiB) */
  maxMessageBytes?: number;
  /** how often idle streams get a progress mark (default 1000 ms) */
  progressMs?: number;
  /** where the stream metrics are registered (stream-metrics.ts) */
  registry?: Registry;
  /** how often the agents' applied revisions and rule counters are published for other replicas (default 2000 ms) */
  realizationPublishMs?: number;
  /** this replica's REST URL, where other replicas forward queries to agents held here */
  restUrl?: string;
  /** how queries forwarded to other replicas' REST APIs authenticate (query-router.ts) */
  restCredentials?: RestCredentials;
  /** netmaster's other certificates (REST's): like tls.cert, they act for no host */
  ownCertificates?: Buffer[];
  /** the underlay subnets VTEP addresses must lie in (registry.ts; empty: any unicast address) */
  vtepSubnets?: string[];
  /** the address-block metrics (block-metrics.ts; default: made here, in `registry` when given) */
  blockMetrics?: BlockMetrics;
}

export interface RunningAgentServer {
  /** host:port actually bound */
  address: string;
  port: number;
  cache: ClusterCache;
  registry: AgentRegistry;
  views: ViewEngine;
  fanOut: FanOut;
  /** shares this replica's agents' applied revisions and rule counters with the other replicas */
  publisher: RealizationPublisher;
  /** inspect's realization, from this replica's cache, its agents and the other replicas' reports */
  realization: InspectRealization;
  /** open desired-state streams */
  readonly streams: number;
  /** the agents' query streams open here */
  queries: AgentQueries;
  /** trace on the agent of `host`, here or through the replica that holds it (query-router.ts) */
  traceOnAgent(host: string, trace: TraceRequest): Promise<TraceResult__Output>;
  /** the BGP sessions and routes of the agent of `host`, here or through the replica that holds it */
  bgpOnAgent(host: string): Promise<BgpInspectResult__Output>;
  stop(): Promise<void>;
}

export const DEFAULT_GRPC_LISTEN = '127.0.0.1:9998';

/** The service's endpoint as the proto's Endpoint. */
export function toProtoEndpoint(e: Endpoint, vtepIp = ''): ProtoEndpoint {
  return {
    id: e.endpointID,
    network: e.network,
    group: e.groupName ? `${e.tenantName}:${e.groupName}` : '',
    host: e.homingHost,
    ip: e.ipAddress,
    ipv6: e.ipv6Address,
    mac: e.macAddress,
    intfName: e.intfName,
    vtepIp: e.vtepIP || vtepIp,
    containerId: e.containerID,
    containerName: e.containerName,
    labels: { ...e.labels },
    revision: '0',
    external: e.external === true,
    pod: e.pod ? podMessage(e.pod) : null,
  };
}

/** A CreateEndpointRequest as the service's endpoint request body. */
export function endpointBodyOf(r: CreateEndpointRequest__Output, vtepIp: string): Record<string, unknown> {
  if (!r.host) throw new NetloomError('INVALID_ARGUMENT', 'host is required', { field: 'host' });
  checkHost(r.host);
  if (!r.idempotencyKey && !r.containerId)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      'idempotency_key (or container_id) is required so that a retried create returns the same endpoint',
      { field: 'idempotency_key' },
    );
  return {
    tenantName: r.tenant || 'default',
    networkName: r.network,
    groupName: r.group,
    homingHost: r.host,
    intfName: r.intfName,
    vtepIP: vtepIp,
    labels: r.labels ?? {},
    containerID: r.containerId,
    macAddress: r.requestedMac,
    containerName: r.containerName,
    idempotencyKey: r.idempotencyKey,
    ipAddress: r.requestedIp,
    ...(r.pod ? { pod: podBodyOf(r.pod) } : {}),
  };
}

/** The peer certificate of a call (undefined without TLS or without a client certificate). */
interface AuthCall {
  getAuthContext(): { sslPeerCertificate?: PeerCert };
}

function unary<Req, Res>(what: string, logger: Logger, fn: (req: Req, call: AuthCall) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (e: unknown) => {
        const se = toServiceError(e);
        logger.debug({ rpc: what, code: se.code, err: se.details }, 'agent rpc failed');
        callback(se);
      },
    );
  };
}

export async function startAgentServer(opts: AgentServerOptions): Promise<RunningAgentServer> {
  const kv = opts.kv ?? opts.service.kv;
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  const registry = new AgentRegistry({
    kv,
    clock,
    logger,
    ...(opts.leaseTtlSeconds !== undefined ? { leaseTtlSeconds: opts.leaseTtlSeconds } : {}),
    ...(opts.replicaId !== undefined ? { replicaId: opts.replicaId } : {}),
    ...(opts.registryMetrics ? { metrics: opts.registryMetrics } : {}),
    ...(opts.restUrl ? { restUrl: opts.restUrl } : {}),
    ...(opts.vtepSubnets ? { vtepSubnets: opts.vtepSubnets } : {}),
  });
  await registry.start();
  const queries = new AgentQueries(clock);
  const cache = new ClusterCache(kv, logger, { clock });
  const views = new ViewEngine(() => cache.state);
  // the engine only marks what changed, in proportion to the change; fan-out sends it later
  cache.subscribe((_state, batch) => (batch.reload ? views.reload() : views.enqueue(batch.changes)));
  await cache.start().catch(async (e: unknown) => {
    await registry.stop();
    throw e;
  });
  const fanOut = new FanOut({
    clock,
    revision: () => cache.state.revision,
    progressMs: opts.progressMs ?? 1000,
    settle: () => views.settle(),
  });
  const publisher = new RealizationPublisher({
    registry,
    changedAt: () => cache.changedAt,
    clock,
    logger,
    ...(opts.realizationPublishMs !== undefined ? { periodMs: opts.realizationPublishMs } : {}),
  });
  const realization = new InspectRealization({ cache, registry, kv, currentRevision: () => opts.service.currentRevision(), clock });
  const pastClusters = new PastClusters(kv, { clock });
  const encoder = new UpdateEncoder();
  let clusterId = opts.clusterId;
  if (clusterId === undefined) {
    try {
      clusterId = await kv.clusterId();
    } catch {
      clusterId = 'netloom';
    }
  }
  const enders = new Set<() => void>();
  if (opts.registry) registerStreamMetrics(opts.registry, { streams: () => enders.size, views, fanOut });
  const blockMetrics = opts.blockMetrics ?? createBlockMetrics(opts.registry, () => cache.state);
  const svc = opts.service;
  const hostMatch = Boolean(opts.tls?.clientCa);
  const own = new Set([
    ...(opts.tls ? fingerprintsOf(opts.tls.cert) : []),
    ...(opts.ownCertificates ?? []).flatMap((c) => fingerprintsOf(c)),
  ]);
  /** With mutual TLS: refuse a call for a host other than the one the client certificate acts for. */
  const authorize = (call: AuthCall, host: string): void => {
    if (!hostMatch) return;
    const cert = call.getAuthContext().sslPeerCertificate;
    const id = hostOfCertificate(cert, own);
    const acting = 'host' in id ? id.host : undefined;
    if (acting !== undefined && acting === host) return;
    const why = 'refused' in id ? id.refused : `the client certificate acts for host '${acting ?? ''}'`;
    logger.warn({ host, certificate: cert ? namesOf(cert) : [], why }, 'agent call refused: host identity');
    throw new NetloomError('PERMISSION_DENIED', `${why}: it may not act for host '${host}'`, { field: 'host' });
  };

  const deleteEndpoint = async (r: DeleteEndpointRequest__Output): Promise<{ existed: boolean }> => {
    if (!r.id && !r.idempotencyKey) throw new NetloomError('INVALID_ARGUMENT', 'id or idempotency_key is required', { field: 'id' });
    let ep: Endpoint | undefined;
    if (r.id) {
      ep = cache.state.endpoints.get(r.id)?.ep;
      if (!ep)
        ep = await svc
          .getEndpoint(r.id)
          .catch((e: unknown) => (e instanceof NetloomError && e.code === 'NOT_FOUND' ? undefined : Promise.reject(e)));
    } else {
      const match = (e: Endpoint) => e.idempotencyKey === r.idempotencyKey && (!r.host || e.homingHost === r.host);
      ep = [...cache.state.endpoints.values()].map((x) => x.ep).find(match);
      // the cache may lag a create that just committed
      if (!ep) ep = (await svc.listEndpoints(r.host ? { host: r.host } : {})).find(match);
    }
    if (!ep) return { existed: false };
    if (r.host && ep.homingHost && ep.homingHost !== r.host) {
      throw new NetloomError('CONFLICT', `endpoint ${ep.endpointID} belongs to host ${ep.homingHost}, not ${r.host}`, { field: 'host' });
    }
    const res = await svc.deleteEndpoint(ep.endpointID);
    return { existed: res.deleted };
  };

  /**
   * A network from the cache; on NOT_FOUND the cache may lag a network created a moment ago
   * (through another replica, say): wait (at most a second) until it has applied etcd's current
   * revision and look again.
   */
  const findNetwork = async (r: LookupNetworkRequest__Output): Promise<ProtoNetwork> => {
    const q = { tenant: r.tenant, network: r.network, subnet: r.subnet };
    try {
      return lookupNetwork(cache.state, q);
    } catch (e) {
      if (!isNetloomError(e, 'NOT_FOUND')) throw e;
    }
    await cacheReaches(cache, BigInt(await svc.currentRevision()), () => false, 1000, clock);
    return lookupNetwork(cache.state, q);
  };

  const handlers: AgentHandlers = {
    Register: unary('Register', logger, async (r, call) => {
      authorize(call, r.host);
      const res = await registry.register({
        host: r.host,
        vtepIp: r.vtepIp,
        mgmtIp: r.mgmtIp,
        capabilities: r.capabilities,
        agentVersion: r.agentVersion,
      });
      return { leaseId: res.leaseId, leaseTtlSeconds: res.ttlSeconds, clusterId };
    }),
    Heartbeat: unary('Heartbeat', logger, async (r, call) => {
      authorize(call, r.host);
      // memory only: never waits for etcd (nor for anything else)
      return {
        leaseTtlSeconds: registry.heartbeat(r.host, r.leaseId, r.appliedRevision, r.ruleCounters ?? [], r.serviceCounters ?? []),
        revision: registry.etcdRevision,
      };
    }),
    WatchDesiredState: (call) => {
      try {
        authorize(call, call.request.host);
      } catch (e) {
        call.emit('error', toServiceError(e));
        return;
      }
      void serveDesiredState(call, {
        cache,
        views,
        fanOut,
        pastCluster: (rev) => pastClusters.get(rev),
        maxMessageBytes: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        encoder,
        clock,
        logger,
        track: (end) => {
          enders.add(end);
          return () => enders.delete(end);
        },
      });
    },
    CreateEndpoint: unary('CreateEndpoint', logger, async (r: CreateEndpointRequest__Output, call) => {
      authorize(call, r.host);
      const vtep = r.host ? (cache.state.agents.get(r.host)?.vtepIp ?? '') : '';
      const ep = await svc.createEndpoint(endpointBodyOf(r, vtep));
      return toProtoEndpoint(ep, vtep);
    }),
    DeleteEndpoint: unary('DeleteEndpoint', logger, async (r: DeleteEndpointRequest__Output, call) => {
      // with mutual TLS the host is required, and only that host's endpoints can be deleted
      authorize(call, r.host);
      return deleteEndpoint(r);
    }),
    LookupNetwork: unary('LookupNetwork', logger, async (r: LookupNetworkRequest__Output, call) => {
      // with mutual TLS the host is required (only hosts' agents look networks up)
      authorize(call, r.host);
      return findNetwork(r);
    }),
    SetEndpointLabels: unary('SetEndpointLabels', logger, async (r: SetEndpointLabelsRequest__Output, call) => {
      // with mutual TLS the host is required, and only that host's endpoints can be changed
      authorize(call, r.host);
      if (!r.id) throw new NetloomError('INVALID_ARGUMENT', 'id is required', { field: 'id' });
      const ep = await svc.setEndpointLabels(r.id, r.labels ?? {}, r.host || undefined);
      return toProtoEndpoint(ep, cache.state.agents.get(ep.homingHost)?.vtepIp ?? '');
    }),
    ListNetworks: unary('ListNetworks', logger, async (r: ListNetworksRequest__Output, call) => {
      // with mutual TLS the host is required (only hosts' agents list networks)
      authorize(call, r.host);
      return { networks: listNetworks(cache.state) };
    }),
    Queries: (call) => {
      try {
        checkHost(call.request.host);
        authorize(call, call.request.host);
      } catch (e) {
        call.emit('error', toServiceError(e));
        return;
      }
      queries.attach(call.request.host, call);
    },
    AnswerQuery: unary('AnswerQuery', logger, async (r: QueryAnswer__Output, call) => {
      authorize(call, r.host);
      if (!queries.answer(r)) logger.debug({ host: r.host, id: r.id }, 'query answer nobody waits for (timed out?)');
      return {};
    }),
    // address blocks (issue 15): service/blocks.ts, service/endpoint-sync.ts
    ClaimBlock: unary('ClaimBlock', logger, async (r: ClaimBlockRequest__Output, call) => {
      authorize(call, r.host);
      try {
        const res = await claimBlock(svc, r);
        blockMetrics.claims.inc({ outcome: res.existing ? 'existing' : 'claimed' });
        return { network: r.network, cidr: res.block.cidr, host: r.host, vtepIp: cache.state.agents.get(r.host)?.vtepIp ?? '' };
      } catch (e) {
        blockMetrics.claims.inc({ outcome: isNetloomError(e) ? e.code.toLowerCase() : 'error' });
        throw e;
      }
    }),
    ReleaseBlock: unary('ReleaseBlock', logger, async (r: ReleaseBlockRequest__Output, call) => {
      authorize(call, r.host);
      checkNetworkKey(r.network);
      const released = await svc.blocks.release(r.network, blockOfCidr(r.cidr), r.host);
      return { released: released.released };
    }),
    SyncEndpoints: unary('SyncEndpoints', logger, async (r: SyncEndpointsRequest__Output, call) => {
      authorize(call, r.host);
      checkHost(r.host);
      const res = await svc.endpointSync.sync(r.host, r.deregister, r.register, cache.state.agents.get(r.host)?.vtepIp ?? '');
      for (const x of res.registered) blockMetrics.registrations.inc({ outcome: x.outcome });
      for (const x of res.deregistered) blockMetrics.deregistrations.inc({ outcome: x.outcome });
      return res;
    }),
  };

  const server = new grpc.Server();
  const definition = loadAgentProto().netloom.v1.Agent.service;
  const watch = definition.WatchDesiredState;
  // updates the encoder assembled go out as they are
  const patched = { ...definition, WatchDesiredState: { ...watch, responseSerialize: serializeUpdate(watch.responseSerialize) } };
  server.addService(patched, handlers);
  let creds: grpc.ServerCredentials;
  if (opts.tls) {
    if (!opts.tls.clientCa) logger.warn('gRPC TLS without a client CA: agents are not authenticated');
    creds = grpc.ServerCredentials.createSsl(
      opts.tls.clientCa ?? null,
      [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }],
      opts.tls.clientCa !== undefined,
    );
  } else {
    creds = grpc.ServerCredentials.createInsecure();
  }
  const listen = opts.listen ?? DEFAULT_GRPC_LISTEN;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => server.bindAsync(listen, creds, (err, p) => (err ? reject(err) : resolve(p))));
  } catch (e) {
    fanOut.stop();
    await cache.stop();
    await registry.stop();
    throw new NetloomError('UNAVAILABLE', `gRPC server cannot listen on ${listen}: ${e instanceof Error ? e.message : String(e)}`, {
      field: 'listen',
    });
  }
  const host = listen.slice(0, listen.lastIndexOf(':'));
  const address = `${host}:${port}`;
  logger.info(
    { address, tls: Boolean(opts.tls), mutual: Boolean(opts.tls?.clientCa), leaseTtl: registry.ttlSeconds },
    'agent gRPC server listening',
  );
  publisher.start();
  const routerDeps = { queries, kv, replicaId: registry.replicaId, ...(opts.restCredentials ? { credentials: opts.restCredentials } : {}) };
  return {
    address,
    port,
    cache,
    registry,
    views,
    fanOut,
    publisher,
    realization,
    get streams() {
      return enders.size;
    },
    queries,
    traceOnAgent: (host, trace) => traceOnAgent(routerDeps, host, trace),
    bgpOnAgent: (host) => bgpOnAgent(routerDeps, host),
    async stop() {
      queries.stop();
      for (const end of [...enders]) end();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      fanOut.stop();
      await publisher.stop();
      await cache.stop();
      await registry.stop();
      logger.info({ address }, 'agent gRPC server stopped');
    },
  };
}
