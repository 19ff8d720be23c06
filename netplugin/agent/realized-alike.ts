/**
 * Two desired states the agent realizes alike: equal in everything but the endpoints' revisions,
 * which no part of the pipeline, the host network or the routed side reads. Netmaster's
 * confirmation of an endpoint this host allocated and plugged itself (issue 15) is such a state:
 * the overlay's endpoint replaced by netmaster's copy of it. It needs no reconcile, only the
 * acknowledgement of its revision (Agent.onState).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Endpoint, HostState } from '../state/host-state';

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if (a === b) return true;
  return a.revision === b.revision ? isDeepStrictEqual(a, b) : isDeepStrictEqual({ ...a, revision: 0 }, { ...b, revision: 0 });
}

export function realizedAlike(a: HostState, b: HostState): boolean {
  if (a === b) return true;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof HostState>) {
    if (k !== 'endpoints' && a[k] !== b[k] && !isDeepStrictEqual(a[k], b[k])) return false;
  }
  const [ea, eb] = [a.endpoints, b.endpoints];
  return ea.length === eb.length && ea.every((e, i) => sameEndpoint(e, eb[i] as Endpoint));
}
