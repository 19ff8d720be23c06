/**
 * The netmaster command line (bin/netmaster): Contiv's flags (`--etcd`, `--listen-url`) plus
 * TLS, client certificates, tokens and the log level. Secure by default: it refuses to start with
 * REST, the agent API or etcd unprotected unless given `--insecure` (auth/secure-config.ts).
 * Serves the REST API until SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createLogger } from '../lib/logger';
import { exitOnTerminationSignals } from '../lib/shutdown';
import { errorMessage } from '../lib/errors';
import { startNetmaster } from './netmaster';
import { parseListenUrl } from './rest/server';
import { netloomVersion } from './rest/app';
import { addAgentOptions, agentOptionsFrom } from './agent/wiring';
import { requireSecure } from './auth/secure-config';

export function buildCommand(): Command {
  return addAgentOptions(
    new Command('netmaster')
      .description('netloom netmaster: the intent store and Contiv-compatible REST API, on etcd v3')
      .version(netloomVersion())
      .option('--etcd <urls>', 'etcd client URLs, comma-separated (Contiv flag)', 'http://127.0.0.1:2379')
      .option('--etcd-endpoints <urls>', 'same as --etcd')
      .option('--etcd-cacert <file>', 'CA certificate to verify etcd')
      .option('--etcd-cert <file>', 'client certificate for etcd')
      .option('--etcd-key <file>', 'client key for etcd')
      .option('--listen-url <host:port>', 'where the REST API listens (Contiv flag)', '127.0.0.1:9999')
      .option('--tls-cert <file>', 'serve HTTPS with this certificate (needs --tls-key)')
      .option('--tls-key <file>', 'key of --tls-cert')
      .option(
        '--tls-client-ca <file>',
        'REST clients may authenticate with a certificate of this CA (subject O netloom:admin or netloom:read-only); the replicas forward agent queries to each other with their own certificate',
      )
      .option(
        '--advertise-url <url>',
        'the REST URL other netmaster replicas reach this one at (they forward netctl trace queries for agents held here; default: the --listen-url address)',
      )
      .option(
        '--auth-token <token>',
        "the admin role's bearer token: every REST call but GET /healthz needs a credential (or env NETMASTER_AUTH_TOKEN)",
      )
      .option('--read-only-token <token>', "the read-only role's bearer token (or env NETMASTER_READ_ONLY_TOKEN)")
      .option('--insecure', 'development only: start even with REST, the agent API or etcd unauthenticated (each gap is logged)')
      .option('--log-level <level>', 'trace, debug, info, warn, error or silent', process.env.NETLOOM_LOG_LEVEL ?? 'info'),
  );
}

export async function main(argv: string[]): Promise<void> {
  const cmd = buildCommand();
  cmd.parse(argv);
  const o = cmd.opts<{
    etcd: string;
    etcdEndpoints?: string;
    etcdCacert?: string;
    etcdCert?: string;
    etcdKey?: string;
    listenUrl: string;
    tlsCert?: string;
    tlsKey?: string;
    tlsClientCa?: string;
    authToken?: string;
    readOnlyToken?: string;
    insecure?: boolean;
    grpcTlsCert?: string;
    grpcClientCa?: string;
    advertiseUrl?: string;
    logLevel: string;
  }>();
  const logger = createLogger('netmaster', { level: o.logLevel });
  const endpoints = (o.etcdEndpoints ?? o.etcd)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (o.tlsClientCa && !o.tlsCert) throw new Error('--tls-client-ca needs --tls-cert and --tls-key');
  const authToken = o.authToken ?? process.env.NETMASTER_AUTH_TOKEN;
  const readOnlyToken = o.readOnlyToken ?? process.env.NETMASTER_READ_ONLY_TOKEN;
  const gaps = requireSecure(
    {
      etcdEndpoints: endpoints,
      etcdCert: o.etcdCert,
      tlsCert: o.tlsCert,
      tlsClientCa: o.tlsClientCa,
      authToken,
      readOnlyToken,
      grpcTlsCert: o.grpcTlsCert,
      grpcClientCa: o.grpcClientCa,
    },
    o.insecure === true,
  );
  for (const gap of gaps) logger.warn({ insecure: true }, `INSECURE: ${gap}`);
  const { host, port } = parseListenUrl(o.listenUrl);
  const etcdTls = {
    ...(o.etcdCacert ? { ca: readFileSync(o.etcdCacert) } : {}),
    ...(o.etcdCert ? { cert: readFileSync(o.etcdCert) } : {}),
    ...(o.etcdKey ? { key: readFileSync(o.etcdKey) } : {}),
  };
  const agent = agentOptionsFrom(cmd.opts(), cmd.getOptionValueSource('grpcListen') === 'default');
  const starting = startNetmaster({
    etcdEndpoints: endpoints,
    etcdTls,
    host,
    port,
    ...(o.tlsCert && o.tlsKey
      ? {
          tls: {
            cert: readFileSync(o.tlsCert),
            key: readFileSync(o.tlsKey),
            ...(o.tlsClientCa ? { clientCa: readFileSync(o.tlsClientCa) } : {}),
          },
        }
      : {}),
    ...(authToken ? { authToken } : {}),
    ...(readOnlyToken ? { readOnlyToken } : {}),
    ...(o.advertiseUrl ? { advertiseUrl: o.advertiseUrl } : {}),
    agent,
    logger,
    defaultMetrics: true,
  });
  // handled from here on, not once the start is over: REST answers before the agent side has
  // started (its etcd session, the cluster read), and a SIGTERM meanwhile must still stop cleanly
  exitOnTerminationSignals(async () => (await starting).stop(), { logger });
  await starting;
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`netmaster: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
