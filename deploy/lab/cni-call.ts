/**
 * Drive the real CNI plugin (the compiled `dist/bin/netloom-cni`, else `bin/netloom-cni`) the way a runtime does: CNI_* environment
 * variables plus a netconf on stdin, against one host agent's socket. Used by `run`, `rm` and the
 * readiness check of `up` (STATUS).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { run } from '../../lib/exec';

/** The shim, from dist/deploy/lab/ back to the repository's bin/. */
export const CNI_SHIM = resolve(__dirname, '../../../bin/netloom-cni');
/** The compiled plugin (deploy/install.sh builds it from netplugin/cni/netloom-cni.c into dist/bin/). */
export const CNI_PLUGIN_COMPILED = resolve(__dirname, '../../bin/netloom-cni');

/** How the lab runs the plugin: the compiled one when it is built (one process per call), else the shim under dash. */
export function cniPluginCommand(): [string, string[]] {
  return existsSync(CNI_PLUGIN_COMPILED) ? [CNI_PLUGIN_COMPILED, []] : ['dash', [CNI_SHIM]];
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';

export interface CniCallInput {
  command: CniCommand;
  socket: string;
  containerId: string;
  /** absolute path of the container's network namespace (not needed for STATUS) */
  netnsPath?: string;
  tenant: string;
  network: string;
  group?: string;
  ip?: string;
  /** endpoint labels, passed as the netconf's `args.cni.labels` (the CNI CONVENTIONS) */
  labels?: Record<string, string>;
  /** CNI_ARGS as a runtime passes it (`K=V;K2=V2`) */
  cniArgs?: string;
  /** the netconf's network name; the lab's is `TENANT-NETWORK` */
  name?: string;
  /** more netconf keys (they win over the ones above), e.g. a CHECK's prevResult */
  extra?: Record<string, unknown>;
}

export interface CniCallResult {
  code: number;
  json: Record<string, unknown> | undefined;
  output: string;
}

/** The netconf the lab hands the shim (pure). */
export function labNetconf(
  i: Pick<CniCallInput, 'socket' | 'tenant' | 'network' | 'group' | 'ip' | 'labels' | 'name' | 'extra'>,
): Record<string, unknown> {
  const labels = Object.entries(i.labels ?? {}).map(([key, value]) => ({ key, value }));
  const cni = { ...(i.ip ? { ips: [i.ip] } : {}), ...(labels.length > 0 ? { labels } : {}) };
  return {
    cniVersion: '1.1.0',
    name: i.name ?? `${i.tenant}-${i.network}`,
    type: 'netloom-cni',
    agentSocket: i.socket,
    tenant: i.tenant,
    network: i.network,
    ...(i.group ? { group: i.group } : {}),
    ...(Object.keys(cni).length > 0 ? { args: { cni } } : {}),
    ...i.extra,
  };
}

export async function cniCall(i: CniCallInput, timeoutMs = 30_000): Promise<CniCallResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: i.command,
    CNI_CONTAINERID: i.containerId,
    CNI_IFNAME: 'eth0',
    CNI_PATH: '/usr/lib/cni',
    ...(i.netnsPath ? { CNI_NETNS: i.netnsPath } : {}),
    ...(i.cniArgs !== undefined ? { CNI_ARGS: i.cniArgs } : {}),
  };
  const r = await run(...cniPluginCommand(), { env, input: JSON.stringify(labNetconf(i)), allowFailure: true, timeoutMs });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() === '' ? undefined : (JSON.parse(r.stdout) as Record<string, unknown>);
  } catch {
    json = undefined;
  }
  return { code: r.code, json, output: `${r.stdout}${r.stderr}` };
}

/** The first address of a CNI result, without its prefix length. */
export function firstIp(result: Record<string, unknown> | undefined): string | undefined {
  const ips = result?.ips;
  if (!Array.isArray(ips)) return undefined;
  const a = (ips[0] as { address?: unknown } | undefined)?.address;
  return typeof a === 'string' ? a : undefined;
}
