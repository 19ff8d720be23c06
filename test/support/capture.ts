/**
 * tcpdump in a network namespace, returned only once it is capturing: tcpdump says "listening on"
 * when its filter is in place, so a test can send the packets it wants to see without first
 * sleeping "long enough" for tcpdump to start.
 */
import { spawn } from 'node:child_process';
import { waitFor } from '../../lib/clock';
import { inNetns } from '../../lib/exec';

export interface Capture {
  /** What tcpdump printed on standard output, once it has exited (by itself, or after `maxSeconds`). */
  readonly output: Promise<string>;
}

export async function startCapture(netns: string, tcpdumpArgs: readonly string[], opts: { maxSeconds: number }): Promise<Capture> {
  // `timeout` bounds the capture even when the test fails before it ends
  const [file, argv] = inNetns(netns, 'timeout', [String(opts.maxSeconds), 'tcpdump', ...tcpdumpArgs]);
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const output = new Promise<string>((resolve) => {
    child.once('error', (e) => {
      stderr += e.message;
      exited = true;
      resolve(stdout);
    });
    child.once('close', () => {
      exited = true;
      resolve(stdout);
    });
  });
  await waitFor('tcpdump to start listening', () => exited || /listening on/.test(stderr), { timeoutMs: 10_000, intervalMs: 10 });
  if (!/listening on/.test(stderr)) throw new Error(`tcpdump in ${netns} exited before capturing: ${stderr.trim()}`);
  return { output };
}
