/**
 * The agent's BGP speaker (issue 16): follows the desired state and keeps this host's gobgpd at
 * what it asks (desired-speaker.ts: global settings, peers, one path per local block of a routed
 * network, /32s for local endpoints outside them), and runs the RIB watch that installs learned
 * routes in the kernel (route-sync.ts, proto 80, ECMP). gobgpd is started (or adopted, after an
 * agent restart) only when the first state with BGP settings arrives, so the first reconcile
 * compares gobgpd with a complete desired state: an agent restart changes nothing the peers see.
 * Stopping the agent leaves gobgpd running; BGP settings going away stop it (its paths are
 * withdrawn) and remove the routes it installed.
 */
import { errorMessage } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import type { PeerStatus } from '../bgp/gobgp-client';
import { BGP_ROUTE_PROTO } from '../bgp/kernel-routes';
import { desiredSpeaker, type SpeakerFacts } from '../bgp/desired-speaker';
import { RouteSync, type RouteSyncOptions } from '../bgp/route-sync';
import { parseSpeakerConfig, type AnnouncedPath, type SpeakerConfig } from '../bgp/speaker-config';
import { localPaths } from '../bgp/speaker-plan';
import { GobgpSupervisor, type GobgpSupervisorOptions } from '../bgp/supervisor';
import type { HostState } from '../state/host-state';

export interface BgpSpeakerOptions extends SpeakerFacts {
  /** the routed uplink's name: learned routes leave through it (with routedIp, its address) */
  routedDev?: string;
  /** how gobgpd is run (API address, PID file, binary, log file...) */
  supervisor: Omit<GobgpSupervisorOptions, 'logger' | 'clock'>;
  /** route sync tuning (tests shorten the grace and settle times) */
  routeSync?: Pick<RouteSyncOptions, 'settleMs' | 'graceMs' | 'resyncMs' | 'maxPaths'>;
  /** runs `ip` (default lib/exec's run) */
  runner?: CommandRunner;
  logger: Logger;
}

/** A kernel route installed from BGP. */
export interface InstalledRoute {
  prefix: string;
  nextHops: string[];
}

/** What `netctl bgp inspect` shows of one host. */
export interface SpeakerStatus {
  /** BGP settings present and gobgpd answering */
  running: boolean;
  /** why not, or the last failure ('' when none) */
  error: string;
  pid: number | undefined;
  asn: number;
  routerId: string;
  neighbors: PeerStatus[];
  /** paths gobgpd announces for this host (read from gobgpd) */
  announced: AnnouncedPath[];
  /** routes in the kernel with protocol 80 */
  installed: InstalledRoute[];
}

export class BgpSpeaker {
  private supervisor: GobgpSupervisor | undefined;
  private sync: RouteSync | undefined;
  private desired: SpeakerConfig | undefined;
  private desiredText = '';
  /** why the last desired state's BGP settings could not be used ('' when they could) */
  private settingsError = '';
  /** the last failure to bring gobgpd to the desired state ('' after a success) */
  private applyError = '';
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly runner: CommandRunner;

  constructor(private readonly opts: BgpSpeakerOptions) {
    this.runner = opts.runner ?? run;
  }

  /** The configuration gobgpd is kept at (undefined: no BGP settings). */
  get current(): SpeakerConfig | undefined {
    return this.desired;
  }

  get gobgpd(): GobgpSupervisor | undefined {
    return this.supervisor;
  }

  get routes(): RouteSync | undefined {
    return this.sync;
  }

  /** A new desired state: apply what it asks of the speaker (serialised; an unchanged config costs nothing). */
  update(state: HostState): Promise<void> {
    let next: SpeakerConfig | undefined;
    try {
      const input = desiredSpeaker(state, this.opts);
      next = input === undefined ? undefined : parseSpeakerConfig(input);
    } catch (e) {
      // bad settings: keep what runs (a withdrawal for a typo would cut the host off)
      this.settingsError = errorMessage(e);
      this.opts.logger.error({ err: this.settingsError }, 'BGP settings not applied');
      return this.chain;
    }
    this.settingsError = '';
    const text = next === undefined ? '' : JSON.stringify(next);
    if (text === this.desiredText) return this.chain;
    this.desiredText = text;
    const p = this.chain.then(() => this.apply(next));
    this.chain = p.catch(() => undefined);
    return this.chain;
  }

  private async apply(next: SpeakerConfig | undefined): Promise<void> {
    if (this.stopped) return;
    const prev = this.desired;
    this.desired = next;
    const log = this.opts.logger;
    try {
      if (next === undefined) {
        if (prev !== undefined) await this.disable();
        return;
      }
      log.info(
        { asn: next.global.asn, routerId: next.global.routerId, peers: next.peers.map((p) => p.address), paths: next.paths.length },
        prev === undefined ? 'BGP speaker starting' : 'BGP speaker desired state changed',
      );
      if (!this.supervisor) await this.enable(next);
      else await this.supervisor.setDesired(next);
      this.applyError = '';
    } catch (e) {
      // the supervisor retries a failed reconcile itself; this is for inspect and the logs
      this.applyError = errorMessage(e);
      log.warn({ err: this.applyError }, 'BGP speaker not at its desired state yet');
    }
  }

  private async enable(cfg: SpeakerConfig): Promise<void> {
    const supervisor = new GobgpSupervisor({ ...this.opts.supervisor, logger: this.opts.logger });
    this.supervisor = supervisor;
    this.sync = new RouteSync({
      supervisor,
      ...(this.opts.supervisor.netns ? { netns: this.opts.supervisor.netns } : {}),
      selfAddresses: [...new Set([cfg.global.routerId, this.opts.vtepIp, this.opts.routedIp ?? ''].filter((a) => a !== ''))],
      ...(this.opts.routedDev ? { dev: this.opts.routedDev } : {}),
      ...this.opts.routeSync,
      logger: this.opts.logger,
    });
    this.sync.start();
    supervisor.on('exited', (x) => this.opts.logger.warn(x, 'gobgpd exited; restarting it'));
    try {
      await supervisor.start(cfg);
    } catch (e) {
      // gobgpd could not be started at all (no such program): the next changed state tries again
      if (!this.stopped) {
        await this.sync.stop();
        await supervisor.stop();
        this.sync = undefined;
        this.supervisor = undefined;
        this.desired = undefined;
        this.desiredText = '';
      }
      throw e;
    }
  }

  /** BGP settings gone: stop gobgpd (its sessions close, its paths go) and remove the routes it installed. */
  private async disable(): Promise<void> {
    this.opts.logger.info('BGP settings removed: stopping gobgpd and removing its routes');
    await this.sync?.stop();
    await this.supervisor?.stop();
    this.sync = undefined;
    this.supervisor = undefined;
    const ns = this.opts.supervisor.netns ? ['-n', this.opts.supervisor.netns] : [];
    await this.runner('ip', [...ns, 'route', 'flush', 'proto', String(BGP_ROUTE_PROTO)], { allowFailure: true });
  }

  /** Sessions, announced paths and installed routes, as gobgpd and the kernel say now. */
  async status(): Promise<SpeakerStatus> {
    const cfg = this.desired;
    const c = this.supervisor?.client;
    const out: SpeakerStatus = {
      running: false,
      error: this.settingsError || this.applyError,
      pid: this.supervisor?.pid,
      asn: cfg?.global.asn ?? 0,
      routerId: cfg?.global.routerId ?? '',
      neighbors: [],
      announced: [],
      installed: await this.installedRoutes(),
    };
    if (!cfg) return { ...out, error: out.error || 'this host has no BGP settings (no Bgp object, no cluster-wide default)' };
    if (!c) return { ...out, error: out.error || 'gobgpd is not running (starting or restarting)' };
    try {
      out.neighbors = await c.listPeers();
      out.announced = localPaths(await c.listPaths());
      out.running = true;
    } catch (e) {
      out.error = errorMessage(e);
    }
    return out;
  }

  private async installedRoutes(): Promise<InstalledRoute[]> {
    const ns = this.opts.supervisor.netns ? ['-n', this.opts.supervisor.netns] : [];
    const r = await this.runner('ip', [...ns, '-j', 'route', 'show', 'proto', String(BGP_ROUTE_PROTO)], { allowFailure: true });
    if (r.code !== 0) return [];
    return parseInstalled(r.stdout);
  }

  /** Stop following; gobgpd keeps running (sessions and routes stay) for the next agent to adopt. */
  async stop(): Promise<void> {
    this.stopped = true;
    // the supervisor first: a start waiting for a gobgpd that does not answer ends with it
    await this.sync?.stop();
    await this.supervisor?.stop({ keepDaemon: true });
    await this.chain;
  }
}

/** `ip -j route show proto 80` -> prefix and next hops (a /32 shows without its length). */
export function parseInstalled(text: string): InstalledRoute[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text.trim() === '' ? '[]' : text);
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) return [];
  return rows.flatMap((r: unknown) => {
    const o = r as { dst?: unknown; gateway?: unknown; nexthops?: Array<{ gateway?: unknown }> };
    if (typeof o.dst !== 'string') return [];
    const hops =
      typeof o.gateway === 'string'
        ? [o.gateway]
        : (o.nexthops ?? []).map((h) => h.gateway).filter((g): g is string => typeof g === 'string');
    return [{ prefix: o.dst.includes('/') ? o.dst : `${o.dst}/32`, nextHops: hops }];
  });
}
