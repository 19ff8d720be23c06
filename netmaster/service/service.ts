/**
 * netmaster's service layer: create/update/delete/get/list of every intent object, endpoint
 * create/delete with IP/MAC allocation, inspect (Config + Oper), the consistency check and a
 * watch of changes. Every change is one guarded etcd transaction, retried a bounded number of
 * times when a concurrent change invalidates what the check read. The REST API (and later the
 * agent stream) sits on this; it knows nothing of HTTP.
 */
import { NetloomError } from '../../lib/errors';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { keyOf, kindOf, parseObject } from '../model/keys';
import { checkDelete, childrenOf, needsForDelete } from '../model/deletes';
import { checkUpsert, needsForUpsert, tagSpace } from '../model/validate';
import { parseV4 } from '../model/net';
import { tagInUse } from '../model/network-tag';
import { groupTagChangeFor, groupTagOf, type GroupTagChange } from '../model/group-tag';
import { emptyNeeds } from '../model/state';
import { planGroupTag, releaseGroupTag } from './group-vlan';
import {
  OBJECT_TYPES,
  type Endpoint,
  type EndpointGroup,
  type ExternalEndpoint,
  type Global,
  type Network,
  type ObjectOf,
  type ObjectType,
  type ServiceLB,
} from '../model/schemas';
import type { EtcdKV, Guard, ReadOp, ReadResult, WatchEvent, WriteOp } from '../store/kv';
import { loadNeeds, type Loaded, type StoredObject } from '../store/intent-store';
import {
  BadStoredValue,
  checkEndpoint,
  checkEndpointKv,
  checkIntent,
  checkIntentKv,
  intentKey,
  type StoredKind,
} from '../store/stored-values';
import type { IntentCache } from '../store/intent-cache';
import { layout, GROUP_ID_RANGE } from '../store/layout';
import { findFree, freeInPage, scanPageOp } from '../store/alloc';
import { KeyedMutex } from '../../lib/keyed-mutex';
import { Claims } from './claims';
import { EndpointService } from './endpoints';
import { BlockService } from './blocks';
import { EndpointSync } from './endpoint-sync';
import { KubeIntent } from '../kube/intent';
import { externalEndpointRecord, registerExternal, releaseExternal } from './external-endpoints';
import { RETRY, Retrier } from './retry';
import { blockKeys } from './block-keys';
import { planServiceIp, releaseServiceIp, type PickIp } from './service-ip';
import { checkConsistency, type ConsistencyReport } from './consistency';
import { inspect, inspectEndpoint } from './inspect';
import type { RealizationReads } from './realization';
import type { ServiceReads } from './reads';

export interface ServiceOptions {
  kv: EtcdKV;
  logger: Logger;
  clock?: Clock;
  /** commit attempts before giving up with CONFLICT (default 40) */
  maxAttempts?: number;
  /** a started watch-fed copy of the intent: lets creates skip the read round trip */
  cache?: IntentCache;
}

export interface ObjectResult<T extends ObjectType = ObjectType> {
  type: T;
  key: string;
  config: ObjectOf[T];
  oper: Record<string, unknown>;
  created: boolean;
  revision: string;
}

/** A change the watch could not send: its value cannot be served (store/stored-values.ts). */
export interface SkippedChange {
  revision: string;
  op: 'put' | 'delete';
  /** the etcd key */
  key: string;
  kind: StoredKind;
  reason: string;
}

/** A change as the watch reports it. */
export interface ChangeEvent {
  revision: string;
  op: 'put' | 'delete';
  /** 'config' for intent objects, 'endpoint' for endpoints */
  kind: 'config' | 'endpoint';
  type: ObjectType | 'endpoint';
  key: string;
  config: unknown;
  oper: Record<string, unknown> | undefined;
}

export const DEFAULT_GLOBAL: Global = {
  name: 'global',
  networkInfraType: 'default',
  vlans: '1-4094',
  vxlans: '1-10000',
  fwdMode: 'bridge',
  arpMode: 'proxy',
  pvtSubnet: '172.19.0.0/16',
};

/** Kinds another system is the source of (Kubernetes objects: `kube`) are not written as intent. */
function refuseReadOnly(type: ObjectType): void {
  const k = kindOf(type);
  if (k.readOnlySource !== undefined)
    throw new NetloomError('INVALID_ARGUMENT', `${k.label} objects are read-only here: their source is ${k.readOnlySource}`, {
      field: 'type',
    });
}

function scopeOf(type: ObjectType, key: string): string {
  if (kindOf(type).scope === 'global') return `~${type}`;
  return key.split(':')[0] ?? key;
}

export class NetmasterService implements ServiceReads {
  readonly kv: EtcdKV;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly mutex = new KeyedMutex();
  /** numbers being claimed here and where the next search starts */
  private readonly claims = new Claims();
  private readonly retrier: Retrier;
  private readonly stats = { fastCommits: 0 };
  private readonly cache: IntentCache | undefined;
  /** endpoint create/delete/read (allocation of IP and MAC) */
  readonly endpoints: EndpointService;
  /** per-host address blocks: claim, release (issue 15) */
  readonly blocks: BlockService;
  /** endpoints agents allocated from their blocks: SyncEndpoints (issue 15) */
  readonly endpointSync: EndpointSync;
  /** Kubernetes NetworkPolicies and namespaces, as the Kubernetes controller stores them (issue 19) */
  readonly kube: KubeIntent;
  /** what inspect shows of realization on the hosts; set once the agent side runs (service/realization.ts) */
  realization: RealizationReads | undefined = undefined;

  constructor(opts: ServiceOptions) {
    this.kv = opts.kv;
    this.log = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.maxAttempts = opts.maxAttempts ?? 40;
    this.cache = opts.cache;
    this.retrier = new Retrier(this.clock, this.maxAttempts);
    this.endpoints = new EndpointService({
      kv: this.kv,
      claims: this.claims,
      cache: this.cache,
      clock: this.clock,
      log: this.log,
      retrier: this.retrier,
      stats: this.stats,
    });
    const deps = { kv: this.kv, clock: this.clock, log: this.log, retrier: this.retrier };
    this.blocks = new BlockService(deps);
    this.endpointSync = new EndpointSync(deps);
    this.kube = new KubeIntent({ ...deps, cache: this.cache });
  }

  /** commits retried because a concurrent change invalidated what they read (since start) */
  get conflicts(): number {
    return this.retrier.conflicts;
  }

  /** whether the watch-fed intent copy is following etcd (undefined: none configured) */
  get cacheReady(): boolean | undefined {
    return this.cache?.isReady;
  }

  /** creates committed in one round trip from the intent copy (since start) */
  get fastCommits(): number {
    return this.stats.fastCommits;
  }

  /** Create the global object and the default tenant when absent (safe to run on every start, on every replica). */
  async init(): Promise<void> {
    for (const [type, key, config] of [
      ['global', 'global', DEFAULT_GLOBAL],
      ['tenant', 'default', { tenantName: 'default', defaultNetwork: '' }],
    ] as const) {
      const k = layout.cfg(type, key);
      await this.kv.commit(
        [{ kind: 'modEquals', key: k, modRevision: '0' }],
        [{ kind: 'put', key: k, value: JSON.stringify({ config, oper: {} }) }],
      );
    }
  }

  private withRetries<T>(what: string, fn: (attempt: number) => Promise<T | typeof RETRY>): Promise<T> {
    return this.retrier.run(what, fn);
  }

  /**
   * A free number under `prefix`, claimed in this process until `unclaim`; undefined when every
   * candidate found was claimed here meanwhile (the caller retries).
   */
  private async pickNumber(
    prefix: string,
    keyOfN: (n: number) => string,
    ranges: ReadonlyArray<[number, number]>,
    hex: boolean,
    field: string,
    what: string,
    page?: { cursor: number; result: ReadResult | undefined },
  ): Promise<number | undefined> {
    const first = ranges[0]?.[0] ?? 1;
    // a page scanned along with the state read usually has a free number: no extra round trip
    let n = page
      ? this.claims.choose(prefix, freeInPage(page.result, { hex, ranges }, page.cursor, this.claims.window(prefix)))
      : undefined;
    if (n === undefined) {
      const cursor = this.claims.cursor(prefix) ?? first;
      const free = await findFree(
        this.kv,
        { prefix, keyOf: keyOfN, ranges, hex },
        cursor,
        this.claims.window(prefix),
        this.claims.pendingOf(prefix),
      );
      n = this.claims.choose(prefix, free);
      if (n === undefined && free.length > 0) return undefined;
    }
    if (n === undefined) throw new NetloomError('EXHAUSTED', `no free ${what} left`, { field });
    this.claims.claim(prefix, n);
    return n;
  }

  // ---------------------------------------------------------------- intent objects

  /** Create or update (Contiv's POST/PUT). `pathKey`, when given, must equal the key built from the body. */
  async upsert<T extends ObjectType>(type: T, body: unknown, pathKey?: string): Promise<ObjectResult<T>> {
    refuseReadOnly(type);
    const obj = parseObject(type, body);
    const key = keyOf(type, obj);
    if (pathKey !== undefined && pathKey !== key) {
      throw new NetloomError('INVALID_ARGUMENT', `the key in the path (${pathKey}) does not match the key built from the body (${key})`, {
        field: 'key',
      });
    }
    // networks of one tenant conflict with each other (subnet overlap reads them all): run them one
    // at a time here; other objects only conflict with writers of the same key
    const scope = type === 'network' ? scopeOf(type, key) : `${type}/${key}`;
    return this.mutex.run(scope, async () => {
      const fast = await this.fastUpsert(type, obj, key);
      if (fast) return fast;
      return this.withRetries(`${type} ${key}`, async () => {
        // the allocation a create will need is scanned in the same read as the state
        let scan: { prefix: string; cursor: number; op: ReadOp } | undefined;
        if (type === 'network' && (obj as Network).pktTag === 0) {
          const encap = (obj as Network).encap;
          const prefix = layout.tagPrefix(encap);
          const cursor = this.claims.cursor(prefix) ?? 1;
          scan = { prefix, cursor, op: scanPageOp({ prefix, keyOf: (n) => layout.tag(encap, n) }, cursor) };
        } else if (type === 'endpointGroup') {
          const prefix = layout.groupIdPrefix();
          const cursor = this.claims.cursor(prefix) ?? GROUP_ID_RANGE[0];
          scan = { prefix, cursor, op: scanPageOp({ prefix, keyOf: layout.groupId }, cursor) };
        }
        const loaded = await loadNeeds(this.kv, needsForUpsert(type, obj), scan ? [scan.op] : []);
        const page = scan ? { cursor: scan.cursor, result: loaded.extra[0] } : undefined;
        const checked = checkUpsert(type, obj, loaded.state);
        // the scanned page only answers for its own prefix (a group also takes a VLAN in ACI mode)
        const r = await this.commitUpsert(type, key, checked, loaded, (prefix, keyOfN, ranges, field, what, hex = false) =>
          this.pickNumber(prefix, keyOfN, ranges, hex, field, what, !hex && prefix === scan?.prefix ? page : undefined),
        );
        return r ?? RETRY;
      });
    });
  }

  /**
   * The create/update without a read round trip: checked against the watch-fed copy, allocations
   * taken at this process's cursors, committed with the same guards. Undefined whenever anything
   * is uncertain (copy not ready, check failed, no cursor yet, a guard failed): the caller then
   * takes the read path, which also produces the authoritative error.
   */
  private async fastUpsert<T extends ObjectType>(type: T, obj: ObjectOf[T], key: string): Promise<ObjectResult<T> | undefined> {
    const loaded = this.cache?.load(needsForUpsert(type, obj));
    if (!loaded) return undefined;
    let checked: { obj: ObjectOf[T]; prev: ObjectOf[T] | undefined };
    try {
      checked = checkUpsert(type, obj, loaded.state);
    } catch {
      return undefined;
    }
    const r = await this.commitUpsert(type, key, checked, loaded, async (prefix, _keyOfN, ranges) => {
      const n = this.claims.nextAtCursor(prefix, ranges);
      if (n !== undefined) this.claims.claim(prefix, n);
      return n;
    });
    if (r) this.stats.fastCommits++;
    return r;
  }

  /**
   * Build and commit the writes of a checked upsert: the object, and for a new network its tag
   * (allocation key and oper.pktTag) and reserved gateway, for a new group its id. `pick` chooses (and claims) a free number, or
   * gives up with undefined. Returns undefined when nothing was written.
   */
  private async commitUpsert<T extends ObjectType>(
    type: T,
    key: string,
    checked: { obj: ObjectOf[T]; prev: ObjectOf[T] | undefined },
    loaded: Loaded,
    pick: PickIp,
  ): Promise<ObjectResult<T> | undefined> {
    let config = checked.obj;
    const cfgKey = layout.cfg(type, key);
    let oper: Record<string, unknown> = { ...(loaded.opers.get(cfgKey) ?? {}) };
    const guards: Guard[] = loaded.guards();
    const writes: WriteOp[] = [];
    const claimed: Array<{ prefix: string; n: number }> = [];
    try {
      if (type === 'network' && !checked.prev) {
        const nw = config as Network;
        let tag = nw.pktTag;
        if (tag === 0) {
          const space = tagSpace(nw.encap, loaded.state.global());
          const prefix = layout.tagPrefix(nw.encap);
          const picked = await pick(prefix, (n) => layout.tag(nw.encap, n), space.ranges, 'pktTag', `${nw.encap} tag in ${space.text}`);
          if (picked === undefined) return undefined;
          tag = picked;
          claimed.push({ prefix, n: tag });
          guards.push({ kind: 'modEquals', key: layout.tag(nw.encap, tag), modRevision: '0' });
        }
        writes.push({ kind: 'put', key: layout.tag(nw.encap, tag), value: key });
        // the gateway is reserved from the start
        const gw = nw.gateway ? parseV4(nw.gateway) : undefined;
        if (gw !== undefined) writes.push({ kind: 'put', key: layout.ip(key, gw), value: 'gateway' });
        // the config keeps the user's pktTag (0: allocated, as Contiv shows it); the tag in use is
        // the oper's, written in this transaction (model/network-tag.ts says why there)
        oper = { pktTag: tag };
      }
      if (type === 'endpointGroup' && !checked.prev) {
        const prefix = layout.groupIdPrefix();
        const id = await pick(prefix, layout.groupId, [GROUP_ID_RANGE], 'groupName', 'endpoint group id');
        if (id === undefined) return undefined;
        claimed.push({ prefix, n: id });
        guards.push({ kind: 'modEquals', key: layout.groupId(id), modRevision: '0' });
        writes.push({ kind: 'put', key: layout.groupId(id), value: key });
        oper = { groupId: id };
      }
      if (type === 'endpointGroup') {
        // its own VLAN in ACI mode, taken (or given back) with the group (model/group-tag.ts)
        const g = config as EndpointGroup;
        const global = loaded.state.global();
        const change = groupTagChangeFor(global, loaded.state.get('network', `${g.tenantName}:${g.networkName}`), oper);
        const plan = await planGroupTag(this.kv, key, oper, change, global, pick);
        if (!plan) return undefined;
        if (plan.claimed) claimed.push(plan.claimed);
        guards.push(...plan.guards);
        writes.push(...plan.writes);
        oper = plan.oper;
      }
      if (type === 'externalEndpoint' && !checked.prev) {
        const x = config as ExternalEndpoint;
        const nw = loaded.state.get('network', `${x.tenantName}:${x.networkName}`);
        const ep = externalEndpointRecord(x, nw, new Date(this.clock.now()).toISOString());
        const reg = await registerExternal(this.kv, ep);
        guards.push(...reg.guards);
        writes.push(...reg.writes);
        oper = { endpointID: ep.endpointID };
      }
      if (type === 'serviceLB') {
        const s = config as ServiceLB;
        const nw = loaded.state.get('network', `${s.tenantName}:${s.networkName}`);
        if (!nw) return undefined; // checked present: gone since, the retry reports it
        const plan = await planServiceIp(this.kv, key, s, checked.prev as ServiceLB | undefined, nw, pick);
        if (!plan) return undefined;
        if (plan.claimed) claimed.push(plan.claimed);
        guards.push(...plan.guards);
        writes.push(...plan.writes);
        config = plan.config as ObjectOf[T];
      }
      writes.push({ kind: 'put', key: cfgKey, value: JSON.stringify({ config, oper }) });
      const r = await this.kv.commit(guards, writes);
      if (!r.ok) return undefined;
      for (const c of claimed) this.claims.advance(c.prefix, c.n + 1);
      this.log.info({ type, key, created: !checked.prev, revision: r.revision }, checked.prev ? 'updated' : 'created');
      // the next request through this process sees this change
      await this.cache?.waitFor(r.revision);
      return { type, key, config, oper, created: !checked.prev, revision: r.revision };
    } finally {
      for (const c of claimed) this.claims.unclaim(c.prefix, c.n);
    }
  }

  /**
   * Give group `key` a VLAN of its own, or take its one back, as the global mode and its network
   * want now (model/group-tag.ts): the leader's sync of groups that existed when the mode changed.
   * One guarded commit; returns the change made (undefined: none needed, or the group is gone).
   */
  async syncGroupTag(key: string): Promise<GroupTagChange> {
    const cfgKey = layout.cfg('endpointGroup', key);
    return this.mutex.run(`endpointGroup/${key}`, () =>
      this.withRetries(`VLAN of endpoint group ${key}`, async () => {
        const found = await this.kv.get(cfgKey);
        if (!found) return undefined;
        const g = this.kv.badValues.take(found.key, () => checkIntentKv<EndpointGroup>(found))?.config;
        if (!g) return undefined; // reported as a bad value; put right by a person
        const needs = emptyNeeds();
        needs.keys.push(
          { type: 'endpointGroup', key },
          { type: 'global', key: 'global' },
          { type: 'network', key: `${g.tenantName}:${g.networkName}` },
        );
        const loaded = await loadNeeds(this.kv, needs);
        const group = loaded.state.get('endpointGroup', key);
        if (!group) return undefined;
        const oper = loaded.opers.get(cfgKey) ?? {};
        const global = loaded.state.global();
        const change = groupTagChangeFor(global, loaded.state.get('network', `${group.tenantName}:${group.networkName}`), oper);
        if (!change) return undefined;
        let claimed: { prefix: string; n: number } | undefined;
        try {
          const plan = await planGroupTag(this.kv, key, oper, change, global, (prefix, keyOfN, ranges, field, what) =>
            this.pickNumber(prefix, keyOfN, ranges, false, field, what),
          );
          if (!plan) return RETRY;
          claimed = plan.claimed;
          const writes: WriteOp[] = [
            ...plan.writes,
            { kind: 'put', key: cfgKey, value: JSON.stringify({ config: group, oper: plan.oper }) },
          ];
          const r = await this.kv.commit([...loaded.guards(), ...plan.guards], writes);
          if (!r.ok) return RETRY;
          if (claimed) this.claims.advance(claimed.prefix, claimed.n + 1);
          this.log.info({ key, change, pktTag: groupTagOf(plan.oper) ?? groupTagOf(oper), revision: r.revision }, 'endpoint group VLAN');
          await this.cache?.waitFor(r.revision);
          return change;
        } finally {
          if (claimed) this.claims.unclaim(claimed.prefix, claimed.n);
        }
      }),
    );
  }

  /** Delete one object; refused (IN_USE) while something uses it. Returns the key. */
  async delete(type: ObjectType, key: string): Promise<string> {
    refuseReadOnly(type);
    return this.mutex.run(scopeOf(type, key), () =>
      this.withRetries(`delete ${type} ${key}`, async () => {
        const loaded = await loadNeeds(this.kv, needsForDelete(type, key));
        const obj = checkDelete(type, key, loaded.state);
        const cfgKey = layout.cfg(type, key);
        const writes: WriteOp[] = [{ kind: 'delete', key: cfgKey }];
        if (type === 'network') {
          const nw = obj as Network;
          writes.push({ kind: 'delete', key: layout.tag(nw.encap, tagInUse(nw, loaded.opers.get(cfgKey))) });
          writes.push({ kind: 'deletePrefix', prefix: layout.ipPrefix(key) });
          // its address blocks go with it (issue 15): no endpoint is left to hold an address in them
          writes.push({ kind: 'deletePrefix', prefix: blockKeys.prefix(key) });
          writes.push({ kind: 'delete', key: layout.ipHint(key) });
        }
        const guards = loaded.guards();
        if (type === 'endpointGroup') {
          const oper = loaded.opers.get(cfgKey);
          const id = Number(oper?.groupId ?? 0);
          if (id > 0) writes.push({ kind: 'delete', key: layout.groupId(id) });
          // its own VLAN (ACI mode) goes back to the pool with it
          const tag = groupTagOf(oper);
          if (tag !== undefined) {
            const rel = await releaseGroupTag(this.kv, key, tag);
            guards.push(...rel.guards);
            writes.push(...rel.writes);
          }
        }
        if (type === 'externalEndpoint') {
          const rel = await releaseExternal(this.kv, obj as ExternalEndpoint);
          guards.push(...rel.guards);
          writes.push(...rel.writes);
        }
        if (type === 'serviceLB') {
          const released = await releaseServiceIp(this.kv, key, obj as ServiceLB);
          guards.push(...released.guards);
          writes.push(...released.writes);
        }
        // objects living under this one (a policy's rules) go with it
        for (const c of childrenOf(type)) writes.push({ kind: 'deletePrefix', prefix: `${layout.cfgPrefix(c.type as ObjectType)}${key}:` });
        const r = await this.kv.commit(guards, writes);
        if (!r.ok) return RETRY;
        this.log.info({ type, key, revision: r.revision }, 'deleted');
        // a network re-created under this name starts its address search afresh
        if (type === 'network') this.claims.forget(layout.ipPrefix(key));
        await this.cache?.waitFor(r.revision);
        return key;
      }),
    );
  }

  async get<T extends ObjectType>(type: T, key: string): Promise<StoredObject<ObjectOf[T]> & { key: string }> {
    const kv = await this.kv.get(layout.cfg(type, key));
    if (!kv) throw new NetloomError('NOT_FOUND', `${type} ${key} does not exist`);
    return { key, ...this.kv.badValues.need(kv.key, () => checkIntentKv<ObjectOf[T]>(kv)) };
  }

  async list<T extends ObjectType>(type: T): Promise<Array<StoredObject<ObjectOf[T]> & { key: string }>> {
    const prefix = layout.cfgPrefix(type);
    const { kvs } = await this.kv.list(prefix);
    // values that cannot be served are left out (reported: log, metric, consistency check)
    return kvs.flatMap((kv) => {
      const s = this.kv.badValues.take(kv.key, () => checkIntentKv<ObjectOf[T]>(kv));
      return s ? [{ key: kv.key.slice(prefix.length), ...s }] : [];
    });
  }

  // ---------------------------------------------------------------- endpoints (service/endpoints.ts)

  /** The endpoint id for a (network, idempotency key) pair: the same request always maps to the same id. */
  static endpointId(netKey: string, idempotencyKey: string): string {
    return EndpointService.endpointId(netKey, idempotencyKey);
  }

  createEndpoint(body: unknown): Promise<Endpoint & { created: boolean }> {
    return this.endpoints.create(body);
  }

  deleteEndpoint(id: string): Promise<{ deleted: boolean }> {
    return this.endpoints.delete(id);
  }

  getEndpoint(id: string): Promise<Endpoint> {
    return this.endpoints.get(id);
  }

  setEndpointLabels(id: string, labels: unknown, host?: string): Promise<Endpoint> {
    return this.endpoints.setLabels(id, labels, host);
  }

  listEndpoints(filter: { network?: string; host?: string } = {}): Promise<Endpoint[]> {
    return this.endpoints.list(filter);
  }

  endpointsIn(kind: 'net' | 'grp', key: string): Promise<Endpoint[]> {
    return this.endpoints.in(kind, key);
  }

  // ---------------------------------------------------------------- counts and watch

  /** Number of intent objects by type and of endpoints (for metrics and /info). */
  async objectCounts(): Promise<Record<string, number>> {
    const ops = [
      ...OBJECT_TYPES.map((t) => ({ kind: 'count' as const, prefix: layout.cfgPrefix(t) })),
      { kind: 'count' as const, prefix: layout.epPrefix() },
    ];
    const { results } = await this.kv.read(ops);
    const out: Record<string, number> = {};
    OBJECT_TYPES.forEach((t, i) => (out[t] = results[i]?.count ?? 0));
    out.endpoint = results[OBJECT_TYPES.length]?.count ?? 0;
    return out;
  }

  /** Number of allocation keys by kind (vlan, vxlan, ip, mac, groupid). */
  async allocationCounts(): Promise<Record<string, number>> {
    const kinds = ['vlan', 'vxlan', 'ip', 'mac', 'groupid'];
    const { results } = await this.kv.read(kinds.map((k) => ({ kind: 'count' as const, prefix: `${layout.root}alloc/${k}/` })));
    return Object.fromEntries(kinds.map((k, i) => [k, results[i]?.count ?? 0]));
  }

  async currentRevision(): Promise<string> {
    return (await this.kv.read([])).revision;
  }

  /**
   * Changes to intent objects and endpoints after `sinceRevision` ('0': from now on), in order.
   * A change whose value cannot be served (not JSON, fails the schema, too big) is not sent as a
   * change: `onSkipped` hears of it (and it is reported like any bad value). Returns a stop function.
   */
  async watch(
    sinceRevision: string,
    onChange: (e: ChangeEvent) => void,
    onError: (e: Error) => void,
    onSkipped: (s: SkippedChange) => void = () => undefined,
  ): Promise<() => Promise<void>> {
    const epRoot = layout.epPrefix();
    const bad = this.kv.badValues;
    return this.kv.watch(
      layout.root,
      sinceRevision,
      (e: WatchEvent) => {
        const ik = intentKey(e.key);
        if (!ik && !e.key.startsWith(epRoot)) return;
        const base = { revision: e.modRevision, op: e.type };
        const ep = ik ? undefined : e.key.slice(epRoot.length);
        // a delete carries the value it removed (etcd's previous value): sent without it when bad
        const read = <T>(check: (v: string) => T): T | undefined => {
          if (e.type === 'put') return check(e.value);
          bad.clear(e.key);
          try {
            return e.prevValue ? check(e.prevValue) : undefined;
          } catch {
            return undefined;
          }
        };
        let ev: ChangeEvent;
        try {
          if (ik) {
            const s = read((v) => checkIntent(ik.type, ik.objKey, v));
            ev = { ...base, kind: 'config', type: ik.type, key: ik.objKey, config: s?.config, oper: s?.oper };
          } else {
            const config = read((v) => checkEndpoint(ep ?? '', v));
            ev = { ...base, kind: 'endpoint', type: 'endpoint', key: ep ?? '', config, oper: undefined };
          }
        } catch (err) {
          if (!(err instanceof BadStoredValue)) throw err;
          bad.report(err.key, err.kind, err.reason);
          onSkipped({ ...base, key: e.key, kind: err.kind, reason: err.reason });
          return;
        }
        if (e.type === 'put') bad.clear(e.key);
        onChange(ev);
      },
      onError,
    );
  }

  /**
   * Every intent object and endpoint at one revision. A consumer (the agent stream) sends this,
   * then follows `watch(revision)`: together they miss no change and repeat none.
   */
  async snapshot(): Promise<{
    revision: string;
    objects: Array<{ type: ObjectType; key: string; config: unknown; oper: Record<string, unknown> }>;
    endpoints: Endpoint[];
  }> {
    const revision = await this.currentRevision();
    const cfgRoot = `${layout.root}cfg/`;
    const bad = this.kv.badValues;
    const objects = (await this.kv.list(cfgRoot, { revision })).kvs.flatMap((kv) => {
      const ik = intentKey(kv.key);
      const s = ik && bad.take(kv.key, () => checkIntentKv(kv));
      return ik && s ? [{ type: ik.type, key: ik.objKey, config: s.config, oper: s.oper }] : [];
    });
    const endpoints = (await this.kv.list(layout.epPrefix(), { revision })).kvs.flatMap(
      (kv) => bad.take(kv.key, () => checkEndpointKv(kv)) ?? [],
    );
    return { revision, objects, endpoints };
  }

  /** Compare allocations with objects; report leaked and missing keys; repair when asked. */
  checkConsistency(opts: { repair?: boolean; graceMs?: number; nowMs?: number } = {}): Promise<ConsistencyReport> {
    return checkConsistency(this, opts);
  }

  /** Contiv's `{Config, Oper}` view of one object. */
  inspect(type: ObjectType, key: string): ReturnType<typeof inspect> {
    return inspect(this, type, key);
  }

  inspectEndpoint(id: string): ReturnType<typeof inspectEndpoint> {
    return inspectEndpoint(this, id);
  }
}
