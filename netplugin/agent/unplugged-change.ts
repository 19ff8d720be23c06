/**
 * A desired state that only adds endpoints of this host whose ports are not on br-int yet needs no
 * reconcile: there is no flow to make for an endpoint without a port, and the ADD that plugs the
 * port reconciles then (Agent.attachPlugged waits for its flows). With address blocks (issue 15)
 * the agent shows a locally allocated endpoint at once, before its veth is plugged; reconciling
 * for that state only delayed the reconcile that installs the endpoint's flows.
 */
import type { HostState } from '../state/host-state';

export function onlyUnpluggedAdditions(prev: HostState, next: HostState, host: string, plugged: (endpointId: string) => boolean): boolean {
  for (const k of new Set([...Object.keys(prev), ...Object.keys(next)]) as Set<keyof HostState>)
    if (k !== 'endpoints' && prev[k] !== next[k]) return false;
  if (next.endpoints.length <= prev.endpoints.length) return false;
  const kept = new Set(next.endpoints);
  if (!prev.endpoints.every((e) => kept.has(e))) return false;
  const before = new Set(prev.endpoints);
  return next.endpoints.every((e) => before.has(e) || (e.host === host && !plugged(e.id)));
}
