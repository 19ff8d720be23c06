/**
 * The hosts concerned by an object: those whose desired state (host-view.ts) carries it. Only
 * hosts with endpoints have more than the global settings, so only they are looked at, each
 * through its host part (computeHostParts, memoized messages) and, for a group a view may carry
 * only through remote endpoints, the same membership check the views use. The cost follows the
 * hosts with endpoints, not the cluster's objects: fine for an inspect, not for a hot path.
 */
import type { ClusterState } from './cluster';
import { membersOf } from './cluster-index';
import { computeHostParts, endpointMessage, ViewMembership } from './host-view';

export type Concerning = { policy: string } | { group: string } | { service: string };

/** The hosts whose view carries the policy, group or service, sorted. */
export function hostsConcerned(cluster: ClusterState, what: Concerning): string[] {
  const out: string[] = [];
  for (const host of cluster.index.epsByHost.keys()) {
    const parts = computeHostParts(cluster, host);
    if ('policy' in what) {
      if (parts.policies.some((p) => p.key === what.policy)) out.push(host);
      continue;
    }
    if ('service' in what) {
      if (parts.services.includes(what.service)) out.push(host);
      continue;
    }
    if (parts.groups.some((g) => g.key === what.group)) {
      out.push(host);
      continue;
    }
    // carried: one of its endpoints is in the view (the view then holds the group too)
    const member = new ViewMembership(cluster, host, parts.sources);
    for (const id of membersOf(cluster.index.epsByGroup, what.group)) {
      const msg = endpointMessage(cluster, id);
      if (msg && member.has(msg)) {
        out.push(host);
        break;
      }
    }
  }
  return out.sort();
}
