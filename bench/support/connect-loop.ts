/**
 * The connection rate of the dataplane benchmark's service path: how many new TCP connections a
 * second one client namespace gets answered, through a service or directly to its providers. A
 * small child program (connect-loop-child.ts) runs in the namespaces: `serve` in the providers'
 * (accepts, writes one byte, closes), `client` in the client's, which runs `connectLoop`: at most
 * `count` connections, `parallel` at a time, none started after `maxMs`, each given up after
 * `perConnectionMs`; a connection counts when the server's byte arrived (the handshake and one
 * answer crossed the path). The loop and the parser of the child's JSON line are pure (the clock
 * and the connector are passed in).
 */
import { resolve } from 'node:path';
import { waitFor, type Clock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { run } from '../../lib/exec';
import { startServer, stopServer } from './perf-tools';

export interface ConnectLoopOptions {
  /** addresses to connect to, in turn (one: the service; several: its providers directly) */
  targets: readonly string[];
  port: number;
  /** at most this many connections */
  count: number;
  /** connections in flight at once */
  parallel: number;
  /** no connection is started after this long */
  maxMs: number;
}

export interface ConnectLoopResult {
  attempted: number;
  ok: number;
  failed: number;
  /** from the first connection's start to the last one's end */
  ms: number;
  /** answered connections per second */
  perSecond: number;
  /** the first failure's message, if any */
  firstError?: string;
}

/** the loop of one measurement: small, bounded in count and time */
export const CONNECT_LOOP = { count: 300, parallel: 10, maxMs: 10_000, perConnectionMs: 2000 } as const;

/** One connection to `ip:port` that resolves when answered and rejects on failure or timeout. */
export type Connector = (ip: string, port: number) => Promise<void>;

/** Run the bounded loop: `parallel` workers take the next connection while count and time allow. */
export async function connectLoop(o: ConnectLoopOptions, connect: Connector, clock: Pick<Clock, 'monotonic'>): Promise<ConnectLoopResult> {
  if (o.targets.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'no target to connect to', { field: 'targets' });
  for (const [field, v] of [
    ['count', o.count],
    ['parallel', o.parallel],
    ['maxMs', o.maxMs],
    ['port', o.port],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new NetloomError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${v}`, { field });
  const t0 = clock.monotonic();
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (started < o.count && clock.monotonic() - t0 < o.maxMs) {
      const target = o.targets[started % o.targets.length] as string;
      started++;
      try {
        await connect(target, o.port);
        ok++;
      } catch (e) {
        failed++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, o.count) }, () => worker()));
  const ms = clock.monotonic() - t0;
  return { attempted: started, ok, failed, ms, perSecond: ms > 0 ? (ok * 1000) / ms : 0, ...(firstError ? { firstError } : {}) };
}

/** The client child's last output line (JSON) as a result; a NetloomError naming `connectLoop` otherwise. */
export function parseConnectLoop(text: string): ConnectLoopResult {
  const line = text.trim().split('\n').pop() ?? '';
  let j: Partial<ConnectLoopResult>;
  try {
    j = JSON.parse(line) as Partial<ConnectLoopResult>;
  } catch {
    throw new NetloomError('INVALID_ARGUMENT', `the connect loop printed no JSON: ${text.trim().slice(0, 300)}`, { field: 'connectLoop' });
  }
  const nums = [j.attempted, j.ok, j.failed, j.ms, j.perSecond];
  if (nums.some((n) => typeof n !== 'number' || !Number.isFinite(n) || n < 0))
    throw new NetloomError('INVALID_ARGUMENT', `the connect loop's result lacks counts: ${line.slice(0, 300)}`, { field: 'connectLoop' });
  return j as ConnectLoopResult;
}

const CHILD = resolve(__dirname, 'connect-loop-child.js');

/**
 * One measurement: the server child in `serverNs` (on `serverPort`, every address), then the client
 * loop in `clientNs` to `targets` at `port` (a service's port, translated to `serverPort`); the server
 * is stopped afterwards, also on failure.
 */
export async function runConnectLoop(
  clientNs: string,
  serverNs: string,
  targets: readonly string[],
  port: number,
  serverPort = port,
): Promise<ConnectLoopResult> {
  const maxSeconds = Math.ceil((CONNECT_LOOP.maxMs + CONNECT_LOOP.perConnectionMs) / 1000) + 20;
  let out = '';
  const server = startServer(serverNs, maxSeconds, [process.execPath, CHILD, 'serve', String(serverPort)], (s) => (out += s));
  try {
    await waitFor(
      `connect-loop server in ${serverNs}`,
      () => {
        if (server.child.exitCode !== null) throw new NetloomError('COMMAND_FAILED', `it exited: ${out.slice(0, 300)}`);
        return out.includes('ready');
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const r = await run(
      'timeout',
      [
        '-k',
        '2',
        String(maxSeconds),
        process.execPath,
        CHILD,
        'client',
        String(port),
        String(CONNECT_LOOP.count),
        String(CONNECT_LOOP.parallel),
        String(CONNECT_LOOP.maxMs),
        String(CONNECT_LOOP.perConnectionMs),
        targets.join(','),
      ],
      { netns: clientNs, allowFailure: true, timeoutMs: (maxSeconds + 5) * 1000 },
    );
    if (r.code !== 0)
      throw new NetloomError('COMMAND_FAILED', `connect loop ${clientNs} -> ${targets.join(',')}: ${(r.stderr || r.stdout).slice(0, 300)}`);
    return parseConnectLoop(r.stdout);
  } finally {
    await stopServer(server);
  }
}
