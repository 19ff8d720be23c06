/**
 * Agent registration and liveness, one registry per running agent server (one netmaster
 * replica). Agent liveness lives in memory; etcd sees only registrations and expiries, in batches:
 *
 * - `register` validates the request and writes the agent record `agent/host/<host>` (with this
 *   replica's id and the registration id) attached to the replica's session lease
 *   (replica-session.ts), plus the lease-less `agent/known/<host>` marker the liveness task uses.
 *   Registrations that arrive together share one transaction (write-batcher.ts).
 * - `heartbeat` is memory only: the TTL when this replica holds the host under that registration
 *   id (its last-seen time, applied revision and rule counters are refreshed), else 0 (register
 *   again). realization-publisher.ts shares the latter two with the other replicas.
 * - a sweeper deletes the records of hosts not heard from for a TTL (guarded: a record rewritten
 *   meanwhile, by a newer registration here or at another replica, stays) and forgets them.
 * - a watch on `agent/host/` drops the hosts whose record another registration took over (the
 *   agent failed over to another replica, or registered again there). A record deleted by
 *   someone else is dropped too, unless the session lease was lost: then the session is renewed
 *   and every held record written again on the new lease.
 * - `etcdRevision`: the newest revision seen in etcd's own replies (a probe about once a second,
 *   and every commit), answered in heartbeats so that agents can tell a stalled stream.
 *
 * Registration ids (the proto's lease_id): `revision * 2^16 + n`, where `revision` is that of
 * the latest commit with a put that this replica made (its replica marker at start, then each
 * batch of writes) and n counts the ids handed out since that commit (1, 2, ...). A revision
 * belongs to exactly one transaction, hence to one replica, so ids are unique cluster-wide
 * (and positive int64 while revisions stay below 2^47).
 *
 * Duplicate hosts: the newer registration wins when it gives the same VTEP (an agent restarted,
 * or moved to another replica). On this replica the table entry is replaced, on another the watch
 * sees the record name another registration; either way the older agent's next heartbeat answers
 * 0 (and that agent, if it registers again, becomes the newer one). A registration with ANOTHER
 * VTEP while the host's record lives (its agent heartbeats somewhere) is refused and logged: the
 * live agent keeps its VTEP, and a changed VTEP is taken once the old record expired (a TTL). The
 * record's revision guards the write, so two registrations racing cannot both pass the check.
 * VTEPs must also lie in the configured underlay subnets (vtep-policy.ts).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Backoff } from '../../lib/backoff';
import { NetloomError, errorMessage } from '../../lib/errors';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import type { KeyValue, ReadOp, WatchEvent } from '../store/kv';
import { agentLayout, type AgentRecord } from '../store/agent-layout';
import { storeError } from '../store/errors';
import { ReplicaSession, type SessionKv } from './replica-session';
import { WriteBatcher, type BatchItem, type BatchKv, type BatchResult } from './write-batcher';
import { MAX_RULE_COUNTERS, MAX_RULE_ID_LENGTH } from '../../proto/rule-counters';
import { MAX_SERVICE_COUNTERS, MAX_SERVICE_ENDPOINT_ID_LENGTH, MAX_SERVICE_KEY_LENGTH } from '../../proto/service-counters';
import { checkVtep, parseVtepSubnets, type VtepSubnet } from './vtep-policy';

export const DEFAULT_LEASE_TTL_SECONDS = 10;

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ID_RE = /^[1-9]\d*$/;
/** ids handed out per commit revision (see the module comment) */
const IDS_PER_REVISION = 1n << 16n;

export interface RegisterInput {
  host: string;
  vtepIp: string;
  mgmtIp: string;
  capabilities: string[];
  agentVersion: string;
}

export function checkHost(host: string, field = 'host'): void {
  if (!HOST_RE.test(host))
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `${field} must be a host name (letters, digits, '.', '-', '_'; 1..128 characters), got '${host}'`,
      { field },
    );
}

const COUNT_RE = /^\d{1,20}$/;

/** A heartbeat's rule counters: at most MAX_RULE_COUNTERS, each a rule id and two counts. */
function checkRuleCounters(list: readonly HostRuleCounter[]): void {
  const field = 'rule_counters';
  if (list.length > MAX_RULE_COUNTERS)
    throw new NetloomError('INVALID_ARGUMENT', `${field} carries ${list.length} rules, at most ${MAX_RULE_COUNTERS}`, { field });
  for (const c of list) {
    if (c.ruleId.length === 0 || c.ruleId.length > MAX_RULE_ID_LENGTH)
      throw new NetloomError('INVALID_ARGUMENT', `${field}.rule_id must be 1..${MAX_RULE_ID_LENGTH} characters`, { field });
    if (!COUNT_RE.test(c.packets) || !COUNT_RE.test(c.bytes))
      throw new NetloomError('INVALID_ARGUMENT', `${field} of ${c.ruleId}: packets and bytes must be unsigned integers`, { field });
  }
}

/** A heartbeat's service counters: at most MAX_SERVICE_COUNTERS, each a service, a provider and three counts. */
function checkServiceCounters(list: readonly HostServiceCounter[]): void {
  const field = 'service_counters';
  if (list.length > MAX_SERVICE_COUNTERS)
    throw new NetloomError('INVALID_ARGUMENT', `${field} carries ${list.length} providers, at most ${MAX_SERVICE_COUNTERS}`, { field });
  for (const c of list) {
    if (c.service.length === 0 || c.service.length > MAX_SERVICE_KEY_LENGTH)
      throw new NetloomError('INVALID_ARGUMENT', `${field}.service must be 1..${MAX_SERVICE_KEY_LENGTH} characters`, { field });
    if (c.endpointId.length === 0 || c.endpointId.length > MAX_SERVICE_ENDPOINT_ID_LENGTH)
      throw new NetloomError('INVALID_ARGUMENT', `${field}.endpoint_id must be 1..${MAX_SERVICE_ENDPOINT_ID_LENGTH} characters`, {
        field,
      });
    if (!COUNT_RE.test(c.packets) || !COUNT_RE.test(c.bytes) || !COUNT_RE.test(c.connections))
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `${field} of ${c.service}/${c.endpointId}: packets, bytes and connections must be unsigned integers`,
        { field },
      );
  }
}

/** What the registry needs of EtcdKV (unit tests hand in a fake). */
export interface RegistryKv extends SessionKv, BatchKv {
  read(ops: readonly ReadOp[]): Promise<{ revision: string; results: { kvs: KeyValue[] }[] }>;
  list(prefix: string): Promise<{ revision: string; kvs: KeyValue[] }>;
  watchBatches(
    prefix: string,
    sinceRevision: string,
    onBatch: (events: WatchEvent[]) => void,
    onError: (e: Error) => void,
  ): Promise<() => Promise<void>>;
}

export interface AgentRegistryMetrics {
  registered: Gauge;
  registrations: Counter;
  heartbeatsRejected: Counter;
  expiries: Counter;
  takeovers: Counter;
  refused: Counter;
}

/** The registry's metrics, registered in `registry` when given (see liveness.ts). */
export function createAgentRegistryMetrics(registry?: Registry): AgentRegistryMetrics {
  const registers = registry ? [registry] : [];
  return {
    registered: new Gauge({ name: 'netmaster_agents_registered', help: 'Agents registered on this netmaster replica', registers }),
    registrations: new Counter({
      name: 'netmaster_agent_registrations_total',
      help: 'Agent registrations accepted by this replica',
      registers,
    }),
    heartbeatsRejected: new Counter({
      name: 'netmaster_agent_heartbeats_rejected_total',
      help: 'Heartbeats answered with TTL 0 (registration unknown here: the agent registers again)',
      registers,
    }),
    expiries: new Counter({
      name: 'netmaster_agent_expiries_total',
      help: 'Agents dropped by this replica for not heartbeating within the lease TTL',
      registers,
    }),
    takeovers: new Counter({
      name: 'netmaster_agent_takeovers_total',
      help: 'Agents dropped by this replica because their record was taken over (or deleted) elsewhere',
      registers,
    }),
    refused: new Counter({
      name: 'netmaster_agent_registrations_refused_total',
      help: 'Registrations refused: another VTEP than the live registration of the host, or a VTEP outside the underlay',
      labelNames: ['reason'],
      registers,
    }),
  };
}

/** One rule's counters on one host, as the agent reported them (decimal strings). */
export interface HostRuleCounter {
  ruleId: string;
  packets: string;
  bytes: string;
}

/** One service provider's counters on one host, as the agent reported them (decimal strings). */
export interface HostServiceCounter {
  /** the service's key, tenant:service */
  service: string;
  endpointId: string;
  packets: string;
  bytes: string;
  connections: string;
}

/** One registration as `agents()` lists it (for acknowledgements and status). */
export interface AgentStatus {
  host: string;
  /** the registration id */
  id: string;
  replica: string;
  vtepIp: string;
  registeredAt: string;
  /** ms since the last heartbeat (or the registration) */
  lastSeenMs: number;
  /** the last revision of its desired state the agent said it applied ('0': none yet) */
  appliedRevision: string;
  /** the policy rules' counters of its last heartbeat that carried any, by rule id */
  ruleCounters: readonly HostRuleCounter[];
  serviceCounters: readonly HostServiceCounter[];
  /** the mod revision of its agent record as this replica last wrote it */
  recordRevision: string;
}

export interface AgentRegistryOptions {
  kv: RegistryKv;
  clock: Clock;
  logger: Logger;
  leaseTtlSeconds?: number;
  /** this replica's id in the records (default: host name, pid and a random suffix) */
  replicaId?: string;
  metrics?: AgentRegistryMetrics;
  /** how often stale agents are looked for (default ttl/4, at least 200 ms) */
  sweepMs?: number;
  /** how often etcd's revision is read (default 1000 ms) */
  probeMs?: number;
  /** write ops per transaction (default 64) */
  maxOpsPerTxn?: number;
  /** this replica's REST URL, recorded in its marker (other replicas forward agent queries there) */
  restUrl?: string;
  /** IPv4 CIDRs every VTEP must lie in (`--vtep-subnets`; empty or absent: any unicast address) */
  vtepSubnets?: readonly string[];
}

interface Entry {
  host: string;
  id: string;
  record: AgentRecord;
  /** revision of this replica's last write of the record */
  modRevision: string;
  /** clock.monotonic() of the registration or last heartbeat */
  lastSeen: number;
  appliedRevision: string;
  ruleCounters: readonly HostRuleCounter[];
  serviceCounters: readonly HostServiceCounter[];
}

function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const maxRev = (a: string, b: string): string => (BigInt(a) >= BigInt(b) ? a : b);

/** The VTEP of a stored agent record ('' when it names none or cannot be read). */
function vtepOf(value: string): string {
  try {
    const v = (JSON.parse(value) as Partial<AgentRecord>).vtepIp;
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

export class AgentRegistry {
  readonly replicaId: string;
  private readonly table = new Map<string, Entry>();
  /** newest revision of each host's record seen by the watch (any replica), and whether it was a delete */
  private readonly latest = new Map<string, { modRevision: string; deleted: boolean }>();
  /** each host's record as etcd last showed it (any replica): its VTEP and revision */
  private readonly records = new Map<string, { vtepIp: string; modRevision: string }>();
  private readonly vtepSubnets: VtepSubnet[];
  /** hosts held here whose record someone deleted: dropped unless the session lease was lost */
  private readonly missing = new Set<string>();
  /** hosts expired here whose record is still to be deleted (guarded by the record's revision) */
  private readonly toDelete = new Map<string, string>();
  /** hosts of toDelete whose delete is in a commit now */
  private readonly deleting = new Set<string>();
  private readonly session: ReplicaSession;
  private readonly batcher: WriteBatcher;
  private readonly metrics: AgentRegistryMetrics;
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private stopWatch: (() => Promise<void>) | undefined;
  private checkingMissing: Promise<void> | undefined;
  private revision = '0';
  private idBase = 0n;
  private idSeq = 0n;
  private started = false;

  constructor(private readonly deps: AgentRegistryOptions) {
    this.replicaId = deps.replicaId ?? defaultReplicaId();
    this.vtepSubnets = parseVtepSubnets(deps.vtepSubnets ?? []);
    this.metrics = deps.metrics ?? createAgentRegistryMetrics();
    this.session = new ReplicaSession({
      kv: deps.kv,
      clock: deps.clock,
      logger: deps.logger,
      ttlSeconds: this.ttlSeconds,
      onRenewed: (lease) => this.writeAllAgain(lease),
    });
    this.batcher = new WriteBatcher({
      kv: deps.kv,
      lease: () => this.session.current(),
      leaseLost: (lease) => this.session.replace(lease),
      committed: (revision, wrote) => {
        this.observe(revision);
        if (wrote && BigInt(revision) > this.idBase) {
          this.idBase = BigInt(revision);
          this.idSeq = 0n;
        }
      },
      maxOps: deps.maxOpsPerTxn ?? 64,
    });
  }

  get ttlSeconds(): number {
    return this.deps.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
  }

  /** The newest etcd revision seen in etcd's replies to this replica (probe and commits). */
  get etcdRevision(): string {
    return this.revision;
  }

  /** Agents registered on this replica. */
  get size(): number {
    return this.table.size;
  }

  /** The session lease the records are attached to ('' before start). */
  get sessionLease(): string {
    return this.session.leaseId;
  }

  /** etcd transactions the registry's writes took so far. */
  get commits(): number {
    return this.batcher.commits;
  }

  /**
   * Read the records, watch them, grant the session lease, write this replica's marker (the
   * first revision ids are made from) and start the keep-alive, sweeper and revision probe.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.startWatch();
    await this.session.start();
    await this.writeMarker();
    const sweepMs = this.deps.sweepMs ?? Math.max(200, Math.floor((this.ttlSeconds * 1000) / 4));
    this.loops.push(this.every(sweepMs, () => this.sweep(), 'agent sweep failed'));
    this.loops.push(this.every(this.deps.probeMs ?? 1000, () => this.probe(), 'etcd revision probe failed', 'debug'));
    this.deps.logger.info({ replica: this.replicaId, lease: this.session.leaseId, ttl: this.ttlSeconds }, 'agent registry started');
  }

  /** Stop the loops and the watch. Records stay on the session lease until it expires (a TTL). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
    await this.checkingMissing;
    await this.session.stop();
    await this.stopWatch?.().catch(() => undefined);
    this.stopWatch = undefined;
  }

  async register(req: RegisterInput): Promise<{ leaseId: string; ttlSeconds: number }> {
    checkHost(req.host);
    if (req.vtepIp !== '' && !IPV4_RE.test(req.vtepIp))
      throw new NetloomError('INVALID_ARGUMENT', `vtep_ip must be an IPv4 address, got '${req.vtepIp}'`, { field: 'vtep_ip' });
    if (req.mgmtIp !== '' && !IPV4_RE.test(req.mgmtIp))
      throw new NetloomError('INVALID_ARGUMENT', `mgmt_ip must be an IPv4 address, got '${req.mgmtIp}'`, { field: 'mgmt_ip' });
    try {
      checkVtep(req.vtepIp, this.vtepSubnets);
    } catch (e) {
      this.metrics.refused.inc({ reason: 'vtep-outside-underlay' });
      this.deps.logger.warn({ host: req.host, vtepIp: req.vtepIp, err: errorMessage(e) }, 'agent registration refused: VTEP');
      throw e;
    }
    if (!this.started || this.stopping.signal.aborted) throw new NetloomError('UNAVAILABLE', 'agent registry not running');
    const id = this.nextId();
    const record: AgentRecord = {
      host: req.host,
      vtepIp: req.vtepIp,
      mgmtIp: req.mgmtIp,
      capabilities: [...req.capabilities],
      agentVersion: req.agentVersion,
      registeredAt: new Date(this.deps.clock.now()).toISOString(),
      leaseId: id,
      replica: this.replicaId,
    };
    const key = agentLayout.host(req.host);
    const value = JSON.stringify(record);
    let revision = '';
    // the live record (as the watch showed it, or as read after a lost race) decides
    let seen = this.records.get(req.host);
    for (let attempt = 0; ; attempt++) {
      if (seen && seen.vtepIp !== req.vtepIp) {
        this.metrics.refused.inc({ reason: 'vtep-conflict' });
        this.deps.logger.warn(
          { host: req.host, vtepIp: req.vtepIp, liveVtepIp: seen.vtepIp },
          'agent registration refused: the host is registered and alive with another VTEP',
        );
        throw new NetloomError(
          'CONFLICT',
          `host ${req.host} is registered and alive with VTEP ${seen.vtepIp || '(none)'}: a registration with ${req.vtepIp || 'no VTEP'} is refused until that registration expires`,
          { field: 'vtep_ip' },
        );
      }
      let res: BatchResult;
      try {
        res = await this.batcher.submit({
          keys: [key, agentLayout.known(req.host)],
          guards: [{ key, modRevision: seen?.modRevision ?? '0' }],
          writes: (lease) => [
            { kind: 'put', key, value, lease },
            { kind: 'put', key: agentLayout.known(req.host), value: req.host },
          ],
        });
      } catch (e) {
        throw storeError(e);
      }
      if (res.ok) {
        revision = res.revision;
        break;
      }
      if (attempt >= 4) throw new NetloomError('UNAVAILABLE', `host ${req.host} is being registered concurrently: try again`);
      // written meanwhile (by another registration): look at it again
      let kvs: KeyValue[];
      try {
        kvs = (await this.deps.kv.read([{ kind: 'get', key }])).results[0]?.kvs ?? [];
      } catch (e) {
        throw storeError(e);
      }
      seen = kvs[0] ? { vtepIp: vtepOf(kvs[0].value), modRevision: kvs[0].modRevision } : undefined;
    }
    this.noteRecord(req.host, req.vtepIp, revision);
    this.metrics.registrations.inc();
    const newer = this.latest.get(req.host);
    if (newer && BigInt(newer.modRevision) > BigInt(revision)) {
      // another registration of the host committed after this one (seen by the watch already)
      this.deps.logger.warn({ host: req.host, id, revision, newer: newer.modRevision }, 'agent registered, but a newer registration won');
      return { leaseId: id, ttlSeconds: this.ttlSeconds };
    }
    const previous = this.table.get(req.host);
    if (previous && BigInt(previous.modRevision) > BigInt(revision)) return { leaseId: id, ttlSeconds: this.ttlSeconds };
    this.toDelete.delete(req.host);
    this.missing.delete(req.host);
    this.table.set(req.host, {
      host: req.host,
      id,
      record,
      modRevision: revision,
      lastSeen: this.deps.clock.monotonic(),
      appliedRevision: '0',
      ruleCounters: [],
      serviceCounters: [],
    });
    this.metrics.registered.set(this.table.size);
    if (previous)
      this.deps.logger.warn(
        { host: req.host, oldId: previous.id, newId: id },
        'host registered again while alive: the older registration was replaced',
      );
    this.deps.logger.info({ host: req.host, vtepIp: req.vtepIp, id, replica: this.replicaId, ttl: this.ttlSeconds }, 'agent registered');
    return { leaseId: id, ttlSeconds: this.ttlSeconds };
  }

  /**
   * Memory only: the TTL when this replica holds `host` under registration `id` (its last-seen
   * time and applied revision are refreshed), 0 otherwise (the agent registers again).
   */
  heartbeat(
    host: string,
    id: string,
    appliedRevision = '0',
    ruleCounters: readonly HostRuleCounter[] = [],
    serviceCounters: readonly HostServiceCounter[] = [],
  ): number {
    checkHost(host);
    if (!ID_RE.test(id))
      throw new NetloomError('INVALID_ARGUMENT', `lease_id must be a positive integer, got '${id}'`, { field: 'lease_id' });
    checkRuleCounters(ruleCounters);
    checkServiceCounters(serviceCounters);
    const e = this.table.get(host);
    if (!e || e.id !== id) {
      this.metrics.heartbeatsRejected.inc();
      return 0;
    }
    e.lastSeen = this.deps.clock.monotonic();
    if (/^\d+$/.test(appliedRevision) && BigInt(appliedRevision) >= BigInt(e.appliedRevision)) e.appliedRevision = appliedRevision;
    e.ruleCounters = ruleCounters.map((c) => ({ ruleId: c.ruleId, packets: c.packets, bytes: c.bytes }));
    e.serviceCounters = serviceCounters.map((c) => ({
      service: c.service,
      endpointId: c.endpointId,
      packets: c.packets,
      bytes: c.bytes,
      connections: c.connections,
    }));
    return this.ttlSeconds;
  }

  /** Write on the session lease, batched with the registry's own writes (realization-publisher.ts). */
  writeOnSession(item: BatchItem): Promise<BatchResult> {
    return this.batcher.submit(item);
  }

  /** How many times the session lease was lost and replaced (what was on it is gone). */
  get sessionRenewals(): number {
    return this.session.renewed;
  }

  /** The agents registered on this replica. */
  agents(): AgentStatus[] {
    const now = this.deps.clock.monotonic();
    return [...this.table.values()].map((e) => ({
      host: e.host,
      id: e.id,
      replica: this.replicaId,
      vtepIp: e.record.vtepIp,
      registeredAt: e.record.registeredAt,
      lastSeenMs: Math.max(0, Math.round(now - e.lastSeen)),
      appliedRevision: e.appliedRevision,
      ruleCounters: e.ruleCounters,
      serviceCounters: e.serviceCounters,
      recordRevision: e.modRevision,
    }));
  }

  /** Look for agents silent for longer than the TTL now (the sweeper's work; tests call it too). */
  async sweep(): Promise<void> {
    const now = this.deps.clock.monotonic();
    const limit = this.ttlSeconds * 1000;
    for (const e of [...this.table.values()]) {
      const silent = now - e.lastSeen;
      if (silent <= limit) continue;
      this.table.delete(e.host);
      this.toDelete.set(e.host, e.modRevision);
      this.metrics.expiries.inc();
      this.deps.logger.warn(
        { host: e.host, id: e.id, silentMs: Math.round(silent), ttl: this.ttlSeconds },
        'agent expired: no heartbeat within the lease TTL',
      );
    }
    this.metrics.registered.set(this.table.size);
    const due = [...this.toDelete].filter(([host]) => !this.deleting.has(host));
    if (due.length === 0) return;
    const deletes = due.map(async ([host, modRevision]) => {
      const key = agentLayout.host(host);
      this.deleting.add(host);
      try {
        const res = await this.batcher.submit({ keys: [key], guards: [{ key, modRevision }], writes: () => [{ kind: 'delete', key }] });
        // deleted, or written again (or deleted) meanwhile, then not ours to delete: done either way
        if (this.toDelete.get(host) === modRevision) this.toDelete.delete(host);
        if (!res.ok) this.deps.logger.info({ host }, 'expired agent record not deleted: it was written again (or deleted) meanwhile');
      } finally {
        this.deleting.delete(host);
      }
    });
    const results = await Promise.allSettled(deletes);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Read etcd's current revision (the probe's work). */
  async probe(): Promise<void> {
    this.observe((await this.deps.kv.read([])).revision);
  }

  /** Resolves once the records of every session renewal so far are written again (tests). */
  settled(): Promise<void> {
    return this.session.settled();
  }

  private observe(revision: string): void {
    if (/^\d+$/.test(revision)) this.revision = maxRev(this.revision, revision);
  }

  private nextId(): string {
    if (this.idBase === 0n) throw new NetloomError('UNAVAILABLE', 'agent registry not started');
    this.idSeq++;
    if (this.idSeq >= IDS_PER_REVISION) throw new NetloomError('UNAVAILABLE', 'too many registrations at once: try again');
    return String(this.idBase * IDS_PER_REVISION + this.idSeq);
  }

  /** This replica's marker (on the session lease): its revision is the first id base. */
  private async writeMarker(): Promise<void> {
    const key = agentLayout.replica(this.replicaId);
    const value = JSON.stringify({
      replica: this.replicaId,
      startedAt: new Date(this.deps.clock.now()).toISOString(),
      ...(this.deps.restUrl ? { restUrl: this.deps.restUrl } : {}),
    });
    await this.batcher.submit({ keys: [key], guards: [], writes: (lease) => [{ kind: 'put', key, value, lease }] });
  }

  /** A new session lease replaced `lost`: write the marker and every held record again on it. */
  private async writeAllAgain(lease: string): Promise<void> {
    const entries = [...this.table.values()];
    this.missing.clear();
    const writes = entries.map(async (e) => {
      const key = agentLayout.host(e.host);
      const value = JSON.stringify(e.record);
      // the old lease took the record with it: write it unless someone else wrote one since
      const res = await this.batcher.submit({
        keys: [key],
        guards: [{ key, modRevision: '0' }],
        writes: (l) => [{ kind: 'put', key, value, lease: l }],
      });
      if (this.table.get(e.host) !== e) return;
      if (res.ok) e.modRevision = res.revision;
      else this.drop(e, 'its record was written by another registration while the session lease was lost');
    });
    const results = await Promise.allSettled([this.writeMarker(), ...writes]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    this.deps.logger.info(
      { lease, records: entries.length, failed: failed.length },
      'agent records written again on the new session lease',
    );
    if (failed[0]) throw failed[0].reason;
  }

  private drop(e: Entry, why: string): void {
    if (this.table.get(e.host) !== e) return;
    this.table.delete(e.host);
    this.missing.delete(e.host);
    this.metrics.takeovers.inc();
    this.metrics.registered.set(this.table.size);
    this.deps.logger.info({ host: e.host, id: e.id }, `agent dropped by this replica: ${why}`);
  }

  private async startWatch(): Promise<void> {
    const { revision, kvs } = await this.deps.kv.list(agentLayout.hostPrefix);
    this.observe(revision);
    const present = new Map<string, KeyValue>();
    this.records.clear();
    for (const kv of kvs) {
      const host = kv.key.slice(agentLayout.hostPrefix.length);
      present.set(host, kv);
      this.noteLatest(host, kv.modRevision, false);
      this.noteRecord(host, vtepOf(kv.value), kv.modRevision);
    }
    // after a watch failure: settle the hosts held here against what etcd has now
    for (const e of [...this.table.values()]) {
      const kv = present.get(e.host);
      if (!kv) this.recordDeleted(e);
      else this.recordWritten(e, kv.value, kv.modRevision);
    }
    this.stopWatch = await this.deps.kv.watchBatches(
      agentLayout.hostPrefix,
      revision,
      (events) => this.onWatch(events),
      (err) => {
        this.deps.logger.warn({ err: err.message }, 'agent record watch failed: reading the records again');
        void this.restartWatch();
      },
    );
  }

  private async restartWatch(): Promise<void> {
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.().catch(() => undefined);
    const backoff = new Backoff({ initialMs: 100, maxMs: 5000 }, { clock: this.deps.clock });
    while (!this.stopping.signal.aborted) {
      try {
        await this.startWatch();
        return;
      } catch (e) {
        this.deps.logger.warn({ err: errorMessage(e) }, 'agent record watch not restarted');
        if (!(await backoff.wait(this.stopping.signal, { unref: true }))) return;
      }
    }
  }

  private noteLatest(host: string, modRevision: string, deleted: boolean): void {
    const cur = this.latest.get(host);
    if (!cur || BigInt(modRevision) >= BigInt(cur.modRevision)) this.latest.set(host, { modRevision, deleted });
  }

  /** Remember a host's record (newest revision wins); `undefined` vtep: it was deleted. */
  private noteRecord(host: string, vtepIp: string | undefined, modRevision: string): void {
    const cur = this.records.get(host);
    if (cur && BigInt(cur.modRevision) > BigInt(modRevision)) return;
    if (vtepIp === undefined) this.records.delete(host);
    else this.records.set(host, { vtepIp, modRevision });
  }

  private onWatch(events: WatchEvent[]): void {
    for (const ev of events) {
      if (!ev.key.startsWith(agentLayout.hostPrefix)) continue;
      const host = ev.key.slice(agentLayout.hostPrefix.length);
      this.noteLatest(host, ev.modRevision, ev.type === 'delete');
      this.noteRecord(host, ev.type === 'delete' ? undefined : vtepOf(ev.value), ev.modRevision);
      const e = this.table.get(host);
      if (!e || BigInt(ev.modRevision) <= BigInt(e.modRevision)) continue;
      if (ev.type === 'put') this.recordWritten(e, ev.value, ev.modRevision);
      else this.recordDeleted(e);
    }
  }

  /** The record of a held host was written at `modRevision` (after this replica's last write). */
  private recordWritten(e: Entry, value: string, modRevision: string): void {
    let rec: Partial<AgentRecord> = {};
    try {
      rec = JSON.parse(value) as Partial<AgentRecord>;
    } catch {
      // not a record of ours: taken over by whatever wrote it
    }
    if (rec.leaseId === e.id && rec.replica === this.replicaId) {
      e.modRevision = maxRev(e.modRevision, modRevision);
      return;
    }
    if (rec.replica === this.replicaId) {
      // a newer registration here whose commit reply has not arrived yet: it replaces the entry
      this.table.delete(e.host);
      this.metrics.registered.set(this.table.size);
      return;
    }
    this.drop(e, `taken over by registration ${rec.leaseId ?? '?'} at replica ${rec.replica ?? '?'}`);
  }

  /**
   * The record of a held host is gone: either the session lease was lost (then the session is
   * renewed and the record written again) or someone deleted it (then the host is dropped).
   */
  private recordDeleted(e: Entry): void {
    this.missing.add(e.host);
    this.checkingMissing ??= this.checkMissing().finally(() => (this.checkingMissing = undefined));
  }

  private async checkMissing(): Promise<void> {
    const signal = this.stopping.signal;
    const backoff = new Backoff({ initialMs: 200, maxMs: 2000 }, { clock: this.deps.clock });
    while (this.missing.size > 0 && !signal.aborted) {
      // let the deletes of one lease expiry arrive together
      await new Promise((r) => setImmediate(r));
      const hosts = [...this.missing];
      this.missing.clear();
      let state: 'alive' | 'renewed';
      try {
        state = await this.session.check();
      } catch (e) {
        // etcd unreachable: look again after a pause
        for (const h of hosts) this.missing.add(h);
        this.deps.logger.warn({ err: errorMessage(e), hosts: hosts.length }, 'agent records deleted, session lease not checked yet');
        await backoff.wait(signal, { unref: true });
        continue;
      }
      if (state === 'renewed') continue; // writeAllAgain writes them again
      for (const host of hosts) {
        const e = this.table.get(host);
        const latest = this.latest.get(host);
        if (e && latest?.deleted && BigInt(latest.modRevision) > BigInt(e.modRevision)) this.drop(e, 'its record was deleted');
      }
    }
  }

  private async every(ms: number, fn: () => Promise<void>, what: string, level: 'warn' | 'debug' = 'warn'): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await this.deps.clock.sleep(ms, signal, { unref: true });
      if (signal.aborted) return;
      try {
        await fn();
      } catch (e) {
        this.deps.logger[level]({ err: errorMessage(e) }, what);
      }
    }
  }
}
