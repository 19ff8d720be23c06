/**
 * A long-lived TCP connection whose every round trip is seen, for tests of what happens to an
 * established connection while the network changes. The server (in a container's namespace)
 * sends its name, then echoes each line (and, if asked, sends a line of its own every so often);
 * the client (in another) connects, learns who answered and sends a line every `everyMs`,
 * counting the lines that come back. Both are this file run as a program
 * (`node echo-stream.js serve NAME PORT` / `node echo-stream.js client IP PORT EVERY_MS`), so a
 * test starts each with one process and ends it by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** `pushEveryMs` > 0: the server also sends a line of its own that often (a connection whose server talks first). */
function serve(name: string, port: number, pushEveryMs: number): void {
  createServer((s) => {
    s.on('error', () => undefined);
    s.write(`${name}\n`);
    s.pipe(s);
    if (pushEveryMs > 0) {
      const t = setInterval(() => s.write('push\n'), pushEveryMs);
      s.on('close', () => clearInterval(t));
    }
  }).listen(port, '0.0.0.0', () => process.stdout.write('ready\n'));
}

/** Prints `who NAME` once, then `echo N` for every echo, `closed REASON` when the connection ends. */
function client(ip: string, port: number, everyMs: number): void {
  const s = connect({ host: ip, port });
  let buf = '';
  let named = false;
  let echoes = 0;
  let timer: NodeJS.Timeout | undefined;
  s.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!named) {
        named = true;
        process.stdout.write(`who ${line}\n`);
        timer = setInterval(() => s.write('x\n'), everyMs);
      } else {
        echoes++;
        process.stdout.write(`echo ${echoes}\n`);
      }
    }
  });
  const end = (why: string) => {
    if (timer) clearInterval(timer);
    process.stdout.write(`closed ${why}\n`);
    process.exit(0);
  };
  s.on('error', (e) => end(e.message));
  s.on('end', () => end('end'));
}

/** The test's side: one end in a namespace, its stdout lines as they come. */
export class EchoStream {
  readonly lines: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    createInterface({ input: child.stdout! }).on('line', (l) => this.lines.push(l));
  }

  static start(netns: string, args: string[]): EchoStream {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS; // no TLS here; it costs every Node start ~70 ms
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, __filename, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    });
    return new EchoStream(child);
  }

  /** the number of echoes received so far */
  get echoes(): number {
    return this.lines.filter((l) => l.startsWith('echo ')).length;
  }

  /** the server that answered (after `who`), or undefined */
  get who(): string | undefined {
    return this.lines.find((l) => l.startsWith('who '))?.slice(4);
  }

  get closed(): string | undefined {
    return this.lines.find((l) => l.startsWith('closed '))?.slice(7);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

if (require.main === module) {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'serve') serve(a ?? 'server', Number(b), Number(c ?? 0));
  else if (mode === 'client') client(a ?? '127.0.0.1', Number(b), Number(c ?? 50));
  else {
    process.stderr.write('usage: echo-stream serve NAME PORT [PUSH_EVERY_MS] | client IP PORT EVERY_MS\n');
    process.exit(2);
  }
}
