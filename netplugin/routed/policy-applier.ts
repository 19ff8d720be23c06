/**
 * Makes the host's kernel hold the routed endpoints' policy: the table `inet netloom_policy`
 * rendered from the desired input, loaded with `nft -f` in one transaction (hostnet/nft-table.ts:
 * a refused load leaves the old table in place), only when its text changed; no routed endpoint
 * left removes the table. The generation continues from what the kernel holds (the table's
 * comment) after a restart, so a restarted agent whose policy did not change keeps the
 * generation and established connections skip policy as before. Commands go through a
 * CommandRunner (a fake one in unit tests; `ip netns exec` in tests on namespaces).
 */
import type { CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { loadNftTable } from '../hostnet/nft-table';
import { routedPolicyModel, type RoutedPolicyInput } from './policy-model';
import {
  NFT_POLICY_FAMILY,
  NFT_POLICY_TABLE,
  nextGeneration,
  parseGenerationComment,
  renderRoutedPolicy,
  type Generation,
} from './policy-nft';

export interface RoutedPolicyReport {
  /** the table was loaded (or removed) by this call */
  loaded: boolean;
  /** the generation in force (0: no table) */
  generation: number;
}

export class RoutedPolicyApplier {
  /** what the kernel holds, as far as this applier knows (undefined: not read yet) */
  private held: { text: string; generation: Generation | undefined; stateful: boolean } | undefined;

  constructor(private readonly opts: { runner: CommandRunner; logger?: Logger }) {}

  /** Forget what was loaded: the next apply reads the kernel's generation and loads the table again. */
  invalidate(): void {
    this.held = undefined;
  }

  /** The generation the kernel's table carries, and whether it is stateful (undefined: no table of ours). */
  private async kernelTable(): Promise<(Generation & { stateful: boolean }) | undefined> {
    const r = await this.opts.runner('nft', ['-t', 'list', 'table', NFT_POLICY_FAMILY, NFT_POLICY_TABLE], { allowFailure: true });
    return r.code === 0 ? parseGenerationComment(r.stdout) : undefined;
  }

  /** Hold `input`'s policy (bad input throws INVALID_ARGUMENT before the kernel is touched). */
  async apply(input: RoutedPolicyInput): Promise<RoutedPolicyReport> {
    // bad input throws before the kernel is read; a stateful table stays stateful while it exists (policy-model.ts)
    let model = routedPolicyModel(input, { stateful: this.held?.stateful ?? false });
    const kernel = this.held ? undefined : await this.kernelTable();
    if (kernel?.stateful && !model.stateful) model = { ...model, stateful: true };
    const previous = this.held ? this.held.generation : kernel && { generation: kernel.generation, digest: kernel.digest };
    const generation = model.endpoints.length > 0 ? nextGeneration(model, previous) : undefined;
    const text = generation ? renderRoutedPolicy(model, generation) : '';
    if (this.held && this.held.text === text) return { loaded: false, generation: generation?.generation ?? 0 };
    await loadNftTable(this.opts.runner, NFT_POLICY_FAMILY, NFT_POLICY_TABLE, text);
    // a removed table keeps its generation in memory, so endpoints coming back do not reuse it
    this.held = { text, generation: generation ?? previous, stateful: text !== '' && model.stateful };
    this.opts.logger?.info({ generation: generation?.generation ?? 0, endpoints: model.endpoints.length }, 'routed policy loaded');
    return { loaded: true, generation: generation?.generation ?? 0 };
  }

  /** Remove the table (no routed endpoint left, or shutting the routed mode down). */
  async remove(): Promise<void> {
    if (this.held && this.held.text === '') return;
    await loadNftTable(this.opts.runner, NFT_POLICY_FAMILY, NFT_POLICY_TABLE, '');
    this.held = { text: '', generation: this.held?.generation, stateful: false };
  }
}
