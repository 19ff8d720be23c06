/**
 * A host view cut into parts that each stay under a message size (pure), so that a view of tens
 * of thousands of endpoints reaches an agent whose gRPC receive limit is 4 MiB. Sizes are
 * estimated from each object's JSON (memoized, and larger than its protobuf encoding); global
 * and bgp go in the first part, every list keeps its order across the parts.
 */
import type { HostState } from './host-view';
import { memoJson } from './view-diff';

type ListKind = 'tenants' | 'networks' | 'groups' | 'policies' | 'profiles' | 'vteps' | 'endpoints';

/** The lists in the order the agent can apply them one part at a time. */
const LISTS: readonly ListKind[] = ['tenants', 'networks', 'groups', 'policies', 'profiles', 'vteps', 'endpoints'];

/** Headroom for the update's own fields and the encoding of list entries. */
const OVERHEAD = 64;

function emptyPart(): HostState {
  return { global: null, tenants: [], networks: [], groups: [], policies: [], profiles: [], endpoints: [], vteps: [], bgp: null };
}

/** `state` as one part, or as several whose estimated sizes are each at most `maxBytes`. */
export function snapshotParts(state: HostState, maxBytes: number): HostState[] {
  const parts: HostState[] = [];
  let part = emptyPart();
  part.global = state.global;
  part.bgp = state.bgp;
  let size = OVERHEAD + (state.global ? memoJson(state.global).length : 0) + (state.bgp ? memoJson(state.bgp).length : 0);
  for (const kind of LISTS) {
    for (const item of state[kind] as object[]) {
      const n = memoJson(item).length + 8;
      if (size + n > maxBytes && size > OVERHEAD) {
        parts.push(part);
        part = emptyPart();
        size = OVERHEAD;
      }
      (part[kind] as object[]).push(item);
      size += n;
    }
  }
  parts.push(part);
  return parts;
}
