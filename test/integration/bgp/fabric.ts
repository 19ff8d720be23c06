/**
 * A small BGP fabric for the speaker tests: "host" namespaces bgsp-h1..hN on one link (a Linux
 * bridge in the `bgsp-tor` namespace, 10.216.16.0/24, hosts .1-.N, tor .254), each with its own
 * gobgpd under a GobgpSupervisor and a RouteSync, and BIRD 2 in the tor.
 *
 * The tor is an eBGP top of rack (AS 65000; host N has AS 65000+N), not a route reflector: eBGP
 * is what the fabric of a routed data centre speaks (RFC 7938), every host gets its own AS so loop
 * detection needs no `allowas-in`, and BIRD keeps a host's own address as the next hop when it
 * passes a route to another host on the same link (third-party next hop), so traffic goes host to
 * host. `add paths tx` makes BIRD send every path to a prefix, not only its best, so a host sees
 * both when two hosts announce the same prefix (ECMP). gobgpd's API is a unix socket: the test
 * runs in the root namespace, where a 127.0.0.1 port inside a host namespace cannot be reached.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { stopProcess } from '../../../lib/process';
import { RouteSync } from '../../../netplugin/bgp/route-sync';
import { GobgpSupervisor } from '../../../netplugin/bgp/supervisor';
import type { SpeakerConfigInput } from '../../../netplugin/bgp/speaker-config';
import { CleanupSteps } from '../../support/cleanup-steps';

export const TOR_NS = 'bgsp-tor';
export const TOR_IP = '10.216.16.254';
export const TOR_AS = 65000;
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

/** Names and addresses of one fabric, so that two test files can run theirs at once. */
export interface FabricNames {
  /** namespaces are <prefix>-tor and <prefix>-h<n> */
  prefix: string;
  /** the link is 10.216.<octet>.0/24 */
  octet: number;
}

export class Fabric {
  readonly dir: string;
  readonly hosts: Host[] = [];
  private birdPid: number | undefined;
  readonly torNs: string;
  readonly torIp: string;

  constructor(
    readonly count: number,
    readonly names: FabricNames = { prefix: 'bgsp', octet: 16 },
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `${names.prefix}-`));
    this.torNs = `${names.prefix}-tor`;
    this.torIp = this.ip(254);
  }

  /** 10.216.<octet>.<last> */
  ip(last: number): string {
    return `10.216.${this.names.octet}.${last}`;
  }

  /** host n's namespace */
  ns(n: number): string {
    return `${this.names.prefix}-h${n}`;
  }

  get birdSock(): string {
    return join(this.dir, 'bird.ctl');
  }

  host(n: number): Host {
    const h = this.hosts[n - 1];
    if (!h) throw new Error(`no host ${n}`);
    return h;
  }

  async up(): Promise<void> {
    const ns = (name: string, ...args: string[]) => run('ip', ['-n', name, ...args]);
    const tor = this.torNs;
    await run('ip', ['netns', 'add', tor]);
    await ns(tor, 'link', 'set', 'lo', 'up');
    await ns(tor, 'link', 'add', 'br0', 'type', 'bridge');
    await ns(tor, 'link', 'set', 'br0', 'up');
    await ns(tor, 'addr', 'add', `${this.torIp}/24`, 'dev', 'br0');
    for (let n = 1; n <= this.count; n++) {
      const h = this.ns(n);
      await run('ip', ['netns', 'add', h]);
      await ns(h, 'link', 'set', 'lo', 'up');
      await ns(tor, 'link', 'add', `h${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h);
      await ns(tor, 'link', 'set', `h${n}`, 'master', 'br0', 'up');
      await ns(h, 'link', 'set', 'eth0', 'up');
      await ns(h, 'addr', 'add', `${this.ip(n)}/24`, 'dev', 'eth0');
    }
    await this.startBird();
  }

  birdConf(): string {
    const peers = Array.from(
      { length: this.count },
      (_, i) => `protocol bgp h${i + 1} from hosts { neighbor ${this.ip(i + 1)} as ${TOR_AS + i + 1}; }`,
    );
    return [
      `router id ${this.torIp};`,
      'protocol device {}',
      'template bgp hosts {',
      `  local ${this.torIp} as ${TOR_AS};`,
      '  ipv4 { import all; export all; add paths tx; };',
      // a killed host's session is back as soon as its gobgpd is (BIRD's defaults wait 60 s after an error)
      '  hold time 9; connect delay time 1; connect retry time 2; error wait time 1, 3;',
      '}',
      ...peers,
      '',
    ].join('\n');
  }

  private async startBird(): Promise<void> {
    const conf = join(this.dir, 'bird.conf');
    const pidFile = join(this.dir, 'bird.pid');
    writeFileSync(conf, this.birdConf());
    await run('ip', ['netns', 'exec', this.torNs, 'bird', '-c', conf, '-s', this.birdSock, '-P', pidFile]);
    this.birdPid = await waitFor('bird pid file', () => Number(readFileSync(pidFile, 'utf8').trim()) || undefined);
  }

  /** `birdc show route` on the tor, for one prefix ('' when BIRD has none). */
  async birdRoutes(prefix: string): Promise<string> {
    const r = await run('birdc', ['-s', this.birdSock, 'show', 'route', 'for', prefix, 'all'], { allowFailure: true });
    return r.stdout.includes('Network not found') ? '' : r.stdout;
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

  /** Host n's BGP routes in its kernel: prefix -> next hops. */
  async kernelRoutes(n: number): Promise<Map<string, string[]>> {
    const out = (await run('ip', ['-n', this.ns(n), '-j', 'route', 'show', 'proto', '80'])).stdout;
    const rows = JSON.parse(out.trim() === '' ? '[]' : out) as Array<{
      dst: string;
      gateway?: string;
      nexthops?: Array<{ gateway: string }>;
    }>;
    return new Map(
      rows.map((r) => [
        r.dst.includes('/') ? r.dst : `${r.dst}/32`,
        r.gateway ? [r.gateway] : (r.nexthops ?? []).map((h) => h.gateway).sort(),
      ]),
    );
  }

  async down(): Promise<void> {
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
    if (this.birdPid !== undefined) await steps.attempt('bird', () => stopProcess(this.birdPid as number, 'bird'));
    for (let n = 1; n <= this.count; n++)
      await steps.attempt(`netns h${n}`, () => run('ip', ['netns', 'del', this.ns(n)], { allowFailure: true }));
    await steps.attempt('netns tor', () => run('ip', ['netns', 'del', this.torNs], { allowFailure: true }));
    rmSync(this.dir, { recursive: true, force: true });
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
