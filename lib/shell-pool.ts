/**
 * Short commands run through a few long-lived `dash` processes instead of one `spawn` each.
 * Spawning forks the calling process, and forking a Node process with a large heap blocks its event
 * loop for milliseconds per command; a long-lived shell forks cheaply, off our event loop. The
 * agent's hot path (plumbing a container: `nsenter ... ip -b -`, `ip link del`) runs here.
 *
 * Each request is a few lines of shell for an idle worker: the command (its arguments quoted, so
 * nothing is interpreted) with its standard input as a quoted here-document (which ends with a
 * newline: one is added to input that lacks it), then a marker line on each of the worker's output
 * and error streams, the first with the exit status; what came before a marker is the command's
 * output. Everything goes through pipes, no files. A command that outlives its timeout gets its
 * worker's whole process group killed; a dead worker is replaced on the next request. Results have
 * the shape of lib/exec's `run`.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { NetloomError } from './errors';
import { inNetns, type RunResult } from './exec';

export interface ShellPoolOptions {
  /** workers, i.e. commands that can run at the same time (default 4) */
  size?: number;
  /** the shell (default /bin/dash) */
  shell?: string;
  /** default timeout of a command (default 30 s) */
  timeoutMs?: number;
}

export interface PoolRunOptions {
  netns?: string;
  input?: string;
  timeoutMs?: number;
  allowFailure?: boolean;
}

interface Request {
  id: number;
  argv: string[];
  input: string | undefined;
  timeoutMs: number;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

interface Worker {
  proc: ChildProcessByStdio<Writable, Readable, Readable>;
  busy: Request | undefined;
  timer: NodeJS.Timeout | undefined;
  out: string;
  err: string;
  /** the exit status, once the output marker came */
  code: number | undefined;
  errDone: boolean;
  dead: boolean;
}

const SAFE_ARG = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** One shell word for `arg`: as is when it is plain, else single-quoted (pure). */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE_ARG.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The marker a worker prints after request `id` on its output stream (with the status) and on its error stream. */
function marker(id: number): string {
  return `\n@@nl ${id}`;
}

/** The shell text a worker runs for one request (pure). `tag` makes the here-document's end unique. */
export function requestScript(id: number, argv: readonly string[], input: string | undefined, tag: string): string {
  if (argv.length === 0) throw new NetloomError('INVALID_ARGUMENT', 'empty command', { field: 'argv' });
  if (argv.some((a) => a.includes('\0')))
    throw new NetloomError('INVALID_ARGUMENT', 'a command argument contains a NUL byte', { field: 'argv' });
  const cmd = argv.map(shellQuote).join(' ');
  let stdin = ' </dev/null\n';
  if (input !== undefined) {
    const end = `@@NL_IN_${id}_${tag}`;
    const body = input.endsWith('\n') || input === '' ? input : `${input}\n`;
    if (body.split('\n').includes(end))
      throw new NetloomError('INVALID_ARGUMENT', 'the input contains the here-document delimiter', { field: 'input' });
    stdin = ` <<'${end}'\n${body}${end}\n`;
  }
  return `${cmd}${stdin}printf '\\n@@nl %s %s\\n' ${id} "$?"; printf '\\n@@nl %s\\n' ${id} >&2\n`;
}

export class ShellPool {
  private readonly workers: Worker[] = [];
  private readonly queue: Request[] = [];
  private readonly size: number;
  private readonly tag = randomBytes(6).toString('hex');
  private nextId = 1;
  private closed = false;

  constructor(private readonly opts: ShellPoolOptions = {}) {
    this.size = opts.size ?? 4;
    if (!Number.isInteger(this.size) || this.size < 1)
      throw new NetloomError('INVALID_ARGUMENT', `pool size must be a positive integer, got ${this.size}`, { field: 'size' });
  }

  /** Run `cmd args` (in `netns` when given) on a worker; like lib/exec's `run`. */
  run(cmd: string, args: readonly string[], o: PoolRunOptions = {}): Promise<RunResult> {
    if (this.closed) return Promise.reject(new NetloomError('UNAVAILABLE', 'the shell pool is closed'));
    const [c, a] = inNetns(o.netns, cmd, args);
    return new Promise<RunResult>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        argv: [c, ...a],
        input: o.input,
        timeoutMs: o.timeoutMs ?? this.opts.timeoutMs ?? 30_000,
        resolve,
        reject,
      });
      this.dispatch();
    }).then((r) => {
      if (r.code !== 0 && !o.allowFailure) {
        throw new NetloomError('COMMAND_FAILED', `${[cmd, ...args].join(' ')} exited with ${r.code}: ${r.stderr.trim()}`, {
          details: { code: r.code },
        });
      }
      return r;
    });
  }

  /** Workers alive now (for tests and metrics). */
  get workerPids(): number[] {
    return this.workers.filter((w) => !w.dead && w.proc.pid !== undefined).map((w) => w.proc.pid as number);
  }

  /** Stop every worker (a running command is killed). */
  close(): void {
    this.closed = true;
    for (const r of this.queue.splice(0)) r.reject(new NetloomError('UNAVAILABLE', 'the shell pool is closed'));
    for (const w of this.workers) this.kill(w, 'the shell pool is closed');
    this.workers.length = 0;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let w = this.workers.find((x) => !x.dead && !x.busy);
      if (!w) {
        if (this.workers.filter((x) => !x.dead).length >= this.size) return;
        w = this.spawnWorker();
      }
      const req = this.queue.shift() as Request;
      this.start(w, req);
    }
  }

  private spawnWorker(): Worker {
    for (let i = this.workers.length - 1; i >= 0; i--) if (this.workers[i]?.dead) this.workers.splice(i, 1);
    const proc = spawn(this.opts.shell ?? '/bin/dash', ['-s'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group: a timed-out command is killed with it
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
    });
    const w: Worker = { proc, busy: undefined, timer: undefined, out: '', err: '', code: undefined, errDone: false, dead: false };
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => this.onData(w, 'out', chunk));
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => this.onData(w, 'err', chunk));
    proc.stdin.on('error', () => undefined); // reported through 'exit'
    proc.on('error', (e) => this.fail(w, e.message));
    proc.on('exit', (code, signal) => this.fail(w, `shell exited (${signal ?? code ?? '?'})`));
    this.workers.push(w);
    return w;
  }

  private start(w: Worker, req: Request): void {
    w.busy = req;
    w.out = '';
    w.err = '';
    w.code = undefined;
    w.errDone = false;
    let script: string;
    try {
      script = requestScript(req.id, req.argv, req.input, this.tag);
    } catch (e) {
      w.busy = undefined;
      req.reject(e instanceof Error ? e : new Error(String(e)));
      this.dispatch();
      return;
    }
    w.timer = setTimeout(() => this.kill(w, `${req.argv.join(' ')} timed out after ${req.timeoutMs} ms`), req.timeoutMs);
    w.proc.stdin.write(script);
  }

  private onData(w: Worker, stream: 'out' | 'err', chunk: string): void {
    const req = w.busy;
    if (!req) return; // the shell's own output between requests: nothing of ours
    const mark = marker(req.id);
    if (stream === 'out') {
      w.out += chunk;
      const m = new RegExp(`${mark.replace(/\n/, '\\n')} (\\d+)\\n$`).exec(w.out);
      if (m) {
        w.code = Number(m[1]);
        w.out = w.out.slice(0, m.index);
      }
    } else {
      w.err += chunk;
      if (w.err.endsWith(`${mark}\n`)) {
        w.err = w.err.slice(0, -(mark.length + 1));
        w.errDone = true;
      }
    }
    if (w.code === undefined || !w.errDone) return;
    clearTimeout(w.timer);
    w.busy = undefined;
    req.resolve({ code: w.code, stdout: w.out, stderr: w.err });
    this.dispatch();
  }

  private kill(w: Worker, why: string): void {
    if (w.proc.pid !== undefined && !w.dead) {
      try {
        process.kill(-w.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.fail(w, why);
  }

  /** The worker is gone: its request ends with code -1 and the reason; queued ones go elsewhere. */
  private fail(w: Worker, why: string): void {
    if (w.dead) return;
    w.dead = true;
    clearTimeout(w.timer);
    const req = w.busy;
    w.busy = undefined;
    if (req) req.resolve({ code: -1, stdout: w.out, stderr: `${w.err}${why}` });
    if (!this.closed) this.dispatch();
  }
}
