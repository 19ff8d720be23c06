/**
 * Shell completion for netctl, generated from the commander command tree so that it always knows
 * every command, alias and flag: `netctl completion bash` prints a script for `source` / bash-completion.
 */
import type { Command, Option } from 'commander';

interface Node {
  path: string;
  subcommands: { names: string[]; path: string }[];
  flags: string[];
  valued: string[];
}

function flagsOf(options: readonly Option[]): { flags: string[]; valued: string[] } {
  const flags: string[] = [];
  const valued: string[] = [];
  for (const o of options) {
    if (o.hidden) continue;
    const names = [o.long, o.short].filter((x): x is string => typeof x === 'string');
    flags.push(...names);
    if (o.required || o.optional) valued.push(...names);
  }
  return { flags, valued };
}

/** Every command of the tree with its subcommands (names and aliases) and flags, depth first. */
export function commandNodes(program: Command): Node[] {
  const globals = flagsOf(program.options);
  const nodes: Node[] = [];
  const visit = (cmd: Command, path: string): void => {
    const own = path === '' ? { flags: [], valued: [] } : flagsOf(cmd.options);
    const subs = cmd.commands.filter((c) => c.name() !== 'help');
    nodes.push({
      path,
      subcommands: subs.map((c) => ({ names: [c.name(), ...c.aliases()], path: path === '' ? c.name() : `${path} ${c.name()}` })),
      flags: [...own.flags, ...globals.flags, '--help', '-h'],
      valued: [...own.valued, ...globals.valued],
    });
    for (const c of subs) visit(c, path === '' ? c.name() : `${path} ${c.name()}`);
  };
  visit(program, '');
  return nodes;
}

function q(s: string): string {
  return `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

export function bashCompletion(program: Command): string {
  const nodes = commandNodes(program);
  const transitions: string[] = [];
  const subsCase: string[] = [];
  const flagsCase: string[] = [];
  const valuedCase: string[] = [];
  for (const n of nodes) {
    for (const s of n.subcommands) for (const name of s.names) transitions.push(`      ${q(`${n.path}:${name}`)}) path=${q(s.path)} ;;`);
    subsCase.push(`    ${q(n.path)}) echo ${q(n.subcommands.flatMap((s) => s.names).join(' '))} ;;`);
    flagsCase.push(`    ${q(n.path)}) echo ${q(n.flags.join(' '))} ;;`);
    valuedCase.push(`    ${q(n.path)}) echo ${q(n.valued.join(' '))} ;;`);
  }
  return `# bash completion for netctl (generated from its command tree by \`netctl completion bash\`)
# usage: source <(netctl completion bash)

_netctl_subcommands() {
  case "$1" in
${subsCase.join('\n')}
  esac
}

_netctl_flags() {
  case "$1" in
${flagsCase.join('\n')}
  esac
}

_netctl_valued_flags() {
  case "$1" in
${valuedCase.join('\n')}
  esac
}

_netctl() {
  local cur path w i skip
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    if [[ $w == -* ]]; then
      case " $(_netctl_valued_flags "$path") " in *" $w "*) skip=1 ;; esac
      continue
    fi
    case "$path:$w" in
${transitions.join('\n')}
    esac
  done
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_netctl_flags "$path")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_netctl_subcommands "$path")" -- "$cur")
  fi
}

complete -F _netctl netctl
`;
}
