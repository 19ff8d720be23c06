/**
 * The desired state the agent realizes = netmaster's HostState plus this host's endpoints that it
 * allocated from its own blocks and netmaster does not show yet (issue 15): a locally allocated
 * endpoint gets its flows, policy and all, at once and without netmaster. Wraps the real source;
 * a new state goes out on every netmaster update and on every local allocation or release, and
 * `realized` hands netmaster's own state object back to it (its revision is what is acknowledged).
 */
import type { RuleCounter } from '../reconcile/rule-counters';
import type { ServiceCounter } from '../reconcile/service-counters';
import type { HostState } from '../state/host-state';
import type { BlockAllocator } from './block-allocator';
import type { DesiredStateSource } from './fabric';

export class OverlaySource implements DesiredStateSource {
  private latest: HostState | undefined;
  private emit: ((s: HostState) => void) | undefined;
  private readonly originals = new WeakMap<HostState, HostState>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly inner: DesiredStateSource,
    private readonly blocks: BlockAllocator,
  ) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  async start(onState: (state: HostState) => void): Promise<void> {
    this.emit = onState;
    this.unsubscribe = this.blocks.onLocalChange(() => this.publish());
    await this.inner.start((s) => {
      this.latest = s;
      this.blocks.onNetmasterState(s);
      this.publish();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.inner.stop();
  }

  realized(state: HostState): void {
    this.inner.realized?.(this.originals.get(state) ?? state);
  }

  ruleCounters(counters: readonly RuleCounter[]): void {
    this.inner.ruleCounters?.(counters);
  }

  serviceCounters(counters: readonly ServiceCounter[]): void {
    this.inner.serviceCounters?.(counters);
  }

  private publish(): void {
    if (!this.latest || !this.emit) return;
    const s = this.blocks.overlay(this.latest);
    if (s !== this.latest) this.originals.set(s, this.latest);
    this.emit(s);
  }
}
