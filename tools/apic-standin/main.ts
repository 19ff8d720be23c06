/**
 * `node dist/tools/apic-standin/main.js`: a Cisco APIC stand-in for tests and the lab (docs/aci.md):
 * login and tokens or signed requests, nested-tree POSTs checked against ACI's containment and property rules,
 * queries by DN and class, every call recorded, faults on demand, the tree kept in a file.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../../lib/logger';
import { exitOnTerminationSignals } from '../../lib/shutdown';
import { startApicStandin } from './server';

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('want a positive number');
  return n;
}

function portNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('want a port number (0: any free port)');
  return n;
}

/** `--user-cert DN=FILE`, repeatable: DN -> the certificate's PEM. */
function userCert(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const at = v.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('want DN=FILE (DN uni/userext/user-NAME/usercert-CERT, FILE a PEM certificate)');
  return { ...prev, [v.slice(0, at)]: readFileSync(v.slice(at + 1), 'utf8') };
}

async function main(): Promise<void> {
  const o = new Command('apic-standin')
    .description('A Cisco APIC stand-in: aaaLogin/aaaRefresh, /api/mo and /api/class, ACI containment and property checks')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0: any free port, printed in the log)', portNumber, 0)
    .option('--user <name>', 'the one user aaaLogin accepts', 'admin')
    .option('--password-file <file>', 'file holding the password aaaLogin accepts (default: the password "netloom")')
    .option(
      '--user-cert <dn=file>',
      "accept requests signed with this certificate's key (APIC-Request-Signature); DN uni/userext/user-USER/usercert-NAME; repeatable",
      userCert,
    )
    .option('--token-lifetime <seconds>', 'seconds a token lives without aaaRefresh', positive, 600)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (needs --tls-key)')
    .option('--tls-key <file>', 'key of --tls-cert')
    .option('--state <file>', 'keep the tree in this JSON file across restarts')
    .parse()
    .opts<{
      host: string;
      port: number;
      user: string;
      passwordFile?: string;
      userCert?: Record<string, string>;
      tokenLifetime: number;
      tlsCert?: string;
      tlsKey?: string;
      state?: string;
    }>();
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  const logger = createLogger('apic-standin');
  const s = await startApicStandin({
    host: o.host,
    port: o.port,
    user: o.user,
    password: o.passwordFile ? readFileSync(o.passwordFile, 'utf8').trim() : 'netloom',
    tokenLifetimeSeconds: o.tokenLifetime,
    ...(o.userCert ? { userCerts: o.userCert } : {}),
    ...(o.tlsCert && o.tlsKey ? { tls: { cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey) } } : {}),
    ...(o.state ? { statePath: o.state } : {}),
  });
  logger.info({ url: s.url }, 'APIC stand-in serving');
  exitOnTerminationSignals(() => s.close(), { logger });
}

main().catch((e: unknown) => {
  process.stderr.write(`apic-standin: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
