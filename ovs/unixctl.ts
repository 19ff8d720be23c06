/**
 * ovs-vswitchd's control socket (what `ovs-appctl` talks to): JSON-RPC 1.0 over a unix socket,
 * the same framing as OVSDB, one request per command whose reply `result` is the command's text.
 * The socket is `<rundir>/ovs-vswitchd.<pid>.ctl`, so it moves when the daemon restarts: the
 * client resolves it from the pid file for every new connection and keeps one connection open
 * for a burst of calls (a process per call, as ovs-appctl costs, is milliseconds an agent does not
 * spend), but closes it once idle: ovs-vswitchd's main loop tries to read every open control
 * connection ten times on each pass (unixctl.c `run_connection`), and on the userspace datapath
 * without PMD threads that same loop forwards the packets, so a connection held open between the
 * agent's rare calls costs every packet latency (docs/benchmarks.md, issue 17).
 */
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { systemClock, type Clock, type Timer } from '../lib/clock';
import { errorMessage, NetloomError } from '../lib/errors';
import { JsonRpcConnection } from './ovsdb/rpc';

/** How long the connection stays open after the last call's answer. */
export const UNIXCTL_IDLE_CLOSE_MS = 1000;

/** The control socket of the ovs-vswitchd whose pid file is in `runDir`. */
export async function vswitchdControlPath(runDir: string): Promise<string> {
  return controlPathOfPidFile(runDir, () => readFile(`${runDir}/ovs-vswitchd.pid`, 'utf8'));
}

/** The control socket named by a pid file's text (`readPid` reads it; tests hand in their own). */
export async function controlPathOfPidFile(runDir: string, readPid: () => string | Promise<string>): Promise<string> {
  let pid: string;
  try {
    pid = (await readPid()).trim();
  } catch (e) {
    throw new NetloomError('UNAVAILABLE', `ovs-vswitchd's pid file in ${runDir} cannot be read: ${errorMessage(e)}`);
  }
  if (!/^\d+$/.test(pid)) throw new NetloomError('UNAVAILABLE', `ovs-vswitchd's pid file in ${runDir} holds no pid`);
  return `${runDir}/ovs-vswitchd.${pid}.ctl`;
}

export class UnixctlClient {
  private conn: Promise<JsonRpcConnection> | undefined;
  private inFlight = 0;
  private idle: Timer | undefined;
  private readonly clock: Clock;
  private readonly idleCloseMs: number;

  /**
   * `socketPath`: the control socket, or a function that finds it (read again after a lost
   * connection). `idleCloseMs`: the connection is closed this long after the last answer.
   */
  constructor(
    private readonly socketPath: string | (() => Promise<string>),
    opts: { clock?: Clock; idleCloseMs?: number } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.idleCloseMs = opts.idleCloseMs ?? UNIXCTL_IDLE_CLOSE_MS;
  }

  /** Run one command (e.g. `revalidator/purge`) and return its output. */
  async call(command: string, args: readonly string[] = [], timeoutMs = 10_000): Promise<string> {
    this.idle?.cancel();
    this.inFlight++;
    try {
      const rpc = await this.connection();
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const result = await rpc.request(command, [...args], { signal });
        return typeof result === 'string' ? result : JSON.stringify(result);
      } catch (e) {
        // the daemon answers a failed command with an error string: name the command
        if (rpc.isClosed) this.conn = undefined;
        throw new NetloomError('COMMAND_FAILED', `ovs-vswitchd ${command}: ${errorMessage(e)}`, { cause: e });
      }
    } finally {
      if (--this.inFlight === 0) this.idle = this.clock.after(this.idleCloseMs, () => void this.close(), { unref: true });
    }
  }

  /** Whether a connection is open or being opened (it is closed when idle). */
  get connected(): boolean {
    return this.conn !== undefined;
  }

  async close(): Promise<void> {
    this.idle?.cancel();
    const c = this.conn;
    this.conn = undefined;
    if (c) await (await c.catch(() => undefined))?.close();
  }

  private connection(): Promise<JsonRpcConnection> {
    const open = this.conn;
    if (open) return open;
    const made = (async () => {
      const path = typeof this.socketPath === 'string' ? this.socketPath : await this.socketPath();
      const sock = connect(path);
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', (e) =>
          reject(new NetloomError('UNAVAILABLE', `ovs-vswitchd control socket ${path}: ${e.message}`, { cause: e })),
        );
      });
      const rpc = new JsonRpcConnection(sock);
      rpc.onClose(() => {
        if (this.conn === made) this.conn = undefined;
      });
      return rpc;
    })();
    this.conn = made;
    made.catch(() => {
      if (this.conn === made) this.conn = undefined;
    });
    return made;
  }
}
