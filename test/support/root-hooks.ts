/**
 * Mocha root hooks for integration tests: before the run, note what exists; after it, remove any lab
 * a test left up, end every process the run started (and only those), and fail the run if anything
 * (process, namespace, root link) was left behind or if the process cannot exit (exit-watchdog.ts).
 * Set NETLOOM_LEAK_CHECK=off only when several suites run at once on one machine (namespaces of
 * the other runs would count as leaks).
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { labDown } from '../../deploy/lab/lab';
import { listLabs, loadState } from '../../deploy/lab/state';
import { armExitWatchdog } from './exit-watchdog';
import { diff, markedProcesses, RUN_MARKER, snapshot, Snapshot } from './leak-guard';

let before: Snapshot;
const runId = randomUUID();

export const mochaHooks = {
  beforeAll(): void {
    if (process.getuid?.() !== 0) throw new Error('integration tests need root (run: sudo test/run)');
    process.env[RUN_MARKER] = runId;
    before = snapshot();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    // 60 s for this hook and mocha's report, 60 s more for the event loop to drain
    armExitWatchdog(120_000);
    const problems: string[] = [];
    for (const lab of listLabs()) {
      let mine = false;
      try {
        mine = loadState(lab)?.testRun === runId;
      } catch {
        // unreadable state: not provably ours, leave it
      }
      if (!mine) continue;
      problems.push(`lab "${lab}" left up`);
      await labDown(lab);
    }
    // give detached daemons stopped in after() hooks a moment to exit
    for (let i = 0; i < 40 && markedProcesses(runId).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    for (const p of markedProcesses(runId)) {
      problems.push(`process ${p.pid} left running: ${p.cmdline.slice(0, 120)}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (process.env.NETLOOM_LEAK_CHECK !== 'off') {
      const d = diff(before, snapshot());
      for (const ns of d.netns) {
        problems.push(`network namespace "${ns}" left behind`);
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      }
      for (const l of d.links) {
        problems.push(`link "${l}" left in the root namespace`);
        try {
          execFileSync('ip', ['link', 'del', l], { stdio: 'ignore' });
        } catch {
          // may have gone with its peer
        }
      }
    }
    if (problems.length > 0) throw new Error(`the test run left things behind (now removed):\n  ${problems.join('\n  ')}`);
  },
};
