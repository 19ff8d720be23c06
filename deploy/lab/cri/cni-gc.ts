/**
 * CNI GC for a CRI runtime that does not send it (containerd 1.6): what a kubelet stand-in does
 * after a crash, as the CNI 1.1 spec says a runtime does. Every plugin of the runtime's conflist
 * is called with CNI_COMMAND=GC and its netconf (cniVersion 1.1.0, the network's name) plus
 * `cni.dev/valid-attachments`: one `{containerID, ifname}` per sandbox the runtime still lists
 * (ListPodSandbox, every state), so an attachment of a sandbox the runtime no longer knows (its
 * RunPodSandbox died with containerd or failed with the plugin's agent) is released.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetloomError } from '../../../lib/errors';
import { run } from '../../../lib/exec';
import type { PodSandbox } from './types';

export const GC_CNI_VERSION = '1.1.0';
/** the interface containerd's CRI gives every pod (its go-cni prefix `eth` and index 0) */
export const POD_IFNAME = 'eth0';

export interface ValidAttachment {
  containerID: string;
  ifname: string;
}

/** The attachments to keep: one per sandbox the runtime lists (pure). */
export function validAttachments(sandboxes: readonly Pick<PodSandbox, 'id'>[], ifname = POD_IFNAME): ValidAttachment[] {
  return sandboxes.map((s) => ({ containerID: s.id, ifname }));
}

interface Conflist {
  cniVersion?: unknown;
  cniVersions?: unknown;
  name?: unknown;
  plugins?: unknown;
}

/**
 * The netconf of each plugin of `conflist` for GC (pure): the plugin's keys, the network's name,
 * cniVersion 1.1.0 (the conflist must list it in `cniVersions` or as its `cniVersion`: GC needs
 * 1.1.0), and the valid attachments. Errors name the conflist field.
 */
export function gcNetconfs(conflist: Conflist, valid: ValidAttachment[]): Array<Record<string, unknown>> {
  const versions = [conflist.cniVersion, ...(Array.isArray(conflist.cniVersions) ? conflist.cniVersions : [])];
  if (!versions.includes(GC_CNI_VERSION))
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `the conflist does not support CNI ${GC_CNI_VERSION}, which GC needs (cniVersion, cniVersions)`,
      {
        field: 'cniVersions',
      },
    );
  if (typeof conflist.name !== 'string' || conflist.name === '')
    throw new NetloomError('INVALID_ARGUMENT', 'the conflist has no name', { field: 'name' });
  if (!Array.isArray(conflist.plugins) || conflist.plugins.length === 0)
    throw new NetloomError('INVALID_ARGUMENT', 'the conflist has no plugins', { field: 'plugins' });
  return conflist.plugins.map((p: unknown, i: number) => {
    if (typeof p !== 'object' || p === null || typeof (p as { type?: unknown }).type !== 'string')
      throw new NetloomError('INVALID_ARGUMENT', `plugin ${i} of the conflist has no type`, { field: `plugins[${i}].type` });
    return { ...(p as Record<string, unknown>), cniVersion: GC_CNI_VERSION, name: conflist.name, 'cni.dev/valid-attachments': valid };
  });
}

export interface GcOutcome {
  plugin: string;
  code: number;
  output: string;
}

/** Run GC of every plugin of the conflist file, the plugins found in `binDir` (CNI_PATH). */
export async function runCniGc(conflistFile: string, binDir: string, valid: ValidAttachment[]): Promise<GcOutcome[]> {
  const conflist = JSON.parse(readFileSync(conflistFile, 'utf8')) as Conflist;
  const out: GcOutcome[] = [];
  for (const netconf of gcNetconfs(conflist, valid)) {
    const plugin = String(netconf.type);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: 'GC', CNI_PATH: binDir };
    const r = await run(join(binDir, plugin), [], { env, input: JSON.stringify(netconf), allowFailure: true, timeoutMs: 120_000 });
    out.push({ plugin, code: r.code, output: `${r.stdout}${r.stderr}`.trim() });
  }
  return out;
}
