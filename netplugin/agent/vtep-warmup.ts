/**
 * VTEP warm-up. Userspace tunnelling resolves a VTEP's MAC only when a packet needs it, and drops
 * that packet (each side learns separately: OVS learns from the ARP reply to its own request). So
 * for every new remote VTEP the agent sends a small packet into the VXLAN port towards it
 * (PACKET_OUT, tun_id 0: the other side drops it in its classifier), a few times while the other
 * host may still be coming up; OVS resolves the VTEP then, not on the first container packet.
 *
 * Each attempt costs two processes (see `underlayProbe`) and, for a VTEP that does not answer, a
 * wait of its own: a burst of new hosts (a rack joining, everyone re-registering after a netmaster
 * restart) would start hundreds at once and starve the agent's reconcile of CPU for the whole
 * deadline. So at most MAX_PROBES_IN_FLIGHT attempts run at a time, first attempts ahead of retries.
 *
 * A container plugged while its remote VTEPs are still being resolved (an agent just started, a
 * host just joined) would lose its first packets towards them: `firstAttempts` lets the ADD wait,
 * bounded, until each VTEP has had its first attempt.
 */
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import { run } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import type { Action } from '../../ovs/openflow/messages';

/** How long a VTEP that does not answer is tried again (it may still be coming up). */
export const WARMUP_DEADLINE_MS = 20_000;
const MAX_RETRY_DELAY_MS = 1000;
const FIRST_RETRY_DELAY_MS = 50;
/** Attempts (a packet, then a probe) running at a time, however many VTEPs are new. */
export const MAX_PROBES_IN_FLIGHT = 4;

export interface VtepWarmupDeps {
  /** this host's VTEP address ('' when it has none: nothing is warmed) */
  localVtepIp: string;
  /** the ofport of the flow-based VXLAN port now (undefined: none yet, nothing is warmed) */
  vxlanPort: () => number | undefined;
  /** sends a PACKET_OUT of `frame` with `actions` (does nothing when the switch is not connected) */
  packetOut: (actions: Action[], frame: Buffer) => Promise<void>;
  /**
   * Asks the underlay whether the VTEP answers (see `underlayProbe`); without it (no uplink) one
   * packet is sent and that is all.
   */
  probe?: (ip: string) => Promise<boolean>;
  logger: Logger;
  clock?: Clock;
}

/** dst 00:00:00:00:00:00, src 02:6e:6c:00:00:ff, ethertype 0x88b5 (local experimental), padding */
export function warmupFrame(): Buffer {
  const frame = Buffer.alloc(60);
  Buffer.from([0x02, 0x6e, 0x6c, 0x00, 0x00, 0xff]).copy(frame, 6);
  frame.writeUInt16BE(0x88b5, 12);
  return frame;
}

/** The actions that send the warm-up frame towards `vtepIp` through the VXLAN port. */
export function warmupActions(vtepIp: string, vxlanPort: number): Action[] {
  return [
    { type: 'set_field', field: { field: 'tunnel_id', value: 0n } },
    { type: 'set_field', field: { field: 'tun_ipv4_dst', value: vtepIp } },
    { type: 'output', port: vxlanPort, maxLen: 0 },
  ];
}

/**
 * The kernel's way to resolve a VTEP: a fresh ARP from the VTEP address on its bridge (the
 * physical one, or br-int with one bridge; the neighbour entry is deleted first), whose reply OVS
 * snoops. True when the VTEP answered.
 */
export function underlayProbe(vtepBridge: string): (ip: string) => Promise<boolean> {
  return async (ip) => {
    await run('ip', ['neigh', 'del', ip, 'dev', vtepBridge], { allowFailure: true });
    const r = await run('ping', ['-c', '1', '-W', '0.3', '-q', ip], { allowFailure: true, timeoutMs: 5000 });
    return r.code === 0;
  };
}

/** One VTEP being warmed: its attempts share a backoff and a deadline; `done` ends its `warm` promise. */
interface Warming {
  ip: string;
  backoff: Backoff;
  deadline: number;
  attempt: number;
  done: () => void;
}

export class VtepWarmup {
  /** the VTEPs warmed or being warmed, each with its warming (a reset or a new warming makes an old one stale) */
  private readonly warmed = new Map<string, Warming>();
  /** waiting for their first attempt: served before `retries`, so a new host is not queued behind hosts that do not answer */
  private readonly fresh: Warming[] = [];
  /** waiting for another attempt (their backoff has passed) */
  private readonly retries: Warming[] = [];
  private inFlight = 0;
  private stopped = false;
  /** warmings whose first attempt has not ended yet */
  private readonly untried = new Set<Warming>();
  /** called when `untried` becomes empty */
  private readonly untriedWaiters = new Set<() => void>();
  private readonly clock: Clock;

  constructor(private readonly deps: VtepWarmupDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Warms every VTEP of `vtepIps` not warmed yet (this host's own excepted); resolves when all are done. */
  warm(vtepIps: Iterable<string>): Promise<void> {
    if (this.deps.vxlanPort() === undefined || this.deps.localVtepIp === '') return Promise.resolve();
    const started: Promise<void>[] = [];
    for (const ip of vtepIps) {
      if (ip === this.deps.localVtepIp || this.warmed.has(ip)) continue;
      started.push(
        new Promise<void>((done) => {
          const w: Warming = {
            ip,
            backoff: new Backoff({ initialMs: FIRST_RETRY_DELAY_MS, maxMs: MAX_RETRY_DELAY_MS }, { clock: this.clock }),
            deadline: this.clock.monotonic() + WARMUP_DEADLINE_MS,
            attempt: 0,
            done,
          };
          this.warmed.set(ip, w);
          this.untried.add(w);
          this.fresh.push(w);
        }),
      );
    }
    this.pump();
    return Promise.all(started).then(() => undefined);
  }

  /**
   * Resolves true once every VTEP being warmed has had its first attempt (answered or not: a VTEP
   * that does not answer is not waited for again), false after `timeoutMs` if some have not.
   */
  firstAttempts(timeoutMs: number): Promise<boolean> {
    if (this.untried.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const end = (ok: boolean): void => {
        timer.cancel();
        this.untriedWaiters.delete(tried);
        resolve(ok);
      };
      const tried = (): void => end(true);
      const timer = this.clock.after(timeoutMs, () => end(false), { unref: true });
      this.untriedWaiters.add(tried);
    });
  }

  /** Forgets every VTEP (a restarted ovs-vswitchd has forgotten their MACs); attempts under way end. */
  reset(): void {
    this.warmed.clear();
    this.triedAll();
  }

  stop(): void {
    this.stopped = true;
    this.triedAll();
  }

  /** attempts running now (tests) */
  get probesInFlight(): number {
    return this.inFlight;
  }

  /** Starts queued attempts while fewer than MAX_PROBES_IN_FLIGHT run. */
  private pump(): void {
    while (this.inFlight < MAX_PROBES_IN_FLIGHT) {
      const w = this.fresh.shift() ?? this.retries.shift();
      if (!w) return;
      this.inFlight++;
      void this.attempt(w).then((again) => {
        this.inFlight--;
        this.tried(w);
        if (again) void this.retryLater(w);
        else w.done();
        this.pump();
      });
    }
  }

  private tried(w: Warming): void {
    if (this.untried.delete(w) && this.untried.size === 0) this.triedAll();
  }

  private triedAll(): void {
    this.untried.clear();
    for (const f of [...this.untriedWaiters]) f();
  }

  private live(w: Warming): boolean {
    return !this.stopped && this.warmed.get(w.ip) === w;
  }

  /** One attempt; true when the VTEP did not answer and another attempt is due after the backoff. */
  private async attempt(w: Warming): Promise<boolean> {
    const vxlan = this.deps.vxlanPort();
    if (!this.live(w) || vxlan === undefined) return false;
    await this.send(w.ip, vxlan);
    if (!this.deps.probe) return false;
    if (await this.probe(w.ip)) {
      // resolved now: this packet is not dropped for want of the VTEP's MAC
      await this.send(w.ip, vxlan);
      this.deps.logger.debug({ vtep: w.ip, attempt: w.attempt }, 'remote VTEP resolved');
      return false;
    }
    w.attempt++;
    return true;
  }

  /** Whether the VTEP answered; a probe that fails (ping not started, say) counts as no answer, so its slot is freed. */
  private async probe(ip: string): Promise<boolean> {
    try {
      return (await this.deps.probe?.(ip)) === true;
    } catch (e) {
      this.deps.logger.debug({ err: errorMessage(e), vtep: ip }, 'VTEP probe failed');
      return false;
    }
  }

  private async send(ip: string, vxlan: number): Promise<void> {
    try {
      await this.deps.packetOut(warmupActions(ip, vxlan), warmupFrame());
    } catch (e) {
      this.deps.logger.debug({ err: errorMessage(e), vtep: ip }, 'VTEP warm-up packet not sent');
    }
  }

  /** Waits the VTEP's backoff (holding no attempt slot), then queues its next attempt, or gives up at the deadline. */
  private async retryLater(w: Warming): Promise<void> {
    await w.backoff.wait();
    if (!this.live(w)) return w.done();
    if (this.clock.monotonic() >= w.deadline) {
      this.deps.logger.warn({ vtep: w.ip }, 'remote VTEP does not answer; the first tunnelled packet towards it may be lost');
      return w.done();
    }
    this.retries.push(w);
    this.pump();
  }
}
