/**
 * The netplugin command line (bin/netplugin): the per-host agent. Sets up br-int (and br-phy with
 * the uplink and VTEP address, or with --one-bridge both on br-int) through OVSDB, follows the desired state (netmaster, or a fabric
 * file for tests and development), programs br-int over OpenFlow, and serves CNI (and CNM when
 * asked). SIGTERM/SIGINT stop serving and leave the flows on the switch.
 */
import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { Command, Option } from 'commander';
import { exitOnTerminationSignals } from '../lib/shutdown';
import { errorMessage, NetloomError } from '../lib/errors';
import { createLogger } from '../lib/logger';
import { run } from '../lib/exec';
import { Agent } from './agent/agent';
import { vtepAddress, vtepBridge } from './agent/bridge-setup';
import type { DesiredStateSource, EndpointAllocator, NetworkCatalog } from './agent/fabric';
import { FileFabric } from './agent/file-fabric';
import { createAgentMetrics } from './agent/metrics';
import { NetmasterFabric } from './agent/netmaster-adapter';
import { BlockAllocator } from './agent/block-allocator';
import { OverlaySource } from './agent/overlay-source';
import { IpamStore } from './ipam/ipam-store';
import { tracePacketOf, traceResultToProto } from './trace/trace-wire';
import { NetmasterClient } from './netmaster-client/client';
import { parseNetmasterAddresses } from './netmaster-client/addresses';
import { readClientTls } from './netmaster-client/tls-files';
import type { Logger } from '../lib/logger';
import { IN_CLUSTER } from '../lib/kube/in-cluster';
import { AgentCniBackend } from './backends/cni-backend';
import { AgentCnmBackend } from './backends/cnm-backend';
import { DEFAULT_AGENT_SOCKET, listenCni } from './cni';
import { startCnmPlugin } from './cnm';
import { DockerNetworkReconciler } from './docker/docker-networks';
import { DEFAULT_DOCKER_SOCKET, DockerEngineClient } from './docker/engine-client';
import { BgpSpeaker } from './agent/bgp-speaker';
import { prepareRoutedUplink } from './routed/routed-uplink';
import { registerBgpMetrics } from './agent/bgp-metrics';
import { bgpStatusToProto } from './agent/bgp-inspect-wire';

export interface NetpluginOptions {
  host: string;
  netmasterGrpc?: string;
  netmasterStallTimeout: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  fabricFile?: string;
  ovsRundir: string;
  bridge: string;
  phyBridge: string;
  oneBridge?: boolean;
  datapath: 'netdev' | 'system';
  uplink?: string;
  routedUplink?: string;
  vtepIp?: string;
  underlayMtu: string;
  txChecksumOff: 'auto' | 'on' | 'off';
  userspaceTso: 'auto' | 'off';
  cniSocket: string;
  cnmSocket?: string;
  cnmSwarmSocket?: string;
  kubeconfig?: string;
  kubeNodeName?: string;
  kubeTenantPerNamespace?: boolean;
  kubePodWait: string;
  cnmState: string;
  dockerNetworks?: boolean;
  dockerSocket?: string;
  dockerNetworksInterval: string;
  stateDir: string;
  metricsListen?: string;
  logLevel: string;
  hostNetwork: boolean;
  datapathPurge: string;
  ipamBlocks: boolean;
  ipamLowWater: string;
  ipamIdleRelease: string;
  bgp: boolean;
  gobgpd: string;
  bgpApi?: string;
  bgpListenPort: string;
}

export function buildCommand(): Command {
  return new Command('netplugin')
    .description('netloom netplugin: the per-host agent that programs Open vSwitch and plugs containers in (CNI, CNM)')
    .option('--host <name>', "this host's name as netmaster knows it", process.env.HOSTNAME ?? 'localhost')
    .option(
      '--netmaster-grpc <host:port>',
      "netmaster's agent gRPC service; several replicas as host:port,host:port,... (the agent starts on one picked by a hash of --host, so that agents spread over them; on a failure it moves to the next)",
    )
    .option(
      '--netmaster-stall-timeout <seconds>',
      'move to another replica when the desired-state stream stays this long behind the etcd revision its heartbeats report, or no stream opens (0: never)',
      '15',
    )
    .option('--tls-ca <file>', 'CA certificate to verify netmaster')
    .option('--tls-cert <file>', 'client certificate for netmaster')
    .option('--tls-key <file>', 'key of --tls-cert')
    .option('--insecure', 'development only: talk to netmaster without TLS or without a client certificate (netplugin refuses otherwise)')
    .option(
      '--fabric-file <file>',
      "instead of netmaster: read this host's desired state (HostState JSON) from a file (tests, development)",
    )
    .option(
      '--ovs-rundir <dir>',
      'Open vSwitch run directory with db.sock and <bridge>.mgmt (or env OVS_RUNDIR)',
      process.env.OVS_RUNDIR ?? '/var/run/openvswitch',
    )
    .option('--bridge <name>', 'integration bridge', 'br-int')
    .option('--phy-bridge <name>', 'bridge that owns the uplink NIC and the VTEP address', 'br-phy')
    .addOption(new Option('--datapath <type>', 'OVS datapath type').choices(['netdev', 'system']).default('system'))
    .option(
      '--one-bridge',
      'put the --uplink NIC and the VTEP address on the integration bridge itself, no --phy-bridge (a host made with two bridges is converted; docs/netplugin.md)',
    )
    .option('--uplink <if>', 'data NIC carrying VLAN networks and VXLAN (put on --phy-bridge)')
    .option(
      '--routed-uplink <if>',
      'kernel interface on the underlay for routed (BGP) traffic, beside an --uplink in a userspace bridge: its address is the next hop this host announces, learned routes leave through it (docs/bgp.md)',
    )
    .option('--vtep-ip <cidr>', 'VTEP address with prefix (enables the VXLAN port); put on --phy-bridge when --uplink is given')
    .option('--underlay-mtu <n>', 'MTU of the underlay (VXLAN endpoints get 50 less)', '1500')
    .addOption(
      new Option('--tx-checksum-off <mode>', 'ethtool -K <if> tx off in containers (auto: on the netdev datapath)')
        .choices(['auto', 'on', 'off'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--userspace-tso <mode>',
        "netdev datapath: set OVS's other_config:userspace-tso-enable (read at ovs-vswitchd's start) and, while the switch has it, leave VLAN networks' containers their tx checksum (auto: with --datapath netdev; the kernel datapath needs none of it)",
      )
        .choices(['auto', 'off'])
        .default('auto'),
    )
    .option('--cni-socket <path>', 'where the CNI shim (bin/netloom-cni) connects', DEFAULT_AGENT_SOCKET)
    .option('--cnm-socket <path>', 'serve the Docker CNM remote driver here (e.g. /run/docker/plugins/netloom.sock); off when not given')
    .option(
      '--cnm-swarm-socket <path>',
      "also serve the CNM driver here with Scope global, for the managed plugin's relay (swarm; e.g. /run/netloom/cnm-swarm.sock, docs/cnm.md); needs --cnm-socket",
    )
    .option('--cnm-state <file>', 'CNM plugin state file', '/var/lib/netloom/cnm-state.json')
    .option(
      '--docker-networks',
      "keep a Docker network NETWORK/TENANT for every netloom network in this host's dockerd (needs --cnm-socket), removing the ones whose netloom network is gone",
    )
    .option(
      '--docker-socket <path>',
      `this host's dockerd API socket: for --docker-networks (default ${DEFAULT_DOCKER_SOCKET}), and when given, short-form networks (-d netloom without --ipam-driver) are remade with netloom's IPAM`,
    )
    .option('--docker-networks-interval <seconds>', 'how often --docker-networks compares netloom and dockerd', '5')
    .option('--state-dir <dir>', 'agent state (endpoint records)', '/var/lib/netloom/netplugin')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics on http://host:port/metrics')
    .option(
      '--no-host-network',
      "leave the host's kernel alone: no tenant gateway ports, no nftables table, rules or routes (no egress, host access or published ports)",
    )
    .option('--no-ipam-blocks', 'allocate every address with netmaster (CreateEndpoint) instead of from address blocks this host claims')
    .option('--ipam-low-water <n>', 'claim another address block of a network when fewer addresses than this are free here', '8')
    .option(
      '--ipam-idle-release <seconds>',
      'give back an address block empty for this long (one kept per network this host has endpoints in; 0: never)',
      '600',
    )
    .addOption(
      new Option(
        '--datapath-purge <when>',
        "empty OVS's datapath flow cache after each flow change (auto: only on an Open vSwitch whose userspace datapath can keep a stale megaflow, before 3.1.3: docs/policy.md)",
      )
        .choices(['auto', 'always', 'never'])
        .default('auto'),
    )
    .option('--no-bgp', 'run no BGP speaker even when netmaster gives this host BGP settings (routed networks are then not announced)')
    .option('--gobgpd <path>', 'the gobgpd program the agent starts for BGP', 'gobgpd')
    .option('--bgp-api <addr>', "gobgpd's gRPC API: unix:///PATH or 127.0.0.1:PORT (default unix://<state-dir>/gobgpd.sock)")
    .option('--bgp-listen-port <n>', "BGP's TCP port (-1: listen on none, outbound sessions only)", '179')
    .option(
      '--kubeconfig <file>',
      `Kubernetes: read this node's pods from the API server, so that a pod's CNI ADD takes its tenant, network, group and labels from the pod; '${IN_CLUSTER}': the pod's service account (docs/kubernetes.md)`,
    )
    .option('--kube-node-name <name>', "this node's name in the Kubernetes API (default: --host)")
    .option(
      '--kube-tenant-per-namespace',
      "each pod's namespace is its tenant (default: the CNI configuration's tenant, one for the cluster)",
    )
    .option(
      '--kube-pod-wait <seconds>',
      'how long a CNI ADD waits for its pod and its namespace to reach the agent from the API server',
      '10',
    )
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent', process.env.NETLOOM_LOG_LEVEL ?? 'info');
}

function hostPort(s: string, field: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(s);
  const port = Number(m?.[2]);
  if (!m || m[1] === '' || port < 0 || port > 65535)
    throw new NetloomError('INVALID_ARGUMENT', `--${field} must be host:port, got ${JSON.stringify(s)}`, { field });
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function controlPlane(o: NetpluginOptions, logger: Logger): DesiredStateSource & EndpointAllocator & NetworkCatalog {
  if (o.fabricFile && o.netmasterGrpc)
    throw new NetloomError('INVALID_ARGUMENT', 'give --netmaster-grpc or --fabric-file, not both', { field: 'fabric-file' });
  if (o.fabricFile) return new FileFabric(o.fabricFile, { logger });
  if (!o.netmasterGrpc) throw new NetloomError('INVALID_ARGUMENT', 'give --netmaster-grpc (or --fabric-file)', { field: 'netmaster-grpc' });
  const addresses = parseNetmasterAddresses(o.netmasterGrpc, 'netmaster-grpc');
  const stallTimeout = Number(o.netmasterStallTimeout);
  if (o.netmasterStallTimeout.trim() === '' || !Number.isFinite(stallTimeout) || stallTimeout < 0 || stallTimeout > 3600)
    throw new NetloomError('INVALID_ARGUMENT', '--netmaster-stall-timeout must be 0..3600 seconds', { field: 'netmaster-stall-timeout' });
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined))
    throw new NetloomError('INVALID_ARGUMENT', '--tls-cert and --tls-key go together', { field: 'tls-cert' });
  if (o.tlsCert && !o.tlsCa) throw new NetloomError('INVALID_ARGUMENT', '--tls-cert needs --tls-ca', { field: 'tls-ca' });
  // secure by default: the agent proves its host identity with its certificate (docs/security.md)
  if (!o.tlsCert && !o.insecure)
    throw new NetloomError(
      'INVALID_ARGUMENT',
      "refusing to talk to netmaster without mutual TLS: give --tls-ca, --tls-cert and --tls-key (this host's certificate), or --insecure (development only)",
      { field: 'tls-cert' },
    );
  if (!o.tlsCert) logger.warn({ insecure: true }, 'INSECURE: netmaster is reached without TLS or without a client certificate');
  const client = new NetmasterClient({
    address: addresses,
    host: o.host,
    ...(o.vtepIp ? { vtepIp: vtepAddress(o.vtepIp) } : {}),
    capabilities: ['vlan', 'vxlan'],
    agentVersion: 'netplugin',
    // heartbeats acknowledge what the agent realized (NetmasterFabric.realized), not what arrived
    manualAck: true,
    stallTimeoutMs: Math.round(stallTimeout * 1000),
    logger,
    ...(o.tlsCa ? { tls: readClientTls({ ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey }) } : {}),
  });
  return new NetmasterFabric(client, logger);
}

export async function main(argv: string[]): Promise<void> {
  const cmd = buildCommand();
  cmd.parse(argv);
  const o = cmd.opts<NetpluginOptions>();
  const logger = createLogger('netplugin', { level: o.logLevel });
  const underlayMtu = Number(o.underlayMtu);
  if (!Number.isInteger(underlayMtu) || underlayMtu < 576 || underlayMtu > 65535)
    throw new NetloomError('INVALID_ARGUMENT', '--underlay-mtu must be 576..65535', { field: 'underlay-mtu' });
  if (o.vtepIp) vtepAddress(o.vtepIp);
  const dockerInterval = Number(o.dockerNetworksInterval);
  if (o.dockerNetworksInterval.trim() === '' || !Number.isFinite(dockerInterval) || dockerInterval < 0.1 || dockerInterval > 3600)
    throw new NetloomError('INVALID_ARGUMENT', '--docker-networks-interval must be 0.1..3600 seconds', {
      field: 'docker-networks-interval',
    });
  const kubePodWait = Number(o.kubePodWait);
  if (o.kubePodWait.trim() === '' || !Number.isFinite(kubePodWait) || kubePodWait < 0 || kubePodWait > 600)
    throw new NetloomError('INVALID_ARGUMENT', '--kube-pod-wait must be 0..600 seconds', { field: 'kube-pod-wait' });
  if (o.kubeconfig && o.kubeconfig !== IN_CLUSTER && !existsSync(o.kubeconfig))
    throw new NetloomError('INVALID_ARGUMENT', `--kubeconfig ${o.kubeconfig}: no such file`, { field: 'kubeconfig' });
  if (o.cnmSwarmSocket !== undefined && !o.cnmSocket)
    throw new NetloomError('INVALID_ARGUMENT', '--cnm-swarm-socket needs --cnm-socket (one plugin serves both)', {
      field: 'cnm-swarm-socket',
    });
  if (o.dockerNetworks && !o.cnmSocket)
    throw new NetloomError('INVALID_ARGUMENT', '--docker-networks needs --cnm-socket (dockerd reaches the netloom driver there)', {
      field: 'docker-networks',
    });
  const lowWater = Number(o.ipamLowWater);
  if (!/^\d+$/.test(o.ipamLowWater.trim()) || lowWater > 65536)
    throw new NetloomError('INVALID_ARGUMENT', '--ipam-low-water must be an integer 0..65536', { field: 'ipam-low-water' });
  const idleRelease = Number(o.ipamIdleRelease);
  if (o.ipamIdleRelease.trim() === '' || !Number.isFinite(idleRelease) || idleRelease < 0 || idleRelease > 7 * 86400)
    throw new NetloomError('INVALID_ARGUMENT', '--ipam-idle-release must be 0..604800 seconds', { field: 'ipam-idle-release' });
  const bgpListenPort = Number(o.bgpListenPort);
  if (!/^-?\d+$/.test(o.bgpListenPort.trim()) || bgpListenPort < -1 || bgpListenPort > 65535)
    throw new NetloomError('INVALID_ARGUMENT', '--bgp-listen-port must be -1..65535', { field: 'bgp-listen-port' });
  const fabric = controlPlane(o, logger);
  const metrics = createAgentMetrics({ defaultMetrics: true });
  if (fabric instanceof NetmasterFabric) metrics.replicaProbe = () => ({ replica: fabric.replica, failovers: fabric.failovers });
  // address blocks (issue 15): only with netmaster (a fabric file has no blocks to claim)
  const blocks =
    fabric instanceof NetmasterFabric && o.ipamBlocks
      ? new BlockAllocator({
          hostName: o.host,
          vtepIp: o.vtepIp ? vtepAddress(o.vtepIp) : '',
          remote: fabric,
          blocks: fabric,
          store: new IpamStore(`${o.stateDir}/ipam.json`),
          lowWater,
          idleReleaseMs: Math.round(idleRelease * 1000),
          pause: BlockAllocator.pauseFromEnv(o.stateDir),
          logger,
        })
      : undefined;
  if (blocks) metrics.ipamProbe = () => blocks.stats();
  const agent = new Agent(
    {
      hostName: o.host,
      ovsRunDir: o.ovsRundir,
      bridge: {
        bridge: o.bridge,
        phyBridge: o.phyBridge,
        ...(o.oneBridge ? { oneBridge: true } : {}),
        datapathType: o.datapath,
        ...(o.uplink ? { uplink: o.uplink } : {}),
        ...(o.vtepIp ? { vtepCidr: o.vtepIp } : {}),
      },
      underlayMtu,
      txChecksumOff: o.txChecksumOff === 'on' || (o.txChecksumOff === 'auto' && o.datapath === 'netdev'),
      txChecksumOffForced: o.txChecksumOff === 'on',
      // TSO exists only on the userspace datapath; the kernel datapath needs none of this
      userspaceTso: o.datapath === 'netdev' && o.userspaceTso !== 'off',
      endpointStatePath: `${o.stateDir}/endpoints.json`,
      hostNetwork: o.hostNetwork,
      datapathPurge: o.datapathPurge as 'auto' | 'always' | 'never',
    },
    { source: blocks ? new OverlaySource(fabric, blocks) : fabric, allocator: blocks ?? fabric, logger, metrics },
  );
  // before the first state: allocations no endpoint record names are dropped
  await blocks?.start(new Set(agent.store.list().map((r) => r.endpointId)));
  await agent.start();
  // after agent.start(): the bridge with the VTEP address (whose ARP settings it also sets) exists now
  const vtepDev = o.uplink ? vtepBridge({ bridge: o.bridge, phyBridge: o.phyBridge, oneBridge: o.oneBridge === true }) : undefined;
  const routedUplink = o.routedUplink ? await prepareRoutedUplink(o.routedUplink, vtepDev, run) : undefined;
  // issue 16: gobgpd follows the desired state's BGP settings (docs/bgp.md)
  const speaker = o.bgp
    ? new BgpSpeaker({
        hostName: o.host,
        vtepIp: o.vtepIp ? vtepAddress(o.vtepIp) : '',
        ...(routedUplink ? { routedIp: routedUplink.ip, routedDev: routedUplink.dev } : {}),
        listenPort: bgpListenPort,
        supervisor: {
          api: o.bgpApi ?? `unix://${o.stateDir}/gobgpd.sock`,
          binary: o.gobgpd,
          pidFile: `${o.stateDir}/gobgpd.pid`,
          logFile: `${o.stateDir}/gobgpd.log`,
        },
        logger: logger.child({ part: 'bgp' }),
      })
    : undefined;
  if (speaker) {
    agent.followState((s) => void speaker.update(s));
    registerBgpMetrics(metrics.registry, () => speaker.status());
  }
  const queries =
    fabric instanceof NetmasterFabric
      ? fabric.serveQueries(async (q) => {
          if (q.bgp) {
            if (!speaker) throw new NetloomError('UNAVAILABLE', 'this host runs netplugin --no-bgp', { field: 'host' });
            return { bgp: bgpStatusToProto(o.host, await speaker.status(), Date.now()) };
          }
          if (!q.trace) throw new NetloomError('INVALID_ARGUMENT', 'the query asks for nothing this agent knows', { field: 'trace' });
          return { trace: traceResultToProto(await agent.trace(tracePacketOf(q.trace))) };
        })
      : undefined;
  const kube = o.kubeconfig
    ? (await import('./kube/kube-agent')).startKubeAgent({
        kubeconfigPath: o.kubeconfig,
        nodeName: o.kubeNodeName ?? o.host,
        tenantPerNamespace: o.kubeTenantPerNamespace === true,
        podWaitMs: Math.round(kubePodWait * 1000),
        store: agent.store,
        allocator: agent.allocator,
        logger,
      })
    : undefined;
  const cni = await listenCni(o.cniSocket, {
    backend: new AgentCniBackend(agent, kube?.resolver),
    logger,
    onServed: (r) => metrics.cniRequests.observe({ command: r.command || 'none', result: r.ok ? 'ok' : 'error' }, r.ms / 1000),
  });
  const docker =
    o.dockerSocket !== undefined || o.dockerNetworks ? new DockerEngineClient(o.dockerSocket ?? DEFAULT_DOCKER_SOCKET) : undefined;
  const cnm = o.cnmSocket
    ? await startCnmPlugin({
        backend: new AgentCnmBackend(agent, docker ? { docker } : {}),
        socketPath: o.cnmSocket,
        ...(o.cnmSwarmSocket !== undefined ? { swarmSocketPath: o.cnmSwarmSocket } : {}),
        statePath: o.cnmState,
        logger,
      })
    : undefined;
  const dockerNetworks =
    o.dockerNetworks && docker
      ? new DockerNetworkReconciler({
          catalog: fabric,
          docker,
          intervalMs: Math.round(dockerInterval * 1000),
          logger,
        })
      : undefined;
  dockerNetworks?.start();
  let metricsServer: Server | undefined;
  if (o.metricsListen) {
    const { host, port } = hostPort(o.metricsListen, 'metrics-listen');
    metricsServer = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(errorMessage(e)),
      );
    });
    await new Promise<void>((resolve) => metricsServer!.listen(port, host, resolve));
  }
  logger.info(
    {
      host: o.host,
      cniSocket: o.cniSocket,
      cnmSocket: o.cnmSocket,
      docker: docker?.socketPath,
      dockerNetworks: o.dockerNetworks === true,
      metrics: o.metricsListen,
    },
    'netplugin ready',
  );
  exitOnTerminationSignals(
    async () => {
      await dockerNetworks?.stop();
      await cni.close();
      await kube?.stop();
      await cnm?.stop();
      await queries?.stop();
      metricsServer?.close();
      // gobgpd keeps running: sessions and announced routes survive an agent restart (docs/bgp.md)
      await speaker?.stop();
      await agent.stop();
      await blocks?.stop();
    },
    { logger, message: 'shutting down; flows stay on the switch' },
  );
}

if (require.main === module) {
  main(process.argv).catch((e: unknown) => {
    process.stderr.write(`netplugin: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
