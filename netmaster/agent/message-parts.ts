/**
 * Views and groups of changes cut into messages that each stay under a size (pure), so that a
 * view of tens of thousands of endpoints reaches an agent whose gRPC receive limit is 4 MiB, and
 * a group of changes goes in as few messages as fit. Sizes are estimated from each object's JSON
 * (memoized, and larger than its protobuf encoding). Snapshot parts: global and bgp go in the
 * first, every list keeps its order across the parts. Change batches keep the changes' order.
 * An item too large for a message even alone (a policy with a huge set of rules, say: stored
 * values themselves are bounded, store/stored-values.ts) is left out and handed to `onOversized`,
 * as sending it would fail the agent's stream for good.
 */
import type { Change } from '../../proto/gen/netloom/v1/Change';
import { emptyHostView, type HostState } from './host-view';
import { memoJson } from './view-diff';
import { kindOfKey } from './view-engine';

type ListKind =
  | 'tenants'
  | 'networks'
  | 'groups'
  | 'policies'
  | 'profiles'
  | 'vteps'
  | 'blocks'
  | 'endpoints'
  | 'services'
  | 'kubeNamespaces'
  | 'kubePolicies';

/** The lists in the order the agent can apply them one part at a time. */
const LISTS: readonly ListKind[] = [
  'tenants',
  'networks',
  'groups',
  'policies',
  'profiles',
  'vteps',
  'blocks',
  'endpoints',
  'services',
  'kubeNamespaces',
  'kubePolicies',
];

/** Headroom for the update's own fields and the encoding of list entries. */
const OVERHEAD = 64;

/** What was left out of a message because it alone is over the size: the list (or 'change') and its key or name. */
export interface Oversized {
  kind: ListKind | 'change';
  id: string;
  bytes: number;
}

const idOf = (item: object): string => {
  const o = item as Record<string, unknown>;
  return String(o.key ?? o.id ?? o.name ?? o.host ?? '?');
};

/** `state` as one part, or as several whose estimated sizes are each at most `maxBytes`. */
export function snapshotParts(state: HostState, maxBytes: number, onOversized: (o: Oversized) => void = () => undefined): HostState[] {
  const parts: HostState[] = [];
  let part = emptyHostView();
  part.global = state.global;
  part.bgp = state.bgp;
  let size = OVERHEAD + (state.global ? memoJson(state.global).length : 0) + (state.bgp ? memoJson(state.bgp).length : 0);
  for (const kind of LISTS) {
    for (const item of state[kind] as object[]) {
      const n = memoJson(item).length + 8;
      if (OVERHEAD + n > maxBytes) {
        onOversized({ kind, id: idOf(item), bytes: n });
        continue;
      }
      if (size + n > maxBytes && size > OVERHEAD) {
        parts.push(part);
        part = emptyHostView();
        size = OVERHEAD;
      }
      (part[kind] as object[]).push(item);
      size += n;
    }
  }
  parts.push(part);
  return parts;
}

/** `changes` in order, cut into batches whose estimated sizes are each at most `maxBytes` (never empty: one batch at least). */
export function changeBatches(
  changes: readonly Change[],
  maxBytes: number,
  onOversized: (o: Oversized) => void = () => undefined,
): Change[][] {
  const batches: Change[][] = [];
  let batch: Change[] = [];
  let size = OVERHEAD;
  for (const c of changes) {
    const value = c.deleted || !c.key ? undefined : (c as Record<string, unknown>)[kindOfKey(c.key)];
    const n = (c.key?.length ?? 0) + 16 + (value && typeof value === 'object' ? memoJson(value).length : 0);
    if (OVERHEAD + n > maxBytes) {
      onOversized({ kind: 'change', id: c.key ?? '?', bytes: n });
      continue;
    }
    if (size + n > maxBytes && batch.length > 0) {
      batches.push(batch);
      batch = [];
      size = OVERHEAD;
    }
    batch.push(c);
    size += n;
  }
  batches.push(batch);
  return batches;
}
