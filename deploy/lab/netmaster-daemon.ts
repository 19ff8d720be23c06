/**
 * The lab's netmaster process: the REST API (as `bin/netmaster`) plus the gRPC agent service on
 * `--grpc-listen`, in one process on one etcd client. `bin/netmaster` does not serve the agent
 * API yet (docs/agent-api.md: it is wired into netmaster/main.ts later); until then the lab starts
 * this entry point. Stops on SIGTERM/SIGINT.
 */
import { Command } from 'commander';
import { createLogger } from '../../lib/logger';
import { errorMessage } from '../../lib/errors';
import { startNetmaster } from '../../netmaster/netmaster';
import { parseListenUrl } from '../../netmaster/rest/server';
import { startAgentServer } from '../../netmaster/agent/server';

export async function main(argv: string[]): Promise<void> {
  const cmd = new Command('lab-netmaster')
    .requiredOption('--etcd <urls>', 'etcd client URLs, comma-separated')
    .requiredOption('--listen-url <host:port>', 'REST API address')
    .requiredOption('--grpc-listen <host:port>', 'agent gRPC service address')
    .option('--log-level <level>', 'pino level', 'info');
  cmd.parse(argv);
  const o = cmd.opts<{ etcd: string; listenUrl: string; grpcListen: string; logLevel: string }>();
  const logger = createLogger('netmaster', { level: o.logLevel });
  const { host, port } = parseListenUrl(o.listenUrl);
  const nm = await startNetmaster({ etcdEndpoints: o.etcd.split(',').filter((s) => s !== ''), host, port, logger, defaultMetrics: true });
  const grpc = await startAgentServer({ service: nm.service, listen: o.grpcListen, logger });
  logger.info({ rest: nm.url, grpc: grpc.address }, 'lab netmaster serving REST and the agent API');
  let stopping = false;
  const shutdown = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'shutting down');
    setTimeout(() => process.exit(1), 5_000).unref();
    grpc
      .stop()
      .then(() => nm.stop())
      .then(
        () => process.exit(0),
        (e: unknown) => {
          logger.error({ err: errorMessage(e) }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`lab netmaster: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
