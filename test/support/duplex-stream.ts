/**
 * A long-lived TCP connection on which both ends talk on their own, for tests that must see each
 * direction of an established connection separately (a policy that cuts a connection must stop
 * the server's data too, not only the client's). Each end writes a line every `everyMs` (no
 * Nagle: every line is its own segment), printing `sent N` for each line written and `got N` for
 * each line received. Both ends
 * are this file run as a program (`node duplex-stream.js serve PORT EVERY_MS` /
 * `node duplex-stream.js client IP PORT EVERY_MS`), started in a namespace and ended by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

function talk(s: Socket, everyMs: number): void {
  s.setNoDelay(true);
  let got = 0;
  let sent = 0;
  let buf = '';
  const timer = setInterval(() => {
    s.write('x\n');
    process.stdout.write(`sent ${++sent}\n`);
  }, everyMs);
  s.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      buf = buf.slice(nl + 1);
      process.stdout.write(`got ${++got}\n`);
    }
  });
  const end = (why: string) => {
    clearInterval(timer);
    process.stdout.write(`closed ${why}\n`);
  };
  s.on('error', (e) => end(e.message));
  s.on('close', () => end('close'));
}

/** The test's side: one end in a namespace, counting what it received. */
export class DuplexStream {
  received = 0;
  sent = 0;
  closed: string | undefined;
  ready = false;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('got ')) this.received = Number(l.slice(4));
      else if (l.startsWith('sent ')) this.sent = Number(l.slice(5));
      else if (l === 'ready') this.ready = true;
      else if (l.startsWith('closed ')) this.closed ??= l.slice(7); // the first reason (an error comes before its close)
    });
  }

  static serve(netns: string, port: number, everyMs: number): DuplexStream {
    return DuplexStream.start(netns, ['serve', String(port), String(everyMs)]);
  }

  static client(netns: string, ip: string, port: number, everyMs: number): DuplexStream {
    return DuplexStream.start(netns, ['client', ip, String(port), String(everyMs)]);
  }

  private static start(netns: string, args: string[]): DuplexStream {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS; // no TLS here; it costs every Node start ~70 ms
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, __filename, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    return new DuplexStream(child);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

if (require.main === module) {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'serve') {
    // one connection at a time is all a test needs
    createServer((s) => talk(s, Number(b ?? 20))).listen(Number(a), '0.0.0.0', () => process.stdout.write('ready\n'));
  } else if (mode === 'client') {
    const s = connect({ host: a ?? '127.0.0.1', port: Number(b) }, () => process.stdout.write('ready\n'));
    talk(s, Number(c ?? 20));
  } else {
    process.stderr.write('usage: duplex-stream serve PORT EVERY_MS | client IP PORT EVERY_MS\n');
    process.exit(2);
  }
}
