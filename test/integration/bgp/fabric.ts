/**
 * The speaker tests' BGP fabric: the shared tor link (tools/bgp-tor-link.ts: "host" namespaces
 * bgsp-h1..hN on a bridge in `bgsp-tor`, 10.216.16.0/24, BIRD 2 as eBGP top of rack) with, on
 * each host, its own gobgpd under a GobgpSupervisor and a RouteSync. gobgpd's API is a unix socket:
 * the test runs in the root namespace, where a 127.0.0.1 port inside a host namespace cannot be
 * reached.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopProcess } from '../../../lib/process';
import { RouteSync } from '../../../netplugin/bgp/route-sync';
import { GobgpSupervisor } from '../../../netplugin/bgp/supervisor';
import type { SpeakerConfigInput } from '../../../netplugin/bgp/speaker-config';
import { TOR_AS, TorLink, type TorLinkNames } from '../../../tools/bgp-tor-link';
import { CleanupSteps } from '../../support/cleanup-steps';

export { TOR_AS };
export const TOR_NS = 'bgsp-tor';
export const TOR_IP = '10.216.16.254';
/** nobody answers at this address: a neighbor that never comes up */
export const SILENT_IP = '10.216.16.77';

export interface Host {
  n: number;
  ns: string;
  ip: string;
  asn: number;
  api: string;
  pidFile: string;
  supervisor: GobgpSupervisor;
  sync: RouteSync;
}

export class Fabric extends TorLink {
  readonly hosts: Host[] = [];

  constructor(count: number, names: TorLinkNames = { prefix: 'bgsp', octet: 16 }) {
    super(count, names);
  }

  host(n: number): Host {
    const h = this.hosts[n - 1];
    if (!h) throw new Error(`no host ${n}`);
    return h;
  }

  /** The speaker of host n: what it starts with. */
  config(n: number, extra: Partial<SpeakerConfigInput> = {}): SpeakerConfigInput {
    return {
      global: { asn: TOR_AS + n, routerId: this.ip(n), listenPort: 179 },
      peers: [{ address: this.torIp, peerAsn: TOR_AS, holdTimeS: 9, connectRetryS: 1 }],
      paths: [],
      ...extra,
    };
  }

  /** A supervisor and route sync for host n (as an agent start would make them). */
  makeHost(n: number): Host {
    const api = `unix://${join(this.dir, `h${n}.gobgp.sock`)}`;
    const pidFile = join(this.dir, `h${n}.gobgpd.pid`);
    const ns = this.ns(n);
    const supervisor = new GobgpSupervisor({
      api,
      netns: ns,
      pidFile,
      logFile: join(this.dir, `h${n}.gobgpd.log`),
      restartBackoff: { initialMs: 100, maxMs: 2000 },
    });
    const sync = new RouteSync({ supervisor, netns: ns, selfAddresses: [this.ip(n)], settleMs: 500, graceMs: 15_000 });
    return { n, ns, ip: this.ip(n), asn: TOR_AS + n, api, pidFile, supervisor, sync };
  }

  async startHosts(): Promise<void> {
    for (let n = 1; n <= this.count; n++) {
      const h = this.makeHost(n);
      this.hosts[n - 1] = h;
      await h.supervisor.start(this.config(n));
      h.sync.start();
    }
  }

  override async down(): Promise<void> {
    const steps = new CleanupSteps();
    for (const h of this.hosts) {
      await steps.attempt(`route sync h${h.n}`, () => h.sync.stop());
      await steps.attempt(`gobgpd h${h.n}`, () => h.supervisor.stop());
      // a daemon a test left unsupervised (stopped with keepDaemon): its PID file still names it
      await steps.attempt(`gobgpd h${h.n} by pid file`, async () => {
        if (!existsSync(h.pidFile)) return;
        const pid = Number(readFileSync(h.pidFile, 'utf8').trim());
        if (pid > 0) await stopProcess(pid, 'gobgpd');
      });
    }
    await steps.attempt('the tor link', () => super.down());
    steps.throwIfFailed();
  }
}

/** Two `birdc show route ... all` outputs of one route: equal but for at most 50 ms on its time. */
export function assertSameRoute(after: string, before: string): void {
  // BIRD adds "from ADDR" when the next hop is not the neighbor (a host's routed uplink)
  const time = /unicast \[\S+ (\d\d):(\d\d):(\d\d\.\d+)(?: from \S+)?\]/;
  const ms = (t: RegExpExecArray | null): number => (t ? (Number(t[1]) * 60 + Number(t[2])) * 60_000 + Number(t[3]) * 1000 : NaN);
  const a = time.exec(after);
  const b = time.exec(before);
  assert.ok(Math.abs(ms(a) - ms(b)) <= 50, `the route changed: ${b?.[0]} -> ${a?.[0]}`);
  assert.equal(after.replace(time, ''), before.replace(time, ''));
}
