/**
 * A workaround for an Open vSwitch bug that breaks "a deny is a deny across changes".
 *
 * The userspace datapath (dpif-netdev) of Open vSwitch before 2.17.8, 3.0.5 and 3.1.3 finds the
 * megaflow a revalidator modifies by looking its key up, not by its UFID (fixed upstream by
 * "dpif-netdev: Fix dpif_netdev_flow_put", 21410ff8). Megaflows may overlap (different prefix
 * masks left by earlier rule sets: policy CIDRs make them), so after a flow-table change the new
 * actions can land on the other megaflow: the one the revalidator meant keeps its old actions while
 * its ukey records the new ones, so it is never looked at again and keeps deciding as long as
 * packets keep it alive. Seen in the lab: a UDP stream still passed 20 s after a deny rule for it.
 *
 * With an affected Open vSwitch on the netdev datapath, netplugin therefore empties the datapath's
 * flow cache (`revalidator/purge`) after every change it makes to br-int's tables: every megaflow
 * made afterwards is translated with the new tables, and a revalidator's misplaced modification
 * then only lands on a megaflow with the same translation. Packets are not lost (they take the
 * slow path once) and conntrack keeps its state. What remains is the few milliseconds between
 * the bundle's commit and the purge.
 */
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';

/** The first release of each line with the fix; lines after 3.1 all have it. */
const FIXED_IN: ReadonlyArray<readonly [major: number, minor: number, patch: number]> = [
  [2, 17, 8],
  [3, 0, 5],
  [3, 1, 3],
];

/**
 * Whether an Open vSwitch of `version` (ovs_version of the Open_vSwitch row, e.g. "3.1.0") on
 * `datapathType` has the overlapping-megaflow modification bug. An unknown version counts as
 * affected: a purge too many costs an upcall per flow, a stale megaflow costs a deny.
 */
export function hasOverlappingMegaflowBug(version: string | undefined, datapathType: string): boolean {
  if (datapathType !== 'netdev') return false;
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return true;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 3 || (major === 3 && minor >= 2)) return false;
  const line = FIXED_IN.find(([a, b]) => a === major && b === minor);
  // lines older than 2.17 never got the fix
  if (!line) return true;
  return patch < line[2];
}

/** Empties the datapath's flow cache (`revalidator/purge` on ovs-vswitchd's control socket). */
export interface DatapathFlowCache {
  purge(): Promise<void>;
}

/**
 * Remembers that br-int's tables changed until a purge succeeded, so that a purge that failed is
 * made on the next reconcile even when that one changes nothing.
 */
export class PurgeAfterChange {
  private owed = false;
  purges = 0;
  failures = 0;

  constructor(
    private readonly cache: DatapathFlowCache,
    private readonly logger?: Logger,
  ) {}

  /**
   * After a reconcile: `changed` when it sent any message to the switch. Resolves whether it
   * purged; throws when the purge failed (it is owed until one succeeds).
   */
  async settle(changed: boolean): Promise<boolean> {
    if (changed) this.owed = true;
    if (!this.owed) return false;
    try {
      await this.cache.purge();
    } catch (e) {
      this.failures++;
      this.logger?.warn({ err: errorMessage(e) }, 'emptying the datapath flow cache after a flow change failed (retried)');
      throw e;
    }
    this.owed = false;
    this.purges++;
    return true;
  }
}

/** What `PurgeAfterChange` needs of ovs-vswitchd's control socket (ovs/unixctl.ts UnixctlClient). */
export interface VswitchdControl {
  call(command: string, args?: readonly string[]): Promise<string>;
}

/**
 * The purge for this host's Open vSwitch, or undefined when it does not need one. The version is
 * asked of the running daemon (`version`: the Open_vSwitch row's ovs_version is only set by ovs-ctl).
 */
export async function purgeIfAffected(
  ctl: VswitchdControl,
  datapathType: string,
  logger?: Logger,
  when: 'auto' | 'always' | 'never' = 'auto',
): Promise<PurgeAfterChange | undefined> {
  const purge = () => new PurgeAfterChange({ purge: async () => void (await ctl.call('revalidator/purge')) }, logger);
  if (when === 'never') return undefined;
  if (when === 'always') return purge();
  if (datapathType !== 'netdev') return undefined;
  let version: string | undefined;
  try {
    // "ovs-vswitchd (Open vSwitch) 3.1.0\n"
    version = /\(Open vSwitch\)\s+(\S+)/.exec(await ctl.call('version'))?.[1];
  } catch (e) {
    logger?.warn({ err: errorMessage(e) }, 'cannot ask ovs-vswitchd its version; assuming it needs the datapath purge');
  }
  if (!hasOverlappingMegaflowBug(version, datapathType)) return undefined;
  logger?.info(
    { ovsVersion: version ?? 'unknown' },
    'this Open vSwitch can leave a stale megaflow after a flow change (fixed in 2.17.8, 3.0.5, 3.1.3): the datapath flow cache is emptied after each change',
  );
  return purge();
}
