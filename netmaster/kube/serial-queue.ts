/** Runs the calls of one kind one after another, so that a delete never overtakes the put before it. */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  run(task: () => Promise<void>): Promise<void> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
  /** resolves once everything queued so far ran */
  idle(): Promise<void> {
    return this.tail;
  }
}
