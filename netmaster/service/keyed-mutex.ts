/**
 * In-process serialization per key (a tenant): intent changes of one tenant made through one
 * netmaster run one at a time, so they do not waste etcd round trips conflicting with each other.
 * Correctness never depends on it: commits are guarded by etcd revisions across replicas.
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
}
