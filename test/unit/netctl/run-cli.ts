/** Runs netctl in-process for tests, capturing stdout/stderr and the exit code. */
import { run } from '../../../netctl/main';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  argv: string[],
  opts: { env?: Record<string, string | undefined>; urlFile?: string; labRoot?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: opts.env ?? {},
    netmasterUrlFile: opts.urlFile ?? '/nonexistent/netctl-test/netmaster.url',
    labRoot: opts.labRoot ?? '/nonexistent/netctl-test/labs',
  });
  return { code, stdout, stderr };
}
