/**
 * The BGP benchmark's fabric: the shared tor link (tools/bgp-tor-link.ts: host namespaces
 * <prefix>-h1..hN on a bridge in <prefix>-tor, 10.216.<octet>.0/24, BIRD 2 as an eBGP top of rack,
 * AS 65000, host n AS 65000+n) and per host the agent's BgpSpeaker (gobgpd under its supervisor,
 * route sync to the host's kernel) fed host states as netmaster would send them: one routed
 * network (Contiv's form: vlan, routing mode, a Bgp object per host) with its blocks.
 * `routeEvents` follows a host's kernel routes with `ip monitor` (no polling on the timed path).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import { run } from '../../lib/exec';
import { createLogger } from '../../lib/logger';
import { stopProcess } from '../../lib/process';
import { BgpSpeaker } from '../../netplugin/agent/bgp-speaker';
import { parseHostState, type HostState } from '../../netplugin/state/host-state';
import { TOR_AS, TorLink } from '../../tools/bgp-tor-link';

export { TOR_AS };
const NET = 't1:routed';

export class BgpBenchFabric extends TorLink {
  readonly speakers = new Map<number, BgpSpeaker>();
  /** host -> its blocks */
  readonly blocks = new Map<number, string[]>();
  private readonly logger = createLogger('bench-bgp', { level: 'silent' });

  constructor(count: number, holdTimeS: number, prefix = 'bgbn', octet = 18) {
    super(count, { prefix, octet }, holdTimeS);
    for (let n = 1; n <= count; n++) this.blocks.set(n, [`10.63.${n}.0/26`]);
  }

  state(n: number): HostState {
    const blocks = [...this.blocks].flatMap(([h, cidrs]) =>
      cidrs.map((cidr) => ({ network: NET, cidr, host: `h${h}`, vtepIp: this.ip(h) })),
    );
    return parseHostState({
      global: { fwdMode: 'routing' },
      tenants: [{ name: 't1', ctZone: 1, vrfId: 1 }],
      networks: [
        {
          key: NET,
          tenant: 't1',
          name: 'routed',
          encap: 'vlan',
          pktTag: 10,
          subnet: '10.63.0.0/16',
          networkId: 10,
          mtu: 1500,
          blockPrefix: 26,
        },
      ],
      blocks,
      bgp: {
        hostname: `h${n}`,
        routerIp: '',
        as: TOR_AS + n,
        neighbor: this.torIp,
        neighborAs: TOR_AS,
        holdTime: this.holdTimeS,
        keepaliveTime: Math.max(1, Math.floor(this.holdTimeS / 3)),
      },
    });
  }

  pidFile(n: number): string {
    return join(this.dir, `h${n}.gobgpd.pid`);
  }

  /** Start (or start again) host n's speaker, as an agent start does. */
  async startSpeaker(n: number): Promise<BgpSpeaker> {
    const s = new BgpSpeaker({
      hostName: `h${n}`,
      vtepIp: this.ip(n),
      supervisor: {
        api: `unix://${join(this.dir, `h${n}.gobgp.sock`)}`,
        netns: this.ns(n),
        pidFile: this.pidFile(n),
        logFile: join(this.dir, `h${n}.gobgpd.log`),
      },
      routeSync: { settleMs: 500, graceMs: 15_000 },
      logger: this.logger,
    });
    this.speakers.set(n, s);
    await s.update(this.state(n));
    return s;
  }

  /** Give every speaker the current state. */
  async publish(): Promise<void> {
    await Promise.all([...this.speakers].map(([n, s]) => s.update(this.state(n))));
  }

  async established(n: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `h${n} established`,
      async () => (await this.speakers.get(n)?.status())?.neighbors.some((p) => p.state === 'ESTABLISHED') === true,
      { timeoutMs, intervalMs: 50 },
    );
  }

  async hasRoute(n: number, prefix: string): Promise<boolean> {
    return (await run('ip', ['-n', this.ns(n), 'route', 'show', prefix, 'proto', '80'])).stdout.trim() !== '';
  }

  /**
   * Follow host n's kernel routes: `until(prefix, added)` resolves with performance.now() of the
   * first `ip monitor` line that adds (or deletes) a route to prefix. Call `close` when done.
   */
  routeEvents(n: number): { until(prefix: string, added: boolean, timeoutMs: number): Promise<number>; close(): void } {
    const child = spawn('ip', ['-n', this.ns(n), 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const waiters = new Set<(line: string, at: number) => void>();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const at = performance.now();
      for (const w of [...waiters]) w(line, at);
    });
    return {
      until: (prefix, added, timeoutMs) =>
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiters.delete(w);
            reject(new Error(`no route ${added ? 'added' : 'deleted'} for ${prefix} on h${n} within ${timeoutMs} ms`));
          }, timeoutMs);
          const w = (line: string, at: number): void => {
            const dst = line.replace(/^Deleted /, '').split(' ')[0];
            if (dst !== prefix || line.startsWith('Deleted ') === added) return;
            clearTimeout(timer);
            waiters.delete(w);
            resolve(at);
          };
          waiters.add(w);
        }),
      close: () => child.kill(),
    };
  }

  override async down(): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        failures.push(`${what}: ${errorMessage(e)}`);
      }
    };
    for (const [n, s] of this.speakers) {
      await attempt(`speaker h${n}`, () => s.stop());
      await attempt(`gobgpd h${n}`, async () => {
        const pid = Number(readFileSync(this.pidFile(n), 'utf8').trim());
        if (pid > 0) await stopProcess(pid, 'gobgpd');
      });
    }
    await attempt('the tor link', () => super.down());
    if (failures.length > 0) throw new Error(`cleanup: ${failures.join('; ')}`);
  }
}
