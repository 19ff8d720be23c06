/**
 * In-process netmaster replicas for the client's tests (real gRPC servers, no etcd) over one fake
 * cluster with etcd-like revisions. Each replica can be made to misbehave the ways the client must
 * survive: hang (unary calls never answered, stream left open), freeze (heartbeats answer, the
 * stream sends nothing more), never open a stream, answer like an old server (no etcd revision in
 * heartbeats, no progress marks), send snapshots in parts, or follow a test's script.
 */
import * as grpc from '@grpc/grpc-js';
import { loadAgentProto } from '../../../proto/loader';
import type { AgentHandlers } from '../../../proto/gen/netloom/v1/Agent';
import type { DesiredStateUpdate } from '../../../proto/gen/netloom/v1/DesiredStateUpdate';
import type { Endpoint } from '../../../proto/gen/netloom/v1/Endpoint';
import type { WatchRequest__Output } from '../../../proto/gen/netloom/v1/WatchRequest';
import type { RuleCounter__Output } from '../../../proto/gen/netloom/v1/RuleCounter';

/** What etcd would hold: endpoints with the revision that created them. */
export class FakeCluster {
  revision = 100;
  readonly endpoints: Array<{ ep: Endpoint; rev: number }> = [];
  private readonly listeners = new Set<() => void>();

  addEndpoint(id: string, ip: string): void {
    this.revision++;
    this.endpoints.push({ rev: this.revision, ep: { id, network: 't:n', host: 'other', ip, mac: '02:00:00:00:00:09' } });
    this.notify();
  }

  /** etcd's revision moves on with nothing for the hosts under test (another host's change) */
  bump(): void {
    this.revision++;
    this.notify();
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export type WatchCall = grpc.ServerWritableStream<WatchRequest__Output, DesiredStateUpdate>;

export interface FakeReplica {
  name: string;
  address: string;
  /** while true, unary calls are never answered (a replica that hangs, its stream left open) */
  hang: boolean;
  /** while true, streams send nothing more (heartbeats still answer): a stalled replica */
  frozen: boolean;
  /** while true, new streams are accepted but never send anything, not even their headers */
  silentStreams: boolean;
  /** heartbeats answer etcd's revision (false: like a server from before the field) */
  reportRevision: boolean;
  /** etcd moving on with nothing for the host sends a progress mark (false: nothing) */
  progressMarks: boolean;
  /** > 0: snapshots in parts of this many endpoints */
  snapshotPartSize: number;
  /** heartbeats answer 0 for a lease another replica granted (as netmaster's registrations live on one replica) */
  ownLeasesOnly: boolean;
  /** when set, serves WatchDesiredState instead of the cluster */
  script: ((call: WatchCall, from: number) => void) | undefined;
  /** calls served, by RPC name */
  calls: string[];
  /** resume revisions streams were opened with */
  resumes: string[];
  /** applied revisions the heartbeats reported */
  acks: string[];
  /** the rule counters each heartbeat carried */
  counters: RuleCounter__Output[][];
  stop(): void;
}

export const NETWORK = {
  key: 't:n',
  tenant: 't',
  name: 'n',
  encap: 'vxlan',
  pktTag: 5000,
  subnet: '10.5.0.0/24',
  gateway: '10.5.0.1',
  networkId: 5000,
};

export async function startReplica(name: string, port: number, cluster: FakeCluster): Promise<FakeReplica> {
  const unsubs = new Set<() => void>();
  const server = new grpc.Server();
  const replica: FakeReplica = {
    name,
    address: `127.0.0.1:${port}`,
    hang: false,
    frozen: false,
    silentStreams: false,
    reportRevision: true,
    progressMarks: true,
    snapshotPartSize: 0,
    ownLeasesOnly: false,
    script: undefined,
    calls: [],
    resumes: [],
    acks: [],
    counters: [],
    stop() {
      for (const u of unsubs) u();
      server.forceShutdown();
    },
  };
  const handlers: AgentHandlers = {
    // netmaster -> agent queries are not what this fake serves: the stream stays open and idle
    Queries: () => replica.calls.push('Queries'),
    AnswerQuery: (_call, cb) => cb(null, {}),
    Register: (_call, cb) => {
      replica.calls.push('Register');
      cb(null, { leaseId: replica.ownLeasesOnly ? String(port) : '7', leaseTtlSeconds: 10, clusterId: 'fake' });
    },
    Heartbeat: (call, cb) => {
      replica.calls.push('Heartbeat');
      replica.acks.push(call.request.appliedRevision);
      replica.counters.push(call.request.ruleCounters);
      const ttl = replica.ownLeasesOnly && call.request.leaseId !== String(port) ? 0 : 10;
      if (!replica.hang) cb(null, { leaseTtlSeconds: ttl, revision: replica.reportRevision ? cluster.revision : 0 });
    },
    WatchDesiredState: (call) => {
      replica.calls.push('WatchDesiredState');
      const from = Number(call.request.resumeFromRevision || '0');
      replica.resumes.push(String(from));
      if (replica.silentStreams) return;
      if (replica.script) return replica.script(call, from);
      let sent = from;
      const send = (u: DesiredStateUpdate) => call.write(u);
      if (from === 0) {
        const eps = cluster.endpoints.map((e) => e.ep);
        const size = replica.snapshotPartSize > 0 ? replica.snapshotPartSize : Math.max(1, eps.length);
        const revision = String(cluster.revision);
        for (let i = 0; i === 0 || i < eps.length; i += size) {
          const more = i + size < eps.length;
          const state = i === 0 ? { networks: [NETWORK], endpoints: eps.slice(i, i + size) } : { endpoints: eps.slice(i, i + size) };
          send({ revision, snapshot: { reason: 'INITIAL', state, more } });
        }
        sent = cluster.revision;
      }
      // `opening`: the first answer to a resume, sent even when empty so that the stream opens
      const flush = (opening = false): void => {
        if (replica.frozen) return;
        const fresh = cluster.endpoints.filter((e) => e.rev > sent);
        if (fresh.length > 0 || opening) {
          for (const e of fresh) send({ revision: String(cluster.revision), change: { key: `endpoint/${e.ep.id}`, endpoint: e.ep } });
          send({ revision: String(cluster.revision), change: { key: '' } });
        } else if (replica.progressMarks && cluster.revision > sent) {
          send({ revision: String(cluster.revision), progress: {} });
        } else return;
        sent = cluster.revision;
      };
      if (from !== 0) flush(true);
      const unsub = cluster.subscribe(() => flush());
      unsubs.add(unsub);
      call.on('cancelled', () => unsub());
    },
    CreateEndpoint: (call, cb) => {
      replica.calls.push('CreateEndpoint');
      cb(null, {
        id: `ep-${call.request.idempotencyKey}`,
        network: 't:n',
        host: call.request.host,
        ip: '10.5.0.9',
        mac: '02:00:00:00:00:0a',
        labels: { replica: name },
      });
    },
    DeleteEndpoint: (_call, cb) => {
      replica.calls.push('DeleteEndpoint');
      cb(null, { existed: true });
    },
    LookupNetwork: (call, cb) => {
      replica.calls.push('LookupNetwork');
      if (call.request.network !== 'n') {
        cb(
          Object.assign(new Error('no such network'), {
            code: grpc.status.NOT_FOUND,
            details: `network '${call.request.network}' of tenant 't' does not exist`,
          }),
        );
        return;
      }
      cb(null, { ...NETWORK, nwType: name });
    },
    SetEndpointLabels: (call, cb) => {
      replica.calls.push('SetEndpointLabels');
      cb(null, { id: call.request.id, network: 't:n', host: call.request.host, labels: call.request.labels });
    },
    ListNetworks: (_call, cb) => {
      replica.calls.push('ListNetworks');
      cb(null, { networks: [NETWORK] });
    },
    ClaimBlock: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in this fake' }),
    ReleaseBlock: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in this fake' }),
    SyncEndpoints: (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED, details: 'not in this fake' }),
  };
  server.addService(loadAgentProto().netloom.v1.Agent.service, handlers);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return replica;
}

/** Poll `fn` (real time: the gRPC traffic is real) until it returns something truthy. */
export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
