/**
 * `node dist/tools/kube-apiserver/main.js`: a Kubernetes API server stand-in for tests and the lab
 * (no kube-apiserver is installable on these machines). kube-apiserver's own flag names where it
 * has one. See docs/kubernetes.md, "The API server stand-in for tests".
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { errorMessage } from '../../lib/errors';
import { createLogger } from '../../lib/logger';
import { exitOnTerminationSignals } from '../../lib/shutdown';
import { loadTokenFile } from './auth';
import { ipRange, DEFAULT_RANGES } from './service-ips';
import { startKubeApiServer } from './server';

function portRange(v: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(v);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new InvalidArgumentError('want MIN-MAX, e.g. 30000-32767');
  return { min, max };
}

function cidr(v: string): string {
  try {
    ipRange(v);
  } catch (e) {
    throw new InvalidArgumentError(errorMessage(e));
  }
  return v;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('want a positive number of seconds');
  return n;
}

function delaySeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('want a number of seconds >= 0');
  return n;
}

export function buildCommand(): Command {
  return new Command('kube-apiserver')
    .description(
      'A Kubernetes API server stand-in on etcd v3 for tests and the lab: core, apps, networking, discovery and RBAC resources, watches with bookmarks and 410s, strategic merge patch, kubectl discovery and OpenAPI, an EndpointSlice controller',
    )
    .option('--etcd-servers <urls>', 'etcd client URLs, comma-separated', 'http://127.0.0.1:2379')
    .option('--etcd-cafile <file>', 'CA certificate to verify etcd')
    .option('--etcd-certfile <file>', 'client certificate for etcd')
    .option('--etcd-keyfile <file>', 'client key for etcd')
    .option('--etcd-prefix <prefix>', 'etcd key prefix of every object', '/registry')
    .option('--bind-address <ip>', 'address to listen on', '127.0.0.1')
    .option('--secure-port <port>', 'port to listen on (0: any free port, printed in the log)', '6443')
    .option('--tls-cert-file <file>', 'serve HTTPS with this certificate (needs --tls-private-key-file)')
    .option('--tls-private-key-file <file>', 'key of --tls-cert-file')
    .option(
      '--token-auth-file <file>',
      'bearer tokens, CSV lines token,user,uid[,"groups"]: every user is a cluster admin (RBAC is stored, not enforced)',
    )
    .option('--advertise-address <ip>', "the address the default/kubernetes Service's EndpointSlice names (default: --bind-address)")
    .option('--service-cluster-ip-range <cidr>', 'where Service ClusterIPs come from (IPv4)', cidr, DEFAULT_RANGES.cidr)
    .addOption(
      new Option('--service-node-port-range <range>', 'where NodePorts come from')
        .argParser(portRange)
        .default(
          { min: DEFAULT_RANGES.nodePortMin, max: DEFAULT_RANGES.nodePortMax },
          `${DEFAULT_RANGES.nodePortMin}-${DEFAULT_RANGES.nodePortMax}`,
        ),
    )
    .option('--watch-bookmark-interval <seconds>', 'how often a watch that asked for bookmarks gets one', seconds, 60)
    .option('--min-request-timeout <seconds>', 'a watch without timeoutSeconds ends after between this and twice this', seconds, 1800)
    .option('--no-endpointslice-controller', 'do not run the EndpointSlice controller (a test writes the slices itself)')
    .option(
      '--namespace-deletion-delay <seconds>',
      'how long a deleted namespace stays Terminating before it goes with its objects',
      delaySeconds,
      2,
    )
    .option(
      '--graceful-pod-deletion',
      'a pod bound to a node is deleted gracefully: deletionTimestamp first, gone when its kubelet deletes it with grace 0 (the lab with kubelets)',
    )
    .option('--insecure', 'development only: plain HTTP and/or no tokens (anonymous requests allowed)')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', process.env.NETLOOM_LOG_LEVEL ?? 'info');
}

export async function main(argv: string[]): Promise<void> {
  const cmd = buildCommand();
  cmd.parse(argv);
  const o = cmd.opts<{
    etcdServers: string;
    etcdCafile?: string;
    etcdCertfile?: string;
    etcdKeyfile?: string;
    etcdPrefix: string;
    bindAddress: string;
    securePort: string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    tokenAuthFile?: string;
    advertiseAddress?: string;
    serviceClusterIpRange: string;
    serviceNodePortRange: { min: number; max: number };
    watchBookmarkInterval: number;
    minRequestTimeout: number;
    endpointsliceController: boolean;
    namespaceDeletionDelay: number;
    gracefulPodDeletion?: boolean;
    insecure?: boolean;
    logLevel: string;
  }>();
  const logger = createLogger('kube-apiserver', { level: o.logLevel });
  if ((o.tlsCertFile === undefined) !== (o.tlsPrivateKeyFile === undefined))
    throw new Error('--tls-cert-file and --tls-private-key-file go together');
  if (!o.insecure && (!o.tlsCertFile || !o.tokenAuthFile))
    throw new Error('--tls-cert-file, --tls-private-key-file and --token-auth-file are required (or --insecure, for development)');
  const port = Number(o.securePort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--secure-port: want 0-65535');
  const server = await startKubeApiServer({
    etcdEndpoints: o.etcdServers
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    etcdTls: {
      ...(o.etcdCafile ? { ca: readFileSync(o.etcdCafile) } : {}),
      ...(o.etcdCertfile ? { cert: readFileSync(o.etcdCertfile) } : {}),
      ...(o.etcdKeyfile ? { key: readFileSync(o.etcdKeyfile) } : {}),
    },
    etcdPrefix: o.etcdPrefix.replace(/\/+$/, ''),
    host: o.bindAddress,
    port,
    ...(o.tlsCertFile && o.tlsPrivateKeyFile ? { tls: { cert: readFileSync(o.tlsCertFile), key: readFileSync(o.tlsPrivateKeyFile) } } : {}),
    users: o.tokenAuthFile ? loadTokenFile(o.tokenAuthFile) : new Map(),
    serviceRanges: { cidr: o.serviceClusterIpRange, nodePortMin: o.serviceNodePortRange.min, nodePortMax: o.serviceNodePortRange.max },
    ...(o.advertiseAddress ? { advertiseAddress: o.advertiseAddress } : {}),
    bookmarkIntervalMs: o.watchBookmarkInterval * 1000,
    minRequestTimeoutMs: o.minRequestTimeout * 1000,
    endpointSliceController: o.endpointsliceController,
    namespaceDeletionDelayMs: o.namespaceDeletionDelay * 1000,
    ...(o.gracefulPodDeletion ? { gracefulPodDeletion: true } : {}),
    logger,
  });
  exitOnTerminationSignals(() => server.stop(), { logger });
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`kube-apiserver: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
