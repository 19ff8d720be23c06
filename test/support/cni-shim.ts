/**
 * Run the real `bin/netloom-cni` as a runtime does (dash, a clean environment with only PATH and
 * the given variables, the netconf on stdin) and measure it: wall time, and the CPU time of the
 * shim and everything it started (bash's `time` reports the waited-for process tree), which stays
 * meaningful on a loaded machine where wall time does not. stdin is written whole unless the shim
 * stops reading early (it refuses over-limit input without reading it all): that is no error.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const SHIM = resolve(__dirname, '../../../bin/netloom-cni');
/** the compiled plugin (netplugin/cni/netloom-cni.c, built by deploy/install.sh) */
export const SHIM_COMPILED = resolve(__dirname, '../../bin/netloom-cni');
/** NETLOOM_CNI_TRANSPORT values the sh shim knows, and `compiled`: `runShim` then runs the compiled plugin */
export const SHIM_TRANSPORTS = ['nc', 'curl', 'compiled'] as const;

export interface ShimOutcome {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as JSON, when it is JSON */
  json: Record<string, unknown> | undefined;
  wallMs: number;
  /** user + system CPU of the shim's process tree */
  cpuMs: number;
  /** killed after `timeoutMs` */
  hung: boolean;
}

/**
 * `env.NETLOOM_CNI_TRANSPORT` `compiled` runs the compiled plugin instead of `dash bin/netloom-cni`.
 */
export function runShim(env: Record<string, string | undefined>, stdin: string | Buffer, timeoutMs = 20_000): Promise<ShimOutcome> {
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const t0 = performance.now();
  return new Promise((done) => {
    // --norc: stdio pipes are sockets, and bash sources ~/.bashrc when stdin is one (rsh/ssh
    // detection); detached: a hung shim's whole process group can be killed
    const compiled = env.NETLOOM_CNI_TRANSPORT === 'compiled';
    const timed = compiled ? 'time "$0"' : 'time dash "$0"';
    const child = spawn('bash', ['--norc', '--noprofile', '-c', `TIMEFORMAT="@cpu %3U %3S"; ${timed}`, compiled ? SHIM_COMPILED : SHIM], {
      env: clean,
      stdio: 'pipe',
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {}); // EPIPE: the shim refused before reading everything
    child.stdin.end(stdin);
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const stdout = Buffer.concat(out).toString('utf8');
      let stderr = Buffer.concat(err).toString('utf8');
      const m = /@cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      if (m) stderr = stderr.slice(0, m.index);
      let json: Record<string, unknown> | undefined;
      try {
        const v: unknown = stdout.trim() === '' ? undefined : JSON.parse(stdout);
        json = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      const cpuMs = m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN;
      done({ code: code ?? -1, stdout, stderr, json, wallMs, cpuMs, hung });
    });
  });
}
