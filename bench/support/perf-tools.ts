/**
 * qperf and iperf3 between two network namespaces, bounded in time, for the dataplane benchmark:
 * the parsers of their output (pure) and runners that start the server in the destination
 * namespace, run the client in the source namespace and always stop the server afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from '../../lib/exec';
import { NetloomError } from '../../lib/errors';

export interface QperfFigures {
  /** tcp_bw in bits per second */
  tcpBwBps: number;
  /** tcp_lat in microseconds (one-way latency as qperf reports it) */
  tcpLatUs: number;
}

const BW_UNITS: Record<string, number> = { 'bytes/sec': 1, 'KB/sec': 1e3, 'MB/sec': 1e6, 'GB/sec': 1e9, 'TB/sec': 1e12 };
const LAT_UNITS: Record<string, number> = { ns: 1e-3, us: 1, ms: 1e3, sec: 1e6 };

/**
 * Parse `qperf HOST tcp_bw tcp_lat` output:
 *   tcp_bw:\n    bw  =  1.2 GB/sec\n tcp_lat:\n    latency  =  60.5 us
 * qperf's units are decimal (1 GB = 1e9 bytes).
 */
export function parseQperf(text: string): QperfFigures {
  const bw = /tcp_bw:\s*\n\s*bw\s*=\s*[\d.]+\s*\S+/.exec(text);
  const lat = /tcp_lat:\s*\n\s*latency\s*=\s*[\d.]+\s*\S+/.exec(text);
  if (!bw || !lat)
    throw new NetloomError('INVALID_ARGUMENT', `qperf output has no tcp_bw/tcp_lat figures: ${text.trim().slice(0, 300)}`, {
      field: 'qperf',
    });
  return { tcpBwBps: parseBw(bw[0]), tcpLatUs: parseLat(lat[0]) };
}

/** `bw = 1.2 GB/sec` in bits per second (qperf's units are decimal). */
function parseBw(s: string): number {
  const m = /=\s*([\d.]+)\s*(\S+)/.exec(s);
  const unit = BW_UNITS[m?.[2] ?? ''];
  if (!m || unit === undefined)
    throw new NetloomError('INVALID_ARGUMENT', `unknown qperf bandwidth unit "${m?.[2] ?? s}"`, { field: 'qperf' });
  return Number(m[1]) * unit * 8;
}

/** `latency = 60.5 us` in microseconds. */
function parseLat(s: string): number {
  const m = /=\s*([\d.]+)\s*(\S+)/.exec(s);
  const unit = LAT_UNITS[m?.[2] ?? ''];
  if (!m || unit === undefined)
    throw new NetloomError('INVALID_ARGUMENT', `unknown qperf latency unit "${m?.[2] ?? s}"`, { field: 'qperf' });
  return Number(m[1]) * unit;
}

/** Parse `iperf3 -c ... -J`: the receiver's bits per second. */
export function parseIperf3Json(text: string): number {
  let j: { error?: string; end?: { sum_received?: { bits_per_second?: number; bytes?: number } } };
  try {
    j = JSON.parse(text) as typeof j;
  } catch {
    throw new NetloomError('INVALID_ARGUMENT', `iperf3 printed no JSON: ${text.trim().slice(0, 300)}`, { field: 'iperf3' });
  }
  const rx = j.end?.sum_received;
  if (j.error || !rx || typeof rx.bits_per_second !== 'number' || !(rx.bytes !== undefined && rx.bytes > 0)) {
    throw new NetloomError('INVALID_ARGUMENT', `iperf3 reported no received data: ${j.error ?? 'no sum_received'}`, { field: 'iperf3' });
  }
  return rx.bits_per_second;
}

export interface Server {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Servers started and not yet stopped, so that a signal handler can stop them. */
const live = new Set<Server>();

/** Stop every qperf/iperf3 server still running (for cleanup on a signal). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...live].map((s) => stopServer(s)));
}

/**
 * A server process started in a namespace, bounded by `timeout`, stopped by its own handle (or by
 * stopAllServers). `onStdout` receives its output when given (otherwise it is ignored).
 */
export function startServer(netns: string, maxSeconds: number, argv: string[], onStdout?: (chunk: string) => void): Server {
  // `ip netns exec` execs `timeout`, which forwards SIGTERM to the server; `timeout` bounds it anyway.
  const child = spawn('ip', ['netns', 'exec', netns, 'timeout', '-k', '2', String(maxSeconds), ...argv], {
    stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'ignore'],
  });
  if (onStdout) child.stdout?.on('data', (d: Buffer) => onStdout(d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const server = { child, exited };
  live.add(server);
  void exited.then(() => live.delete(server));
  return server;
}

export async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    s.child.kill('SIGTERM');
    const timer = setTimeout(() => s.child.kill('SIGKILL'), 3000);
    await s.exited;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * qperf `tests` (with options before the host) from `clientNs` to `serverIp` (in `serverNs`),
 * `seconds` per test and message size; its stdout once it printed the last test's figure. qperf
 * opens its test connections to an ephemeral port unless `dataPort` fixes it (`-ip`): a service
 * forwards only the ports it has. `runs`: how many tests the command makes (bounds its time).
 * `around` wraps the client's run (not the server's start), e.g. to read counters about it.
 */
async function qperfOutput(
  p: { clientNs: string; serverNs: string; serverIp: string; seconds: number; dataPort?: number | undefined },
  options: string[],
  tests: readonly string[],
  runs: number,
  around: <T>(client: () => Promise<T>) => Promise<T> = (client) => client(),
): Promise<string> {
  const budget = p.seconds * runs + 20 + runs;
  const server = startServer(p.serverNs, budget + 10, ['qperf']);
  try {
    let last = '';
    for (let attempt = 0; attempt < 30; attempt++) {
      await sleep(attempt === 0 ? 150 : 100);
      const port = p.dataPort === undefined ? [] : ['-ip', String(p.dataPort)];
      const r = await around(() =>
        run('qperf', ['-t', String(p.seconds), ...port, ...options, p.serverIp, ...tests], {
          netns: p.clientNs,
          allowFailure: true,
          timeoutMs: budget * 1000,
        }),
      );
      last = r.stdout + r.stderr;
      if (r.code === 0 && r.stdout.includes(`${tests[tests.length - 1] ?? ''}:`)) return r.stdout;
      if (!/failed to connect|refused/i.test(last)) break;
    }
    throw new NetloomError('COMMAND_FAILED', `qperf ${p.clientNs} -> ${p.serverIp}: ${last.trim().slice(0, 300)}`);
  } finally {
    await stopServer(server);
  }
}

/**
 * qperf tcp_bw, then tcp_lat in a run of its own, from `clientNs` to `serverIp` (in `serverNs`),
 * `seconds` per test. `aroundLatency` wraps the tcp_lat run alone (the switches' CPU per packet
 * is read around it: support/switch-cpu.ts).
 */
export async function runQperf(
  clientNs: string,
  serverNs: string,
  serverIp: string,
  seconds: number,
  dataPort?: number,
  aroundLatency?: <T>(client: () => Promise<T>) => Promise<T>,
): Promise<QperfFigures> {
  const p = { clientNs, serverNs, serverIp, seconds, dataPort };
  const bw = await qperfOutput(p, [], ['tcp_bw'], 1);
  const lat = await qperfOutput(p, [], ['tcp_lat'], 1, aroundLatency);
  return parseQperf(`${bw}\n${lat}`);
}

/** The message sizes of `qperf -oo msg_size:1:64K:*2`: 1, 2, 4 ... 65536 bytes. */
export const SWEEP_SIZES: readonly number[] = Array.from({ length: 17 }, (_, i) => 2 ** i);

export interface SweepPoint extends QperfFigures {
  msgSize: number;
}

/**
 * Parse `qperf -oo msg_size:...` output of tcp_bw and tcp_lat: one figure per size, bandwidths
 * first, in the order of `sizes` (qperf prints no size without -v). Pure.
 */
export function parseQperfSweep(text: string, sizes: readonly number[]): SweepPoint[] {
  const bws = [...text.matchAll(/tcp_bw:\s*\n\s*bw\s*=\s*[\d.]+\s*\S+/g)].map((m) => parseBw(m[0]));
  const lats = [...text.matchAll(/tcp_lat:\s*\n\s*latency\s*=\s*[\d.]+\s*\S+/g)].map((m) => parseLat(m[0]));
  if (bws.length !== sizes.length || lats.length !== sizes.length)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      `qperf sweep printed ${bws.length} tcp_bw and ${lats.length} tcp_lat figures for ${sizes.length} message sizes`,
      { field: 'qperf' },
    );
  return sizes.map((msgSize, i) => ({ msgSize, tcpBwBps: bws[i] as number, tcpLatUs: lats[i] as number }));
}

/** `qperf -oo msg_size:1:64K:*2 tcp_bw tcp_lat` (SWEEP_SIZES), `seconds` per test and size. */
export async function runQperfSweep(
  clientNs: string,
  serverNs: string,
  serverIp: string,
  seconds: number,
  dataPort?: number,
): Promise<SweepPoint[]> {
  const text = await qperfOutput(
    { clientNs, serverNs, serverIp, seconds, dataPort },
    ['-oo', 'msg_size:1:64K:*2'],
    ['tcp_bw', 'tcp_lat'],
    SWEEP_SIZES.length * 2,
  );
  return parseQperfSweep(text, SWEEP_SIZES);
}

/**
 * iperf3, one stream, `seconds` long, from `clientNs` to `serverIp` (in `serverNs`); bits/s
 * received. The server binds to `serverIp` unless `listenAny` (a service's address is not the
 * server's own: its provider's is).
 */
export async function runIperf3(clientNs: string, serverNs: string, serverIp: string, seconds: number, listenAny = false): Promise<number> {
  const server = startServer(serverNs, seconds + 30, ['iperf3', '-s', '-1', ...(listenAny ? [] : ['-B', serverIp])]);
  try {
    let last = '';
    for (let attempt = 0; attempt < 30; attempt++) {
      await sleep(attempt === 0 ? 150 : 100);
      const r = await run('iperf3', ['-c', serverIp, '-t', String(seconds), '-J', '--connect-timeout', '2000'], {
        netns: clientNs,
        allowFailure: true,
        timeoutMs: (seconds + 20) * 1000,
      });
      last = r.stdout || r.stderr;
      if (/unable to connect|refused/i.test(last) && !/"sum_received"/.test(last)) continue;
      return parseIperf3Json(r.stdout);
    }
    throw new NetloomError('COMMAND_FAILED', `iperf3 ${clientNs} -> ${serverIp}: ${last.trim().slice(0, 300)}`);
  } finally {
    await stopServer(server);
  }
}
