/**
 * The cluster as the agent API sees it: intent objects, endpoints, agent records and tenant ids,
 * held as plain maps keyed like etcd. Built from key/values (a full read at a revision, current or
 * past) and updated by applying watch events; `host-view.ts` computes a host's state from it.
 */
import type { Endpoint, ObjectType } from '../model/schemas';
import type { BadValues } from '../store/bad-values';
import type { EtcdKV } from '../store/kv';
import { checkEndpoint, checkIntent } from '../store/stored-values';
import { layout } from '../store/layout';
import { agentLayout, type AgentRecord } from '../store/agent-layout';
import { addTo, emptyIndex, indexEndpoint, membersOf, podNetsText, removeFrom, type ClusterIndex } from './cluster-index';
import { blockKeys, parseBlockKey } from '../service/block-keys';
import { blockCidr } from '../service/block-plan';
import { readBlockValue } from '../service/blocks';

export interface StoredIntent {
  config: Record<string, unknown>;
  oper: Record<string, unknown>;
  /** the etcd mod revision of its key (the object's current version; '0' when unknown) */
  modRevision?: string;
}

/** An address block of a network as the cluster holds it. */
export interface ClusterBlock {
  network: string;
  cidr: string;
  host: string;
  modRevision: string;
}

/** A block's id in indexes and view keys: `<tenant:network>/<cidr>` (a network key has no '/'). */
export const blockIdOf = (b: { network: string; cidr: string }): string => `${b.network}/${b.cidr}`;

export interface ClusterState {
  /** etcd revision this state reflects */
  revision: string;
  /** type -> object key -> stored object */
  objects: Map<ObjectType, Map<string, StoredIntent>>;
  /** endpoint id -> endpoint and the mod revision of its key */
  endpoints: Map<string, { ep: Endpoint; modRevision: string }>;
  /** host -> agent record */
  agents: Map<string, AgentRecord>;
  /** tenant -> vrfId/ctZone */
  tenantIds: Map<string, number>;
  /** network key -> block CIDR -> the block (issue 15: `alloc/block/`) */
  blocks: Map<string, Map<string, ClusterBlock>>;
  /** kept up to date by applyKey */
  index: ClusterIndex;
}

/** The key prefixes the cluster state is made of. */
export const CLUSTER_PREFIXES = [
  layout.cfgRoot(),
  layout.epPrefix(),
  agentLayout.hostPrefix,
  agentLayout.tenantIdOfPrefix,
  blockKeys.root,
] as const;

export function emptyCluster(revision = '0'): ClusterState {
  return {
    revision,
    objects: new Map(),
    endpoints: new Map(),
    agents: new Map(),
    tenantIds: new Map(),
    blocks: new Map(),
    index: emptyIndex(),
  };
}

/** A key of the cluster, by what it holds (undefined for keys outside the cluster prefixes). */
type ClusterKey =
  | { kind: 'object'; type: ObjectType; key: string }
  | { kind: 'endpoint'; id: string }
  | { kind: 'agent'; host: string }
  | { kind: 'tenantId'; tenant: string }
  | { kind: 'block'; network: string; cidr: string };

function parseClusterKey(key: string): ClusterKey | undefined {
  const cfgRoot = layout.cfgRoot();
  if (key.startsWith(cfgRoot)) {
    const rest = key.slice(cfgRoot.length);
    const slash = rest.indexOf('/');
    return slash < 0 ? undefined : { kind: 'object', type: rest.slice(0, slash) as ObjectType, key: rest.slice(slash + 1) };
  }
  if (key.startsWith(layout.epPrefix())) return { kind: 'endpoint', id: key.slice(layout.epPrefix().length) };
  if (key.startsWith(agentLayout.hostPrefix)) return { kind: 'agent', host: key.slice(agentLayout.hostPrefix.length) };
  if (key.startsWith(agentLayout.tenantIdOfPrefix)) return { kind: 'tenantId', tenant: key.slice(agentLayout.tenantIdOfPrefix.length) };
  if (key.startsWith(blockKeys.root)) {
    const b = parseBlockKey(key);
    return b ? { kind: 'block', network: b.netKey, cidr: blockCidr(b.block) } : undefined;
  }
  return undefined;
}

/**
 * Apply one parsed key's new value (undefined: deleted); a value that cannot be served (not JSON,
 * fails the schema, too big: store/stored-values.ts) is treated as absent and reported to `bad`,
 * never thrown.
 */
function applyParsed(
  state: ClusterState,
  ck: ClusterKey,
  key: string,
  value: string | undefined,
  modRevision: string,
  bad?: BadValues,
): void {
  try {
    switch (ck.kind) {
      case 'object': {
        const { type, key: k } = ck;
        let m = state.objects.get(type);
        const before = m?.get(k);
        if (before) unindexObject(state.index, type, k, before.config);
        if (type === 'rule' && before) noteRuleChange(state.index, before.config, modRevision);
        if (value === undefined) {
          m?.delete(k);
          bad?.clear(key);
          if (type === 'policy') state.index.rulesChangedAt.delete(k); // stays bounded: gone with its policy
          return;
        }
        const s = take(bad, key, () => checkIntent<Record<string, unknown>>(type, k, value));
        if (!s) {
          m?.delete(k);
          return;
        }
        if (!m) state.objects.set(type, (m = new Map()));
        const config = s.config;
        m.set(k, { config, oper: s.oper, modRevision });
        indexObject(state.index, type, k, config);
        if (type === 'rule') noteRuleChange(state.index, config, modRevision);
        return;
      }
      case 'endpoint': {
        const before = state.endpoints.get(ck.id);
        if (before) {
          indexEndpoint(state.index, ck.id, before.ep, false);
          state.endpoints.delete(ck.id);
        }
        if (value === undefined) {
          bad?.clear(key);
          return;
        }
        const ep = take(bad, key, () => checkEndpoint(ck.id, value));
        if (!ep) return;
        state.endpoints.set(ck.id, { ep, modRevision });
        indexEndpoint(state.index, ck.id, ep, true);
        return;
      }
      case 'agent':
        if (value === undefined) state.agents.delete(ck.host);
        else state.agents.set(ck.host, JSON.parse(value) as AgentRecord);
        return;
      case 'block': {
        const before = state.blocks.get(ck.network)?.get(ck.cidr);
        if (before) removeFrom(state.index.blocksByHost, before.host, blockIdOf(before));
        const v = value === undefined ? undefined : readBlockValue(key, value);
        let m = state.blocks.get(ck.network);
        if (!v) {
          m?.delete(ck.cidr);
          if (m?.size === 0) state.blocks.delete(ck.network);
          return;
        }
        if (!m) state.blocks.set(ck.network, (m = new Map()));
        const b: ClusterBlock = { network: ck.network, cidr: ck.cidr, host: v.host, modRevision };
        m.set(ck.cidr, b);
        addTo(state.index.blocksByHost, b.host, blockIdOf(b));
        return;
      }
      case 'tenantId': {
        const id = Number(value);
        if (value === undefined || !Number.isInteger(id) || id <= 0) state.tenantIds.delete(ck.tenant);
        else state.tenantIds.set(ck.tenant, id);
        return;
      }
    }
  } catch {
    // an unreadable value: treated as absent
  }
}

/** `read()`, reported to `bad` when it throws BadStoredValue (without `bad`: a past state, nothing reported). */
function take<T>(bad: BadValues | undefined, key: string, read: () => T): T | undefined {
  if (bad) return bad.take(key, read);
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Apply one key's new value (undefined: deleted). Keys outside the cluster prefixes are ignored;
 * returns whether the key was one of ours. Values that cannot be served are skipped (never
 * thrown) and reported to `bad`.
 */
export function applyKey(state: ClusterState, key: string, value: string | undefined, modRevision = '0', bad?: BadValues): boolean {
  const ck = parseClusterKey(key);
  if (ck) applyParsed(state, ck, key, value, modRevision, bad);
  return ck !== undefined;
}

/** One key of the cluster that changed, with its value before and after (what view-engine.ts reacts to). */
export type KeyChange =
  /** `podNets`: the set of networks of a tenant that have a pod endpoint changed (index podNetsByTenant) */
  | { kind: 'endpoint'; id: string; before?: Endpoint; after?: Endpoint; podNets?: true }
  | { kind: 'object'; type: ObjectType; key: string; before?: StoredIntent; after?: StoredIntent }
  | { kind: 'agent'; host: string; before?: AgentRecord; after?: AgentRecord }
  | { kind: 'tenantId'; tenant: string }
  | { kind: 'block'; network: string; cidr: string; before?: ClusterBlock; after?: ClusterBlock };

/** What a parsed key holds now (what a KeyChange carries as before/after). */
function valueAt(state: ClusterState, ck: ClusterKey): StoredIntent | Endpoint | AgentRecord | ClusterBlock | undefined {
  switch (ck.kind) {
    case 'object':
      return state.objects.get(ck.type)?.get(ck.key);
    case 'endpoint':
      return state.endpoints.get(ck.id)?.ep;
    case 'agent':
      return state.agents.get(ck.host);
    case 'tenantId':
      return undefined;
    case 'block':
      return state.blocks.get(ck.network)?.get(ck.cidr);
  }
}

/** Like applyKey, and says what changed (undefined for keys outside the cluster prefixes). */
export function applyKeyChange(
  state: ClusterState,
  key: string,
  value: string | undefined,
  modRevision = '0',
  bad?: BadValues,
): KeyChange | undefined {
  const ck = parseClusterKey(key);
  if (!ck) return undefined;
  const before = valueAt(state, ck);
  // the pod networks of the tenants of a pod endpoint before (the views of their pods carry them)
  const podTenants = ck.kind === 'endpoint' && (before as Endpoint | undefined)?.pod ? [(before as Endpoint).tenantName] : [];
  const podNetsBefore = podTenants.map((t) => podNetsText(state.index, t));
  applyParsed(state, ck, key, value, modRevision, bad);
  if (ck.kind === 'tenantId') return ck;
  const after = valueAt(state, ck);
  const change = { ...ck, before, after } as KeyChange;
  if (ck.kind === 'endpoint') {
    const e = after as Endpoint | undefined;
    // the tenant it was a pod of: compared; another tenant (or none before): its networks changed
    // when this pod is now the only one of its network
    const podNetsChanged =
      podTenants.some((t, i) => podNetsText(state.index, t) !== podNetsBefore[i]) ||
      (e?.pod !== undefined && e.tenantName !== podTenants[0] && membersOf(state.index.podsByNet, e.network).size === 1);
    if (podNetsChanged) (change as { podNets?: true }).podNets = true;
  }
  return change;
}

const policyOfRule = (config: Record<string, unknown>): string => `${String(config.tenantName)}:${String(config.policyName)}`;

/** The newest revision that put or deleted a rule of the rule's policy (a deleted rule changes the policy too). */
function noteRuleChange(ix: ClusterIndex, config: Record<string, unknown>, modRevision: string): void {
  const pk = policyOfRule(config);
  const cur = ix.rulesChangedAt.get(pk);
  if (/^\d+$/.test(modRevision) && (cur === undefined || BigInt(modRevision) > BigInt(cur))) ix.rulesChangedAt.set(pk, modRevision);
}

/** Rules by policy, networks by tenant, services by tenant and network, slices by Service (the objects the views look up by owner). */
function indexObject(ix: ClusterIndex, type: ObjectType, key: string, config: Record<string, unknown>, add = true): void {
  const op = add ? addTo : removeFrom;
  const tenant = String(config.tenantName);
  if (type === 'rule') op(ix.rulesByPolicy, `${tenant}:${String(config.policyName)}`, key);
  else if (type === 'network') op(ix.netsByTenant, tenant, key);
  else if (type === 'serviceLB') {
    op(ix.servicesByTenant, tenant, key);
    if (config.networkName) op(ix.servicesByNet, `${tenant}:${String(config.networkName)}`, key);
  } else if (type === 'kubeServiceSlice') op(ix.slicesByKubeService, `${String(config.namespace)}:${String(config.service)}`, key);
}

function unindexObject(ix: ClusterIndex, type: ObjectType, key: string, config: Record<string, unknown>): void {
  indexObject(ix, type, key, config, false);
}

/**
 * Read the whole cluster state at `revision` (undefined: now). A compacted revision makes etcd
 * fail the read; the error (a NetloomError UNAVAILABLE whose message says 'compacted') is thrown.
 * Values that cannot be served are left out; those of the current state are reported
 * (kv.badValues), a past state's are not (they may have been put right since).
 */
export async function readCluster(kv: EtcdKV, revision?: string): Promise<ClusterState> {
  let rev = revision;
  if (rev === undefined) rev = (await kv.read([])).revision;
  const bad = revision === undefined ? kv.badValues : undefined;
  const state = emptyCluster(rev);
  for (const prefix of CLUSTER_PREFIXES) {
    const { kvs } = await kv.list(prefix, { revision: rev });
    for (const e of kvs) applyKey(state, e.key, e.value, e.modRevision, bad);
  }
  return state;
}
