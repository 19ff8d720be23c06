/**
 * The OpenFlow port numbers of the switch's interfaces as OVSDB reports them (the agent's
 * Interface monitor), for two things a CNI ADD needs:
 * - `request`: a number for a port about to be added (its Interface's `ofport_request`), so that
 *   the endpoint's flows can be computed and installed while ovs-vswitchd adds the port, instead
 *   of after. The numbers come from the upper half of the range, which ovs-vswitchd never hands
 *   out by itself (it keeps that half for controllers), round robin, skipping every number an
 *   interface has or another ADD holds, so that a freed number is not soon given again (the old
 *   endpoint's flows may still be on the switch for a moment).
 * - `waitFor`: the number the interface got, once ovs-vswitchd opened it. An interface whose
 *   device does not exist yet (-1, "No such device") is waited for: a port may be added before
 *   its veth, and ovs-vswitchd opens it when the kernel reports the device.
 */
import type { Clock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';

/** What the monitor says about one interface (ovs/ovsdb InterfaceEvent's fields used here). */
export interface OfportEvent {
  kind: 'initial' | 'insert' | 'modify' | 'delete';
  name: string;
  /** undefined until assigned; -1 when vswitchd could not open the interface */
  ofport: number | undefined;
  error: string | undefined;
}

/** the first number of the half ovs-vswitchd leaves to controllers */
export const OFPORT_REQUEST_MIN = 32768;
/** the last OpenFlow port number (OFPP_MAX, 0xff00) */
export const OFPORT_REQUEST_MAX = 0xff00;

interface Waiter {
  name: string;
  resolve: (ofport: number) => void;
  reject: (e: Error) => void;
}

/** an interface that has no device yet: ovs-vswitchd opens it once the device appears */
const NO_DEVICE = /No such device/;

export class InterfaceOfports {
  /** name -> what OVSDB says now */
  private readonly known = new Map<string, { ofport: number | undefined; error: string | undefined }>();
  /** numbers handed out by `request` and not yet released, by interface name */
  private readonly requests = new Map<string, number>();
  private cursor: number;
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly clock: Clock,
    start = OFPORT_REQUEST_MIN,
  ) {
    this.cursor = start;
  }

  /** The monitor (re)started: `initial` is every interface there is now. */
  reset(initial: readonly OfportEvent[]): void {
    this.known.clear();
    this.update(initial);
  }

  /** Later changes from the monitor. */
  update(events: readonly OfportEvent[]): void {
    for (const e of events) {
      if (e.kind === 'delete') this.known.delete(e.name);
      else this.known.set(e.name, { ofport: e.ofport, error: e.error });
    }
    for (const w of [...this.waiters]) this.check(w);
  }

  /** The interface's ofport when OVSDB has a usable one. */
  ofportOf(name: string): number | undefined {
    const o = this.known.get(name)?.ofport;
    return o !== undefined && o > 0 ? o : undefined;
  }

  /**
   * A number for interface `name`'s ofport_request (held until `release(name)`): none that an
   * interface has, or that another request holds; the same one again for the same name.
   */
  request(name: string): number {
    const had = this.requests.get(name);
    if (had !== undefined) return had;
    const taken = new Set<number>(this.requests.values());
    for (const k of this.known.values()) if (k.ofport !== undefined) taken.add(k.ofport);
    const size = OFPORT_REQUEST_MAX - OFPORT_REQUEST_MIN + 1;
    for (let i = 0; i < size; i++) {
      const n = OFPORT_REQUEST_MIN + ((this.cursor - OFPORT_REQUEST_MIN + i) % size);
      if (taken.has(n)) continue;
      this.cursor = n + 1 > OFPORT_REQUEST_MAX ? OFPORT_REQUEST_MIN : n + 1;
      this.requests.set(name, n);
      return n;
    }
    throw new NetloomError('EXHAUSTED', `no free OpenFlow port number from ${OFPORT_REQUEST_MIN} to ${OFPORT_REQUEST_MAX}`, {
      field: 'ofport_request',
    });
  }

  /** The number `request` holds for `name`, if any. */
  requestedFor(name: string): number | undefined {
    return this.requests.get(name);
  }

  release(name: string): void {
    this.requests.delete(name);
  }

  /**
   * The ofport of interface `name` once ovs-vswitchd assigned one. Rejects with COMMAND_FAILED
   * when it could not open an existing device (ofport -1 with another error than "No such
   * device"), with TIMEOUT after `timeoutMs`, and with the abort reason when `signal` aborts.
   */
  waitFor(name: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal, name));
      const done = (): void => {
        timer.cancel();
        this.waiters.delete(w);
        signal?.removeEventListener('abort', onAbort);
      };
      const w: Waiter = {
        name,
        resolve: (o) => {
          done();
          resolve(o);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = (): void => w.reject(abortError(signal, name));
      const timer = this.clock.after(timeoutMs, () =>
        w.reject(new NetloomError('TIMEOUT', `Interface ${name} got no ofport within ${timeoutMs} ms`, { field: 'interface' })),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
      this.check(w);
    });
  }

  private check(w: Waiter): void {
    const k = this.known.get(w.name);
    if (k?.ofport === undefined) return;
    if (k.ofport > 0) return w.resolve(k.ofport);
    if (k.error !== undefined && !NO_DEVICE.test(k.error))
      w.reject(
        new NetloomError('COMMAND_FAILED', `Interface ${w.name} has no usable ofport: ${k.error}`, {
          field: 'interface',
          details: { ofport: k.ofport },
        }),
      );
  }
}

function abortError(signal: AbortSignal | undefined, name: string): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new NetloomError('UNAVAILABLE', `waiting for the ofport of ${name} was given up`, { field: 'interface' });
}
