/**
 * The consistency check: every allocation (VLAN/VNI, IP, MAC, group id, a group's own VLAN) and index key must belong
 * to an object that exists and says so, and every object must hold its allocations; every stored
 * object and endpoint must pass the current schemas and limits (stored-values.ts). Reads all of
 * it at one etcd revision, computes the difference as plain data (`diffAllocations`, pure), and
 * optionally repairs allocations with guarded commits (delete a leaked key only if unchanged,
 * create a missing one only if still absent). Invalid values are reported, never repaired: what
 * they should be is for a person to decide.
 *
 * Address blocks (`alloc/block/`, issue 15) are owned by a host, not an object: a block is leaked
 * when its network is gone, its value is not a block record, or its host is unknown (neither
 * registered now nor known to the dead-host cleanup, `agent/known/`) and the block was claimed
 * longer ago than the grace period (a host that dies is cleaned up with its blocks; one that
 * never registered cannot have claimed through the agent API). Addresses inside a block are
 * endpoints' `alloc/ip` keys as any other: one whose endpoint is missing is leaked as always.
 */
import { parseV4 } from '../model/net';
import { tagInUse } from '../model/network-tag';
import { groupTagOf } from '../model/group-tag';
import type { Endpoint, EndpointGroup, Network, ServiceLB } from '../model/schemas';
import type { KeyValue } from '../store/kv';
import { layout } from '../store/layout';
import { belongsToBad, scanStoredValues } from '../store/scan-stored';
import { checkEndpointKv, checkIntentKv } from '../store/stored-values';
import type { ServiceReads } from './reads';
import { serviceIpOwner } from './service-ip';
import { agentLayout } from '../store/agent-layout';
import { blockKeys, parseBlockKey } from './block-keys';
import { readBlockValue } from './blocks';

export interface Finding {
  key: string;
  /** the value found (leaked) or expected (missing) */
  value: string;
  reason: string;
}

export interface ConsistencyReport {
  revision: string;
  clean: boolean;
  leaked: Finding[];
  missing: Finding[];
  /** stored values netmaster cannot serve and skips (store/scan-stored.ts); never repaired */
  invalid: Finding[];
  counts: { networks: number; groups: number; endpoints: number; allocations: number };
  repaired: number;
}

export interface AllocationWorld {
  /** networks with their stored oper (the tag in use when allocated: model/network-tag.ts) */
  networks: Array<{ key: string; config: Network; oper?: Record<string, unknown> }>;
  /** groups with their id and, in ACI mode, their own VLAN (model/group-tag.ts) */
  groups: Array<{ key: string; config: EndpointGroup; groupId: number; pktTag?: number }>;
  endpoints: Endpoint[];
  /** services, whose addresses are allocated in their networks */
  services?: Array<{ key: string; config: ServiceLB }>;
  /** every key under alloc/ and idx/, with its value */
  actual: Map<string, string>;
  /** hosts registered now or known to the dead-host cleanup (blocks of other hosts may be leaked) */
  hosts?: ReadonlySet<string>;
  /** now, and how long a block of an unknown host is given (ms) */
  nowMs?: number;
  graceMs?: number;
}

/** Why a block key is leaked, or undefined when it is a live block. Pure. */
export function blockLeak(w: AllocationWorld, nets: ReadonlySet<string>, key: string, value: string): string | undefined {
  const parsed = parseBlockKey(key);
  if (!parsed) return 'not a block key';
  if (!nets.has(parsed.netKey)) return `address block of missing network ${parsed.netKey}`;
  const v = readBlockValue(key, value);
  if (!v) return 'not a block record';
  if (w.hosts === undefined || w.hosts.has(v.host)) return undefined;
  const age = (w.nowMs ?? Date.now()) - Date.parse(v.claimedAt);
  if (!(age <= (w.graceMs ?? DEFAULT_BLOCK_GRACE_MS))) return `address block of host ${v.host}, unknown for longer than the grace period`;
  return undefined;
}

/** How long a block of a host nobody knows is kept (the dead-host cleanup's default grace). */
export const DEFAULT_BLOCK_GRACE_MS = 60_000;

/** What allocation and index keys the objects imply, compared with what is there. Pure. */
export function diffAllocations(w: AllocationWorld): { leaked: Finding[]; missing: Finding[] } {
  const expected = new Map<string, { value: string; reason: string }>();
  const nets = new Set(w.networks.map((n) => n.key));
  const groups = new Set(w.groups.map((g) => g.key));
  for (const n of w.networks) {
    const tag = tagInUse(n.config, n.oper);
    expected.set(layout.tag(n.config.encap, tag), { value: n.key, reason: `${n.config.encap} tag of network ${n.key}` });
    const gw = n.config.gateway ? parseV4(n.config.gateway) : undefined;
    if (gw !== undefined) expected.set(layout.ip(n.key, gw), { value: 'gateway', reason: `gateway of network ${n.key}` });
  }
  for (const g of w.groups) {
    if (g.groupId > 0) expected.set(layout.groupId(g.groupId), { value: g.key, reason: `id of endpoint group ${g.key}` });
    if (g.pktTag !== undefined) expected.set(layout.tag('vlan', g.pktTag), { value: g.key, reason: `VLAN of endpoint group ${g.key}` });
  }
  for (const s of w.services ?? []) {
    const netKey = `${s.config.tenantName}:${s.config.networkName}`;
    const ip = s.config.ipAddress ? parseV4(s.config.ipAddress) : undefined;
    if (ip !== undefined && s.config.networkName && nets.has(netKey))
      expected.set(layout.ip(netKey, ip), { value: serviceIpOwner(s.key), reason: `address of service ${s.key}` });
  }
  const orphans: Finding[] = [];
  for (const e of w.endpoints) {
    if (!nets.has(e.network)) {
      orphans.push({ key: layout.ep(e.endpointID), value: e.network, reason: `endpoint ${e.endpointID} of missing network ${e.network}` });
      continue;
    }
    const ip = parseV4(e.ipAddress);
    if (ip !== undefined) expected.set(layout.ip(e.network, ip), { value: e.endpointID, reason: `address of endpoint ${e.endpointID}` });
    expected.set(layout.mac(e.macAddress), { value: e.endpointID, reason: `MAC of endpoint ${e.endpointID}` });
    expected.set(layout.epByNet(e.network, e.endpointID), { value: '', reason: `network index of endpoint ${e.endpointID}` });
    const gk = e.groupName ? `${e.tenantName}:${e.groupName}` : '';
    if (gk && groups.has(gk))
      expected.set(layout.epByGrp(gk, e.endpointID), { value: '', reason: `group index of endpoint ${e.endpointID}` });
  }
  const leaked: Finding[] = [...orphans];
  const missing: Finding[] = [];
  for (const [key, value] of w.actual) {
    if (key.startsWith(blockKeys.root)) {
      const why = blockLeak(w, nets, key, value);
      if (why) leaked.push({ key, value, reason: why });
      continue;
    }
    const want = expected.get(key);
    if (!want) leaked.push({ key, value, reason: 'no object owns this allocation' });
    else if (want.value !== value) leaked.push({ key, value, reason: `held by '${value}' but belongs to ${want.reason}` });
  }
  for (const [key, want] of expected) {
    if (!w.actual.has(key)) missing.push({ key, value: want.value, reason: `missing ${want.reason}` });
  }
  return { leaked, missing };
}

/** Read the world at one revision, diff it, and repair when asked. */
export async function checkConsistency(
  svc: ServiceReads,
  opts: { repair?: boolean; graceMs?: number; nowMs?: number } = {},
): Promise<ConsistencyReport> {
  const revision = await svc.currentRevision();
  const list = async (prefix: string): Promise<KeyValue[]> => (await svc.kv.list(prefix, { revision })).kvs;
  const netPrefix = layout.cfgPrefix('network');
  const grpPrefix = layout.cfgPrefix('endpointGroup');
  // values that cannot be served are left out here and listed in `invalid`
  const bad = svc.kv.badValues;
  const networks = (await list(netPrefix)).flatMap((kv) => {
    const s = bad.take(kv.key, () => checkIntentKv<Network>(kv));
    return s ? [{ key: kv.key.slice(netPrefix.length), config: s.config, oper: s.oper }] : [];
  });
  const groups = (await list(grpPrefix)).flatMap((kv) => {
    const s = bad.take(kv.key, () => checkIntentKv<EndpointGroup>(kv));
    if (!s) return [];
    const pktTag = groupTagOf(s.oper);
    return [{ key: kv.key.slice(grpPrefix.length), config: s.config, groupId: Number(s.oper.groupId ?? 0), ...(pktTag ? { pktTag } : {}) }];
  });
  const svcPrefix = layout.cfgPrefix('serviceLB');
  const services = (await list(svcPrefix)).flatMap((kv) => {
    const s = bad.take(kv.key, () => checkIntentKv<ServiceLB>(kv));
    return s ? [{ key: kv.key.slice(svcPrefix.length), config: s.config }] : [];
  });
  const endpoints: Endpoint[] = (await list(layout.epPrefix())).flatMap((kv) => bad.take(kv.key, () => checkEndpointKv(kv)) ?? []);
  const badValues = await scanStoredValues(svc.kv, revision);
  const invalid = badValues.map((b) => ({ key: b.key, value: b.kind, reason: b.reason }));
  const actual = new Map<string, string>();
  const actualRev = new Map<string, string>();
  for (const prefix of [`${layout.root}alloc/`, `${layout.root}idx/`]) {
    for (const kv of await list(prefix)) {
      actual.set(kv.key, kv.value);
      actualRev.set(kv.key, kv.modRevision);
    }
  }
  const hosts = new Set<string>();
  for (const prefix of [agentLayout.hostPrefix, agentLayout.knownPrefix])
    for (const kv of (await svc.kv.list(prefix, { revision, keysOnly: true })).kvs) hosts.add(kv.key.slice(prefix.length));
  const { leaked, missing } = diffAllocations({
    networks,
    groups,
    endpoints,
    services,
    actual,
    hosts,
    nowMs: opts.nowMs ?? Date.now(),
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
  });
  let repaired = 0;
  if (opts.repair) {
    for (const f of leaked) {
      if (belongsToBad(f, badValues)) continue; // kept until its owner's stored value is put right
      // an orphan endpoint: drop it with its keys; a leaked key: drop it if unchanged
      const rev = actualRev.get(f.key);
      if (f.key.startsWith(layout.epPrefix())) {
        const r = await svc.deleteEndpoint(f.key.slice(layout.epPrefix().length));
        if (r.deleted) repaired++;
        continue;
      }
      if (rev === undefined) continue;
      const r = await svc.kv.commit([{ kind: 'modEquals', key: f.key, modRevision: rev }], [{ kind: 'delete', key: f.key }]);
      if (r.ok) repaired++;
    }
    for (const f of missing) {
      const r = await svc.kv.commit([{ kind: 'modEquals', key: f.key, modRevision: '0' }], [{ kind: 'put', key: f.key, value: f.value }]);
      if (r.ok) repaired++;
    }
  }
  return {
    revision,
    clean: leaked.length === 0 && missing.length === 0 && invalid.length === 0,
    leaked,
    missing,
    invalid,
    counts: { networks: networks.length, groups: groups.length, endpoints: endpoints.length, allocations: actual.size },
    repaired,
  };
}
