/**
 * Which recorded endpoints that publish ports belong to a container that is gone, found when the
 * agent starts: their DEL (CNI) or Leave/DeleteEndpoint (Docker) never arrived because the agent
 * was down when the container was removed, and the runtime left the veth behind, so the endpoint
 * still looks plugged in.
 * - podman removes the container but leaves its network namespace mounted: no process is in it
 *   (every runtime keeps one in a live container's namespace).
 * - Docker destroys the sandbox and moves the container end of the veth back to its own
 *   namespace (the agent's) under its original name: a joined endpoint's container end is never here.
 */
import { run } from '../../lib/exec';
import type { EndpointRecord } from './endpoint-store';
import { unoccupiedNetns } from './netns-occupancy';

export interface OrphanProbe {
  /** of these namespace paths, those that are gone or no process is in */
  unoccupiedNetns(paths: readonly string[]): Promise<Set<string>>;
  /** whether a link of this name is in the agent's own namespace */
  linkHere(name: string): Promise<boolean>;
}

export const realOrphanProbe: OrphanProbe = {
  unoccupiedNetns: (paths) => unoccupiedNetns(paths),
  linkHere: async (name) => (await run('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0,
};

/** The records publishing ports whose container is gone, each with why (for the log). */
export async function orphanedPublishers(
  records: readonly EndpointRecord[],
  probe: OrphanProbe,
): Promise<Array<{ rec: EndpointRecord; why: string }>> {
  const publishing = records.filter((r) => (r.portMappings?.length ?? 0) > 0);
  const cni = publishing.filter((r) => r.kind === 'cni' && r.netnsPath !== '');
  const empty = await probe.unoccupiedNetns(cni.map((r) => r.netnsPath));
  const out = cni
    .filter((r) => empty.has(r.netnsPath))
    .map((rec) => ({ rec, why: `no process is in its network namespace ${rec.netnsPath}` }));
  for (const rec of publishing.filter((r) => r.kind === 'cnm')) {
    if (await probe.linkHere(rec.ifName)) out.push({ rec, why: `its container end ${rec.ifName} is back in the host's namespace` });
  }
  return out;
}
