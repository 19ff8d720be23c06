import { readdirSync, readFileSync } from 'node:fs';
import { systemClock } from './clock';

/** The command line of a live process, or undefined when it is gone. */
export function processCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined; // zombie or kernel thread
    return raw.split('\0').filter((s) => s !== '');
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function readStat(pid: number): { state: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    return { state: s.slice(close + 2, close + 3) };
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and runs a program whose command line contains `expect`. Used before
 * signalling a recorded PID, so that a recycled PID never ends a process we did not start.
 */
export function isOurProcess(pid: number, expect: string): boolean {
  const cmd = processCmdline(pid);
  return cmd !== undefined && isAlive(pid) && cmd.join(' ').includes(expect);
}

/** Send `signal` to `pid` only if it is still the program we started; returns whether it was sent. */
export function signalIfOurs(pid: number, expect: string, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!isOurProcess(pid, expect)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Stop a process we started: SIGTERM, wait up to `graceMs`, then SIGKILL. */
export async function stopProcess(pid: number, expect: string, graceMs = 3000): Promise<void> {
  if (!signalIfOurs(pid, expect, 'SIGTERM')) return;
  const deadline = systemClock.monotonic() + graceMs;
  while (systemClock.monotonic() < deadline) {
    if (!isAlive(pid)) return;
    await systemClock.sleep(25);
  }
  signalIfOurs(pid, expect, 'SIGKILL');
  const killDeadline = systemClock.monotonic() + 2000;
  while (systemClock.monotonic() < killDeadline && isAlive(pid)) await systemClock.sleep(25);
}

/** Every live process with its command line (for leak checks in tests). */
export function listProcesses(): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmd = processCmdline(pid);
    if (cmd) out.push({ pid, cmdline: cmd.join(' ') });
  }
  return out;
}
