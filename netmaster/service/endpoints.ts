/**
 * Endpoints: create (an IP inside the group's pool or the subnet, never the gateway, and a MAC,
 * recorded with host, container and labels, in one guarded transaction; the same idempotency key
 * returns the same endpoint), idempotent delete that releases both, and reads. Creates try one
 * round trip first (network and group from the intent copy, the address at the cursor) and fall
 * back to the read path.
 */
import { endpointId } from '../../lib/endpoint-id';
import { NetloomError } from '../../lib/errors';
import { randomMac } from '../../lib/mac';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { BODY_ERRORS } from '../model/keys';
import { parseWith } from '../../lib/validation';
import { parseV4, parseV4Range, parseV4Subnet } from '../model/net';
import { endpointRequestSchema, type Endpoint, type EndpointGroup, type EndpointRequest, type Network } from '../model/schemas';
import { findFree, freeInPage, scanPageOp } from '../store/alloc';
import type { IntentCache } from '../store/intent-cache';
import { checkEndpointKv, checkIntentKv } from '../store/stored-values';
import type { EtcdKV, Guard, ReadOp, WriteOp } from '../store/kv';
import { layout } from '../store/layout';
import type { Claims } from './claims';
import { heldBlocks, noBlockAround, withoutSpans } from './block-guards';
import { blockKeys } from './block-keys';
import { RETRY, type Retrier } from './retry';
import { endpointRecord, endpointWrites } from './endpoint-record';

export interface EndpointDeps {
  kv: EtcdKV;
  claims: Claims;
  cache: IntentCache | undefined;
  clock: Clock;
  log: Logger;
  retrier: Retrier;
  stats: { fastCommits: number };
}

export class EndpointService {
  /** the spans of the blocks of each network as the last read saw them (the fast path skips them; guards decide) */
  private readonly blockSpans = new Map<string, Array<[number, number]>>();

  constructor(private readonly deps: EndpointDeps) {}

  /** The endpoint id for a (network, idempotency key) pair: the same request always maps to the same id. */
  static endpointId(netKey: string, idempotencyKey: string): string {
    return endpointId(netKey, idempotencyKey);
  }

  /**
   * Allocate an IP (inside the group's pool or the subnet, never the gateway) and a MAC, and record
   * the endpoint. A retry with the same idempotency key (default: the container id) returns the
   * same endpoint.
   */
  async create(body: unknown): Promise<Endpoint & { created: boolean }> {
    const req = parseWith(endpointRequestSchema, body ?? {}, BODY_ERRORS);
    const netKey = `${req.tenantName}:${req.networkName}`;
    const grpKey = req.groupName ? `${req.tenantName}:${req.groupName}` : '';
    const idem = req.idempotencyKey || req.containerID;
    const id = EndpointService.endpointId(netKey, idem);
    const ipPrefix = layout.ipPrefix(netKey);
    const fast = await this.fastCreateEndpoint(req, netKey, grpKey, id, idem);
    if (fast) return fast;
    return this.deps.retrier.run(`endpoint ${id}`, async () => {
      const reads: ReadOp[] = [
        { kind: 'get', key: layout.cfg('network', netKey) },
        { kind: 'get', key: layout.ep(id) },
        { kind: 'get', key: layout.ipHint(netKey) },
        { kind: 'prefix', prefix: blockKeys.prefix(netKey) },
        ...(grpKey ? [{ kind: 'get' as const, key: layout.cfg('endpointGroup', grpKey) }] : []),
      ];
      // scan the next addresses in the same read when this process knows where to look
      const knownCursor = req.ipAddress ? undefined : this.deps.claims.cursor(ipPrefix);
      const scanAt = reads.length;
      if (knownCursor !== undefined) reads.push(scanPageOp({ prefix: ipPrefix, keyOf: (n) => layout.ip(netKey, n) }, knownCursor));
      const { results } = await this.deps.kv.read(reads);
      const nwKv = results[0]?.kvs[0];
      const existing = results[1]?.kvs[0];
      const hint = results[2]?.kvs[0];
      const blocks = heldBlocks(netKey, results[3]?.kvs ?? []);
      this.blockSpans.set(
        netKey,
        blocks.map((b) => b.span),
      );
      const grpKv = grpKey ? results[4]?.kvs[0] : undefined;
      const bad = this.deps.kv.badValues;
      if (existing) return { ...bad.need(existing.key, () => checkEndpointKv(existing)), created: false };
      if (!nwKv) throw new NetloomError('NOT_FOUND', `network ${netKey} does not exist`, { field: 'networkName' });
      if (grpKey && !grpKv) throw new NetloomError('NOT_FOUND', `endpoint group ${grpKey} does not exist`, { field: 'groupName' });
      const target = this.endpointTarget(
        req,
        netKey,
        grpKey,
        bad.need(nwKv.key, () => checkIntentKv<Network>(nwKv)).config,
        grpKv ? bad.need(grpKv.key, () => checkIntentKv<EndpointGroup>(grpKv)).config : undefined,
      );
      const { first, last } = target;
      // addresses inside hosts' blocks are those hosts' agents' to give (issue 15)
      const ranges = withoutSpans(
        [[first, last]],
        blocks.map((b) => b.span),
      );
      let ip: number;
      let claimed = false;
      if (req.ipAddress) {
        const want = parseV4(req.ipAddress);
        if (want === undefined || want < first || want > last) {
          throw new NetloomError('INVALID_ARGUMENT', `ipAddress ${req.ipAddress} is not an address of ${target.where}`, {
            field: 'ipAddress',
          });
        }
        const inBlock = blocks.find((b) => want >= b.span[0] && want <= b.span[1]);
        if (inBlock) {
          throw new NetloomError(
            'CONFLICT',
            `ipAddress ${req.ipAddress} is inside address block ${inBlock.cidr} of host ${inBlock.host} in network ${netKey}: only that host's agent gives it`,
            { field: 'ipAddress' },
          );
        }
        ip = want;
      } else {
        let chosen =
          knownCursor !== undefined
            ? this.deps.claims.choose(
                ipPrefix,
                freeInPage(results[scanAt], { hex: true, ranges }, knownCursor, this.deps.claims.window(ipPrefix)),
              )
            : undefined;
        if (chosen === undefined) {
          const hinted = hint ? Number(hint.value) : first;
          const cursor = Math.min(Math.max(knownCursor ?? hinted, first), last);
          const free = await findFree(
            this.deps.kv,
            { prefix: ipPrefix, keyOf: (n) => layout.ip(netKey, n), ranges, hex: true },
            cursor,
            this.deps.claims.window(ipPrefix),
            this.deps.claims.pendingOf(ipPrefix),
          );
          chosen = this.deps.claims.choose(ipPrefix, free);
          // every candidate was claimed here while the scan ran (a burst of creates): scan again
          if (chosen === undefined && free.length > 0) return RETRY;
        }
        if (chosen === undefined) {
          throw new NetloomError('EXHAUSTED', `no free address left in ${target.where}`, {
            field: target.pool ? 'groupName' : 'networkName',
          });
        }
        ip = chosen;
        this.deps.claims.claim(ipPrefix, ip);
        claimed = true;
      }
      try {
        const ep = await this.commitEndpoint(req, id, idem, target, ip, nwKv.modRevision, grpKv?.modRevision);
        if (!ep) {
          if (req.ipAddress) {
            const taken = await this.deps.kv.get(layout.ip(netKey, ip));
            if (taken && taken.value !== id)
              throw new NetloomError('CONFLICT', `ipAddress ${req.ipAddress} is already in use in network ${netKey}`, {
                field: 'ipAddress',
              });
          }
          if (req.macAddress) {
            const taken = await this.deps.kv.get(layout.mac(req.macAddress));
            if (taken && taken.value !== id)
              throw new NetloomError('CONFLICT', `macAddress ${req.macAddress} is already in use`, { field: 'macAddress' });
          }
          return RETRY;
        }
        return ep;
      } finally {
        if (claimed) this.deps.claims.unclaim(ipPrefix, ip);
      }
    });
  }

  /** Where an endpoint's address comes from: the group's pool, else the subnet. */
  private endpointTarget(req: EndpointRequest, netKey: string, grpKey: string, nw: Network, group: EndpointGroup | undefined) {
    if (group && group.networkName !== req.networkName) {
      throw new NetloomError(
        'INVALID_ARGUMENT',
        `endpoint group ${grpKey} belongs to network ${group.networkName}, not ${req.networkName}`,
        { field: 'groupName' },
      );
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
    target: ReturnType<EndpointService['endpointTarget']>,
    ip: number,
    networkRevision: string,
    groupRevision: string | undefined,
  ): Promise<(Endpoint & { created: boolean }) | undefined> {
    const { netKey, grpKey, nw, sub, first, last } = target;
    const mac = req.macAddress || randomMac();
    const record = {
      id,
      req,
      netKey,
      grpKey,
      ip,
      subnetBase: sub.base,
      nw,
      mac,
      host: req.homingHost,
      vtepIp: req.vtepIP,
      idempotencyKey: idem,
      createdAt: new Date(this.deps.clock.now()).toISOString(),
    };
    const ep = endpointRecord(record);
    const guards: Guard[] = [
      { kind: 'modEquals', key: layout.cfg('network', netKey), modRevision: networkRevision },
      { kind: 'modEquals', key: layout.ep(id), modRevision: '0' },
      { kind: 'modEquals', key: layout.ip(netKey, ip), modRevision: '0' },
      { kind: 'modEquals', key: layout.mac(mac), modRevision: '0' },
    ];
    if (grpKey && groupRevision !== undefined)
      guards.push({ kind: 'modEquals', key: layout.cfg('endpointGroup', grpKey), modRevision: groupRevision });
    // no host claimed a block around the address meanwhile (a claim guards the other way round)
    guards.push(...noBlockAround(netKey, ip, sub.prefix));
    const next = ip + 1 > last ? first : ip + 1;
    const writes: WriteOp[] = endpointWrites(ep, record);
    if (!req.ipAddress) writes.push({ kind: 'put', key: layout.ipHint(netKey), value: String(next) });
    const r = await this.deps.kv.commit(guards, writes);
    if (!r.ok) return undefined;
    if (!req.ipAddress) this.deps.claims.advance(layout.ipPrefix(netKey), next, first);
    this.deps.log.debug({ id, network: netKey, ip: ep.ipAddress, host: ep.homingHost }, 'endpoint created');
    return { ...ep, created: true };
  }

  /**
   * An endpoint create in one round trip: network and group from the intent copy, the address at
   * this process's cursor, the endpoint key guarded absent. Undefined whenever that does not work
   * out (then the read path handles retries, idempotent repeats and errors).
   */
  private async fastCreateEndpoint(
    req: EndpointRequest,
    netKey: string,
    grpKey: string,
    id: string,
    idem: string,
  ): Promise<(Endpoint & { created: boolean }) | undefined> {
    if (!this.deps.cache || req.ipAddress || idem === '') return undefined;
    const ipPrefix = layout.ipPrefix(netKey);
    const nwE = this.deps.cache.entry('network', netKey);
    const grpE = grpKey ? this.deps.cache.entry('endpointGroup', grpKey) : undefined;
    if (!nwE || (grpKey && !grpE)) return undefined;
    let target: ReturnType<EndpointService['endpointTarget']>;
    try {
      target = this.endpointTarget(req, netKey, grpKey, nwE.config as Network, grpE?.config as EndpointGroup | undefined);
    } catch {
      return undefined;
    }
    const ip = this.deps.claims.nextAtCursor(ipPrefix, withoutSpans([[target.first, target.last]], this.blockSpans.get(netKey) ?? []));
    if (ip === undefined) return undefined;
    this.deps.claims.claim(ipPrefix, ip);
    try {
      const ep = await this.commitEndpoint(req, id, idem, target, ip, nwE.modRevision, grpE?.modRevision);
      if (ep) this.deps.stats.fastCommits++;
      return ep;
    } finally {
      this.deps.claims.unclaim(ipPrefix, ip);
    }
  }

  /** Release an endpoint's addresses and forget it; deleting an unknown id succeeds (idempotent). */
  async delete(id: string): Promise<{ deleted: boolean }> {
    return this.deps.retrier.run(`delete endpoint ${id}`, async () => {
      const kv = await this.deps.kv.get(layout.ep(id));
      if (!kv) return { deleted: false };
      const ep = this.deps.kv.badValues.take(kv.key, () => checkEndpointKv(kv));
      if (!ep) {
        // a stored value that cannot be read: only its key goes (the consistency check finds
        // what it held, as allocations no endpoint owns)
        const r = await this.deps.kv.commit(
          [{ kind: 'modEquals', key: kv.key, modRevision: kv.modRevision }],
          [{ kind: 'delete', key: kv.key }],
        );
        if (!r.ok) return RETRY;
        this.deps.kv.badValues.clear(kv.key);
        return { deleted: true };
      }
      if (ep.external)
        throw new NetloomError(
          'CONFLICT',
          `endpoint ${id} is the external endpoint ${ep.tenantName}:${ep.containerName}: unregister it (DELETE /api/v1/externalEndpoints/${ep.tenantName}:${ep.containerName}/)`,
          { field: 'id' },
        );
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
        const ipKv = await this.deps.kv.get(layout.ip(ep.network, ip));
        if (ipKv && ipKv.value === id) {
          writes.push({ kind: 'delete', key: layout.ip(ep.network, ip) });
          guards.push({ kind: 'modEquals', key: layout.ip(ep.network, ip), modRevision: ipKv.modRevision });
        }
      }
      const r = await this.deps.kv.commit(guards, writes);
      if (!r.ok) return RETRY;
      this.deps.log.debug({ id, network: ep.network }, 'endpoint deleted');
      return { deleted: true };
    });
  }

  /**
   * Replace an endpoint's labels (checked as on create); `host`, when given, must be the host the
   * endpoint is homed on. NOT_FOUND for an unknown endpoint.
   */
  async setLabels(id: string, labels: unknown, host?: string): Promise<Endpoint> {
    const checked = parseWith(endpointRequestSchema.pick({ labels: true }), { labels }, BODY_ERRORS).labels;
    return this.deps.retrier.run(`labels of endpoint ${id}`, async () => {
      const kv = await this.deps.kv.get(layout.ep(id));
      if (!kv) throw new NetloomError('NOT_FOUND', `endpoint ${id} does not exist`, { field: 'id' });
      const ep = this.deps.kv.badValues.need(kv.key, () => checkEndpointKv(kv));
      if (host !== undefined && ep.homingHost !== host) {
        throw new NetloomError('PERMISSION_DENIED', `endpoint ${id} belongs to host ${ep.homingHost}, not ${host}`, { field: 'host' });
      }
      const next: Endpoint = { ...ep, labels: checked };
      const r = await this.deps.kv.commit(
        [{ kind: 'modEquals', key: kv.key, modRevision: kv.modRevision }],
        [{ kind: 'put', key: kv.key, value: JSON.stringify(next) }],
      );
      if (!r.ok) return RETRY;
      return next;
    });
  }

  async get(id: string): Promise<Endpoint> {
    const kv = await this.deps.kv.get(layout.ep(id));
    if (!kv) throw new NetloomError('NOT_FOUND', `endpoint ${id} does not exist`);
    return this.deps.kv.badValues.need(kv.key, () => checkEndpointKv(kv));
  }

  async list(filter: { network?: string; host?: string } = {}): Promise<Endpoint[]> {
    const { kvs } = await this.deps.kv.list(layout.epPrefix());
    const bad = this.deps.kv.badValues;
    return kvs
      .flatMap((kv) => bad.take(kv.key, () => checkEndpointKv(kv)) ?? [])
      .filter(
        (e) =>
          (filter.network === undefined || e.network === filter.network) && (filter.host === undefined || e.homingHost === filter.host),
      );
  }

  /** Endpoints of a network or group, by index. */
  async in(kind: 'net' | 'grp', key: string): Promise<Endpoint[]> {
    const prefix = kind === 'net' ? layout.epByNetPrefix(key) : layout.epByGrpPrefix(key);
    const { kvs } = await this.deps.kv.list(prefix, { keysOnly: true });
    const ids = kvs.map((k) => k.key.slice(prefix.length));
    const out: Endpoint[] = [];
    for (let i = 0; i < ids.length; i += 100) {
      // etcd allows at most 128 operations in one transaction (--max-txn-ops)
      const { results } = await this.deps.kv.read(ids.slice(i, i + 100).map((id) => ({ kind: 'get' as const, key: layout.ep(id) })));
      for (const r of results) {
        const kv = r.kvs[0];
        const ep = kv && this.deps.kv.badValues.take(kv.key, () => checkEndpointKv(kv));
        if (ep) out.push(ep);
      }
    }
    return out;
  }
}
