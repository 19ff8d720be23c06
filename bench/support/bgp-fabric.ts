/**
 * The BGP benchmark's fabric: host namespaces <prefix>-h1..hN on one link (a Linux bridge in
 * <prefix>-tor, 10.216.<octet>.0/24, hosts .1-.N, tor .254), BIRD 2 in the tor as an eBGP top of
 * rack (AS 65000, host n AS 65000+n), and per host the agent's BgpSpeaker (gobgpd under its
 * supervisor, route sync to the host's kernel) fed host states as netmaster would send them: one
 * routed network (Contiv's form: vlan, routing mode, a Bgp object per host) with its blocks.
 * `routeEvents` follows a host's kernel routes with `ip monitor` (no polling on the timed path).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import { run } from '../../lib/exec';
import { createLogger } from '../../lib/logger';
import { stopProcess } from '../../lib/process';
import { BgpSpeaker } from '../../netplugin/agent/bgp-speaker';
import { parseHostState, type HostState } from '../../netplugin/state/host-state';

export const TOR_AS = 65000;
const NET = 't1:routed';

export class BgpBenchFabric {
  readonly dir = mkdtempSync(join(tmpdir(), 'bgbn-'));
  readonly speakers = new Map<number, BgpSpeaker>();
  /** host -> its blocks */
  readonly blocks = new Map<number, string[]>();
  private birdPid: number | undefined;
  private readonly logger = createLogger('bench-bgp', { level: 'silent' });

  constructor(
    readonly count: number,
    readonly holdTimeS: number,
    readonly prefix = 'bgbn',
    readonly octet = 18,
  ) {
    for (let n = 1; n <= count; n++) this.blocks.set(n, [`10.63.${n}.0/26`]);
  }

  ip(last: number): string {
    return `10.216.${this.octet}.${last}`;
  }
  ns(n: number): string {
    return `${this.prefix}-h${n}`;
  }
  get torNs(): string {
    return `${this.prefix}-tor`;
  }

  async up(): Promise<void> {
    const ns = (name: string, ...args: string[]) => run('ip', ['-n', name, ...args]);
    await run('ip', ['netns', 'add', this.torNs]);
    await ns(this.torNs, 'link', 'set', 'lo', 'up');
    await ns(this.torNs, 'link', 'add', 'br0', 'type', 'bridge');
    await ns(this.torNs, 'link', 'set', 'br0', 'up');
    await ns(this.torNs, 'addr', 'add', `${this.ip(254)}/24`, 'dev', 'br0');
    for (let n = 1; n <= this.count; n++) {
      await run('ip', ['netns', 'add', this.ns(n)]);
      await ns(this.ns(n), 'link', 'set', 'lo', 'up');
      await ns(this.torNs, 'link', 'add', `h${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns(n));
      await ns(this.torNs, 'link', 'set', `h${n}`, 'master', 'br0', 'up');
      await ns(this.ns(n), 'link', 'set', 'eth0', 'up');
      await ns(this.ns(n), 'addr', 'add', `${this.ip(n)}/24`, 'dev', 'eth0');
    }
    const conf = join(this.dir, 'bird.conf');
    writeFileSync(
      conf,
      [
        `router id ${this.ip(254)};`,
        'protocol device {}',
        'template bgp hosts {',
        `  local ${this.ip(254)} as ${TOR_AS};`,
        '  ipv4 { import all; export all; add paths tx; };',
        `  hold time ${this.holdTimeS}; connect delay time 1; connect retry time 2; error wait time 1, 3;`,
        '}',
        ...Array.from(
          { length: this.count },
          (_, i) => `protocol bgp h${i + 1} from hosts { neighbor ${this.ip(i + 1)} as ${TOR_AS + i + 1}; }`,
        ),
        '',
      ].join('\n'),
    );
    const pidFile = join(this.dir, 'bird.pid');
    await run('ip', ['netns', 'exec', this.torNs, 'bird', '-c', conf, '-s', join(this.dir, 'bird.ctl'), '-P', pidFile]);
    this.birdPid = await waitFor('bird pid file', () => Number(readFileSync(pidFile, 'utf8').trim()) || undefined);
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
        neighbor: this.ip(254),
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

  async down(): Promise<void> {
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
    if (this.birdPid !== undefined) await attempt('bird', () => stopProcess(this.birdPid as number, 'bird'));
    for (let n = 1; n <= this.count; n++)
      await attempt(`netns h${n}`, () => run('ip', ['netns', 'del', this.ns(n)], { allowFailure: true }));
    await attempt('netns tor', () => run('ip', ['netns', 'del', this.torNs], { allowFailure: true }));
    rmSync(this.dir, { recursive: true, force: true });
    if (failures.length > 0) throw new Error(`cleanup: ${failures.join('; ')}`);
  }
}
