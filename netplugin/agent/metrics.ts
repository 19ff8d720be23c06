/**
 * Prometheus metrics of one agent (its own registry): flows installed, reconcile runs and their
 * duration, endpoints plugged here, whether OVSDB, OpenFlow and the control plane are connected,
 * and which netmaster replica the agent follows (with how often it moved to another); with address
 * blocks (issue 15): blocks held and free addresses per network, registrations pending, and
 * registrations netmaster refused by outcome.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../lib/process-metrics';

export interface AgentMetrics {
  registry: Registry;
  flowsInstalled: Gauge;
  reconcileDuration: Histogram<'result'>;
  reconcileRuns: Counter<'result'>;
  /** time of each part of a reconcile (where an ADD's wait for its flows goes) */
  reconcilePhase: Histogram<'phase'>;
  /** what asked for reconciles (several asks before a run make one run) */
  reconcileTriggers: Counter<'reason'>;
  /** desired states that needed no reconcile, only an acknowledgement (realized alike the one before) */
  statesRealizedAlike: Counter;
  /** a CNI ADD's steps: time from the ADD's start until each finished (its critical path) */
  cniAddSteps: Histogram<'step'>;
  /** CNI requests served, by command and result, from the request's arrival to its answer */
  cniRequests: Histogram<'command' | 'result'>;
  endpoints: Gauge;
  connected: Gauge<'peer'>;
  ofReconnects: Counter;
  /** revalidator/purge after flow changes (an Open vSwitch with the overlapping-megaflow bug: reconcile/datapath-purge.ts) */
  datapathPurges: Counter<'result'>;
  netmasterReplica: Gauge<'address'>;
  netmasterFailovers: Gauge;
  /** when set, read at every scrape for `netplugin_connected` */
  probe?: () => Record<'ovsdb' | 'openflow' | 'netmaster', boolean>;
  /** when set (netmaster control plane), read at every scrape for the replica metrics */
  replicaProbe?: () => { replica: string; failovers: number };
  ipamBlocks: Gauge<'network'>;
  ipamFree: Gauge<'network'>;
  ipamPending: Gauge;
  ipamRejected: Gauge<'outcome'>;
  /** when set (address blocks in use), read at every scrape for the ipam metrics */
  ipamProbe?: () => IpamProbe;
}

/** What the IPAM metrics read (netplugin/agent/block-allocator.ts stats). */
export interface IpamProbe {
  blocks: Record<string, number>;
  free: Record<string, number>;
  pending: number;
  rejected: Record<string, number>;
}

export function createAgentMetrics(opts: { defaultMetrics?: boolean } = {}): AgentMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectProcessMetrics(registry);
  /** A gauge read from the IPAM probe at each scrape: one series per key of `pick`'s record. */
  const ipamGauge = <L extends string>(name: string, help: string, label: L, pick: (p: IpamProbe) => Record<string, number>) =>
    new Gauge<L>({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        const p = m.ipamProbe?.();
        if (!p) return;
        this.reset();
        for (const [k, n] of Object.entries(pick(p))) this.set({ [label]: k } as Record<L, string>, n);
      },
    });
  const m: AgentMetrics = {
    registry,
    flowsInstalled: new Gauge({
      name: 'netplugin_flows_installed',
      help: 'Flows the agent holds installed on br-int',
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'netplugin_reconcile_duration_seconds',
      help: 'Duration of a reconcile (compute the pipeline and apply the diff), by result',
      labelNames: ['result'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    reconcileRuns: new Counter({
      name: 'netplugin_reconcile_runs_total',
      help: 'Reconcile runs by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcilePhase: new Histogram({
      name: 'netplugin_reconcile_phase_seconds',
      help: 'Duration of each part of a successful reconcile: host addresses read, pipeline computed, switch applied, datapath purged, host network applied',
      labelNames: ['phase'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    reconcileTriggers: new Counter({
      name: 'netplugin_reconcile_triggers_total',
      help: 'Requests for a reconcile by reason (desired state, port change, attach, detach, reconnect, port mappings)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    statesRealizedAlike: new Counter({
      name: 'netplugin_states_realized_alike_total',
      help: 'Desired states from netmaster that changed nothing to realize (e.g. its confirmation of an endpoint plugged here): acknowledged without a reconcile',
      registers: [registry],
    }),
    cniAddSteps: new Histogram({
      name: 'netplugin_cni_add_step_done_seconds',
      help: "Time from a CNI ADD's start until each of its steps finished: address allocated, veth made, OVS port with its ofport, flows installed (recorded), container addressed, done",
      labelNames: ['step'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    cniRequests: new Histogram({
      name: 'netplugin_cni_request_duration_seconds',
      help: 'CNI requests served by the agent, by command and result (ok, error), from arrival to answer',
      labelNames: ['command', 'result'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    endpoints: new Gauge({ name: 'netplugin_endpoints', help: 'Endpoints plugged on this host', registers: [registry] }),
    connected: new Gauge({
      name: 'netplugin_connected',
      help: '1 when the agent is connected to the peer (ovsdb, openflow, netmaster)',
      labelNames: ['peer'] as const,
      registers: [registry],
      collect() {
        const p = m.probe?.();
        if (p) for (const [peer, up] of Object.entries(p)) this.set({ peer }, up ? 1 : 0);
      },
    }),
    ofReconnects: new Counter({
      name: 'netplugin_openflow_reconnects_total',
      help: 'OpenFlow reconnects to br-int (e.g. after ovs-vswitchd restarts)',
      registers: [registry],
    }),
    datapathPurges: new Counter({
      name: 'netplugin_datapath_flow_purges_total',
      help: 'Datapath flow cache purges after flow changes (only with an Open vSwitch that can keep a stale megaflow), by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    netmasterReplica: new Gauge({
      name: 'netplugin_netmaster_replica',
      help: '1 for the netmaster replica (gRPC address) the agent follows now; no series while it follows none',
      labelNames: ['address'] as const,
      registers: [registry],
      collect() {
        const r = m.replicaProbe?.();
        if (!r) return;
        this.reset();
        if (r.replica !== '') this.set({ address: r.replica }, 1);
      },
    }),
    netmasterFailovers: new Gauge({
      name: 'netplugin_netmaster_failovers',
      help: 'Times the agent moved to another netmaster replica since it started',
      registers: [registry],
      collect() {
        const r = m.replicaProbe?.();
        if (r) this.set(r.failovers);
      },
    }),
    ipamBlocks: ipamGauge('netplugin_ipam_blocks', 'Address blocks this host holds, per network', 'network', (p) => p.blocks),
    ipamFree: ipamGauge('netplugin_ipam_free_addresses', "Free addresses in this host's blocks, per network", 'network', (p) => p.free),
    ipamPending: new Gauge({
      name: 'netplugin_ipam_registrations_pending',
      help: 'Endpoint registrations and deregistrations not yet confirmed by netmaster',
      registers: [registry],
      collect() {
        const p = m.ipamProbe?.();
        if (p) this.set(p.pending);
      },
    }),
    ipamRejected: ipamGauge(
      'netplugin_ipam_registrations_refused',
      'Registrations netmaster refused since start (the address stays held here), by outcome',
      'outcome',
      (p) => p.rejected,
    ),
  };
  return m;
}
