/**
 * What every netctl command module shares: the injectable I/O of one run, the client factory
 * (netmaster URL from flag, env, config or lab file; credentials found the same way), the common Contiv flags (-t, -a, -q, -j) plus `-o`,
 * Go-style flag aliases (`-s6`, `--nw-tag`) and the wrapper that checks positional arguments.
 */
import { Command, Option } from 'commander';
import { NetmasterClient } from './client';
import { UsageError } from './errors';
import { resolveNetmasterUrl, LAB_NETMASTER_URL_FILE } from './netmaster-url';
import { findClientConfig, labRootOf, namedLab, resolveCredentials } from './credentials';
import { labNetmasterUrlFile } from '../lib/lab-paths';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** where the lab writes its netmaster URL; default /run/netloom-lab/netloom/netmaster.url */
  netmasterUrlFile?: string;
  /** where labs keep their netctl.json (credentials.ts); default env NETLOOM_LAB_ROOT, else /run/netloom-lab */
  labRoot?: string;
}

export type Opts = Record<string, unknown>;

export interface Runtime {
  io: CliIo;
  out: (text: string) => void;
}

export interface ActionArgs {
  args: string[];
  opts: Opts;
  client: () => NetmasterClient;
  out: (text: string) => void;
  cmd: Command;
}

/** Extra names a leaf command's options answer to (Contiv's second flag names), by command. */
const flagAliases = new WeakMap<Command, Record<string, string>>();

/** Let `--<alias>` / `-<alias>` mean `--<long>` on this command (e.g. s6 -> subnetv6). */
export function addFlagAlias(cmd: Command, alias: string, long: string): void {
  const m = flagAliases.get(cmd) ?? {};
  m[alias] = long;
  flagAliases.set(cmd, m);
}

export function flagAliasesOf(cmd: Command): Record<string, string> {
  return flagAliases.get(cmd) ?? {};
}

export function clientFor(io: CliIo, cmd: Command): NetmasterClient {
  const g = cmd.optsWithGlobals();
  const s = (k: string): string | undefined => (typeof g[k] === 'string' ? g[k] : undefined);
  const flagUrl = s('netmaster');
  const given = flagUrl || io.env['NETMASTER'] || undefined;
  const sources = {
    flags: {
      ...(s('config') ? { config: s('config') } : {}),
      ...(s('cacert') ? { cacert: s('cacert') } : {}),
      ...(s('cert') ? { cert: s('cert') } : {}),
      ...(s('key') ? { key: s('key') } : {}),
      ...(s('token') ? { token: s('token') } : {}),
      ...(s('lab') ? { lab: s('lab') } : {}),
    },
    env: io.env,
    ...(io.labRoot ? { labRoot: io.labRoot } : {}),
  };
  // credentials are found like the URL: for a URL given, the config that names it
  const config = findClientConfig(sources, given);
  const lab = namedLab(sources);
  const baseUrl = resolveNetmasterUrl({
    flag: flagUrl,
    env: io.env['NETMASTER'],
    config: config?.netmaster,
    urlFile: lab !== undefined ? labNetmasterUrlFile(labRootOf(sources), lab) : (io.netmasterUrlFile ?? LAB_NETMASTER_URL_FILE),
  });
  const credentials = resolveCredentials(sources, config);
  const timeoutSec = typeof g['timeout'] === 'string' ? Number(g['timeout']) : 30;
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0)
    throw new UsageError(`invalid --timeout '${String(g['timeout'])}': seconds > 0`, 'timeout');
  const insecure = g['insecure'] === true || /^(1|true|yes)$/i.test(io.env['INSECURE'] ?? '');
  return new NetmasterClient({ baseUrl, timeoutMs: timeoutSec * 1000, insecure, credentials });
}

/**
 * The action for a command: checks the number of positional arguments (Contiv's messages, e.g.
 * "Tenant name required", "More arguments than required") and hands the parsed input over.
 */
export function action(
  rt: Runtime,
  argCount: { min: number; max: number; missing: string },
  fn: (a: ActionArgs) => Promise<void>,
): (...a: unknown[]) => Promise<void> {
  return async (...a: unknown[]) => {
    const cmd = a[a.length - 1] as Command;
    const args = cmd.args;
    if (args.length < argCount.min) throw new UsageError(argCount.missing);
    if (args.length > argCount.max)
      throw new UsageError(
        argCount.max === 0 ? 'More arguments than required' : `More arguments than required: ${args.slice(argCount.max).join(' ')}`,
      );
    let client: NetmasterClient | undefined;
    await fn({
      args,
      opts: cmd.opts(),
      cmd,
      out: rt.out,
      client: () => (client ??= clientFor(rt.io, cmd)),
    });
  };
}

export function str(opts: Opts, key: string): string {
  const v = opts[key];
  return typeof v === 'string' ? v : '';
}

/** A string option, or undefined when the user did not give it. */
export function optional(opts: Opts, key: string): string | undefined {
  const v = opts[key];
  return typeof v === 'string' ? v : undefined;
}

export function list(opts: Opts, key: string): string[] {
  const v = opts[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable string option (Contiv's StringSliceFlag). */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser(collect);
}

export function tenantOption(cmd: Command): Command {
  return cmd.option('-t, --tenant <tenant>', 'Name of the tenant', 'default');
}

export function outputOption(cmd: Command): Command {
  return cmd.addOption(new Option('-o, --output <format>', 'Output format (beyond Contiv)').choices(['table', 'json', 'yaml']));
}

export interface ListFlags {
  tenant?: boolean;
  all?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** Contiv's listing flags (-t, -a, -j, -q) plus -o json|yaml. */
export function listOptions(cmd: Command, f: ListFlags): Command {
  if (f.tenant) tenantOption(cmd);
  if (f.all) cmd.option('-a, --all', 'List all items');
  if (f.json) cmd.option('-j, --json', 'Output list in JSON format');
  if (f.quiet) cmd.option('-q, --quiet', 'Only display name field');
  return outputOption(cmd);
}
