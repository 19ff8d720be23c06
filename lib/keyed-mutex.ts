/**
 * In-process serialization per key: work under one key runs one at a time, in arrival order;
 * other keys run in parallel. netmaster serializes one tenant's intent changes with it (saving etcd
 * round trips that would conflict; correctness there rests on guarded commits), the agent's CNI
 * handler one container's ADD/DEL/CHECK (the spec's runtimes must not overlap them, but a retrying
 * or buggy one can, and overlapping plumbing of one interface breaks both operations).
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Keys with work running or waiting (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
