/**
 * netctl: the Contiv-compatible command line client of netmaster's REST API. `run(argv, io)` runs
 * one command in-process with injectable output and environment and resolves to the exit code
 * (0 ok, 1 server/network error, 2 usage error); the bin/netctl launcher calls it for real.
 */
import { Command, CommanderError } from 'commander';
import { errorLine, EXIT_OK, EXIT_SERVER, EXIT_USAGE, isUsageError, UsageError } from './errors';
import { normalizeArgv } from './argv';
import { bashCompletion } from './completion';
import type { CliIo, Runtime } from './context';
import { registerAciGw } from './commands/aci-gw';
import { registerAppProfile } from './commands/app-profile';
import { registerBgp } from './commands/bgp';
import { registerConsistency } from './commands/consistency';
import { registerEndpoint } from './commands/endpoint';
import { registerExternalContracts } from './commands/external-contracts';
import { registerGlobal } from './commands/global';
import { registerGroup } from './commands/group';
import { registerKube } from './commands/kube';
import { registerNetprofile } from './commands/netprofile';
import { registerNetwork } from './commands/network';
import { registerPolicy } from './commands/policy';
import { registerService } from './commands/service';
import { registerTenant } from './commands/tenant';
import { registerTrace } from './commands/trace';
import { clientVersion, registerVersion, versionText } from './commands/version';

export type { CliIo } from './context';

/** The whole command tree; `sink` receives commander's own help and error text. */
export function buildProgram(rt: Runtime, sink: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command('netctl');
  program
    .description('A command line client for netloom netmaster (compatible with Contiv netplugin netctl)')
    .usage('[global options] command [command options] [arguments...]')
    .option(
      '--netmaster <url>',
      "The URL of the netmaster (env NETMASTER; default: the config's, else the lab's, else http://netmaster:9999)",
    )
    .option('--insecure', 'if true, strict certificate checking will be disabled (env INSECURE)')
    .option('--timeout <seconds>', 'How long to wait for netmaster', '30')
    .option('--token <token>', "Bearer token of netmaster's --auth-token or --read-only-token (env NETMASTER_AUTH_TOKEN)")
    .option('--cacert <file>', "CA that signs netmaster's certificate (env NETMASTER_CACERT)")
    .option('--cert <file>', 'client certificate (env NETMASTER_CERT; needs --key)')
    .option('--key <file>', 'key of --cert (env NETMASTER_KEY)')
    .option(
      '--config <file>',
      'client config: URL and credentials as JSON (env NETCTL_CONFIG; default: the netctl.json of the lab whose netmaster is used)',
    )
    .option('--lab <name>', "talk to this bin/netloom-lab lab's netmaster with its credentials (env NETLOOM_LAB; default: netloom)")
    .version(versionText(clientVersion(rt.io.env)).trimEnd(), '--version', 'print the version')
    .exitOverride()
    .allowExcessArguments(true)
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: sink.out, writeErr: sink.err, outputError: () => undefined })
    .helpCommand(false);

  registerAciGw(program, rt);
  registerAppProfile(program, rt);
  registerBgp(program, rt);
  registerEndpoint(program, rt);
  registerExternalContracts(program, rt);
  registerGlobal(program, rt);
  registerGroup(program, rt);
  registerKube(program, rt);
  registerNetwork(program, rt);
  registerNetprofile(program, rt);
  registerPolicy(program, rt);
  registerService(program, rt);
  registerTenant(program, rt);
  registerVersion(program, rt);
  registerConsistency(program, rt);
  registerTrace(program, rt);

  program
    .command('completion')
    .description('Print a shell completion script (bash)')
    .argument('[shell]', 'shell to complete for', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash') throw new UsageError(`completion for '${shell}' is not supported: only bash`, 'shell');
      rt.out(bashCompletion(program));
    });
  return program;
}

/** Run netctl with `argv` (the arguments after the program name). Never throws; returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const rt: Runtime = { io, out: io.stdout };
  let commanderErr = '';
  const program = buildProgram(rt, { out: io.stdout, err: (s) => (commanderErr += s) });
  try {
    await program.parseAsync(normalizeArgv(program, argv), { from: 'user' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      if (e.code === 'commander.help') {
        // `netctl` or `netctl net` without a subcommand: show the help on stdout, as Contiv did
        io.stdout(commanderErr);
        return EXIT_OK;
      }
      io.stderr(
        `netctl: ${e.message
          .replace(/^error: /, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim()}\n`,
      );
      return EXIT_USAGE;
    }
    io.stderr(errorLine(e) + '\n');
    return isUsageError(e) ? EXIT_USAGE : EXIT_SERVER;
  }
}

if (require.main === module) {
  // `netctl net ls | head -1`: a reader that goes away is not an error worth a stack trace
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  run(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`netctl: ${String(e)}\n`);
      process.exitCode = EXIT_SERVER;
    },
  );
}
