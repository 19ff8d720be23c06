/**
 * Everything netmaster runs for its agents, as one unit for netmaster.ts/main.ts: the gRPC agent
 * server and, under leader election, the dead-host liveness task. Also the command-line options
 * that configure them (`addAgentOptions` on a commander Command, `agentOptionsFrom` to read them).
 */
import { kubeServiceProblems } from './kube-service-view';
import { IN_CLUSTER } from '../../lib/kube/in-cluster';
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import { NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { LeaderElector, runWhileLeader } from '../ha/leader';
import { runGroupVlanSync } from '../service/group-vlan-sync';
import type { ApicConnection } from '../aci/run';
import { checkCertDn, rsaSigningKey } from '../aci/request-signature';
import type { NetmasterService } from '../service/service';
import { createLivenessMetrics, DEFAULT_DEAD_HOST_GRACE_MS, runLiveness } from './liveness';
import { createAgentRegistryMetrics, DEFAULT_LEASE_TTL_SECONDS } from './registry';
import { parseVtepSubnets } from './vtep-policy';
import type { RestCredentials } from '../../lib/rest-credentials';
import { DEFAULT_GRPC_LISTEN, startAgentServer, type AgentServerTls, type RunningAgentServer } from './server';

export interface AgentSideOptions {
  /** host:port of the gRPC server */
  grpcListen: string;
  tls?: AgentServerTls;
  agentLeaseTtlSeconds: number;
  deadHostGraceMs: number;
  /** lease TTL of the leader election that runs the liveness task */
  leaderLeaseTtlSeconds: number;
  /** this replica's identity in the election (default: the gRPC address) */
  replicaId?: string;
  /**
   * the listen address is only the default: when it is taken (another netmaster on this machine),
   * log an error and run without the agent API instead of failing the whole netmaster
   */
  bindOptional?: boolean;
  /** this replica's REST URL (set by startNetmaster once REST listens) */
  restUrl?: string;
  /** how forwarded agent queries authenticate to the other replicas' REST APIs (set by startNetmaster) */
  restCredentials?: RestCredentials;
  /** netmaster's REST certificate (set by startNetmaster): it acts for no host either */
  ownCertificates?: Buffer[];
  /** IPv4 CIDRs VTEPs must lie in (`--vtep-subnets`) */
  vtepSubnets?: string[];
  /** run the Kubernetes controller (leader only) with this kubeconfig, or `in-cluster` (docs/kubernetes.md) */
  kubeconfig?: string;
  /** run the ACI gateway (leader only) against this APIC (docs/aci.md) */
  apic?: ApicConnection;
}

export const DEFAULT_LEADER_LEASE_TTL_SECONDS = 10;

export interface RunningAgentSide {
  server: RunningAgentServer;
  elector: LeaderElector;
  stop(): Promise<void>;
}

/**
 * Start the agent server and the leader-only liveness task. Undefined when `bindOptional` and the
 * address is taken (logged as an error).
 */
export async function startAgentSide(
  service: NetmasterService,
  opts: AgentSideOptions,
  logger: Logger,
  registry?: Registry,
): Promise<RunningAgentSide | undefined> {
  let server: RunningAgentServer;
  try {
    server = await startAgentServer({
      service,
      listen: opts.grpcListen,
      leaseTtlSeconds: opts.agentLeaseTtlSeconds,
      registryMetrics: createAgentRegistryMetrics(registry),
      ...(opts.replicaId !== undefined ? { replicaId: opts.replicaId } : {}),
      logger,
      ...(registry ? { registry } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.restUrl ? { restUrl: opts.restUrl } : {}),
      ...(opts.restCredentials ? { restCredentials: opts.restCredentials } : {}),
      ...(opts.ownCertificates ? { ownCertificates: opts.ownCertificates } : {}),
      ...(opts.vtepSubnets ? { vtepSubnets: opts.vtepSubnets } : {}),
    });
  } catch (e) {
    if (!opts.bindOptional || !(e instanceof NetloomError && e.field === 'listen')) throw e;
    logger.error(
      { listen: opts.grpcListen, err: e.message },
      'agent API not started: the default gRPC address is taken (set --grpc-listen)',
    );
    return undefined;
  }
  const elector = new LeaderElector({
    store: service.kv,
    id: opts.replicaId ?? server.address,
    ttlSeconds: opts.leaderLeaseTtlSeconds,
    logger,
  });
  const metrics = createLivenessMetrics(registry);
  const detach = runWhileLeader(
    elector,
    (signal) => runLiveness({ service, logger, graceMs: opts.deadHostGraceMs, metrics }, signal),
    logger,
  );
  // groups' own VLANs follow the fabric mode (ACI: model/group-tag.ts), whether or not an APIC is set
  const detachGroupVlans = runWhileLeader(
    elector,
    (signal) => runGroupVlanSync({ service, logger: logger.child({ part: 'group-vlan' }) }, signal),
    logger,
  );
  const kubeconfig = opts.kubeconfig;
  const detachKube = kubeconfig
    ? runWhileLeader(
        elector,
        async (signal) => {
          // loaded only here: @kubernetes/client-node takes ~0.85 s to load
          const { runKubeController } = await import('../kube/run');
          const cache = server.cache;
          // the views' resolution of Services, for the controller's Warning Events
          const serviceProblems = {
            subscribe: (cb: () => void) => cache.subscribe(() => cb()),
            problemsOf: (storeKey: string) => kubeServiceProblems(cache.state, storeKey),
          };
          await runKubeController({ kubeconfig, sink: service.kube, logger, serviceProblems, ...(registry ? { registry } : {}) }, signal);
        },
        logger,
      )
    : undefined;
  const apic = opts.apic;
  const detachAci = apic
    ? runWhileLeader(
        elector,
        async (signal) => {
          const { runAciGateway } = await import('../aci/run');
          await runAciGateway(
            {
              service,
              apic,
              replica: opts.replicaId ?? server.address,
              logger: logger.child({ part: 'aci' }),
              ...(registry ? { registry } : {}),
            },
            signal,
          );
        },
        logger,
      )
    : undefined;
  elector.start();
  return {
    server,
    elector,
    async stop() {
      detachKube?.();
      detachAci?.();
      detachGroupVlans();
      detach();
      await elector.stop();
      await server.stop();
    },
  };
}

/** Add the agent API options to netmaster's command line. */
export function addAgentOptions(cmd: Command): Command {
  return cmd
    .option('--grpc-listen <host:port>', 'where the gRPC agent API listens (Contiv had none)', DEFAULT_GRPC_LISTEN)
    .option('--grpc-tls-cert <file>', 'serve the agent API over TLS with this certificate (needs --grpc-tls-key)')
    .option('--grpc-tls-key <file>', 'key of --grpc-tls-cert')
    .option(
      '--grpc-client-ca <file>',
      'require agent certificates signed by this CA (mutual TLS); each agent then acts only for the one host its certificate names',
    )
    .option('--grpc-require-host-match', 'no longer needed: with --grpc-client-ca host identity is always enforced (kept for old scripts)')
    .option(
      '--vtep-subnets <cidrs>',
      'underlay subnets (IPv4 CIDRs, comma-separated) every VTEP an agent registers must lie in (default: any unicast address)',
    )
    .option('--agent-lease-ttl <seconds>', 'lease TTL of an agent registration', String(DEFAULT_LEASE_TTL_SECONDS))
    .option(
      '--dead-host-grace <seconds>',
      "release a host's endpoints when its agent has been gone this long",
      String(DEFAULT_DEAD_HOST_GRACE_MS / 1000),
    )
    .option(
      '--leader-lease-ttl <seconds>',
      'lease TTL of the leader election (the leader runs the dead-host cleanup)',
      String(DEFAULT_LEADER_LEASE_TTL_SECONDS),
    )
    .option('--apic-url <url>', 'ACI: the leader reconciles the APIC at this URL when networkInfraType is aci (docs/aci.md)')
    .option('--apic-user <name>', 'ACI: the APIC user', 'admin')
    .option('--apic-password-file <file>', 'ACI: file holding the APIC password (or sign requests: --apic-cert-dn and --apic-key-file)')
    .option(
      '--apic-cert-dn <dn>',
      'ACI: sign every request instead of logging in, as this user certificate (uni/userext/user-NAME/usercert-CERT)',
    )
    .option('--apic-key-file <file>', "ACI: the RSA private key (PEM) of --apic-cert-dn's certificate")
    .option('--apic-ca <file>', "ACI: CA certificate of the APIC's HTTPS certificate (default: the system's CAs)")
    .option(
      '--kubeconfig <file>',
      `Kubernetes: the leader keeps Namespaces and NetworkPolicies from this API server as netloom intent; '${IN_CLUSTER}': the pod's service account (docs/kubernetes.md)`,
    );
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new NetloomError('INVALID_ARGUMENT', `${flag} must be a positive number of seconds, got '${text}'`, { field: flag });
  return n;
}

/**
 * Read the options added by addAgentOptions (files are read here). `listenIsDefault`: the user
 * did not give --grpc-listen (commander's getOptionValueSource('grpcListen') === 'default').
 */
export function agentOptionsFrom(
  o: {
    grpcListen: string;
    grpcTlsCert?: string;
    grpcTlsKey?: string;
    grpcClientCa?: string;
    grpcRequireHostMatch?: boolean;
    vtepSubnets?: string;
    agentLeaseTtl: string;
    deadHostGrace: string;
    leaderLeaseTtl: string;
    kubeconfig?: string;
    apicUrl?: string;
    apicUser?: string;
    apicPasswordFile?: string;
    apicCertDn?: string;
    apicKeyFile?: string;
    apicCa?: string;
  },
  listenIsDefault = false,
): AgentSideOptions {
  if ((o.grpcTlsCert === undefined) !== (o.grpcTlsKey === undefined))
    throw new NetloomError('INVALID_ARGUMENT', '--grpc-tls-cert and --grpc-tls-key go together', { field: '--grpc-tls-cert' });
  if (o.grpcClientCa && !o.grpcTlsCert)
    throw new NetloomError('INVALID_ARGUMENT', '--grpc-client-ca needs --grpc-tls-cert and --grpc-tls-key', { field: '--grpc-client-ca' });
  if (o.grpcRequireHostMatch && !o.grpcClientCa)
    throw new NetloomError('INVALID_ARGUMENT', '--grpc-require-host-match needs --grpc-client-ca', { field: '--grpc-require-host-match' });
  if (!/^.+:\d+$/.test(o.grpcListen))
    throw new NetloomError('INVALID_ARGUMENT', `--grpc-listen must be host:port, got '${o.grpcListen}'`, { field: '--grpc-listen' });
  const ttl = positive(o.agentLeaseTtl, '--agent-lease-ttl');
  const vtepSubnets = (o.vtepSubnets ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  parseVtepSubnets(vtepSubnets);
  return {
    grpcListen: o.grpcListen,
    ...(o.grpcTlsCert && o.grpcTlsKey
      ? {
          tls: {
            cert: readFileSync(o.grpcTlsCert),
            key: readFileSync(o.grpcTlsKey),
            ...(o.grpcClientCa ? { clientCa: readFileSync(o.grpcClientCa) } : {}),
          },
        }
      : {}),
    ...(vtepSubnets.length > 0 ? { vtepSubnets } : {}),
    agentLeaseTtlSeconds: Math.max(1, Math.round(ttl)),
    deadHostGraceMs: Math.round(positive(o.deadHostGrace, '--dead-host-grace') * 1000),
    leaderLeaseTtlSeconds: Math.max(1, Math.round(positive(o.leaderLeaseTtl, '--leader-lease-ttl'))),
    ...(listenIsDefault ? { bindOptional: true } : {}),
    ...(o.kubeconfig ? { kubeconfig: kubeconfigArg(o.kubeconfig) } : {}),
    ...(o.apicUrl ? { apic: apicArgs(o.apicUrl, o) } : {}),
  };
}

function kubeconfigArg(v: string): string {
  if (v !== IN_CLUSTER && !existsSync(v))
    throw new NetloomError('INVALID_ARGUMENT', `--kubeconfig ${v}: no such file`, { field: '--kubeconfig' });
  return v;
}

function apicArgs(
  url: string,
  o: { apicUser?: string; apicPasswordFile?: string; apicCertDn?: string; apicKeyFile?: string; apicCa?: string },
): ApicConnection {
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new NetloomError('INVALID_ARGUMENT', `--apic-url must be an http(s) URL, got '${url}'`, { field: '--apic-url' });
  const ca = o.apicCa ? { ca: readFileSync(o.apicCa) } : {};
  const signed = o.apicCertDn !== undefined || o.apicKeyFile !== undefined;
  if (signed && o.apicPasswordFile !== undefined)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      '--apic-password-file and --apic-cert-dn/--apic-key-file exclude each other: one way to authenticate',
      {
        field: '--apic-password-file',
      },
    );
  if (signed) {
    if (!o.apicCertDn) throw new NetloomError('INVALID_ARGUMENT', '--apic-key-file needs --apic-cert-dn', { field: '--apic-cert-dn' });
    if (!o.apicKeyFile) throw new NetloomError('INVALID_ARGUMENT', '--apic-cert-dn needs --apic-key-file', { field: '--apic-key-file' });
    return {
      url,
      certDn: checkCertDn(o.apicCertDn, '--apic-cert-dn'),
      key: rsaSigningKey(readFileSync(o.apicKeyFile), '--apic-key-file'),
      ...ca,
    };
  }
  if (!o.apicPasswordFile)
    throw new NetloomError('INVALID_ARGUMENT', '--apic-url needs --apic-password-file, or --apic-cert-dn and --apic-key-file', {
      field: '--apic-password-file',
    });
  return { url, user: o.apicUser ?? 'admin', password: readFileSync(o.apicPasswordFile, 'utf8').trim(), ...ca };
}
