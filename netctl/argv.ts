/**
 * Rewrites a netctl argv so that commander understands Contiv's Go-style flags: Go's flag package
 * accepted `-name` and `--name` alike, and Contiv had multi-letter short names (`-s6`, `-g6`,
 * `-ip`) and second long names (`--nw-tag`, `--epg-tag`). These become the canonical long option
 * of the command being run; everything else is left as it is.
 */
import type { Command } from 'commander';
import { flagAliasesOf } from './context';

function findSub(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

/** Whether `flag` (in any of Go's spellings: -x, --x, -name, --name) is an option of `cmd` taking a value. */
function valued(cmd: Command, flag: string): boolean {
  const name = flag.replace(/^--?/, '');
  const o = [...cmd.options].find((x) => x.long === `--${name}` || x.short === `-${name}`);
  return o !== undefined && (o.required || o.optional);
}

/** The command an argv addresses (following subcommand names, skipping the values of global flags). */
export function leafCommand(program: Command, argv: readonly string[]): Command {
  let cmd = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (!a.includes('=') && valued(program, a)) i++;
      continue;
    }
    const sub = findSub(cmd, a);
    if (!sub) break;
    cmd = sub;
  }
  return cmd;
}

export function normalizeArgv(program: Command, argv: readonly string[]): string[] {
  const leaf = leafCommand(program, argv);
  const longs = new Set<string>();
  const shorts = new Set<string>();
  for (const c of [leaf, program]) {
    for (const o of c.options) {
      if (o.long) longs.add(o.long.slice(2));
      if (o.short) shorts.add(o.short.slice(1));
    }
  }
  const aliases = flagAliasesOf(leaf);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(--?)([A-Za-z0-9][A-Za-z0-9-]*)(=.*)?$/.exec(a);
    if (!m) {
      out.push(a);
      continue;
    }
    const [, dashes, name, rest] = m as unknown as [string, string, string, string | undefined];
    const value = rest ?? '';
    if (aliases[name] !== undefined) out.push(`--${aliases[name]}${value}`);
    else if (dashes === '-' && name.length > 1 && longs.has(name)) out.push(`--${name}${value}`);
    else if (name.length === 1 && shorts.has(name) && !longs.has(name) && (dashes === '--' || value !== '')) {
      // Go: --t t1, --t=t1 and -t=t1 all mean -t t1
      out.push(`-${name}`);
      if (value !== '') out.push(value.slice(1));
    } else out.push(a);
  }
  return out;
}
