/**
 * VTEP warm-up. Userspace tunnelling resolves a VTEP's MAC only when a packet needs it, and drops
 * that packet (each side learns separately: OVS learns from the ARP reply to its own request). So
 * for every new remote VTEP the agent sends a small packet into the VXLAN port towards it
 * (PACKET_OUT, tun_id 0: the other side drops it in its classifier), a few times while the other
 * host may still be coming up; OVS resolves the VTEP then, not on the first container packet.
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

export class VtepWarmup {
  private readonly warmed = new Set<string>();
  private stopped = false;
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
      this.warmed.add(ip);
      started.push(this.warmOne(ip));
    }
    return Promise.all(started).then(() => undefined);
  }

  /** Forgets every VTEP (a restarted ovs-vswitchd has forgotten their MACs); attempts under way end. */
  reset(): void {
    this.warmed.clear();
  }

  stop(): void {
    this.stopped = true;
  }

  private async warmOne(ip: string): Promise<void> {
    const vxlan = this.deps.vxlanPort();
    if (vxlan === undefined) return;
    const frame = warmupFrame();
    const send = async (): Promise<void> => {
      try {
        await this.deps.packetOut(warmupActions(ip, vxlan), frame);
      } catch (e) {
        this.deps.logger.debug({ err: errorMessage(e), vtep: ip }, 'VTEP warm-up packet not sent');
      }
    };
    const backoff = new Backoff({ initialMs: FIRST_RETRY_DELAY_MS, maxMs: MAX_RETRY_DELAY_MS }, { clock: this.clock });
    const deadline = this.clock.monotonic() + WARMUP_DEADLINE_MS;
    for (let attempt = 0; this.clock.monotonic() < deadline; attempt++) {
      if (this.stopped || !this.warmed.has(ip)) return;
      await send();
      if (!this.deps.probe) return;
      if (await this.deps.probe(ip)) {
        await send();
        this.deps.logger.debug({ vtep: ip, attempt }, 'remote VTEP resolved');
        return;
      }
      await backoff.wait();
    }
    this.deps.logger.warn({ vtep: ip }, 'remote VTEP does not answer; the first tunnelled packet towards it may be lost');
  }
}
