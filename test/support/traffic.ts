/** Real traffic between namespaces for integration tests: ping and TCP (iperf3), bounded in time. */
import { spawn } from 'node:child_process';
import { run } from '../../lib/exec';

/** True when `count` pings from `netns` to `ip` all get answers (each waits at most 2 s). */
export async function pingOk(netns: string, ip: string, count = 2): Promise<boolean> {
  const r = await run('ping', ['-c', String(count), '-W', '2', '-i', '0.2', '-q', ip], { netns, allowFailure: true, timeoutMs: 15_000 });
  return r.code === 0 && new RegExp(`${count} received`).test(r.stdout);
}

/** Ping with a few retries, for paths that need a moment (MAC learning, ARP). */
export async function pingEventually(netns: string, ip: string, attempts = 5): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await pingOk(netns, ip, 1)) return true;
  return false;
}

export interface TcpResult {
  ok: boolean;
  bytes: number;
  bitsPerSecond: number;
  error?: string;
}

/**
 * A bounded TCP transfer with iperf3 from `clientNs` to `serverIp` inside `serverNs` (`reverse`:
 * the server sends, iperf3 -R), the first `omitSeconds` left out of the result (iperf3 -O); with
 * `udpBitsPerSecond` UDP at that rate instead (1400-byte datagrams: they fit a VXLAN MTU), the
 * result being what arrived. `ok` when the receiver got data. The server serves one test (-1) and exits; it is killed if the client fails.
 */
export async function tcpTransfer(
  clientNs: string,
  serverNs: string,
  serverIp: string,
  opts: { seconds?: number; port?: number; reverse?: boolean; omitSeconds?: number; udpBitsPerSecond?: number } = {},
): Promise<TcpResult> {
  const port = opts.port ?? 5201;
  const server = spawn('ip', ['netns', 'exec', serverNs, 'timeout', '30', 'iperf3', '-s', '-1', '-B', serverIp, '-p', String(port)], {
    stdio: 'ignore',
  });
  const serverExit = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  try {
    let last: TcpResult = { ok: false, bytes: 0, bitsPerSecond: 0, error: 'not run' };
    for (let attempt = 0; attempt < 10; attempt++) {
      const r = await run(
        'iperf3',
        [
          ...['-c', serverIp, '-p', String(port), '-t', String(opts.seconds ?? 1), '-J', '--connect-timeout', '2000'],
          ...(opts.reverse ? ['-R'] : []),
          ...(opts.omitSeconds ? ['-O', String(opts.omitSeconds)] : []),
          ...(opts.udpBitsPerSecond ? ['-u', '-b', String(opts.udpBitsPerSecond), '-l', '1400'] : []),
        ],
        {
          netns: clientNs,
          allowFailure: true,
          timeoutMs: 30_000,
        },
      );
      try {
        const j = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bytes: number; bits_per_second: number } } };
        const rx = j.end?.sum_received;
        last = rx
          ? { ok: rx.bytes > 0, bytes: rx.bytes, bitsPerSecond: rx.bits_per_second }
          : { ok: false, bytes: 0, bitsPerSecond: 0, error: j.error ?? 'no result' };
      } catch {
        last = { ok: false, bytes: 0, bitsPerSecond: 0, error: r.stderr.trim() || 'iperf3 printed no JSON' };
      }
      // the server may not be listening yet on the first attempt
      if (last.ok || !/refused|unable to connect/i.test(last.error ?? '')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    return last;
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await serverExit;
  }
}
