/**
 * The agent's routed side (BGP mode): keeps the host's kernel holding what its routed endpoints
 * need, next to (not inside) the OVS reconcile: host routes from the endpoint records, policy in
 * `inet netloom_policy` (RoutedPolicyApplier), bandwidth with tc and DSCP in `inet netloom_qos`.
 * Each part changes the kernel only where its desired text or commands changed (a restarted agent
 * re-applies QoS with `replace`, which keeps the qdiscs, and once takes away the shaping and ifb
 * devices of endpoints or profiles that went while it was down; policy keeps its generation).
 */
import { errorMessage } from '../../lib/errors';
import type { CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { loadNftTable } from '../hostnet/nft-table';
import type { HostState } from '../state/host-state';
import { syncEndpointRoutes } from './endpoint-routes';
import { RoutedPolicyApplier } from './policy-applier';
import {
  ifbOf,
  NFT_QOS_FAMILY,
  NFT_QOS_TABLE,
  renderDscpTable,
  shapeCommands,
  staleIfbCommands,
  unshapeCommands,
  type RoutedQosEndpoint,
} from './qos-plan';
import { desiredEndpointRoutes, routedDesired, type RoutedRecord } from './routed-desired';

export class RoutedHost {
  private readonly policy: RoutedPolicyApplier;
  /** hostIf -> the shaping commands applied (their text) */
  private shaped = new Map<string, string>();
  /** the DSCP table's text as loaded (undefined: unknown, after a start) */
  private dscpText: string | undefined;
  /** whether any routed endpoint was ever seen: a host without any never touches nft or tc */
  private active = false;
  private checkedOnce = false;
  /** whether netloom's ifb devices left from before this agent were looked at */
  private swept = false;

  constructor(private readonly opts: { runner: CommandRunner; hostName: string; logger?: Logger }) {
    this.policy = new RoutedPolicyApplier({ runner: opts.runner, ...(opts.logger ? { logger: opts.logger } : {}) });
  }

  /** Put back missing host routes and drop stale ones (start and every reconcile). */
  async syncRoutes(records: readonly RoutedRecord[]): Promise<void> {
    const want = desiredEndpointRoutes(records);
    if (want.length === 0 && !this.active) {
      // once: stale routes of endpoints removed while the agent was down go; a host that never has
      // a routed endpoint costs its reconciles nothing more
      if (!this.checkedOnce) {
        await syncEndpointRoutes([], this.opts.runner, this.opts.logger);
        await this.sweepIfbs(new Set(), []);
      }
      this.checkedOnce = true;
      return;
    }
    this.active = true;
    await syncEndpointRoutes(want, this.opts.runner, this.opts.logger);
  }

  /** Routes, policy and QoS for `state` and the records. */
  async apply(state: HostState, records: readonly RoutedRecord[]): Promise<void> {
    await this.syncRoutes(records);
    const d = routedDesired(state, this.opts.hostName, records);
    if (d.policy.endpoints.length === 0 && !this.active) return;
    this.active = true;
    await this.policy.apply(d.policy);
    await this.applyQos(
      d.qos,
      records.map((r) => r.hostIf),
    );
  }

  /**
   * Once per agent: netloom's ifb devices that nothing shapes now (an endpoint or a profile that
   * went while no agent ran) are taken away with what they shaped (qos-plan.ts, staleIfbCommands).
   */
  private async sweepIfbs(shaped: ReadonlySet<string>, hostIfs: readonly string[]): Promise<void> {
    if (this.swept) return;
    const r = await this.opts.runner('ip', ['-j', 'link', 'show', 'type', 'ifb'], { allowFailure: true });
    if (r.code !== 0) return;
    const names = (JSON.parse(r.stdout.trim() || '[]') as Array<{ ifname?: string }>).flatMap((l) => (l.ifname ? [l.ifname] : []));
    const cmds = staleIfbCommands(names, shaped, hostIfs);
    for (const [cmd, ...args] of cmds) await this.opts.runner(cmd!, args, { allowFailure: true });
    if (cmds.length > 0) this.opts.logger?.info({ commands: cmds.map((c) => c.join(' ')) }, 'routed QoS left from before removed');
    this.swept = true;
  }

  private async applyQos(qos: readonly RoutedQosEndpoint[], hostIfs: readonly string[]): Promise<void> {
    const run = this.opts.runner;
    const want = new Map(qos.filter((q) => q.rateKbps > 0).map((q) => [q.hostIf, q]));
    await this.sweepIfbs(new Set(want.keys()), hostIfs);
    for (const [hostIf] of this.shaped) {
      if (want.has(hostIf)) continue;
      for (const [cmd, ...args] of unshapeCommands(hostIf)) await run(cmd!, args, { allowFailure: true });
      this.shaped.delete(hostIf);
    }
    for (const [hostIf, q] of want) {
      const cmds = shapeCommands(q);
      const text = JSON.stringify(cmds);
      if (this.shaped.get(hostIf) === text) continue;
      const ifb = ifbOf(hostIf);
      if ((await run('ip', ['link', 'show', ifb], { allowFailure: true })).code !== 0)
        await run('ip', ['link', 'add', ifb, 'type', 'ifb'], { allowFailure: true });
      try {
        for (const [cmd, ...args] of cmds) await run(cmd!, args);
        this.shaped.set(hostIf, text);
      } catch (e) {
        this.opts.logger?.warn({ hostIf, err: errorMessage(e) }, 'routed endpoint: bandwidth not applied');
        throw e;
      }
    }
    const dscp = renderDscpTable(qos);
    if (dscp !== this.dscpText) {
      await loadNftTable(run, NFT_QOS_FAMILY, NFT_QOS_TABLE, dscp);
      this.dscpText = dscp;
    }
  }

  /** An endpoint's host end is going: its ifb goes with it (the qdiscs die with the veth). */
  async forget(hostIf: string): Promise<void> {
    this.shaped.delete(hostIf);
    await this.opts.runner('ip', ['link', 'del', ifbOf(hostIf)], { allowFailure: true });
  }
}
