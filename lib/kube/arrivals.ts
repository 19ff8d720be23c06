/**
 * Callers waiting for an object to reach a watch cache (lib/kube/resource-watch), by key, each up
 * to its own bound: a CNI ADD may come a little before the watch delivers its pod or namespace.
 * The cache checks itself first and calls `arrived` for every object it is told about.
 */
import { systemClock, type Clock } from '../clock';

export class Arrivals<T> {
  private readonly waiters = new Map<string, Set<(obj: T) => void>>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Hand `obj` to everyone waiting for `key`. */
  arrived(key: string, obj: T): void {
    const ws = this.waiters.get(key);
    if (!ws) return;
    this.waiters.delete(key);
    for (const w of ws) w(obj);
  }

  /** The object of `key` once it arrives, or `timedOut()`'s error after `timeoutMs`. */
  wait(key: string, timeoutMs: number, timedOut: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const got = (obj: T): void => {
        timer.cancel();
        resolve(obj);
      };
      const timer = this.clock.after(timeoutMs, () => {
        const ws = this.waiters.get(key);
        ws?.delete(got);
        if (ws?.size === 0) this.waiters.delete(key);
        reject(timedOut());
      });
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      set.add(got);
    });
  }

  /** How many callers wait (tests). */
  get waiting(): number {
    let n = 0;
    for (const ws of this.waiters.values()) n += ws.size;
    return n;
  }
}
