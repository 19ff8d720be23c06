/**
 * What a test run leaves behind: processes (found by a marker in their environment, which every
 * daemon a test starts inherits), network namespaces and root-namespace links.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { isAlive } from '../../lib/process';

export const RUN_MARKER = 'NETLOOM_TEST_RUN';

export interface Snapshot {
  netns: Set<string>;
  links: Set<string>;
}

export function snapshot(): Snapshot {
  const netns = execFileSync('ip', ['-o', 'netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0] ?? '')
    .filter((n) => n !== '');
  return { netns: new Set(netns), links: new Set(links) };
}

/** PIDs of live processes whose environment carries `marker=value`. */
export function markedProcesses(value: string): Array<{ pid: number; cmdline: string }> {
  const needle = `${RUN_MARKER}=${value}`;
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(needle)) continue;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (isAlive(pid)) out.push({ pid, cmdline });
    } catch {
      // gone while we looked
    }
  }
  return out;
}

export function diff(before: Snapshot, after: Snapshot): { netns: string[]; links: string[] } {
  return {
    netns: [...after.netns].filter((n) => !before.netns.has(n)),
    links: [...after.links].filter((n) => !before.links.has(n)),
  };
}
