/**
 * The lab's command-line tools as tests drive them: `bin/netloom-lab --lab NAME` and `bin/netctl`
 * against one netmaster, and the `docker network create` arguments of a netloom network.
 */
import { resolve } from 'node:path';
import { run, RunResult } from '../../lib/exec';

/** The repository's bin/ (this file runs from dist/test/support/). */
export const BIN = resolve(__dirname, '../../../bin');

export type LabCli = (args: string[], allowFailure?: boolean, timeoutMs?: number) => Promise<RunResult>;

/** `bin/netloom-lab --lab <lab> ARGS` (90 s unless told). */
export function labCli(lab: string): LabCli {
  return (args, allowFailure = false, timeoutMs = 90_000) =>
    run(`${BIN}/netloom-lab`, ['--lab', lab, ...args], { allowFailure, timeoutMs });
}

/** `bin/netctl --netmaster <url> ARGS` (30 s). */
export function netctlCli(url: string): (args: string[], allowFailure?: boolean) => Promise<RunResult> {
  return (args, allowFailure = false) => run(`${BIN}/netctl`, ['--netmaster', url, ...args], { allowFailure, timeoutMs: 30_000 });
}

export interface NetloomNetworkOptions {
  /** driver options (`-o k=v`), e.g. tenant and network */
  opts: Record<string, string>;
  /** netloom's IPAM driver with these `--ipam-opt k=v`; omitted: Docker's default IPAM */
  ipam?: Record<string, string>;
  subnet?: string;
}

/** `network create -d netloom …` for the docker client: a Docker network `name` on a netloom network. */
export function netloomNetworkCreate(name: string, o: NetloomNetworkOptions): string[] {
  const kv = (flag: string, m: Record<string, string>) => Object.entries(m).flatMap(([k, v]) => [flag, `${k}=${v}`]);
  return [
    'network',
    'create',
    '-d',
    'netloom',
    ...(o.ipam ? ['--ipam-driver', 'netloom', ...kv('--ipam-opt', o.ipam)] : []),
    ...kv('-o', o.opts),
    ...(o.subnet ? ['--subnet', o.subnet] : []),
    name,
  ];
}
