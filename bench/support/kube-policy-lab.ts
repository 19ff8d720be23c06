/**
 * The NetworkPolicy realization benchmark's cluster (bench/kube-policy.ts): a lab made with
 * `up --hosts 3 --kube` (etcd, the Kubernetes API stand-in, netmaster running its controller, a
 * real netplugin per host following its node's pods, containerd and a kubelet stand-in per host),
 * the netloom objects the pods land in, namespaces and pods made through the API with
 * @kubernetes/client-node and run by the kubelets (containerd's CNI ADD names the pod; the agent
 * reads it from the API), the changes written, and each host's ingressPolicy table watched until
 * it shows what a change must do.
 */
import { CoreV1Api, NetworkingV1Api, type V1NetworkPolicy, type V1Pod } from '@kubernetes/client-node';
import { run as exec } from '../../lib/exec';
import { errorMessage, NetloomError } from '../../lib/errors';
import { loadKubeconfig } from '../../lib/kube/kubeconfig';
import { table } from '../../netplugin/pipeline/tables';
import { connectSwitch, type OfConnection } from '../../ovs/openflow';
import { labRestCredentials, pkiPaths } from '../../deploy/lab/pki';
import { makeSimAgentCerts } from '../../tools/agent-sim/certs';
import { AgentSimulator, simHostName } from '../../tools/agent-sim/simulator';
import { agentPaths, planLab, type LabPlan } from '../../deploy/lab/plan';
import { RestClient } from '../../tools/agent-sim/cluster';
import { crossProcessNow } from '../../tools/agent-sim/conditions';
import { inFlight } from '../../tools/agent-sim/topology';
import { waitFor } from '../../lib/clock';
import {
  CLIENT_GROUP,
  DEFAULT_GROUP,
  portsHold,
  tcpDstPorts,
  NETWORK,
  namespaceName,
  podObject,
  reconcilePhases,
  REF_POLICY,
  SIM_HOST_PREFIX,
  simPodEndpoint,
  simVteps,
  standingPolicies,
  TENANT,
  WEB_GROUP,
  type Change,
  type ChangeWrite,
  type HostExpectation,
  type KubePolicyBenchConfig,
  type PhaseTotals,
  type PodPlan,
} from './kube-policy-plan';

export const LAB_BIN = `${__dirname}/../../../bin/netloom-lab`;

interface LabHost {
  name: string;
  netns: string;
  ovsRunDir: string;
  agent: { cniSocket: string };
}

interface LabStatus {
  hosts: LabHost[];
  netmasters: Array<{ url: string }>;
  kubeApi?: { kubeconfig: string };
}

/** One measured change: ms from just before the write until the last real host showed it, and until the last simulated agent had it. */
export interface Measured {
  ms: number;
  realMs: number;
  /** undefined: no simulated agent is affected */
  simMs: number | undefined;
}

export async function lab(name: string, args: string[], timeoutMs = 300_000): Promise<string> {
  return (await exec(LAB_BIN, ['--lab', name, ...args], { timeoutMs })).stdout;
}

export class KubePolicyCluster {
  readonly rest: RestClient;
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  private readonly hosts = new Map<string, LabHost>();
  private readonly plan: LabPlan;
  private readonly netmasterCount: number;
  /** the simulated agents (startSimAgents) */
  sim: AgentSimulator | undefined;
  /** an OpenFlow connection to each host's br-int, made at its first dump */
  private readonly switches = new Map<string, Promise<OfConnection>>();

  private constructor(
    readonly cfg: KubePolicyBenchConfig,
    status: LabStatus,
  ) {
    for (const h of status.hosts) this.hosts.set(h.name, h);
    this.netmasterCount = status.netmasters.length;
    this.plan = planLab({ name: cfg.lab, hosts: 3, etcdMembers: 1 });
    this.rest = new RestClient(status.netmasters[0]!.url, labRestCredentials(this.plan));
    if (!status.kubeApi) throw new NetloomError('INVALID_ARGUMENT', `lab ${cfg.lab} has no Kubernetes API`);
    const kc = loadKubeconfig(status.kubeApi.kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
  }

  /** Bring the lab up (refusing one that is up already: it may be someone else's). */
  static async up(cfg: KubePolicyBenchConfig, progress: (m: string) => void): Promise<KubePolicyCluster> {
    const existing = await exec(LAB_BIN, ['--lab', cfg.lab, 'status', '-o', 'json'], { allowFailure: true, timeoutMs: 30_000 });
    if (existing.code === 0)
      throw new NetloomError(
        'CONFLICT',
        `lab ${cfg.lab} is already up: take it down first (bin/netloom-lab --lab ${cfg.lab} down) or pick another --lab`,
        { field: 'lab' },
      );
    progress(`lab ${cfg.lab}: up --hosts 3 --kube`);
    await lab(cfg.lab, ['up', '--hosts', '3', '--kube']);
    return new KubePolicyCluster(cfg, JSON.parse(await lab(cfg.lab, ['status', '-o', 'json'])) as LabStatus);
  }

  /** netloom's side: the tenant, the pods' network, their groups, the reference Contiv policy on the web group. */
  async netloomObjects(): Promise<void> {
    const r = this.rest;
    await r.mustPost(`/api/v1/tenants/${TENANT}/`, { tenantName: TENANT });
    await r.mustPost(`/api/v1/networks/${TENANT}:${NETWORK}/`, {
      tenantName: TENANT,
      networkName: NETWORK,
      encap: 'vxlan',
      pktTag: 7200,
      // room for the pods' agents' address blocks and a pod per simulated agent
      subnet: '10.72.0.0/20',
      gateway: '10.72.0.1',
    });
    await r.mustPost(`/api/v1/policys/${TENANT}:${REF_POLICY}/`, { tenantName: TENANT, policyName: REF_POLICY });
    for (const [g, policies] of [
      [DEFAULT_GROUP, []],
      [WEB_GROUP, [REF_POLICY]],
      [CLIENT_GROUP, []],
    ] as const)
      await r.mustPost(`/api/v1/endpointGroups/${TENANT}:${g}/`, { tenantName: TENANT, groupName: g, networkName: NETWORK, policies });
  }

  /** Namespaces and the standing policies, which select nothing yet. */
  async kubeObjects(rounds: number): Promise<void> {
    for (let j = 0; j < this.cfg.namespaces; j++)
      await this.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespaceName(j) } } });
    for (const p of standingPolicies(rounds))
      await this.networking.createNamespacedNetworkPolicy({ namespace: namespaceName(0), body: typedPolicy(p) });
  }

  /**
   * The pods through the API, --pod-batch at a time, each batch Running with an address before the
   * next: the kubelets make every pod they see at once (300 sandboxes in parallel drove this 2-vCPU
   * machine to load 290). containerd's CNI ADD of each names the pod; the agent reads it from the API.
   */
  async makePods(pods: readonly PodPlan[], timeoutMs: number, progress: (m: string) => void): Promise<void> {
    for (let i = 0; i < pods.length; i += this.cfg.podBatch) {
      const batch = pods.slice(i, i + this.cfg.podBatch);
      await inFlight(batch.length, 8, (j) =>
        this.core.createNamespacedPod({ namespace: batch[j]!.namespace, body: podObject(batch[j]!) as V1Pod }),
      );
      await this.podsRunning(pods.slice(0, i + batch.length), timeoutMs);
      progress(`${i + batch.length} of ${pods.length} pods Running`);
    }
  }

  /** Wait until the kubelets run every pod of `pods` with an address. */
  private async podsRunning(pods: readonly PodPlan[], timeoutMs: number): Promise<void> {
    const want = new Set(pods.map((p) => `${p.namespace}/${p.name}`));
    await waitFor(
      `${pods.length} pods Running with an address`,
      async () => {
        const list = await this.core.listPodForAllNamespaces({});
        const up = list.items.filter(
          (p) => want.has(`${p.metadata?.namespace}/${p.metadata?.name}`) && p.status?.phase === 'Running' && p.status.podIP,
        ).length;
        return up === pods.length;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  private host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new NetloomError('NOT_FOUND', `no lab host ${name}`);
    return h;
  }

  /**
   * `n` simulated agents (tools/agent-sim, one worker process) on the lab's netmasters over its
   * mutual TLS, each with a certificate of its own from the lab's CA and a VTEP in its underlay;
   * then a web pod endpoint on each (simPodEndpoint, over REST as the agent's CNI ADD records
   * it). Resolves once every one has every pod endpoint of the network (`pods` real ones too).
   */
  async startSimAgents(n: number, pods: number, timeoutMs: number, progress: (m: string) => void): Promise<void> {
    if (n === 0) return;
    const hosts = Array.from({ length: n }, (_, i) => simHostName(i, SIM_HOST_PREFIX));
    const pki = pkiPaths(this.plan);
    const tls = await makeSimAgentCerts({ dir: pki.dir, ca: pki.ca }, hosts);
    const vteps = simVteps(this.plan.dataSubnet, n);
    const addresses = this.plan.netmasters.slice(0, this.netmasterCount).map((m) => m.grpcListen);
    this.sim = new AgentSimulator({ addresses, agents: n, hostPrefix: SIM_HOST_PREFIX, workers: 1, ratePerSec: 100, tls, vtepIps: vteps });
    const snap = await this.sim.watchAll({ kind: 'snapshot' });
    await this.sim.start();
    const s = await snap.wait(timeoutMs);
    if (!s.ok) throw new NetloomError('TIMEOUT', `${s.missingCount} simulated agents got no snapshot (${s.missing.join(', ')})`);
    progress(`${n} simulated agents registered over mutual TLS`);
    await inFlight(n, 8, (i) => this.rest.mustPost('/api/v1/endpoints/', simPodEndpoint(hosts[i]!, vteps[i]!)));
    const all = await this.sim.waitAll({ kind: 'endpointCount', network: `${TENANT}:${NETWORK}`, atLeast: pods + n }, timeoutMs);
    if (!all.ok) throw new NetloomError('TIMEOUT', `${all.missingCount} simulated agents lack the ${pods + n} pod endpoints`);
    progress(`${n} simulated agents each host a web pod and have all ${pods + n} pod endpoints`);
  }

  /** Every host's agent reconcile phase totals (its /metrics, inside the host's namespace), in host order. */
  async agentPhases(): Promise<PhaseTotals[]> {
    return Promise.all(
      [...this.hosts.values()].map(async (h) => {
        const r = await exec('curl', ['-sf', '--max-time', '10', `http://${agentPaths(this.plan, h.name).metricsListen}/metrics`], {
          netns: h.netns,
          timeoutMs: 15_000,
          allowFailure: true,
        });
        return reconcilePhases(r.code === 0 ? r.stdout : '');
      }),
    );
  }

  /**
   * The tcp ports of `host`'s ingressPolicy flows, from one flow-stats request on a connection of
   * our own to its br-int (made at the first dump, kept: an ovs-ofctl run per dump, through
   * `ip netns exec`, was two processes every poll on each host, which loaded the machine it timed).
   */
  async ingressPolicyPorts(host: string): Promise<Set<number> | undefined> {
    try {
      const conn = await this.switchOf(host);
      return tcpDstPorts(await conn.dumpFlows({ tableId: table('ingressPolicy') }, { timeoutMs: 10_000 }));
    } catch {
      // a dump that failed (the switch busy, the connection lost) is a poll that saw nothing
      return undefined;
    }
  }

  private switchOf(host: string): Promise<OfConnection> {
    let c = this.switches.get(host);
    if (!c) {
      c = connectSwitch(`unix:${this.host(host).ovsRunDir}/br-int.mgmt`, { timeoutMs: 10_000 });
      this.switches.set(host, c);
      // a failed connect is made again at the next dump
      c.catch(() => this.switches.delete(host));
    }
    return c;
  }

  /** When (crossProcessNow) `e` first held on its host, polling every --poll-ms until `deadline` (the resolution: a dump's round trip plus that). */
  async held(e: HostExpectation, deadline: number): Promise<number> {
    for (;;) {
      const ports = await this.ingressPolicyPorts(e.host);
      const at = crossProcessNow();
      if (ports && portsHold(ports, e)) return at;
      if (at > deadline)
        throw new NetloomError('TIMEOUT', `${e.host}: want tcp ports [${e.present}] present, [${e.absent}] absent in ingressPolicy`);
      if (this.cfg.pollMs > 0) await new Promise((r) => setTimeout(r, this.cfg.pollMs));
    }
  }

  /** Wait until every host of `expect` holds (the change's setup, unmeasured). */
  async settle(expect: readonly HostExpectation[], timeoutMs: number): Promise<void> {
    const deadline = crossProcessNow() + timeoutMs;
    await Promise.all(expect.map((e) => this.held(e, deadline)));
  }

  /**
   * Make change `c`: ms from just before the write until the last affected real host showed it in
   * its flows, and until the last simulated agent had it (their watch is set before the write).
   */
  async measure(c: Change, timeoutMs: number): Promise<Measured> {
    const watch = c.sim && this.sim ? await this.sim.watchAll(c.sim) : undefined;
    const sent = crossProcessNow();
    await this.write(c.write);
    const deadline = crossProcessNow() + timeoutMs;
    const [times, simmed] = await Promise.all([
      Promise.all(c.expect.map((e) => this.held(e, deadline))),
      watch?.wait(Math.max(0, deadline - crossProcessNow())),
    ]);
    const realMs = Math.max(...times) - sent;
    if (simmed && !simmed.ok)
      throw new NetloomError('TIMEOUT', `${simmed.missingCount} simulated agents lack ${simmed.what} (${simmed.missing.join(', ')})`);
    const simMs = simmed ? simmed.lastAt - sent : undefined;
    return { ms: Math.max(realMs, simMs ?? 0), realMs, simMs };
  }

  private async write(w: ChangeWrite): Promise<void> {
    switch (w.kind) {
      case 'putPolicy': {
        const meta = w.policy.metadata as { name: string; namespace: string };
        const body = typedPolicy(w.policy);
        const cur = await this.networking
          .readNamespacedNetworkPolicy({ name: meta.name, namespace: meta.namespace })
          .catch(() => undefined);
        if (cur)
          await this.networking.replaceNamespacedNetworkPolicy({
            name: meta.name,
            namespace: meta.namespace,
            body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } },
          });
        else await this.networking.createNamespacedNetworkPolicy({ namespace: meta.namespace, body });
        return;
      }
      case 'deletePolicy':
        await this.networking.deleteNamespacedNetworkPolicy({ name: w.name, namespace: w.namespace });
        return;
      case 'namespaceLabel': {
        const ns = await this.core.readNamespace({ name: w.namespace });
        ns.metadata = { ...ns.metadata, labels: withLabel(ns.metadata?.labels, w.key, w.value) };
        await this.core.replaceNamespace({ name: w.namespace, body: ns });
        return;
      }
      case 'podLabel': {
        const pod = await this.core.readNamespacedPod({ name: w.name, namespace: w.namespace });
        pod.metadata = { ...pod.metadata, labels: withLabel(pod.metadata?.labels, w.key, w.value) };
        await this.core.replaceNamespacedPod({ name: w.name, namespace: w.namespace, body: pod });
        return;
      }
      case 'refRule':
        if (w.port === null) {
          const r = await this.rest.request('DELETE', `/api/v1/rules/${TENANT}:${REF_POLICY}:${w.ruleId}/`);
          if (r.status !== 200 && r.status !== 204) throw new NetloomError('UNAVAILABLE', `DELETE rule ${w.ruleId}: ${r.status} ${r.text}`);
        } else
          await this.rest.mustPost(`/api/v1/rules/${TENANT}:${REF_POLICY}:${w.ruleId}/`, {
            tenantName: TENANT,
            policyName: REF_POLICY,
            ruleId: w.ruleId,
            direction: 'in',
            priority: 1,
            fromEndpointGroup: CLIENT_GROUP,
            protocol: 'tcp',
            port: w.port,
            action: 'allow',
          });
        return;
    }
  }

  /** The lab down (its pods through the CRI, containerd, the kubelets), unless --keep. */
  async down(progress: (m: string) => void): Promise<void> {
    await this.sim?.stop();
    for (const c of this.switches.values()) void c.then((conn) => conn.close('benchmark done')).catch(() => undefined);
    this.switches.clear();
    this.rest.close();
    if (this.cfg.keep) return progress(`lab ${this.cfg.lab} kept up (--keep)`);
    progress(`lab ${this.cfg.lab}: down`);
    await lab(this.cfg.lab, ['down']).catch((e: unknown) => progress(`lab down failed: ${errorMessage(e)}`));
  }
}

/**
 * A NetworkPolicy as JSON (`from`) in client-node's typed form (`_from`): its serializer writes the
 * typed fields only, so a raw `from` would be dropped and the rule sent without peers (allow all).
 */
function typedPolicy(p: Record<string, unknown>): V1NetworkPolicy {
  const spec = p.spec as { ingress?: Array<Record<string, unknown>> } & Record<string, unknown>;
  const ingress = spec.ingress?.map(({ from, ...rest }) => (from === undefined ? rest : { ...rest, _from: from }));
  return { ...p, spec: { ...spec, ...(ingress ? { ingress } : {}) } } as V1NetworkPolicy;
}

function withLabel(labels: Record<string, string> | undefined, key: string, value: string | null): Record<string, string> {
  const out = { ...(labels ?? {}) };
  if (value === null) delete out[key];
  else out[key] = value;
  return out;
}
