/**
 * The netplugin agent core: sets up the bridges (OVSDB), follows the desired state, keeps the local
 * facts (which ofport each plugged endpoint has), and runs the reconcile loop that computes the
 * pipeline and applies it to br-int over OpenFlow. It survives an ovs-vswitchd restart (OpenFlow
 * reconnect -> bridges re-checked, ports re-read, reconcilers invalidated, meters and flows re-applied) and its
 * own restart (endpoint records from the state file, ofports re-read from OVSDB before the first
 * apply, which takes the switch over without flushing it). The CNI and CNM backends use
 * `attachEndpoint` / `detachEndpoint`.
 */
import { systemClock, type Clock } from '../../lib/clock';
import { errorMessage, NetloomError } from '../../lib/errors';
import { run, type CommandRunner } from '../../lib/exec';
import { ShellPool } from '../../lib/shell-pool';
import type { Logger } from '../../lib/logger';
import { OfConnection, ReconnectingSwitch } from '../../ovs/openflow';
import { ReconnectingOvsdb, VSwitch, type InterfaceEvent } from '../../ovs/ovsdb';
import { existsSync, readFileSync } from 'node:fs';
import { computePipeline, ovsInput } from '../pipeline/compute';
import type { PipelineInput } from '../pipeline/input';
import { desiredMeters, meterConfig } from '../pipeline/meters';
import { desiredGroups, serviceMeters } from '../pipeline/services';
import { GroupReconciler } from '../reconcile/group-reconciler';
import { MeterReconciler } from '../reconcile/meter-reconciler';
import { readServiceCounters, type ServiceCounter } from '../reconcile/service-counters';
import { FlowReconciler } from '../reconcile/reconciler';
import { readRuleCounters, type RuleCounter } from '../reconcile/rule-counters';
import { applyToSwitch } from '../reconcile/switch-apply';
import type { BridgePorts, HostState, LocalPort, Network } from '../state/host-state';
import { BridgeConfig, BridgeSetup, vtepAddress, vtepBridge } from './bridge-setup';
import { EndpointRecord, EndpointStore } from './endpoint-store';
import type { DesiredStateSource, EndpointAllocator } from './fabric';
import type { AgentMetrics } from './metrics';
import { orphanedPublishers, realOrphanProbe, type OrphanProbe } from './orphan-ports';
import { checkClaim, currentClaims, portMappingsOf } from './published-ports';
import type { PublishedPort } from '../state/published-port';
import { InterfaceOfports } from './interface-ofports';
import { ReconcileLoop } from './reconcile-loop';
import { answerServiceRejects } from './service-reject';
import { underlayProbe, VtepWarmup } from './vtep-warmup';
import { traceOnHost, type HostTraceResult } from '../trace/host-trace';
import { HostNetApplier } from '../hostnet/applier';
import { desiredHostNet, type HostNetState } from '../hostnet/desired-state';
import { GatewayPorts } from '../hostnet/gateway-ports';
import { HostAddressWatch } from '../hostnet/address-watch';
import { vrfOfGatewayPort } from '../hostnet/numbering';
import type { PortMapping } from '../hostnet/port-mapping';
import type { TracePacket } from '../trace/trace-flow';
import { UnixctlClient, vswitchdControlPath } from '../../ovs/unixctl';
import { PurgeAfterChange, purgeIfAffected } from '../reconcile/datapath-purge';
import { onlyUnpluggedAdditions } from './unplugged-change';
import { realizedAlike } from './realized-alike';
import { disableTxChecksum, VETH_HELPER } from '../plumbing/veth';
import { mayTunnel, TSO_KEY, txChecksumOffFor, userspaceTsoActive } from './userspace-tso';
import { RoutedHost } from '../routed/routed-host';

export interface AgentConfig {
  hostName: string;
  /** directory with db.sock and <bridge>.mgmt */
  ovsRunDir: string;
  bridge: BridgeConfig;
  underlayMtu: number;
  /** `ethtool -K <if> tx off` in containers (needed on the netdev datapath) */
  txChecksumOff: boolean;
  /** tx off in every container, also where userspace TSO would let it stay on (`--tx-checksum-off on`) */
  txChecksumOffForced?: boolean;
  /**
   * netdev: write `other_config:userspace-tso-enable=true` (it takes effect at the next
   * ovs-vswitchd start) and, while the running switch has it, leave VLAN networks' containers
   * their tx checksum offload (agent/userspace-tso.ts)
   */
  userspaceTso?: boolean;
  /** endpoint records file; undefined keeps them in memory only */
  endpointStatePath: string | undefined;
  /** how often the policy rules' counters are read from the switch for netmaster (default 5000 ms; 0: never) */
  ruleCountersMs?: number;
  /**
   * the tenants' gateway ports and the host's kernel state for them (egress with NAT, host access,
   * published ports: netplugin/hostnet); default true
   */
  hostNetwork?: boolean;
  /** the datapath flow cache purge after flow changes (reconcile/datapath-purge.ts); default auto */
  datapathPurge?: 'auto' | 'always' | 'never';
  /**
   * the compiled stage 1 of a CNI ADD (plumbing/netloom-veth.c): default the built one
   * (VETH_HELPER) when it is there; false: `ip` and `ethtool` always
   */
  vethHelper?: string | false;
}

export const DEFAULT_RULE_COUNTERS_MS = 5000;
/** How long a CNI ADD waits for the first attempt at each remote VTEP being resolved (one probe's wait and more). */
export const VTEP_FIRST_ATTEMPT_WAIT_MS = 1000;

export interface AgentDeps {
  source: DesiredStateSource;
  allocator: EndpointAllocator;
  logger: Logger;
  metrics?: AgentMetrics;
  /** paces retries, backoffs and timeouts (default the system clock) */
  clock?: Clock;
}

/** The external_ids of a recorded endpoint's Port and Interface rows (pure). */
function endpointPortIds(rec: Pick<EndpointRecord, 'endpointId' | 'mac'>): [Record<string, string>, Record<string, string>] {
  return [{ 'netloom-endpoint': rec.endpointId }, { 'iface-id': rec.endpointId, 'attached-mac': rec.mac }];
}

export class Agent {
  readonly store: EndpointStore;
  /** the interfaces' ofports as OVSDB reports them; the numbers requested for ports being added */
  private readonly ofports: InterfaceOfports;
  private readonly ovsdb: ReconnectingOvsdb;
  private readonly setup: BridgeSetup;
  private sw: ReconnectingSwitch | undefined;
  private of: OfConnection | undefined;
  private reconciler: FlowReconciler | undefined;
  private meters: MeterReconciler | undefined;
  private groups: GroupReconciler | undefined;
  private readonly vswitchd: UnixctlClient;
  /** set when this host's Open vSwitch needs its datapath flows purged after a change (reconcile/datapath-purge.ts) */
  private purge: PurgeAfterChange | undefined;
  /** packet-ins answered with a TCP RST / ICMP unreachable (services without provider), and those that could not be */
  readonly rejects = { sent: 0, failed: 0 };
  readonly loop: ReconcileLoop;
  private state: HostState | undefined;
  /** the state of the last successful apply (the flows installed were computed from it) */
  private appliedState: HostState | undefined;
  private readonly countersStop = new AbortController();
  private countersLoop: Promise<void> | undefined;
  private stateListeners = new Set<() => void>();
  /** published ports of CNI ADDs in flight (claimed before their record exists) */
  private readonly portsInFlight = new Map<string, PublishedPort[]>();
  private readonly portMappingListeners = new Set<(m: PortMapping[]) => void>();
  /** records (idempotency keys) whose ports are withheld: their container was found gone at start */
  private portsWithheld: ReadonlySet<string> = new Set();
  private lastPortMappings = '[]';
  private ports: Record<string, LocalPort> = {};
  private bridgePorts: BridgePorts = {};
  /** the running ovs-vswitchd has userspace TSO (probed after every bridge setup) */
  private tsoActive = false;
  private readonly vtepIp: string;
  private stopped = false;
  private readonly warmup: VtepWarmup;
  private readonly clock: Clock;
  /** flows in the last successful apply */
  flowCount = 0;
  private readonly shells = new ShellPool({ size: 4 });
  private readonly gatewayPorts: GatewayPorts;
  private readonly hostNet: HostNetApplier;
  /** the host's addresses for the host network, read again only after the kernel reports a change */
  private readonly hostAddresses: HostAddressWatch;
  /** the routed endpoints' kernel state (BGP mode): routes, nftables policy, tc/DSCP QoS */
  readonly routed: RoutedHost;
  /** the gateway ports last made sure of (their key) and their ofports; cleared when OVS reconnects */
  private gatewayOfports: { key: string; ofports: Record<string, number> } | undefined;
  /** the gateway set (key) for which br-int's other gateway ports were last removed */
  private staleGatewaysChecked: string | undefined;
  /** the compiled veth helper, when there is one (plumbing/veth.ts createVeth) */
  readonly vethHelper: string | undefined;
  /** runs the plumbing commands of endpoints (long-lived shells: no fork of this process each) */
  readonly runner: CommandRunner = (cmd, args, opts) => this.shells.run(cmd, args, opts);

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
    this.ofports = new InterfaceOfports(this.clock);
    this.vethHelper = config.vethHelper === false ? undefined : (config.vethHelper ?? (existsSync(VETH_HELPER) ? VETH_HELPER : undefined));
    this.store = new EndpointStore(config.endpointStatePath);
    this.vswitchd = new UnixctlClient(() => vswitchdControlPath(config.ovsRunDir), { clock: this.clock });
    this.ovsdb = new ReconnectingOvsdb(`${config.ovsRunDir}/db.sock`, {
      clock: this.clock,
      logger: deps.logger,
      minBackoffMs: 50,
      maxBackoffMs: 1000,
      // local port changes (an ofport assigned or changed, a port removed behind our back)
      onConnect: async (c) => {
        const { initial } = await new VSwitch(c).watchInterfaces((events) => {
          this.ofports.update(events);
          if (events.some((e) => this.portEventMatters(e))) this.portsChanged();
        });
        this.ofports.reset(initial);
      },
    });
    this.ovsdb.onState((s) => deps.metrics?.connected.set({ peer: 'ovsdb' }, s === 'connected' ? 1 : 0));
    this.setup = new BridgeSetup({ ...config.bridge, ...(config.userspaceTso ? { userspaceTso: true } : {}) }, deps.logger);
    this.gatewayPorts = new GatewayPorts(config.bridge.bridge, deps.logger);
    this.hostNet = new HostNetApplier({ runner: this.runner, txChecksumOff: config.txChecksumOff, logger: deps.logger });
    this.hostAddresses = new HostAddressWatch({
      runner: this.runner,
      onChange: () => this.kick('host-addresses'),
      clock: this.clock,
      logger: deps.logger,
    });
    this.routed = new RoutedHost({ runner: this.runner, hostName: config.hostName, logger: deps.logger });
    if (deps.metrics) {
      deps.metrics.probe = () => ({
        ovsdb: this.ovsdb.current !== undefined,
        openflow: this.sw?.connected === true,
        netmaster: this.deps.source.connected,
      });
    }
    this.vtepIp = config.bridge.vtepCidr ? vtepAddress(config.bridge.vtepCidr) : '';
    this.warmup = new VtepWarmup({
      localVtepIp: this.vtepIp,
      vxlanPort: () => this.bridgePorts.vxlan,
      packetOut: async (actions, data) => {
        if (!this.of || !this.sw?.connected) return;
        // inPort OFPP_CONTROLLER: the frame comes from us
        await this.of.send({ type: 'packet_out', xid: 0, bufferId: 0xffffffff, inPort: 0xfffffffd, actions, data });
      },
      ...(config.bridge.uplink ? { probe: underlayProbe(vtepBridge(config.bridge)) } : {}),
      logger: deps.logger,
    });
    this.loop = new ReconcileLoop(() => this.reconcile(), {
      clock: this.clock,
      logger: deps.logger,
      minBackoffMs: 100,
      maxBackoffMs: 3000,
      onRun: (r) => {
        deps.metrics?.reconcileDuration.observe({ result: r.ok ? 'ok' : 'error' }, r.ms / 1000);
        deps.metrics?.reconcileRuns.inc({ result: r.ok ? 'ok' : 'error' });
      },
    });
  }

  get hostName(): string {
    return this.config.hostName;
  }

  get allocator(): EndpointAllocator {
    return this.deps.allocator;
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  /** Returns a function that records, for the named step of a CNI ADD, the time since this call. */
  addStepTimer(): (step: string) => void {
    const t0 = this.clock.monotonic();
    const h = this.deps.metrics?.cniAddSteps;
    return (step) => h?.observe({ step }, (this.clock.monotonic() - t0) / 1000);
  }

  /** OVS reachable (OVSDB and OpenFlow) and the control plane connected. */
  get ready(): { ovs: boolean; controlPlane: boolean } {
    return { ovs: this.sw?.connected === true, controlPlane: this.deps.source.connected && this.deps.allocator.connected };
  }

  get currentState(): HostState | undefined {
    return this.state;
  }

  get localPorts(): Readonly<Record<string, LocalPort>> {
    return this.ports;
  }

  async vswitch(): Promise<VSwitch> {
    return new VSwitch(await this.ovsdb.ready());
  }

  private async probeTso(): Promise<void> {
    const was = this.tsoActive;
    this.tsoActive = this.config.userspaceTso === true && (await userspaceTsoActive(this.config.bridge.bridge, this.runner));
    if (this.config.userspaceTso && !this.tsoActive)
      this.deps.logger.warn(
        { setting: TSO_KEY },
        'userspace TSO is set but the running ovs-vswitchd started without it: every container keeps tx checksum off until ovs-vswitchd restarts',
      );
    else if (was !== this.tsoActive) this.deps.logger.info({ userspaceTso: this.tsoActive }, 'userspace TSO of the running switch');
  }

  /** Whether a container of network `net` gets its tx checksum offload turned off (agent/userspace-tso.ts). */
  txChecksumOffFor(net: Pick<Network, 'tenant' | 'encap'> | undefined, state: HostState | undefined = this.state): boolean {
    return txChecksumOffFor(
      { txChecksumOff: this.config.txChecksumOff, forced: this.config.txChecksumOffForced === true, tsoActive: this.tsoActive },
      mayTunnel(state, net),
    );
  }

  /**
   * Containers plugged with their tx checksum offload whose packets may now reach a tunnel (or
   * whose switch lost TSO) get it turned off; a failure is retried at the next reconcile.
   */
  private async fixTxChecksum(state: HostState): Promise<void> {
    for (const rec of this.store.list()) {
      if (!rec.txChecksumOn || !rec.netnsPath) continue;
      if (
        !this.txChecksumOffFor(
          state.networks.find((n) => n.key === rec.networkKey),
          state,
        )
      )
        continue;
      try {
        await disableTxChecksum(rec.netnsPath, rec.ifName, this.runner);
        const { txChecksumOn: _on, ...rest } = rec;
        this.store.put(rest);
        this.deps.logger.info({ endpoint: rec.endpointId }, 'tx checksum offload turned off: its packets may reach a tunnel now');
      } catch (e) {
        this.deps.logger.warn({ endpoint: rec.endpointId, err: errorMessage(e) }, 'turning tx checksum offload off failed');
      }
    }
  }

  async start(): Promise<void> {
    const log = this.deps.logger;
    await this.withholdOrphanPorts();
    if (this.config.hostNetwork !== false) this.hostAddresses.start();
    // routed endpoints' host routes first, from the records (not OVS, not netmaster): a route that
    // is right is not touched, so traffic across the restart is not disturbed
    await this.routed
      .syncRoutes(this.store.list())
      .catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'routed endpoints: host routes not re-checked at start'));
    this.ovsdb.start();
    const vs = await this.vswitch();
    this.bridgePorts = await this.setup.apply(vs);
    await this.probeTso();
    log.info({ bridge: this.config.bridge.bridge, ports: this.bridgePorts, userspaceTso: this.tsoActive }, 'bridges ready');
    await this.refreshPorts(vs);
    const mgmt = `unix:${this.config.ovsRunDir}/${this.config.bridge.bridge}.mgmt`;
    const sw = new ReconnectingSwitch(mgmt, {
      clock: this.clock,
      backoff: { initialMs: 50, maxMs: 400, factor: 1.5, jitter: 0.1 },
      onRetry: (r) => log.debug(r, 'OpenFlow connect retry'),
    });
    this.sw = sw;
    this.of = new OfConnection(sw, { logger: log });
    this.reconciler = new FlowReconciler(this.of, log);
    this.meters = new MeterReconciler(this.of, log);
    this.groups = new GroupReconciler(this.of, log);
    const of = this.of;
    answerServiceRejects(of, (ok) => void (ok ? this.rejects.sent++ : this.rejects.failed++));
    sw.on('connected', () => {
      this.deps.metrics?.connected.set({ peer: 'openflow' }, 1);
      // OVS sends packet-ins on a service connection (our br-int.mgmt) only after a non-zero miss_send_len
      of.send({ type: 'set_config', xid: 0, flags: 0, missSendLen: 128 }).catch((e: unknown) =>
        log.warn({ err: errorMessage(e) }, 'set_config not sent: services without provider will not be rejected'),
      );
      if (sw.connects > 1) {
        this.deps.metrics?.ofReconnects.inc();
        log.info({ connects: sw.connects }, 'OpenFlow reconnected: re-checking bridges and re-applying flows');
        this.reconciler?.invalidate();
        this.meters?.invalidate();
        this.groups?.invalidate();
        void this.afterReconnect();
      }
    });
    sw.on('disconnected', (d) => {
      this.deps.metrics?.connected.set({ peer: 'openflow' }, 0);
      log.warn({ reason: d.reason }, 'OpenFlow connection lost');
    });
    await sw.start({ timeoutMs: 15_000 });
    this.purge = await purgeIfAffected(this.vswitchd, this.config.bridge.datapathType, log, this.config.datapathPurge);
    await this.deps.source.start((s) => this.onState(s));
    this.deps.metrics?.connected.set({ peer: 'netmaster' }, this.deps.source.connected ? 1 : 0);
    const countersMs = this.config.ruleCountersMs ?? DEFAULT_RULE_COUNTERS_MS;
    if (countersMs > 0 && (this.deps.source.ruleCounters || this.deps.source.serviceCounters))
      this.countersLoop = this.reportRuleCounters(countersMs);
  }

  /**
   * The counters of the policy rules whose decision flows are installed, from one flow-stats
   * request for the policy feature's cookie (undefined while the switch is not in sync).
   */
  async ruleCounters(): Promise<RuleCounter[] | undefined> {
    const state = this.appliedState;
    if (!state || !this.of || !this.reconciler || !this.sw?.connected) return undefined;
    return readRuleCounters(this.of, this.reconciler.installedFlows(), state);
  }

  /** The counters of the services' providers whose flows are installed (undefined while the switch is not in sync). */
  async serviceCounters(): Promise<ServiceCounter[] | undefined> {
    if (!this.appliedState || !this.of || !this.reconciler || !this.sw?.connected) return undefined;
    return readServiceCounters(this.of, this.reconciler.installedFlows());
  }

  /** Every `ms`: read the rules' and services' counters and hand them to the source (which sends them with heartbeats). */
  private async reportRuleCounters(ms: number): Promise<void> {
    const signal = this.countersStop.signal;
    while (!signal.aborted) {
      await this.clock.sleep(ms, signal, { unref: true });
      if (signal.aborted) return;
      try {
        const counters = await this.ruleCounters();
        if (counters) this.deps.source.ruleCounters?.(counters);
        const services = this.deps.source.serviceCounters ? await this.serviceCounters() : undefined;
        if (services) this.deps.source.serviceCounters?.(services);
      } catch (e) {
        this.deps.logger.debug({ err: errorMessage(e) }, 'rule counters not read');
      }
    }
  }

  private async afterReconnect(): Promise<void> {
    try {
      const vs = await this.vswitch();
      this.bridgePorts = await this.setup.apply(vs);
      // a restarted ovs-vswitchd reads the TSO setting afresh
      await this.probeTso();
      await this.refreshPorts(vs);
      // a restarted ovs-vswitchd has made the gateway ports' kernel devices again (down, defaults)
      this.gatewayOfports = undefined;
      this.staleGatewaysChecked = undefined;
      this.hostNet.invalidate();
      // a restarted ovs-vswitchd has forgotten the VTEPs' MACs
      this.warmup.reset();
      if (this.state) this.warmVteps(this.state);
    } catch (e) {
      this.deps.logger.warn({ err: errorMessage(e) }, 'bridge check after reconnect failed');
    }
    this.kick('reconnect', { now: true });
  }

  /** Ask for a reconcile, counted by why (netplugin_reconcile_triggers_total). */
  private kick(reason: string, opts: { now?: boolean } = {}): void {
    this.deps.metrics?.reconcileTriggers.inc({ reason });
    this.loop.trigger(opts);
  }

  private warmVteps(s: HostState): void {
    void this.warmup.warm(s.vteps.map((v) => v.vtepIp));
  }

  private onState(s: HostState): void {
    const prev = this.state;
    this.state = s;
    this.warmVteps(s);
    this.deps.metrics?.connected.set({ peer: 'netmaster' }, this.deps.source.connected ? 1 : 0);
    for (const l of [...this.stateListeners]) l();
    this.portMappingsMaybeChanged();
    // a locally allocated endpoint shown before its port is plugged: attachPlugged reconciles
    const routed = new Set(this.store.list().flatMap((r) => (r.routed ? [r.endpointId] : [])));
    if (prev && onlyUnpluggedAdditions(prev, s, this.config.hostName, (id) => id in this.ports || routed.has(id))) return;
    // netmaster confirming what this host shows already (an endpoint it allocated and plugged): no
    // reconcile, only the acknowledgement (now, or after the run that is pending)
    if (prev && realizedAlike(prev, s)) {
      this.alike.set(s, this.alikeFirst(prev));
      this.deps.metrics?.statesRealizedAlike.inc();
      if (this.appliedState && !this.loop.pending && this.alikeFirst(this.appliedState) === this.alikeFirst(s)) this.acknowledge(s);
      return;
    }
    this.kick('state');
  }

  /** states realized alike (realized-alike.ts) -> the first of their run */
  private readonly alike = new WeakMap<HostState, HostState>();

  private alikeFirst(s: HostState): HostState {
    return this.alike.get(s) ?? s;
  }

  /** `state` is what the switch and the kernel hold now: tell netmaster (its revision). */
  private acknowledge(state: HostState): void {
    this.appliedState = state;
    this.deps.source.realized?.(state);
  }

  /** Call `listener` with the current and every new desired state (the BGP speaker follows it); returns the unsubscribe. */
  followState(listener: (s: HostState) => void): () => void {
    const l = (): void => void (this.state && listener(this.state));
    this.stateListeners.add(l);
    l();
    return () => this.stateListeners.delete(l);
  }

  /** Resolve when the desired state satisfies `pred` (or reject after timeoutMs). */
  waitForState<T>(what: string, pred: (s: HostState) => T | undefined, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = this.state ? pred(this.state) : undefined;
        if (v === undefined) return false;
        this.stateListeners.delete(listener);
        timer.cancel();
        resolve(v);
        return true;
      };
      const listener = (): void => void check();
      const timer = this.clock.after(timeoutMs, () => {
        this.stateListeners.delete(listener);
        reject(new NetloomError('UNAVAILABLE', `timed out after ${timeoutMs} ms waiting for ${what} in the desired state`));
      });
      this.stateListeners.add(listener);
      check();
    });
  }

  network(key: string, timeoutMs = 5000): Promise<Network> {
    return this.waitForState(`network ${key}`, (s) => s.networks.find((n) => n.key === key), timeoutMs);
  }

  /**
   * An OVSDB event about one of our endpoints' interfaces that changes what we know of it, or about
   * a gateway port we made (deleted or given another ofport behind our back: made sure of again).
   */
  private portEventMatters(e: InterfaceEvent): boolean {
    const gw = this.gatewayOfports;
    if (gw && vrfOfGatewayPort(e.name) !== undefined && e.name in gw.ofports) {
      if (e.kind !== 'delete' && (e.ofport === undefined || gw.ofports[e.name] === e.ofport)) return false;
      this.gatewayOfports = undefined;
      this.staleGatewaysChecked = undefined;
      this.hostNet.invalidate();
      return true;
    }
    if (this.detaching.has(e.name) || this.ofports.requestedFor(e.name) !== undefined) return false;
    const rec = this.store.list().find((r) => r.hostIf === e.name);
    if (!rec) return false;
    return e.kind === 'delete' || this.ports[rec.endpointId]?.ofport !== e.ofport;
  }

  /** host ends whose port detachEndpoint is deleting (their OVSDB events are its own doing) */
  private readonly detaching = new Set<string>();
  private portsDirty = false;
  private portsRefreshing = false;

  /** OVSDB reported a change of one of our interfaces: re-read the ofports (serialised), reconcile. */
  private portsChanged(): void {
    this.portsDirty = true;
    if (this.portsRefreshing || this.stopped) return;
    this.portsRefreshing = true;
    void (async () => {
      try {
        while (this.portsDirty && !this.stopped) {
          this.portsDirty = false;
          await this.refreshPorts(await this.vswitch(), false);
          this.kick('ports');
        }
      } catch (e) {
        this.deps.logger.warn({ err: errorMessage(e) }, 'reading ports after an interface change failed');
      } finally {
        this.portsRefreshing = false;
      }
    })();
  }

  /**
   * Read the ofports of every recorded endpoint from OVSDB. With `readd` (start, reconnect) a
   * recorded port missing from OVSDB whose veth still exists is added again.
   */
  private async refreshPorts(vs: VSwitch, readd = true): Promise<void> {
    const st = await vs.readState();
    const br = st.bridges.find((b) => b.name === this.config.bridge.bridge);
    const ofportOf = new Map<string, number | undefined>();
    for (const p of br?.ports ?? []) for (const i of p.interfaces) ofportOf.set(i.name, i.ofport);
    const ports: Record<string, LocalPort> = {};
    for (const rec of this.store.list()) {
      if (rec.routed) continue; // not on OVS
      let ofport = ofportOf.get(rec.hostIf);
      const requested = this.ofports.requestedFor(rec.hostIf);
      if (requested !== undefined && (ofport === undefined || ofport <= 0)) {
        // being plugged by an ADD under its requested number: not open in OVS yet
        const had = this.ports[rec.endpointId];
        if (had) ports[rec.endpointId] = had;
        continue;
      }
      if (!ofportOf.has(rec.hostIf)) {
        if (!readd) continue;
        const exists = (await run('ip', ['link', 'show', rec.hostIf], { allowFailure: true })).code === 0;
        if (!exists) {
          this.deps.logger.warn(
            { endpoint: rec.endpointId, hostIf: rec.hostIf },
            'recorded endpoint has no interface any more; left unplugged',
          );
          continue;
        }
        ofport = await this.plugPort(rec.hostIf, ...endpointPortIds(rec));
      }
      if (ofport !== undefined && ofport > 0) ports[rec.endpointId] = { ofport, intfName: rec.hostIf };
    }
    this.ports = ports;
    this.deps.metrics?.endpoints.set(Object.keys(ports).length);
    this.portMappingsMaybeChanged();
  }

  /**
   * Put a host interface on br-int (unless it is there already: a retried ADD) and return its
   * ofport. It is not an endpoint of ours until `attachPlugged`; the CNI backend does this while
   * netmaster allocates the endpoint.
   */
  async plugPort(
    hostIf: string,
    externalIds: Record<string, string>,
    interfaceExternalIds: Record<string, string> = {},
    opts: { ofportRequest?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    const vs = await this.vswitch();
    const request = opts.ofportRequest;
    try {
      await vs.addPort(this.config.bridge.bridge, {
        name: hostIf,
        externalIds,
        interfaceExternalIds,
        ...(request !== undefined ? { ofportRequest: request } : {}),
      });
    } catch (e) {
      if (!(await vs.findPort(hostIf))) throw e;
    }
    // a requested port may be added before its device exists: the monitor says when it is open
    return request !== undefined ? this.ofports.waitFor(hostIf, 5000, opts.signal) : vs.waitForOfport(hostIf, 5000);
  }

  /**
   * An ofport for a port about to be added (its ofport_request), held for `hostIf` until
   * `releaseOfport`: the endpoint's flows can then be installed while OVS adds the port
   * (attachPlugged with this number; again with the real one in the rare case OVS gave another).
   * While held, OVSDB's reports about `hostIf` are the ADD's own doing.
   */
  requestOfport(hostIf: string): number {
    return this.ofports.request(hostIf);
  }

  releaseOfport(hostIf: string): void {
    this.ofports.release(hostIf);
  }

  /**
   * Record an endpoint whose host end is on br-int at `ofport`, and wait until its flows are
   * installed (when the desired state lists the endpoint).
   */
  async attachPlugged(rec: EndpointRecord, ofport: number): Promise<void> {
    this.store.put(rec);
    this.ports = { ...this.ports, [rec.endpointId]: { ofport, intfName: rec.hostIf } };
    this.deps.metrics?.endpoints.set(Object.keys(this.ports).length);
    this.portMappingsMaybeChanged();
    const flows = (async () => {
      try {
        await this.waitForState(
          `endpoint ${rec.endpointId}`,
          (s) => (s.endpoints.some((e) => e.id === rec.endpointId) ? true : undefined),
          5000,
        );
        this.deps.metrics?.reconcileTriggers.inc({ reason: 'attach' });
        await this.loop.settled(10_000);
      } catch (e) {
        this.deps.logger.warn({ err: errorMessage(e), endpoint: rec.endpointId }, 'endpoint plugged; its flows are not installed yet');
      }
      // its first packets to another host need that host's VTEP resolved (an agent just started, a host just joined)
      if (!(await this.warmup.firstAttempts(VTEP_FIRST_ATTEMPT_WAIT_MS))) {
        this.deps.logger.info({ endpoint: rec.endpointId }, 'endpoint plugged while remote VTEPs are still being resolved');
      }
    })();
    await Promise.all([this.store.flush(), flows]);
  }

  /**
   * Record a routed endpoint (its host end routed to, not on br-int) and wait until its policy and
   * QoS are in the kernel (when the desired state lists the endpoint).
   */
  async attachRouted(rec: EndpointRecord): Promise<void> {
    this.store.put({ ...rec, routed: true });
    this.kick('attach-routed');
    const applied = (async () => {
      try {
        await this.waitForState(`endpoint ${rec.endpointId}`, (s) => (s.endpoints.some((e) => e.id === rec.endpointId) ? true : undefined));
        await this.loop.settled(10_000);
      } catch (e) {
        this.deps.logger.warn({ err: errorMessage(e), endpoint: rec.endpointId }, 'routed endpoint plumbed; its policy is not applied yet');
      }
    })();
    await Promise.all([this.store.flush(), applied]);
  }

  /**
   * The host end of an endpoint exists: put it on br-int, record it, and wait until the flows for
   * it are installed (when the desired state lists the endpoint).
   */
  async attachEndpoint(rec: EndpointRecord): Promise<number> {
    const ofport = await this.plugPort(rec.hostIf, ...endpointPortIds(rec));
    await this.attachPlugged(rec, ofport);
    return ofport;
  }

  /** Take a host interface that is not (or no longer) a recorded endpoint off br-int (idempotent). */
  async unplugPort(hostIf: string): Promise<void> {
    await (await this.vswitch()).deletePort(hostIf, { ifExists: true });
  }

  /** Set external_ids keys of a plugged interface (iface-id, attached-mac: for people and tools). */
  async labelPort(hostIf: string, interfaceExternalIds: Record<string, string>): Promise<void> {
    await (await this.vswitch()).setMapKeys('Interface', hostIf, 'external_ids', interfaceExternalIds);
  }

  /** Take the endpoint off br-int and forget it (idempotent). */
  async detachEndpoint(rec: Pick<EndpointRecord, 'endpointId' | 'hostIf' | 'idempotencyKey'>): Promise<void> {
    const vs = await this.vswitch();
    // OVSDB's report of this very deletion would re-read every port and reconcile once more
    this.detaching.add(rec.hostIf);
    try {
      await vs.deletePort(rec.hostIf, { ifExists: true });
    } finally {
      this.detaching.delete(rec.hostIf);
    }
    const { [rec.endpointId]: _gone, ...rest } = this.ports;
    this.ports = rest;
    this.store.remove(rec.idempotencyKey);
    if (this.portsWithheld.has(rec.idempotencyKey))
      this.portsWithheld = new Set([...this.portsWithheld].filter((k) => k !== rec.idempotencyKey));
    this.deps.metrics?.endpoints.set(Object.keys(this.ports).length);
    this.portMappingsMaybeChanged();
    this.kick('detach');
    await this.store.flush();
  }

  /**
   * The ports this host publishes now: those of the endpoints plugged in here that the desired
   * state lists (see published-ports.ts), for the host network's NAT rules.
   */
  portMappings(): PortMapping[] {
    return portMappingsOf(this.store.list(), this.ports, this.state, this.portsWithheld);
  }

  /**
   * At start, before anything is published: the ports of endpoints whose container is gone are
   * withheld (not published, holding no host port). Such a container was removed while the agent
   * was down and its runtime left the veth behind (see orphan-ports.ts), so the endpoint still
   * looks plugged in. A DEL or DeleteEndpoint, if it ever comes, removes the record as usual.
   */
  async withholdOrphanPorts(probe: OrphanProbe = realOrphanProbe): Promise<void> {
    const orphans = await orphanedPublishers(this.store.list(), probe);
    for (const { rec, why } of orphans) {
      this.deps.logger.warn(
        { endpoint: rec.endpointId, container: rec.containerId },
        `the endpoint's container is gone (${why}; removed while the agent was down?): its published ports are withheld`,
      );
    }
    this.portsWithheld = new Set(orphans.map((o) => o.rec.idempotencyKey));
    this.portMappingsMaybeChanged();
  }

  /** Call `listener` with the new list whenever `portMappings()` changes; returns the unsubscribe. */
  onPortMappingsChange(listener: (m: PortMapping[]) => void): () => void {
    this.portMappingListeners.add(listener);
    return () => this.portMappingListeners.delete(listener);
  }

  private portMappingsMaybeChanged(): void {
    const now = this.portMappings();
    const text = JSON.stringify(now);
    if (text === this.lastPortMappings) return;
    this.lastPortMappings = text;
    this.kick('port-mappings');
    for (const l of [...this.portMappingListeners]) l(now);
  }

  /**
   * Reserve host ports for an attachment being added (before its record exists), or throw
   * CONFLICT naming `field(i)` when a live endpoint or another ADD in flight has one of them.
   * Synchronous, so two ADDs cannot both win. `releasePortClaim` ends the reservation.
   */
  claimPorts(key: string, ports: readonly PublishedPort[], field: (i: number) => string): void {
    if (ports.length === 0) return;
    this.requireHostNetwork(field);
    checkClaim(key, ports, currentClaims(this.store.list(), this.ports, this.portsInFlight, this.portsWithheld), field);
    this.portsInFlight.set(key, [...ports]);
  }

  /** Published ports are DNAT rules of the host network: refused, naming the first port, when it is off. */
  private requireHostNetwork(field: (i: number) => string): void {
    if (this.config.hostNetwork !== false) return;
    throw new NetloomError('INVALID_ARGUMENT', `${field(0)}: this host's netplugin runs with --no-host-network, so it publishes no ports`, {
      field: field(0),
    });
  }

  releasePortClaim(key: string): void {
    this.portsInFlight.delete(key);
  }

  /**
   * Publish exactly `ports` for a recorded endpoint (Docker's ProgramExternalConnectivity; []
   * publishes none), persisted with its record; CONFLICT when another endpoint has one of them.
   */
  async publishPorts(key: string, ports: readonly PublishedPort[], field: (i: number) => string): Promise<void> {
    const rec = this.store.get(key);
    if (!rec) throw new NetloomError('NOT_FOUND', `no endpoint record ${key} on this host`, { field: 'EndpointID' });
    if (ports.length > 0) this.requireHostNetwork(field);
    checkClaim(key, ports, currentClaims(this.store.list(), this.ports, this.portsInFlight, this.portsWithheld), field);
    const { portMappings: _old, ...rest } = rec;
    this.store.put(ports.length > 0 ? { ...rest, portMappings: [...ports] } : rest);
    this.portMappingsMaybeChanged();
    await this.store.flush();
  }

  /** The OVS side and the routed side (the kernel) side by side: neither waits for the other, nor for its failure. */
  private async reconcile(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const [ovs, kernel] = await Promise.allSettled([this.reconcileOvs(state), this.routed.apply(state, this.store.list())]);
    for (const r of [ovs, kernel]) if (r.status === 'rejected') throw r.reason;
  }

  private async reconcileOvs(state: HostState): Promise<void> {
    if (!this.reconciler || !this.meters || !this.groups || !this.sw) return;
    if (!this.sw.connected) throw new NetloomError('UNAVAILABLE', 'OpenFlow connection to br-int is down');
    const phase = this.phaseTimer();
    // before the flows that may send its packets into a tunnel
    await this.fixTxChecksum(state);
    const local = { hostName: this.config.hostName, vtepIp: this.vtepIp, ports: this.ports, bridge: this.bridgePorts };
    // routed networks (BGP mode) have no part in OVS: neither flows nor meters, groups or gateway ports
    let input: PipelineInput = ovsInput({ state, local });
    let hostNet: HostNetState | undefined;
    if (this.config.hostNetwork !== false) {
      const facts = { addresses: await this.hostAddresses.addresses(), underlayMtu: this.config.underlayMtu };
      phase('host-addresses');
      // the published ports of the endpoints live here now (CNI portMappings, Docker -p): DNAT rules
      hostNet = desiredHostNet(input, facts, this.portMappings());
      input = {
        state: input.state,
        local: { ...local, bridge: { ...this.bridgePorts, gateways: await this.ensureGatewayPorts(hostNet) } },
      };
    }
    const flows = computePipeline(input);
    const meters = [...desiredMeters(input).map(meterConfig), ...serviceMeters(input)];
    const groups = desiredGroups(input);
    phase('compute');
    const r = await applyToSwitch({ flows: this.reconciler, meters: this.meters, groups: this.groups }, flows, meters, groups);
    phase('apply');
    if (this.purge) {
      const m = this.deps.metrics?.datapathPurges;
      await this.purge.settle(r.messages > 0).then(
        (purged) => purged && m?.inc({ result: 'ok' }),
        (e: unknown) => {
          m?.inc({ result: 'failed' });
          throw e;
        },
      );
      phase('purge');
    }
    if (hostNet) {
      // after the flows: no flow sends to a port that is gone, and the kernel side exists before routes name it
      const key = this.gatewayOfports?.key;
      if (this.staleGatewaysChecked !== key) {
        await this.gatewayPorts.removeStale(await this.vswitch(), hostNet.gateways);
        this.staleGatewaysChecked = key;
      }
      await this.hostNet.apply(hostNet);
      phase('hostnet');
    }
    this.flowCount = flows.length;
    this.deps.metrics?.flowsInstalled.set(flows.length);
    if (r.messages > 0) this.deps.logger.debug({ flows: flows.length, messages: r.messages }, 'flows applied');
    // the state computed from, not this.state: a newer one may have arrived during the apply; one
    // realized alike is realized as well
    this.acknowledge(state);
    const now = this.state;
    if (now && now !== state && this.alikeFirst(now) === this.alikeFirst(state)) this.acknowledge(now);
  }

  /** Returns a function that records the time since its previous call (or since now) as the named reconcile phase. */
  private phaseTimer(): (name: string) => void {
    let last = this.clock.monotonic();
    return (name) => {
      const now = this.clock.monotonic();
      this.deps.metrics?.reconcilePhase.observe({ phase: name }, (now - last) / 1000);
      last = now;
    };
  }

  /** The tenants' gateway ports on br-int (added when missing) and their ofports, re-read only when the set changes. */
  private async ensureGatewayPorts(hostNet: HostNetState): Promise<Record<string, number>> {
    const key = hostNet.gateways.map((g) => `${g.port}=${g.mac}/${g.mtu}`).join(',');
    if (this.gatewayOfports?.key !== key) {
      this.gatewayOfports = { key, ofports: await this.gatewayPorts.ensure(await this.vswitch(), hostNet.gateways) };
    }
    return this.gatewayOfports.ofports;
  }

  /**
   * Trace a synthetic packet through br-int with ofproto/trace (netctl trace: see
   * netplugin/trace/host-trace.ts), naming tables, flows and policy decisions.
   */
  async trace(p: TracePacket): Promise<HostTraceResult> {
    const ports = this.ports;
    const byPort = new Map(Object.entries(ports).map(([id, lp]) => [lp.ofport, id]));
    const networks = this.state?.networks ?? [];
    const reconciler = this.reconciler;
    const facts = {
      endpointPort: (id: string) => ports[id]?.ofport,
      endpointOnPort: (ofport: number) => byPort.get(ofport),
      vxlanPort: this.bridgePorts.vxlan,
      uplinkPort: this.bridgePorts.uplink,
      gatewayMac: (key: string) => networks.find((n) => n.key === key)?.gatewayMac,
      objectOf: (feature: Parameters<FlowReconciler['objectOf']>[0], hash: number) => reconciler?.objectOf(feature, hash),
    };
    const runDir = this.config.ovsRunDir;
    return traceOnHost(p, facts, {
      host: this.config.hostName,
      ovsRunDir: runDir,
      bridge: this.config.bridge.bridge,
      vtepIp: this.vtepIp,
      runner: this.runner,
      vswitchdPid: () => readFileSync(`${runDir}/ovs-vswitchd.pid`, 'utf8'),
    });
  }

  /** Stop following and close connections; flows stay on the switch (the datapath keeps forwarding). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.warmup.stop();
    this.hostAddresses.stop();
    this.loop.stop();
    this.countersStop.abort();
    await this.countersLoop;
    await this.deps.source.stop();
    this.sw?.close('agent stopping');
    await this.ovsdb.stop();
    this.shells.close();
    await this.vswitchd.close();
    await this.store.flush().catch((e: unknown) => this.deps.logger.error({ err: errorMessage(e) }, 'endpoint records not saved'));
  }
}
