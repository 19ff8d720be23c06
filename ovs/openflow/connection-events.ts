/**
 * A bounded queue of asynchronous events (packet-ins, port status, ...) for a consumer that reads
 * at its own pace. When the consumer falls behind by more than `limit` events the oldest are
 * dropped and counted, so a slow reader never makes memory grow without bound.
 */
export class BoundedEventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiters: Array<(r: IteratorResult<T>) => void> = [];
  private closed = false;
  /** events discarded because the queue was full */
  dropped = 0;

  constructor(readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`event queue limit must be a positive integer, got ${limit}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w) {
      w({ value: item, done: false });
      return;
    }
    if (this.length >= this.limit) {
      this.head++;
      this.dropped++;
    }
    this.items.push(item);
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Next event, or done when the queue is closed and empty. */
  next(): Promise<IteratorResult<T>> {
    if (this.length > 0) {
      const value = this.items[this.head] as T;
      this.items[this.head] = undefined as unknown as T;
      this.head++;
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiters.push(resolve);
    });
  }

  /** Stop: pushes are ignored from now on; what is queued can still be read, then `done`. */
  close(): void {
    this.closed = true;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    // leaving a for-await loop closes the queue and drops what was not read
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        this.items = [];
        this.head = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
