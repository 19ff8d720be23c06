/**
 * SyncEndpoints (issue 15): an agent records the endpoints it allocated from its own address
 * blocks and forgets the ones it deleted. A registration writes exactly the keys CreateEndpoint
 * writes (endpoint, `alloc/ip`, `alloc/mac`, the network and group indexes), so every reader
 * (endpoint ls, inspect, the consistency check, the desired-state fan-out) sees it as any
 * endpoint. Each item gets an outcome, in request order:
 * - OK: written, or already recorded exactly so (idempotent by endpoint id);
 * - INVALID: a malformed field, or an id that is not endpointId(tenant:network, idempotency key);
 * - NOT_FOUND: the network or group does not exist;
 * - NOT_OWNER: the address is not inside a block of this host (or, deregistering, the endpoint
 *   is another host's);
 * - CONFLICT: the address or MAC is another endpoint's (named), or the id is recorded otherwise.
 *
 * Batches go in chunks, each one read and one guarded transaction (etcd allows 128 operations per
 * transaction): the guards are every key the outcome depended on (endpoint/ip/mac keys as read,
 * the owning block key, network and group versions), so a concurrent change (a block released, an
 * address taken) fails the transaction and the chunk is read and decided again (Retrier). A
 * registration and a ReleaseBlock can never both win: release guards the block's address range,
 * registration guards the block key. Deregistrations are applied before registrations.
 */
import { endpointId } from '../../lib/endpoint-id';
import { errorMessage, isNetloomError } from '../../lib/errors';
import type { Clock } from '../../lib/clock';
import type { Logger } from '../../lib/logger';
import { parseWith } from '../../lib/validation';
import type { EndpointRegistration__Output as Registration } from '../../proto/gen/netloom/v1/EndpointRegistration';
import type { SyncResult__Output as SyncResult } from '../../proto/gen/netloom/v1/SyncResult';
import { BODY_ERRORS } from '../model/keys';
import { parseV4, parseV4Subnet } from '../model/net';
import { endpointRequestSchema, type Endpoint, type EndpointGroup, type EndpointRequest, type Network } from '../model/schemas';
import type { EtcdKV, Guard, KeyValue, ReadOp, WriteOp } from '../store/kv';
import { layout } from '../store/layout';
import { checkEndpointKv, checkIntentKv } from '../store/stored-values';
import { blockKeys, blockOfKey } from './block-keys';
import { blockSpan } from './block-plan';
import { readBlockValue } from './blocks';
import { RETRY, type Retrier } from './retry';
import { endpointRecord, endpointWrites } from './endpoint-record';
import { podBodyOf } from '../kube/pod';

export type Outcome = SyncResult['outcome'];

export interface SyncDeps {
  kv: EtcdKV;
  clock: Clock;
  log: Logger;
  retrier: Retrier;
}

/** At most this many items per transaction (5 writes each stays under etcd's 128 operations). */
export const SYNC_CHUNK = 20;
/** Reads of one chunk stay under this many operations. */
const MAX_READ_OPS = 120;

const result = (id: string, outcome: Outcome, message = '', conflictingEndpoint = ''): SyncResult => ({
  endpointId: id,
  outcome,
  message,
  conflictingEndpoint,
});

/** A registration that passed the checks needing no reads. */
interface Checked {
  index: number;
  reg: Registration;
  req: EndpointRequest;
  netKey: string;
  grpKey: string;
  ip: number;
}

export class EndpointSync {
  constructor(private readonly deps: SyncDeps) {}

  async sync(
    host: string,
    deregister: readonly string[],
    register: readonly Registration[],
    vtepIp = '',
  ): Promise<{ deregistered: SyncResult[]; registered: SyncResult[] }> {
    const deregistered: SyncResult[] = [];
    for (let i = 0; i < deregister.length; i += SYNC_CHUNK)
      deregistered.push(...(await this.deregisterChunk(host, deregister.slice(i, i + SYNC_CHUNK))));
    const registered: SyncResult[] = register.map((r) => result(r.id, 'OK'));
    const checked: Checked[] = [];
    register.forEach((reg, index) => {
      const c = checkRegistration(reg, host);
      if ('outcome' in c) registered[index] = c;
      else checked.push({ ...c, index });
    });
    for (const chunk of chunks(checked)) {
      const out = await this.registerChunk(host, chunk, vtepIp);
      chunk.forEach((c, i) => (registered[c.index] = out[i] ?? result(c.reg.id, 'INVALID', 'no outcome')));
    }
    return { deregistered, registered };
  }

  /** Forget up to SYNC_CHUNK endpoints of `host` in one transaction (re-decided when a guard fails). */
  private deregisterChunk(host: string, ids: readonly string[]): Promise<SyncResult[]> {
    return this.deps.retrier.run(`deregistrations of ${host}`, async () => {
      const { results } = await this.deps.kv.read(ids.map((id) => ({ kind: 'get' as const, key: layout.ep(id) })));
      const out: SyncResult[] = [];
      const mine: Array<{ ep: Endpoint; kv: KeyValue }> = [];
      ids.forEach((id, i) => {
        const kv = results[i]?.kvs[0];
        if (id === '' || id.includes('/')) return void out.push(result(id, 'INVALID', 'an endpoint id is required'));
        if (!kv) return void out.push(result(id, 'OK', 'not recorded'));
        let ep: Endpoint;
        try {
          ep = checkEndpointKv(kv);
        } catch (e) {
          return void out.push(result(id, 'INVALID', `stored endpoint ${id} cannot be read: ${errorMessage(e)}`));
        }
        if (ep.homingHost !== host || ep.external) {
          return void out.push(result(id, 'NOT_OWNER', `endpoint ${id} belongs to host ${ep.homingHost || '(none)'}, not ${host}`));
        }
        out.push(result(id, 'OK'));
        mine.push({ ep, kv });
      });
      if (mine.length === 0) return out;
      // the address and MAC keys go only while they are still this endpoint's
      const held = await this.deps.kv.read(
        mine.flatMap(({ ep }) => {
          const ip = parseV4(ep.ipAddress);
          return [
            { kind: 'get' as const, key: ip === undefined ? layout.ep(ep.endpointID) : layout.ip(ep.network, ip) },
            { kind: 'get' as const, key: layout.mac(ep.macAddress) },
          ];
        }),
      );
      const guards: Guard[] = [];
      const writes: WriteOp[] = [];
      mine.forEach(({ ep, kv }, i) => {
        const id = ep.endpointID;
        guards.push({ kind: 'modEquals', key: kv.key, modRevision: kv.modRevision });
        writes.push({ kind: 'delete', key: kv.key }, { kind: 'delete', key: layout.epByNet(ep.network, id) });
        const grpKey = ep.groupName ? `${ep.tenantName}:${ep.groupName}` : '';
        if (grpKey) writes.push({ kind: 'delete', key: layout.epByGrp(grpKey, id) });
        for (const x of [held.results[2 * i]?.kvs[0], held.results[2 * i + 1]?.kvs[0]]) {
          if (!x || x.value !== id || x.key === kv.key) continue;
          guards.push({ kind: 'modEquals', key: x.key, modRevision: x.modRevision });
          writes.push({ kind: 'delete', key: x.key });
        }
      });
      const r = await this.deps.kv.commit(guards, writes);
      if (!r.ok) return RETRY;
      this.deps.log.debug({ host, endpoints: mine.length }, 'endpoints deregistered');
      return out;
    });
  }

  /** Record one chunk of checked registrations in one transaction (re-decided when a guard fails). */
  private registerChunk(host: string, chunk: readonly Checked[], vtepIp: string): Promise<SyncResult[]> {
    return this.deps.retrier.run(`registrations of ${host}`, async () => {
      const nets = [...new Set(chunk.map((c) => c.netKey))];
      const grps = [...new Set(chunk.map((c) => c.grpKey).filter((g) => g !== ''))];
      const reads: ReadOp[] = [
        ...nets.flatMap((n) => [
          { kind: 'get' as const, key: layout.cfg('network', n) },
          { kind: 'prefix' as const, prefix: blockKeys.prefix(n) },
        ]),
        ...grps.map((g) => ({ kind: 'get' as const, key: layout.cfg('endpointGroup', g) })),
        ...chunk.flatMap((c) => [
          { kind: 'get' as const, key: layout.ep(c.reg.id) },
          { kind: 'get' as const, key: layout.ip(c.netKey, c.ip) },
          { kind: 'get' as const, key: layout.mac(c.req.macAddress) },
        ]),
      ];
      const { results } = await this.deps.kv.read(reads);
      const bad = this.deps.kv.badValues;
      const netOf = new Map<string, { kv: KeyValue; nw: Network; blocks: KeyValue[] } | undefined>();
      nets.forEach((n, i) => {
        const kv = results[2 * i]?.kvs[0];
        const nw = kv ? bad.take(kv.key, () => checkIntentKv<Network>(kv))?.config : undefined;
        netOf.set(n, kv && nw ? { kv, nw, blocks: results[2 * i + 1]?.kvs ?? [] } : undefined);
      });
      const grpOf = new Map<string, { kv: KeyValue; g: EndpointGroup } | undefined>();
      grps.forEach((g, i) => {
        const kv = results[2 * nets.length + i]?.kvs[0];
        const cfg = kv ? bad.take(kv.key, () => checkIntentKv<EndpointGroup>(kv))?.config : undefined;
        grpOf.set(g, kv && cfg ? { kv, g: cfg } : undefined);
      });
      const base = 2 * nets.length + grps.length;
      const guards = new Map<string, Guard>();
      const guard = (key: string, modRevision: string) => guards.set(key, { kind: 'modEquals', key, modRevision });
      const writes: WriteOp[] = [];
      const takenIp = new Map<string, string>();
      const takenMac = new Map<string, string>();
      const seen = new Set<string>();
      const at = new Date(this.deps.clock.now()).toISOString();
      const out = chunk.map((c, i): SyncResult => {
        const { reg, req, netKey, grpKey, ip } = c;
        const id = reg.id;
        const epKv = results[base + 3 * i]?.kvs[0];
        const ipKv = results[base + 3 * i + 1]?.kvs[0];
        const macKv = results[base + 3 * i + 2]?.kvs[0];
        const net = netOf.get(netKey);
        if (!net) return result(id, 'NOT_FOUND', `network ${netKey} does not exist`);
        const grp = grpKey ? grpOf.get(grpKey) : undefined;
        if (grpKey && !grp) return result(id, 'NOT_FOUND', `endpoint group ${grpKey} does not exist`);
        if (grp && grp.g.networkName !== req.networkName) {
          return result(id, 'INVALID', `endpoint group ${grpKey} belongs to network ${grp.g.networkName}, not ${req.networkName}`);
        }
        const sub = parseV4Subnet(net.nw.subnet);
        if (!sub || ip < sub.first || ip > sub.last)
          return result(id, 'INVALID', `ip ${reg.ip} is not an address of network ${netKey} (subnet ${net.nw.subnet})`);
        const blockKv = net.blocks.find((kv) => {
          const b = blockOfKey(netKey, kv.key);
          if (!b) return false;
          const [lo, hi] = blockSpan(b);
          return ip >= lo && ip <= hi;
        });
        const owner = blockKv ? readBlockValue(blockKv.key, blockKv.value)?.host : undefined;
        if (!blockKv || owner !== host) {
          const where = blockKv
            ? `block ${readBlockValue(blockKv.key, blockKv.value)?.cidr ?? blockKv.key} of host ${owner ?? '?'}`
            : 'no block';
          return result(id, 'NOT_OWNER', `ip ${reg.ip} of network ${netKey} is in ${where}, not in a block of host ${host}`);
        }
        if (seen.has(id)) return result(id, 'CONFLICT', `endpoint ${id} is registered twice in this request`, id);
        seen.add(id);
        if (epKv) {
          let ep: Endpoint | undefined;
          try {
            ep = checkEndpointKv(epKv);
          } catch {
            ep = undefined;
          }
          if (ep && ep.homingHost === host && ep.ipAddress === reg.ip && ep.macAddress === req.macAddress && ep.network === netKey) {
            return result(id, 'OK', 'already recorded');
          }
          return result(
            id,
            'CONFLICT',
            `endpoint ${id} is recorded already with ${ep ? `ip ${ep.ipAddress} on host ${ep.homingHost}` : 'a value that cannot be read'}`,
            id,
          );
        }
        const ipHolder = ipKv && ipKv.value !== id ? ipKv.value : takenIp.get(reg.ip);
        if (ipHolder !== undefined) return result(id, 'CONFLICT', `ip ${reg.ip} in network ${netKey} is held by ${ipHolder}`, ipHolder);
        const macHolder = macKv && macKv.value !== id ? macKv.value : takenMac.get(req.macAddress);
        if (macHolder !== undefined) return result(id, 'CONFLICT', `mac ${req.macAddress} is held by ${macHolder}`, macHolder);
        takenIp.set(reg.ip, id);
        takenMac.set(req.macAddress, id);
        const e = {
          id,
          req,
          netKey,
          grpKey,
          ip,
          subnetBase: sub.base,
          nw: net.nw,
          mac: req.macAddress,
          host,
          vtepIp,
          idempotencyKey: req.idempotencyKey,
          createdAt: at,
        };
        guard(layout.ep(id), '0');
        guard(layout.ip(netKey, ip), ipKv?.modRevision ?? '0');
        guard(layout.mac(req.macAddress), macKv?.modRevision ?? '0');
        guard(blockKv.key, blockKv.modRevision);
        guard(net.kv.key, net.kv.modRevision);
        if (grp) guard(grp.kv.key, grp.kv.modRevision);
        writes.push(...endpointWrites(endpointRecord(e), e));
        return result(id, 'OK');
      });
      if (writes.length === 0) return out;
      const r = await this.deps.kv.commit([...guards.values()], writes);
      if (!r.ok) return RETRY;
      this.deps.log.debug({ host, endpoints: writes.length }, 'endpoints registered');
      return out;
    });
  }
}

/** The checks of one registration that need no reads: a Checked, or its INVALID result. */
export function checkRegistration(reg: Registration, host: string): Omit<Checked, 'index'> | SyncResult {
  const id = reg.id;
  let req: EndpointRequest;
  try {
    req = parseWith(
      endpointRequestSchema,
      {
        tenantName: reg.tenant || 'default',
        networkName: reg.network,
        groupName: reg.group,
        homingHost: host,
        intfName: reg.intfName,
        labels: reg.labels ?? {},
        containerID: reg.containerId,
        containerName: reg.containerName,
        idempotencyKey: reg.idempotencyKey,
        ipAddress: reg.ip,
        macAddress: reg.mac,
        ...(reg.pod ? { pod: podBodyOf(reg.pod) } : {}),
      },
      BODY_ERRORS,
    );
  } catch (e) {
    if (!isNetloomError(e)) throw e;
    return result(id, 'INVALID', e.message);
  }
  if (req.idempotencyKey === '') return result(id, 'INVALID', 'idempotency_key is required');
  if (req.macAddress === '') return result(id, 'INVALID', 'mac is required');
  const ip = parseV4(reg.ip);
  if (ip === undefined) return result(id, 'INVALID', `ip '${reg.ip}' is not an IPv4 address`);
  const netKey = `${req.tenantName}:${req.networkName}`;
  const want = endpointId(netKey, req.idempotencyKey);
  if (id !== want) return result(id, 'INVALID', `id must be ${want}, the endpoint id of (${netKey}, idempotency_key)`);
  return { reg, req, netKey, grpKey: req.groupName ? `${req.tenantName}:${req.groupName}` : '', ip };
}

/** Checked registrations in chunks of at most SYNC_CHUNK whose reads stay under MAX_READ_OPS. */
function chunks(items: readonly Checked[]): Checked[][] {
  const out: Checked[][] = [];
  let cur: Checked[] = [];
  let keys = new Set<string>();
  for (const c of items) {
    const add = [c.netKey, c.grpKey].filter((k) => k !== '' && !keys.has(k)).length * 2;
    if (cur.length > 0 && (cur.length >= SYNC_CHUNK || keys.size * 2 + 3 * (cur.length + 1) + add > MAX_READ_OPS)) {
      out.push(cur);
      cur = [];
      keys = new Set();
    }
    cur.push(c);
    keys.add(c.netKey);
    if (c.grpKey) keys.add(c.grpKey);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
