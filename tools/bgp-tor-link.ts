/**
 * A small BGP fabric for the speaker tests and the BGP benchmark: "host" namespaces
 * <prefix>-h1..hN on one link (a Linux bridge in <prefix>-tor, 10.216.<octet>.0/24, hosts .1-.N,
 * tor .254) and BIRD 2 in the tor. What runs in the hosts (gobgpd under a supervisor, the agent's
 * BgpSpeaker) is the user's.
 *
 * The tor is an eBGP top of rack (AS 65000; host n has AS 65000+n), not a route reflector: eBGP
 * is what the fabric of a routed data centre speaks (RFC 7938), every host gets its own AS so loop
 * detection needs no `allowas-in`, and BIRD keeps a host's own address as the next hop when it
 * passes a route to another host on the same link (third-party next hop), so traffic goes host to
 * host. `add paths tx` makes BIRD send every path to a prefix, not only its best, so a host sees
 * both when two hosts announce the same prefix (ECMP).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../lib/clock';
import { errorMessage } from '../lib/errors';
import { run } from '../lib/exec';
import { stopProcess } from '../lib/process';

export const TOR_AS = 65000;

/** Names and addresses of one link, so that several tests and benchmarks can run theirs at once. */
export interface TorLinkNames {
  /** namespaces are <prefix>-tor and <prefix>-h<n> */
  prefix: string;
  /** the link is 10.216.<octet>.0/24 */
  octet: number;
}

export class TorLink {
  /** a private directory: BIRD's configuration and socket, and whatever the user puts there */
  readonly dir: string;
  readonly torNs: string;
  readonly torIp: string;
  private birdPid: number | undefined;

  constructor(
    readonly count: number,
    readonly names: TorLinkNames,
    /** BIRD's hold time for every host session */
    readonly holdTimeS = 9,
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

  /** The namespaces, the link, and BIRD answering. */
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
    const conf = join(this.dir, 'bird.conf');
    const pidFile = join(this.dir, 'bird.pid');
    writeFileSync(conf, this.birdConf());
    await run('ip', ['netns', 'exec', this.torNs, 'bird', '-c', conf, '-s', this.birdSock, '-P', pidFile]);
    this.birdPid = await waitFor('bird pid file', () => Number(readFileSync(pidFile, 'utf8').trim()) || undefined);
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
      `  hold time ${this.holdTimeS}; connect delay time 1; connect retry time 2; error wait time 1, 3;`,
      '}',
      ...peers,
      '',
    ].join('\n');
  }

  /** `birdc show route` on the tor, for one prefix ('' when BIRD has none). */
  async birdRoutes(prefix: string): Promise<string> {
    const r = await run('birdc', ['-s', this.birdSock, 'show', 'route', 'for', prefix, 'all'], { allowFailure: true });
    return r.stdout.includes('Network not found') ? '' : r.stdout;
  }

  /** Host n's BGP routes in its kernel (proto 80): prefix -> next hops. */
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

  /** BIRD, the namespaces and the directory; every step is tried, then one error names the failed ones. */
  async down(): Promise<void> {
    const failures: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (e) {
        failures.push(`${what}: ${errorMessage(e)}`);
      }
    };
    if (this.birdPid !== undefined) await attempt('bird', () => stopProcess(this.birdPid as number, 'bird'));
    for (let n = 1; n <= this.count; n++)
      await attempt(`netns h${n}`, () => run('ip', ['netns', 'del', this.ns(n)], { allowFailure: true }));
    await attempt('netns tor', () => run('ip', ['netns', 'del', this.torNs], { allowFailure: true }));
    rmSync(this.dir, { recursive: true, force: true });
    if (failures.length > 0) throw new Error(`cleanup: ${failures.join('; ')}`);
  }
}
