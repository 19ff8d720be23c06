/**
 * The connect loop's processes (connect-loop.ts), run inside lab namespaces:
 *   serve PORT                          accept on every address, write one byte, close; prints "ready"
 *   client PORT COUNT PARALLEL MAXMS PERCONNMS IP[,IP...]   the bounded loop; prints one JSON line
 */
import { connect, createServer } from 'node:net';
import { systemClock } from '../../lib/clock';
import { NetloomError } from '../../lib/errors';
import { connectLoop, type Connector } from './connect-loop';
import { runIfMain } from './standalone';

/** A connection that counts once the server's byte arrived; destroyed then, or on error or timeout. */
function connector(perConnectionMs: number): Connector {
  return (ip, port) =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ host: ip, port });
      const timer = setTimeout(() => s.destroy(new Error(`no answer from ${ip}:${port} within ${perConnectionMs} ms`)), perConnectionMs);
      s.once('data', () => {
        clearTimeout(timer);
        s.destroy();
        resolve();
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      s.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`${ip}:${port} closed without answering`));
      });
    });
}

const int = (field: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new NetloomError('INVALID_ARGUMENT', `${field} must be a positive integer, got ${v ?? 'nothing'}`, { field });
  return n;
};

export async function main(args: string[]): Promise<number> {
  const [mode, port, ...rest] = args;
  if (mode === 'serve') {
    const server = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.end('x');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(int('port', port), '0.0.0.0', () => resolve());
    });
    process.stdout.write('ready\n');
    // served until stopped (SIGTERM from the runner, or its `timeout`)
    await new Promise<void>(() => undefined);
    return 0;
  }
  if (mode === 'client') {
    const [count, parallel, maxMs, perConn, targets] = rest;
    const result = await connectLoop(
      {
        targets: (targets ?? '').split(',').filter((t) => t !== ''),
        port: int('port', port),
        count: int('count', count),
        parallel: int('parallel', parallel),
        maxMs: int('maxMs', maxMs),
      },
      connector(int('perConnectionMs', perConn)),
      systemClock,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  throw new NetloomError('INVALID_ARGUMENT', `mode must be serve or client, got ${mode ?? 'nothing'}`, { field: 'mode' });
}

runIfMain(module, main);
