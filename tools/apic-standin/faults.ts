/**
 * Fault injection: the stand-in answers 503 (or another status) to the next N API calls, or to
 * every call until a deadline, as an APIC does while it restarts or is overloaded.
 */
import { systemClock, type Clock } from '../../lib/clock';

export interface FaultSpec {
  /** HTTP status to answer (default 503) */
  status?: number;
  /** this many calls fail */
  count?: number;
  /** calls fail for this long */
  forMs?: number;
}

export class Faults {
  private status = 503;
  private remaining = 0;
  private until = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  set(spec: FaultSpec): void {
    this.status = spec.status ?? 503;
    this.remaining = spec.count ?? 0;
    this.until = spec.forMs ? this.clock.monotonic() + spec.forMs : 0;
  }

  clear(): void {
    this.remaining = 0;
    this.until = 0;
  }

  /** The status this call fails with, or undefined: it goes through. */
  take(): number | undefined {
    if (this.remaining > 0) {
      this.remaining--;
      return this.status;
    }
    if (this.until > 0 && this.clock.monotonic() < this.until) return this.status;
    return undefined;
  }
}
