/**
 * This process's view of allocations in flight: numbers being claimed right now (so that
 * concurrent requests here never pick the same one) and, per allocation prefix, a cursor where
 * the next search starts (a hint). Purely in memory and never trusted for correctness: every
 * claim is settled by a compare-and-create in etcd.
 */
export class Claims {
  private readonly pending = new Map<string, Set<number>>();
  private readonly cursors = new Map<string, number>();

  claim(prefix: string, n: number): void {
    let s = this.pending.get(prefix);
    if (!s) this.pending.set(prefix, (s = new Set()));
    s.add(n);
  }

  unclaim(prefix: string, n: number | undefined): void {
    if (n === undefined) return;
    const s = this.pending.get(prefix);
    s?.delete(n);
    if (s && s.size === 0) this.pending.delete(prefix);
  }

  pendingOf(prefix: string): ReadonlySet<number> {
    return this.pending.get(prefix) ?? new Set();
  }

  cursor(prefix: string): number | undefined {
    return this.cursors.get(prefix);
  }

  /** Forget where to search (e.g. the network was deleted and may come back with another subnet). */
  forget(prefix: string): void {
    this.cursors.delete(prefix);
  }

  /** Move a cursor forward (commits finish out of order; only a wrap to `wrapTo` moves it back). */
  advance(prefix: string, next: number, wrapTo?: number): void {
    const cur = this.cursors.get(prefix);
    if (cur === undefined || next > cur || next === wrapTo) this.cursors.set(prefix, next);
  }

  /**
   * The first number at or after the cursor that is inside `ranges` and not being claimed here:
   * a guess that is usually free (only another replica could have taken it).
   */
  nextAtCursor(prefix: string, ranges: ReadonlyArray<[number, number]>): number | undefined {
    const cursor = this.cursors.get(prefix);
    if (cursor === undefined) return undefined;
    const pending = this.pending.get(prefix);
    for (let n = cursor; n < cursor + 32; n++) {
      if (!ranges.some(([a, b]) => n >= a && n <= b)) return undefined;
      if (!pending?.has(n)) return n;
    }
    return undefined;
  }

  /** How many candidates to choose among: wider while many claims are in flight. */
  window(prefix: string): number {
    return Math.min(48, 8 + 4 * (this.pending.get(prefix)?.size ?? 0));
  }

  /**
   * The lowest free candidate when nothing else is being claimed here; under load a random one,
   * so that concurrent claimers (also on other replicas) rarely collide.
   */
  choose(prefix: string, candidates: readonly number[]): number | undefined {
    // claims made while the scan was in flight are not in its result: drop them now
    const pending = this.pending.get(prefix);
    const free = pending ? candidates.filter((n) => !pending.has(n)) : candidates;
    if (!pending || pending.size === 0) return free[0];
    return free[Math.floor(Math.random() * free.length)];
  }
}
