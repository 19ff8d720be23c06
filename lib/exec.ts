import { execFile, spawn } from 'node:child_process';
import { NetloomError } from './errors';

export interface RunOptions {
  /** run inside this network namespace (`ip netns exec NS ...`) */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  /** text written to the command's standard input */
  input?: string;
  timeoutMs?: number;
  /** do not throw on a non-zero exit; the caller reads `code` */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Something that runs commands like `run` (lib/exec's, or a ShellPool's); no `env`. */
export type CommandRunner = (cmd: string, args: readonly string[], opts?: Omit<RunOptions, 'env'>) => Promise<RunResult>;

/** The argv that runs `cmd args` inside `netns` (or as is). */
export function inNetns(netns: string | undefined, cmd: string, args: readonly string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, [...args]];
}

/**
 * Run a program to completion and collect its output. A non-zero exit throws COMMAND_FAILED naming
 * the command and quoting its standard error, unless `allowFailure` is set.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = inNetns(opts.netns, cmd, args);
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (err && !opts.allowFailure) {
          const where = opts.netns ? ` (in netns ${opts.netns})` : '';
          const why = err.killed ? `killed after ${opts.timeoutMs ?? 60_000} ms` : `exit ${String(err.code)}`;
          reject(
            new NetloomError('COMMAND_FAILED', `${cmd} ${args.join(' ')}${where}: ${why}: ${(stderr || stdout).trim().slice(0, 2000)}`, {
              details: { cmd, args: [...args], code, stderr },
            }),
          );
          return;
        }
        resolve({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) {
      // a program that exits without reading all its input (EPIPE) is judged by its exit status
      // above; unhandled, the failed write would be an uncaught exception in the caller's process
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(opts.input);
    }
  });
}

/** Like `run` but returns trimmed standard output. */
export async function output(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  return (await run(cmd, args, opts)).stdout.trim();
}

/**
 * Start a long-running daemon detached from this process (its own session, output to a log file)
 * and return its PID. The caller records the PID to stop it later.
 */
export function spawnDaemon(
  cmd: string,
  args: readonly string[],
  opts: { netns?: string; env?: NodeJS.ProcessEnv; logFd: number; cwd?: string },
): number {
  const [file, argv] = inNetns(opts.netns, cmd, args);
  const child = spawn(file, argv, {
    detached: true,
    stdio: ['ignore', opts.logFd, opts.logFd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  if (child.pid === undefined) throw new NetloomError('COMMAND_FAILED', `could not start ${cmd}`);
  child.unref();
  return child.pid;
}
