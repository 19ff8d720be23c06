/**
 * Clean-up that runs every step even when one fails (a failed `stop dockerd` must not leave the
 * namespace behind), then fails once, naming every step that went wrong.
 */
export class CleanupSteps {
  readonly errors: string[] = [];

  async attempt(what: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.errors.push(`${what}: ${(e as Error).message}`);
    }
  }

  get failed(): boolean {
    return this.errors.length > 0;
  }

  /** Throws one error listing the failed steps, if any. */
  throwIfFailed(): void {
    if (this.failed) throw new Error(this.errors.join('; '));
  }
}
