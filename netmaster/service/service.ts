/**
 * netmaster's service layer: create/update/delete/get/list of every intent object, endpoint
 * create/delete with IP/MAC allocation, inspect (Config + Oper), the consistency check and a
 * watch of changes. Every change is one guarded etcd transaction, retried a bounded number of
 * times when a concurrent change invalidates what the check read. The REST API (and later the
 * agent stream) sits on this; it knows nothing of HTTP.
 */
import { createHash, randomBytes } from 'node:crypto';
import { NetloomError } from '../../lib/errors';
import { systemClock, type Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { keyOf, parseObject, zodToError } from '../model/keys';
import { checkDelete, needsForDelete } from '../model/deletes';
import { checkUpsert, needsForUpsert, MAX_VLAN, MAX_VXLAN } from '../model/validate';
import { parseTagRanges, parseV4, parseV4Range, parseV4Subnet, parseV6Cidr, formatV4, v6AtOffset } from '../model/net';
import { endpointRequestSchema, OBJECT_TYPES, type Endpoint, type EndpointGroup, type EndpointRequest, type Global, type Network, type ObjectOf, type ObjectType } from '../model/schemas';
import type { EtcdKV, Guard, ReadOp, ReadResult, WatchEvent, WriteOp } from '../store/kv';
import { loadNeeds, decodeStored, type Loaded, type StoredObject } from '../store/intent-store';
import type { IntentCache } from '../store/intent-cache';
import { layout, GROUP_ID_RANGE } from '../store/layout';
import { findFree, freeInPage, scanPageOp } from '../store/alloc';
import { KeyedMutex } from './keyed-mutex';
import { Claims } from './claims';
import { checkConsistency, type ConsistencyReport } from './consistency';
import { inspect, inspectEndpoint } from './inspect';

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

const RETRY = Symbol('retry');

export const DEFAULT_GLOBAL: Global = {
  name: 'global',
  networkInfraType: 'default',
  vlans: '1-4094',
  vxlans: '1-10000',
  fwdMode: 'bridge',
  arpMode: 'proxy',
  pvtSubnet: '172.19.0.0/16',
};

function scopeOf(type: ObjectType, key: string): string {
  if (type === 'global' || type === 'Bgp' || type === 'aciGw') return `~${type}`;
  return key.split(':')[0] ?? key;
}

export class NetmasterService {
  readonly kv: EtcdKV;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly mutex = new KeyedMutex();
  /** numbers being claimed here and where the next search starts */
  private readonly claims = new Claims();
  /** commits retried because of a concurrent change, for metrics */
  conflicts = 0;
  /** creates/updates committed without a read round trip (from the intent cache) */
  fastCommits = 0;
  private readonly cache: IntentCache | undefined;

  constructor(opts: ServiceOptions) {
    this.kv = opts.kv;
    this.log = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.maxAttempts = opts.maxAttempts ?? 40;
    this.cache = opts.cache;
  }

  /** Create the global object and the default tenant when absent (safe to run on every start, on every replica). */
  async init(): Promise<void> {
    for (const [type, key, config] of [
      ['global', 'global', DEFAULT_GLOBAL],
      ['tenant', 'default', { tenantName: 'default', defaultNetwork: '' }],
    ] as const) {
      const k = layout.cfg(type, key);
      await this.kv.commit([{ kind: 'modEquals', key: k, modRevision: '0' }], [{ kind: 'put', key: k, value: JSON.stringify({ config, oper: {} }) }]);
    }
  }

  private async withRetries<T>(what: string, fn: (attempt: number) => Promise<T | typeof RETRY>): Promise<T> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const r = await fn(attempt);
      if (r !== RETRY) return r;
      this.conflicts++;
      const cap = 2 ** Math.min(attempt, 6);
      await this.clock.sleep(Math.random() * cap);
    }
    throw new NetloomError('CONFLICT', `${what}: too many concurrent changes, gave up after ${this.maxAttempts} attempts; retry`);
  }

  /** A free number under `prefix`, claimed in this process until `unclaim`. */
  private async pickNumber(
    prefix: string,
    keyOfN: (n: number) => string,
    ranges: ReadonlyArray<[number, number]>,
    hex: boolean,
    field: string,
    what: string,
    page?: { cursor: number; result: ReadResult | undefined },
  ): Promise<number> {
    const first = ranges[0]?.[0] ?? 1;
    // a page scanned along with the state read usually has a free number: no extra round trip
    let n = page ? this.claims.choose(prefix, freeInPage(page.result, { hex, ranges }, page.cursor, this.claims.window(prefix))) : undefined;
    if (n === undefined) {
      const cursor = this.claims.cursor(prefix) ?? first;
      const free = await findFree(this.kv, { prefix, keyOf: keyOfN, ranges, hex }, cursor, this.claims.window(prefix), this.claims.pendingOf(prefix));
      n = this.claims.choose(prefix, free);
    }
    if (n === undefined) throw new NetloomError('EXHAUSTED', `no free ${what} left`, { field });
    this.claims.claim(prefix, n);
    return n;
  }

  // ---------------------------------------------------------------- intent objects

  /** Create or update (Contiv's POST/PUT). `pathKey`, when given, must equal the key built from the body. */
  async upsert<T extends ObjectType>(type: T, body: unknown, pathKey?: string): Promise<ObjectResult<T>> {
    const obj = parseObject(type, body);
    const key = keyOf(type, obj);
    if (pathKey !== undefined && pathKey !== key) {
      throw new NetloomError('INVALID_ARGUMENT', `the key in the path (${pathKey}) does not match the key built from the body (${key})`, { field: 'key' });
    }
    // networks of one tenant conflict with each other (subnet overlap reads them all): run them one
    // at a time here; other objects only conflict with writers of the same key
    const scope = type === 'network' ? scopeOf(type, key) : `${type}/${key}`;
    return this.mutex.run(scope, async () => {
      const fast = await this.fastUpsert(type, obj, key);
      if (fast) return fast;
      return this.withRetries(`${type} ${key}`, async () => {
        // the allocation a create will need is scanned in the same read as the state
        let scan: { cursor: number; op: ReadOp } | undefined;
        if (type === 'network' && (obj as Network).pktTag === 0) {
          const encap = (obj as Network).encap;
          const cursor = this.claims.cursor(layout.tagPrefix(encap)) ?? 1;
          scan = { cursor, op: scanPageOp({ prefix: layout.tagPrefix(encap), keyOf: (n) => layout.tag(encap, n) }, cursor) };
        } else if (type === 'endpointGroup') {
          const cursor = this.claims.cursor(layout.groupIdPrefix()) ?? GROUP_ID_RANGE[0];
          scan = { cursor, op: scanPageOp({ prefix: layout.groupIdPrefix(), keyOf: layout.groupId }, cursor) };
        }
        const loaded = await loadNeeds(this.kv, needsForUpsert(type, obj), scan ? [scan.op] : []);
        const page = scan ? { cursor: scan.cursor, result: loaded.extra[0] } : undefined;
        const checked = checkUpsert(type, obj, loaded.state);
        const r = await this.commitUpsert(type, key, checked, loaded, (prefix, keyOfN, ranges, field, what) => this.pickNumber(prefix, keyOfN, ranges, false, field, what, page));
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
    if (r) this.fastCommits++;
    return r;
  }

  /**
   * Build and commit the writes of a checked upsert: the object, and for a new network its tag
   * and reserved gateway, for a new group its id. `pick` chooses (and claims) a free number, or
   * gives up with undefined. Returns undefined when nothing was written.
   */
  private async commitUpsert<T extends ObjectType>(
    type: T,
    key: string,
    checked: { obj: ObjectOf[T]; prev: ObjectOf[T] | undefined },
    loaded: Loaded,
    pick: (prefix: string, keyOfN: (n: number) => string, ranges: ReadonlyArray<[number, number]>, field: string, what: string) => Promise<number | undefined>,
  ): Promise<ObjectResult<T> | undefined> {
    let config = checked.obj;
    const cfgKey = layout.cfg(type, key);
    let oper: Record<string, unknown> = { ...(loaded.opers.get(cfgKey) ?? {}) };
    const guards: Guard[] = loaded.guards();
    const writes: WriteOp[] = [];
    let claimed: { prefix: string; n: number } | undefined;
    try {
      if (type === 'network' && !checked.prev) {
        const nw = config as Network;
        let tag = nw.pktTag;
        if (tag === 0) {
          const g = loaded.state.global();
          const ranges = (nw.encap === 'vlan' ? parseTagRanges(g.vlans, MAX_VLAN) : parseTagRanges(g.vxlans, MAX_VXLAN)) ?? [];
          const prefix = layout.tagPrefix(nw.encap);
          const picked = await pick(prefix, (n) => layout.tag(nw.encap, n), ranges, 'pktTag', `${nw.encap} tag in ${nw.encap === 'vlan' ? g.vlans : g.vxlans}`);
          if (picked === undefined) return undefined;
          tag = picked;
          claimed = { prefix, n: tag };
          guards.push({ kind: 'modEquals', key: layout.tag(nw.encap, tag), modRevision: '0' });
        }
        writes.push({ kind: 'put', key: layout.tag(nw.encap, tag), value: key });
        config = { ...nw, pktTag: tag } as ObjectOf[T];
        // the gateway is reserved from the start
        const gw = nw.gateway ? parseV4(nw.gateway) : undefined;
        if (gw !== undefined) writes.push({ kind: 'put', key: layout.ip(key, gw), value: 'gateway' });
        oper = {};
      }
      if (type === 'endpointGroup' && !checked.prev) {
        const prefix = layout.groupIdPrefix();
        const id = await pick(prefix, layout.groupId, [GROUP_ID_RANGE], 'groupName', 'endpoint group id');
        if (id === undefined) return undefined;
        claimed = { prefix, n: id };
        guards.push({ kind: 'modEquals', key: layout.groupId(id), modRevision: '0' });
        writes.push({ kind: 'put', key: layout.groupId(id), value: key });
        oper = { groupId: id };
      }
      writes.push({ kind: 'put', key: cfgKey, value: JSON.stringify({ config, oper }) });
      const r = await this.kv.commit(guards, writes);
      if (!r.ok) return undefined;
      if (claimed) this.claims.advance(claimed.prefix, claimed.n + 1);
      this.log.info({ type, key, created: !checked.prev, revision: r.revision }, checked.prev ? 'updated' : 'created');
      // the next request through this process sees this change
      await this.cache?.waitFor(r.revision);
      return { type, key, config, oper, created: !checked.prev, revision: r.revision };
    } finally {
      if (claimed) this.claims.unclaim(claimed.prefix, claimed.n);
    }
  }

  /** Delete one object; refused (IN_USE) while something uses it. Returns the key. */
  async delete(type: ObjectType, key: string): Promise<string> {
    return this.mutex.run(scopeOf(type, key), () =>
      this.withRetries(`delete ${type} ${key}`, async () => {
        const loaded = await loadNeeds(this.kv, needsForDelete(type, key));
        const obj = checkDelete(type, key, loaded.state);
        const cfgKey = layout.cfg(type, key);
        const writes: WriteOp[] = [{ kind: 'delete', key: cfgKey }];
        if (type === 'network') {
          const nw = obj as Network;
          writes.push({ kind: 'delete', key: layout.tag(nw.encap, nw.pktTag) });
          writes.push({ kind: 'deletePrefix', prefix: layout.ipPrefix(key) });
          writes.push({ kind: 'delete', key: layout.ipHint(key) });
        }
        if (type === 'endpointGroup') {
          const id = Number(loaded.opers.get(cfgKey)?.groupId ?? 0);
          if (id > 0) writes.push({ kind: 'delete', key: layout.groupId(id) });
        }
        if (type === 'policy') writes.push({ kind: 'deletePrefix', prefix: `${layout.cfgPrefix('rule')}${key}:` });
        const r = await this.kv.commit(loaded.guards(), writes);
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
    return { key, ...decodeStored<ObjectOf[T]>(kv.value) };
  }

  async list<T extends ObjectType>(type: T): Promise<Array<StoredObject<ObjectOf[T]> & { key: string }>> {
    const prefix = layout.cfgPrefix(type);
    const { kvs } = await this.kv.list(prefix);
    return kvs.map((kv) => ({ key: kv.key.slice(prefix.length), ...decodeStored<ObjectOf[T]>(kv.value) }));
  }

  // ---------------------------------------------------------------- endpoints

  /** The endpoint id for a (network, idempotency key) pair: the same request always maps to the same id. */
  static endpointId(netKey: string, idempotencyKey: string): string {
    if (idempotencyKey === '') return randomBytes(12).toString('hex');
    return createHash('sha256').update(`${netKey}\0${idempotencyKey}`).digest('hex').slice(0, 24);
  }

  /**
   * Allocate an IP (inside the group's pool or the subnet, never the gateway) and a MAC, and record
   * the endpoint. A retry with the same idempotency key (default: the container id) returns the
   * same endpoint.
   */
  async createEndpoint(body: unknown): Promise<Endpoint & { created: boolean }> {
    const parsed = endpointRequestSchema.safeParse(body ?? {});
    if (!parsed.success) throw zodToError(parsed.error);
    const req = parsed.data;
    const netKey = `${req.tenantName}:${req.networkName}`;
    const grpKey = req.groupName ? `${req.tenantName}:${req.groupName}` : '';
    const idem = req.idempotencyKey || req.containerID;
    const id = NetmasterService.endpointId(netKey, idem);
    const ipPrefix = layout.ipPrefix(netKey);
    const fast = await this.fastCreateEndpoint(req, netKey, grpKey, id, idem);
    if (fast) return fast;
    return this.withRetries(`endpoint ${id}`, async () => {
      const reads: ReadOp[] = [
        { kind: 'get', key: layout.cfg('network', netKey) },
        { kind: 'get', key: layout.ep(id) },
        { kind: 'get', key: layout.ipHint(netKey) },
        ...(grpKey ? [{ kind: 'get' as const, key: layout.cfg('endpointGroup', grpKey) }] : []),
      ];
      // scan the next addresses in the same read when this process knows where to look
      const knownCursor = req.ipAddress ? undefined : this.claims.cursor(ipPrefix);
      const scanAt = reads.length;
      if (knownCursor !== undefined) reads.push(scanPageOp({ prefix: ipPrefix, keyOf: (n) => layout.ip(netKey, n) }, knownCursor));
      const { results } = await this.kv.read(reads);
      const nwKv = results[0]?.kvs[0];
      const existing = results[1]?.kvs[0];
      const hint = results[2]?.kvs[0];
      const grpKv = grpKey ? results[3]?.kvs[0] : undefined;
      if (existing) return { ...(JSON.parse(existing.value) as Endpoint), created: false };
      if (!nwKv) throw new NetloomError('NOT_FOUND', `network ${netKey} does not exist`, { field: 'networkName' });
      if (grpKey && !grpKv) throw new NetloomError('NOT_FOUND', `endpoint group ${grpKey} does not exist`, { field: 'groupName' });
      const target = this.endpointTarget(req, netKey, grpKey, decodeStored<Network>(nwKv.value).config, grpKv ? decodeStored<EndpointGroup>(grpKv.value).config : undefined);
      const { first, last } = target;
      let ip: number;
      let claimed = false;
      if (req.ipAddress) {
        const want = parseV4(req.ipAddress);
        if (want === undefined || want < first || want > last) {
          throw new NetloomError('INVALID_ARGUMENT', `ipAddress ${req.ipAddress} is not an address of ${target.where}`, { field: 'ipAddress' });
        }
        ip = want;
      } else {
        let chosen = knownCursor !== undefined ? this.claims.choose(ipPrefix, freeInPage(results[scanAt], { hex: true, ranges: [[first, last]] }, knownCursor, this.claims.window(ipPrefix))) : undefined;
        if (chosen === undefined) {
          const hinted = hint ? Number(hint.value) : first;
          const cursor = Math.min(Math.max(knownCursor ?? hinted, first), last);
          const free = await findFree(this.kv, { prefix: ipPrefix, keyOf: (n) => layout.ip(netKey, n), ranges: [[first, last]], hex: true }, cursor, this.claims.window(ipPrefix), this.claims.pendingOf(ipPrefix));
          chosen = this.claims.choose(ipPrefix, free);
        }
        if (chosen === undefined) {
          throw new NetloomError('EXHAUSTED', `no free address left in ${target.where}`, { field: target.pool ? 'groupName' : 'networkName' });
        }
        ip = chosen;
        this.claims.claim(ipPrefix, ip);
        claimed = true;
      }
      try {
        const ep = await this.commitEndpoint(req, id, idem, target, ip, nwKv.modRevision, grpKv?.modRevision);
        if (!ep) {
          if (req.ipAddress) {
            const taken = await this.kv.get(layout.ip(netKey, ip));
            if (taken && taken.value !== id) throw new NetloomError('CONFLICT', `ipAddress ${req.ipAddress} is already in use in network ${netKey}`, { field: 'ipAddress' });
          }
          return RETRY;
        }
        return ep;
      } finally {
        if (claimed) this.claims.unclaim(ipPrefix, ip);
      }
    });
  }

  /** Where an endpoint's address comes from: the group's pool, else the subnet. */
  private endpointTarget(req: EndpointRequest, netKey: string, grpKey: string, nw: Network, group: EndpointGroup | undefined) {
    if (group && group.networkName !== req.networkName) {
      throw new NetloomError('INVALID_ARGUMENT', `endpoint group ${grpKey} belongs to network ${group.networkName}, not ${req.networkName}`, { field: 'groupName' });
    }
    const sub = parseV4Subnet(nw.subnet);
    if (!sub) throw new NetloomError('INTERNAL', `network ${netKey} has a bad subnet ${nw.subnet}`);
    const pool = group?.ipPool ? parseV4Range(group.ipPool) : undefined;
    return {
      netKey,
      grpKey,
      nw,
      sub,
      pool,
      first: pool ? pool.first : sub.first,
      last: pool ? pool.last : sub.last,
      where: pool ? `pool ${group?.ipPool} of network ${netKey}` : `network ${netKey} (subnet ${nw.subnet})`,
    };
  }

  /** Commit one endpoint at `ip` (claimed by the caller); undefined when a guard failed. */
  private async commitEndpoint(
    req: EndpointRequest,
    id: string,
    idem: string,
    target: ReturnType<NetmasterService['endpointTarget']>,
    ip: number,
    networkRevision: string,
    groupRevision: string | undefined,
  ): Promise<(Endpoint & { created: boolean }) | undefined> {
    const { netKey, grpKey, nw, sub, first, last } = target;
    const mac = `02:${randomBytes(5).toString('hex').match(/../g)?.join(':') ?? '00:00:00:00:01'}`;
    const s6 = nw.ipv6Subnet ? parseV6Cidr(nw.ipv6Subnet) : undefined;
    const ep: Endpoint = {
      endpointID: id,
      tenantName: req.tenantName,
      networkName: req.networkName,
      network: netKey,
      groupName: req.groupName,
      ipAddress: formatV4(ip),
      ipv6Address: s6 ? v6AtOffset(s6, ip - sub.base) : '',
      macAddress: mac,
      homingHost: req.homingHost,
      intfName: req.intfName,
      vtepIP: req.vtepIP,
      labels: req.labels,
      containerID: req.containerID,
      containerName: req.containerName,
      idempotencyKey: idem,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    const guards: Guard[] = [
      { kind: 'modEquals', key: layout.cfg('network', netKey), modRevision: networkRevision },
      { kind: 'modEquals', key: layout.ep(id), modRevision: '0' },
      { kind: 'modEquals', key: layout.ip(netKey, ip), modRevision: '0' },
      { kind: 'modEquals', key: layout.mac(mac), modRevision: '0' },
    ];
    if (grpKey && groupRevision !== undefined) guards.push({ kind: 'modEquals', key: layout.cfg('endpointGroup', grpKey), modRevision: groupRevision });
    const next = ip + 1 > last ? first : ip + 1;
    const writes: WriteOp[] = [
      { kind: 'put', key: layout.ep(id), value: JSON.stringify(ep) },
      { kind: 'put', key: layout.ip(netKey, ip), value: id },
      { kind: 'put', key: layout.mac(mac), value: id },
      { kind: 'put', key: layout.epByNet(netKey, id), value: '' },
      ...(grpKey ? [{ kind: 'put' as const, key: layout.epByGrp(grpKey, id), value: '' }] : []),
    ];
    if (!req.ipAddress) writes.push({ kind: 'put', key: layout.ipHint(netKey), value: String(next) });
    const r = await this.kv.commit(guards, writes);
    if (!r.ok) return undefined;
    if (!req.ipAddress) this.claims.advance(layout.ipPrefix(netKey), next, first);
    this.log.debug({ id, network: netKey, ip: ep.ipAddress, host: ep.homingHost }, 'endpoint created');
    return { ...ep, created: true };
  }

  /**
   * An endpoint create in one round trip: network and group from the intent copy, the address at
   * this process's cursor, the endpoint key guarded absent. Undefined whenever that does not work
   * out (then the read path handles retries, idempotent repeats and errors).
   */
  private async fastCreateEndpoint(req: EndpointRequest, netKey: string, grpKey: string, id: string, idem: string): Promise<(Endpoint & { created: boolean }) | undefined> {
    if (!this.cache || req.ipAddress || idem === '') return undefined;
    const ipPrefix = layout.ipPrefix(netKey);
    const nwE = this.cache.entry('network', netKey);
    const grpE = grpKey ? this.cache.entry('endpointGroup', grpKey) : undefined;
    if (!nwE || (grpKey && !grpE)) return undefined;
    let target: ReturnType<NetmasterService['endpointTarget']>;
    try {
      target = this.endpointTarget(req, netKey, grpKey, nwE.config as Network, grpE?.config as EndpointGroup | undefined);
    } catch {
      return undefined;
    }
    const ip = this.claims.nextAtCursor(ipPrefix, [[target.first, target.last]]);
    if (ip === undefined) return undefined;
    this.claims.claim(ipPrefix, ip);
    try {
      const ep = await this.commitEndpoint(req, id, idem, target, ip, nwE.modRevision, grpE?.modRevision);
      if (ep) this.fastCommits++;
      return ep;
    } finally {
      this.claims.unclaim(ipPrefix, ip);
    }
  }

  /** Release an endpoint's addresses and forget it; deleting an unknown id succeeds (idempotent). */
  async deleteEndpoint(id: string): Promise<{ deleted: boolean }> {
    return this.withRetries(`delete endpoint ${id}`, async () => {
      const kv = await this.kv.get(layout.ep(id));
      if (!kv) return { deleted: false };
      const ep = JSON.parse(kv.value) as Endpoint;
      const ip = parseV4(ep.ipAddress);
      const grpKey = ep.groupName ? `${ep.tenantName}:${ep.groupName}` : '';
      const writes: WriteOp[] = [
        { kind: 'delete', key: layout.ep(id) },
        { kind: 'delete', key: layout.mac(ep.macAddress) },
        { kind: 'delete', key: layout.epByNet(ep.network, id) },
        ...(grpKey ? [{ kind: 'delete' as const, key: layout.epByGrp(grpKey, id) }] : []),
      ];
      const guards: Guard[] = [{ kind: 'modEquals', key: layout.ep(id), modRevision: kv.modRevision }];
      if (ip !== undefined) {
        // release the address only if it is still ours
        const ipKv = await this.kv.get(layout.ip(ep.network, ip));
        if (ipKv && ipKv.value === id) {
          writes.push({ kind: 'delete', key: layout.ip(ep.network, ip) });
          guards.push({ kind: 'modEquals', key: layout.ip(ep.network, ip), modRevision: ipKv.modRevision });
        }
      }
      const r = await this.kv.commit(guards, writes);
      if (!r.ok) return RETRY;
      this.log.debug({ id, network: ep.network }, 'endpoint deleted');
      return { deleted: true };
    });
  }

  async getEndpoint(id: string): Promise<Endpoint> {
    const kv = await this.kv.get(layout.ep(id));
    if (!kv) throw new NetloomError('NOT_FOUND', `endpoint ${id} does not exist`);
    return JSON.parse(kv.value) as Endpoint;
  }

  async listEndpoints(filter: { network?: string; host?: string } = {}): Promise<Endpoint[]> {
    const { kvs } = await this.kv.list(layout.epPrefix());
    return kvs
      .map((kv) => JSON.parse(kv.value) as Endpoint)
      .filter((e) => (filter.network === undefined || e.network === filter.network) && (filter.host === undefined || e.homingHost === filter.host));
  }

  /** Endpoints of a network or group, by index. */
  async endpointsIn(kind: 'net' | 'grp', key: string): Promise<Endpoint[]> {
    const prefix = kind === 'net' ? layout.epByNetPrefix(key) : layout.epByGrpPrefix(key);
    const { kvs } = await this.kv.list(prefix, { keysOnly: true });
    const ids = kvs.map((k) => k.key.slice(prefix.length));
    const out: Endpoint[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      // etcd allows at most 128 operations in one transaction (--max-txn-ops)
      const { results } = await this.kv.read(ids.slice(i, i + 100).map((id) => ({ kind: 'get' as const, key: layout.ep(id) })));
      for (const r of results) if (r.kvs[0]) out.push(JSON.parse(r.kvs[0].value) as Endpoint);
    }
    return out;
  }

  // ---------------------------------------------------------------- counts and watch

  /** Number of intent objects by type and of endpoints (for metrics and /info). */
  async objectCounts(): Promise<Record<string, number>> {
    const ops = [...OBJECT_TYPES.map((t) => ({ kind: 'count' as const, prefix: layout.cfgPrefix(t) })), { kind: 'count' as const, prefix: layout.epPrefix() }];
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
   * Returns a stop function.
   */
  async watch(sinceRevision: string, onChange: (e: ChangeEvent) => void, onError: (e: Error) => void): Promise<() => Promise<void>> {
    const cfgRoot = `${layout.root}cfg/`;
    const epRoot = layout.epPrefix();
    return this.kv.watch(
      layout.root,
      sinceRevision,
      (e: WatchEvent) => {
        let ev: ChangeEvent | undefined;
        const value = e.type === 'put' ? e.value : e.prevValue;
        if (e.key.startsWith(cfgRoot)) {
          const rest = e.key.slice(cfgRoot.length);
          const slash = rest.indexOf('/');
          const stored = value ? decodeStored(value) : undefined;
          ev = {
            revision: e.modRevision,
            op: e.type,
            kind: 'config',
            type: rest.slice(0, slash) as ObjectType,
            key: rest.slice(slash + 1),
            config: stored?.config,
            oper: stored?.oper,
          };
        } else if (e.key.startsWith(epRoot)) {
          ev = { revision: e.modRevision, op: e.type, kind: 'endpoint', type: 'endpoint', key: e.key.slice(epRoot.length), config: value ? JSON.parse(value) : undefined, oper: undefined };
        }
        if (ev) onChange(ev);
      },
      onError,
    );
  }

  /**
   * Every intent object and endpoint at one revision. A consumer (the agent stream) sends this,
   * then follows `watch(revision)`: together they miss no change and repeat none.
   */
  async snapshot(): Promise<{ revision: string; objects: Array<{ type: ObjectType; key: string; config: unknown; oper: Record<string, unknown> }>; endpoints: Endpoint[] }> {
    const revision = await this.currentRevision();
    const cfgRoot = `${layout.root}cfg/`;
    const objects = (await this.kv.list(cfgRoot, { revision })).kvs.map((kv) => {
      const rest = kv.key.slice(cfgRoot.length);
      const slash = rest.indexOf('/');
      const s = decodeStored(kv.value);
      return { type: rest.slice(0, slash) as ObjectType, key: rest.slice(slash + 1), config: s.config, oper: s.oper };
    });
    const endpoints = (await this.kv.list(layout.epPrefix(), { revision })).kvs.map((kv) => JSON.parse(kv.value) as Endpoint);
    return { revision, objects, endpoints };
  }

  /** Compare allocations with objects; report leaked and missing keys; repair when asked. */
  checkConsistency(opts: { repair?: boolean } = {}): Promise<ConsistencyReport> {
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
