/**
 * The host's IPv4 addresses, read again only when the kernel says they changed. Every reconcile
 * needs them (desired-state.ts keeps host-access routes off the host's own subnets), but running
 * `ip addr` each time was most of a reconcile's time, and so of a CNI ADD's wait for its flows.
 * A long-lived `ip -4 -o monitor address` prints a line per IPv4 address added or removed: each
 * line marks the copy stale and asks for a reconcile (an address change is itself a reason to
 * reconcile). While the monitor is not running (not started yet, died, being restarted with
 * the one backoff) every read goes to the kernel, so a stale copy is never used.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Backoff } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { errorMessage } from '../../lib/errors';
import { inNetns, type CommandRunner } from '../../lib/exec';
import type { Logger } from '../../lib/logger';
import { readHostAddresses } from './host-addresses';

/** What the watch needs of a child process (a fake one in unit tests). */
export interface MonitorProcess {
  readonly stdout: Readable | null;
  on(event: 'spawn', fn: () => void): unknown;
  on(event: 'exit', fn: () => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  kill(): unknown;
}

export const MONITOR_COMMAND: readonly string[] = ['ip', '-4', '-o', 'monitor', 'address'];

export interface HostAddressWatchOptions {
  runner: CommandRunner;
  /** called after every change the monitor reports (and when it stops watching) */
  onChange: () => void;
  /** starts the monitor (default: MONITOR_COMMAND in this namespace) */
  spawnMonitor?: () => MonitorProcess;
  clock?: Clock;
  logger?: Logger;
}

export class HostAddressWatch {
  private cached: string[] | undefined;
  /** a change was reported since the copy was read (or no copy yet) */
  private stale = true;
  /** the monitor runs: without it the copy is never trusted */
  private watching = false;
  private child: MonitorProcess | undefined;
  private restart: Timer | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  /** kernel reads so far (tests and the debug log) */
  reads = 0;

  constructor(private readonly opts: HostAddressWatchOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = new Backoff({ initialMs: 200, maxMs: 10_000 }, { clock: this.clock });
  }

  start(): void {
    if (this.stopped || this.child) return;
    const child = (this.opts.spawnMonitor ?? (() => spawnIpMonitor()))();
    this.child = child;
    child.on('spawn', () => {
      if (this.child !== child) return;
      // whatever changed before the monitor listened is unseen: read once more
      this.stale = true;
      this.watching = true;
    });
    child.on('error', (e) => {
      this.opts.logger?.warn({ err: errorMessage(e) }, 'host address monitor failed; reading addresses at every reconcile');
      this.lost(child);
    });
    child.on('exit', () => this.lost(child));
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', () => {
        if (this.child !== child) return;
        this.backoff.reset();
        this.changed();
      });
    }
  }

  /** The host's IPv4 addresses (sorted, without loopback and netloom's gateway ports). */
  async addresses(): Promise<string[]> {
    if (this.watching && !this.stale && this.cached) return this.cached;
    this.stale = false;
    this.reads++;
    const got = await readHostAddresses(this.opts.runner);
    // a change reported during the read leaves `stale` set: the next call reads again
    this.cached = got;
    return got;
  }

  stop(): void {
    this.stopped = true;
    this.restart?.cancel();
    this.restart = undefined;
    const c = this.child;
    this.child = undefined;
    this.watching = false;
    c?.kill();
  }

  private changed(): void {
    this.stale = true;
    this.opts.onChange();
  }

  private lost(child: MonitorProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.watching = false;
    this.changed();
    if (this.stopped) return;
    this.restart?.cancel();
    this.restart = this.clock.after(this.backoff.next(), () => {
      this.restart = undefined;
      this.start();
    });
  }
}

/** The monitor in this namespace, or in `netns` (tests). */
export function spawnIpMonitor(netns?: string): MonitorProcess {
  const [cmd = 'ip', ...rest] = MONITOR_COMMAND;
  const [file, args] = inNetns(netns, cmd, rest);
  return spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'] });
}
