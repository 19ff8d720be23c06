/**
 * The agent's CNI backend. ADD asks the control plane for an endpoint (idempotency key = CNI
 * network + container id + interface) and, at the same time, creates the veth pair (host end named
 * after the attachment, so known before netmaster answers) and puts its host end on br-int; with
 * the allocation it then configures the container end (MAC, MTU from the network, address, default
 * route) while the agent installs the endpoint's flows, and answers when both are done. A failure
 * anywhere undoes every part. Published ports (portMappings) are reserved on the host before
 * anything is made (a host port another endpoint has fails the ADD) and kept with the endpoint's
 * record, so they live and die with it. A second ADD of a recorded attachment is an error (the spec's
 * duplicate attachment). Only a container's first attachment installs the default route, unless the
 * netconf's `defaultRoute` says otherwise. DEL undoes an attachment (the three parts at once) and is
 * idempotent, also for an ADD that died half-way; CHECK compares the interface, addresses and routes
 * inside the namespace with the record and the prevResult (cni-check.ts); GC releases what is not
 * listed; STATUS is ready when OVS and the control plane are connected.
 * In a routed network (BGP mode) the host end is routed to instead of plugged into br-int
 * (`finishRouted`, plumbing/routed-veth.ts); DEL removes its route with the veth.
 */
import type { KubePodInfo, PodResolver } from '../kube/pod-attachments';
import { errorMessage, NetloomError } from '../../lib/errors';
import { randomMac } from '../../lib/mac';
import type { Agent } from '../agent/agent';
import type { EndpointRecord } from '../agent/endpoint-store';
import type {
  AttachmentKey,
  CniAddRequest,
  CniBackend,
  CniCheckReport,
  CniCheckRequest,
  CniDelRequest,
  CniGcReport,
  CniGcRequest,
  CniResult,
  CniStatus,
} from '../cni/types';
import { publishedPort } from '../cni/parse';
import { readNetnsView } from '../plumbing/netns-view';
import { attachmentProblems, expectedFromResult, type ExpectedAttachment } from './cni-check';
import type { PublishedPort } from '../state/published-port';
import { endpointMtu, VXLAN_OVERHEAD } from '../pipeline/mtu';
import {
  configureContainer,
  createVeth,
  disableTxChecksum,
  hostIfName,
  removeHostIf,
  setContainerMtu,
  setHostIfMtu,
} from '../plumbing/veth';
import type { EarlyAllocation, EndpointRequest } from '../agent/fabric';
import { configureRoutedContainer, plumbRoutedHost, removeRoutedEndpoint, ROUTED_GATEWAY } from '../plumbing/routed-veth';
import { isRouted } from '../routed/routed-networks';
import type { Network } from '../state/host-state';
import { RecentAddresses } from './recent-addresses';

/** The default route an attachment installed: via its gateway, unless its record says it installed none. */
function defaultRouteOf(rec: EndpointRecord): { dst: string; gw: string }[] {
  return rec.gateway && rec.defaultRoute !== false ? [{ dst: '0.0.0.0/0', gw: rec.gateway }] : [];
}

function resultOf(rec: EndpointRecord): CniResult {
  return {
    interfaces: [{ name: rec.hostIf }, { name: rec.ifName, mac: rec.mac, mtu: rec.mtu, sandbox: rec.netnsPath }],
    ips: [{ address: `${rec.ip}/${rec.prefixLength}`, ...(rec.gateway ? { gateway: rec.gateway } : {}), interface: 1 }],
    routes: defaultRouteOf(rec),
    dns: {},
  };
}

/** The record's own view of its container interface, for CHECK. */
function expectedFromRecord(rec: EndpointRecord): ExpectedAttachment {
  return { ifName: rec.ifName, mac: rec.mac, mtu: rec.mtu, addresses: [`${rec.ip}/${rec.prefixLength}`], routes: defaultRouteOf(rec) };
}

/** A promise that never rejects: its outcome, for steps that are awaited later (no unhandled rejection meanwhile). */
function settled<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value): PromiseFulfilledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseRejectedResult => ({ status: 'rejected', reason }),
  );
}

function unwrap<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** Wait for every promise; then throw the first failure, if any (nothing is left running). */
/** For a step's timing: its failure is handled where the step is awaited. */
const noop = (): void => undefined;

/** Resolves (with nothing) after the promise callbacks already queued and one turn of the event loop. */
const nextTurn = (): Promise<undefined> => new Promise((r) => setImmediate(() => r(undefined)));

async function settleAll(ps: readonly Promise<unknown>[]): Promise<void> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export class AgentCniBackend implements CniBackend {
  /** addresses of deleted attachments, asked for again by an ADD of the same attachment (a restart) */
  private readonly recent = new RecentAddresses();

  constructor(
    private readonly agent: Agent,
    /** Kubernetes: a request naming a pod takes its identity from the pod (absent: no Kubernetes here) */
    private readonly pods?: PodResolver,
  ) {}

  async add(asked: CniAddRequest): Promise<CniResult> {
    const kube = this.pods ? await this.pods.resolve(asked.pod, asked.network) : undefined;
    const req: CniAddRequest & { kubePod?: KubePodInfo } = kube
      ? { ...asked, network: kube.network, labels: kube.labels, kubePod: kube.pod }
      : asked;
    const existing = this.agent.store.get(req.idempotencyKey);
    if (existing) {
      // the spec: no second ADD of one (network, container, interface) without a DEL between
      throw new NetloomError(
        'ALREADY_EXISTS',
        `attachment ${req.containerId}/${req.ifName} on network ${req.network.cniNetwork} exists already (in ${existing.netnsPath}); DEL it first`,
        { field: 'CNI_CONTAINERID' },
      );
    }
    // host ports are reserved first: a clash fails the ADD before anything is made
    const ports = req.portMappings.map(publishedPort);
    this.agent.claimPorts(req.idempotencyKey, ports, (i) => `runtimeConfig.portMappings[${i}]`);
    try {
      return await this.addNew(req, ports);
    } finally {
      // the record (live once added) holds the ports from now on, or the ADD failed
      this.agent.releasePortClaim(req.idempotencyKey);
    }
  }

  private async addNew(req: CniAddRequest & { kubePod?: KubePodInfo }, ports: PublishedPort[]): Promise<CniResult> {
    const hostIf = hostIfName(req.idempotencyKey);
    const step = this.agent.addStepTimer();
    // the MTU of the network when this host knows it already, else the smallest it can be (VXLAN);
    // stage 2 raises the container end's MTU (and the host end's) when the network allows more
    const known = this.agent.currentState?.networks.find((n) => n.tenant === req.network.tenant && n.name === req.network.network);
    const underlay = this.agent.config.underlayMtu;
    const capped = (m: number): number => (req.mtu !== undefined ? Math.min(req.mtu, m) : m);
    const firstMtu = capped(known ? endpointMtu(known, underlay) : underlay - VXLAN_OVERHEAD);
    // the MAC is chosen here (or by the runtime) so that stage 1 can set it; netmaster records it
    // (CONFLICT in the ~2^-40 case of a clash: the runtime retries the ADD)
    const asked = req.requestedIps[0]?.ip;
    // a restarted container (same attachment) asks for its last address first unless the runtime
    // asks for one (taken meanwhile: any), and keeps its MAC unless the runtime gives one
    const again = this.recent.take(req.idempotencyKey);
    const mac = req.requestedMac ?? again?.mac ?? randomMac();
    // a second interface of a container would clash with the first's default route (RTNETLINK: File exists)
    const defaultRoute = req.defaultRoute ?? !this.agent.store.list().some((r) => r.kind === 'cni' && r.containerId === req.containerId);
    // netmaster allocates while the kernel makes the veth; then, at the same time: the checksum fix
    // and the OVS port (after the veth), the container's addressing (after both), the flows (after
    // the port and the allocation)
    const allocator = this.agent.allocator;
    const endpointRequest = (requestedIp: string | undefined): EndpointRequest => ({
      idempotencyKey: req.idempotencyKey,
      host: this.agent.hostName,
      tenant: req.network.tenant,
      network: req.network.network,
      ...(req.network.group ? { group: req.network.group } : {}),
      containerId: req.containerId,
      ...(req.pod ? { containerName: req.pod.name } : {}),
      ifName: req.ifName,
      ...(requestedIp !== undefined ? { requestedIp } : {}),
      requestedMac: mac,
      labels: req.labels,
      ...(req.kubePod ? { pod: req.kubePod } : {}),
    });
    const allocate = (requestedIp: string | undefined): Promise<EarlyAllocation> =>
      allocator.createEarly
        ? allocator.createEarly(endpointRequest(requestedIp))
        : allocator.create(endpointRequest(requestedIp)).then((a) => ({ ...a, durable: Promise.resolve() }));
    const allocating = asked !== undefined || again === undefined ? allocate(asked) : allocate(again.ip).catch(() => allocate(undefined));
    void allocating.then(() => step('allocated'), noop);
    // an address chosen from this host's blocks is there within a turn of the event loop: the veth
    // is then made with its addressing in one run (netmaster's answer takes longer: two stages)
    const early = await Promise.race([allocating.then((a) => a, noop), nextTurn()]);
    // a routed network (BGP mode) known here already: its host end never goes on br-int, the kernel
    // forwards (no checksum fix), its addressing is another (finishRouted); a network not known
    // yet is taken for an OVS one until it is
    const routedHint = known !== undefined && this.isRoutedNet(known);
    const oneShot = early !== undefined && known !== undefined && !routedHint && early.mac === mac ? early : undefined;
    // the port's number is chosen here, so its flows can go in while OVS adds it (agent/interface-ofports.ts)
    const requested = routedHint ? undefined : this.agent.requestOfport(hostIf);
    try {
      return await this.plumb(req, {
        ports,
        hostIf,
        step,
        known,
        firstMtu,
        capped,
        mac,
        defaultRoute,
        allocating,
        routedHint,
        oneShot,
        requested,
      });
    } finally {
      if (requested !== undefined) this.agent.releaseOfport(hostIf);
    }
  }

  private async plumb(
    req: CniAddRequest & { kubePod?: KubePodInfo },
    o: {
      ports: PublishedPort[];
      hostIf: string;
      step: (s: string) => void;
      known: Network | undefined;
      firstMtu: number;
      capped: (m: number) => number;
      mac: string;
      defaultRoute: boolean;
      allocating: Promise<EarlyAllocation>;
      routedHint: boolean;
      oneShot: EarlyAllocation | undefined;
      requested: number | undefined;
    },
  ): Promise<CniResult> {
    const { ports, hostIf, step, known, firstMtu, capped, mac, defaultRoute, allocating, routedHint, oneShot, requested } = o;
    const runner = this.agent.runner;
    const underlay = this.agent.config.underlayMtu;
    // userspace TSO: kept on where the container's packets cannot reach a tunnel (agent/userspace-tso.ts)
    const txOff = !routedHint && this.agent.txChecksumOffFor(known);
    const helper = this.agent.vethHelper;
    const veth = createVeth(
      {
        hostIf,
        ifName: req.ifName,
        netnsPath: req.netnsPath,
        mac,
        mtu: firstMtu,
        ...(oneShot
          ? { address: { ip: oneShot.ip, prefixLength: oneShot.prefixLength, gateway: defaultRoute ? oneShot.gateway : '' } }
          : {}),
      },
      runner,
      undefined,
      // the compiled helper turns tx checksum off in the same run
      helper !== undefined ? { helper, txOff } : {},
    );
    void veth.then(() => step('veth'), noop);
    const checksum = settled(txOff && helper === undefined ? veth.then(() => disableTxChecksum(req.netnsPath, req.ifName, runner)) : veth);
    // an address chosen here names the interface at once (no second OVSDB transaction for it)
    const labels = oneShot ? { 'iface-id': oneShot.id, 'attached-mac': oneShot.mac } : undefined;
    const giveUp = new AbortController();
    const plug = async (): Promise<number> => {
      const ofport = await this.agent.plugPort(hostIf, { 'netloom-attachment': req.idempotencyKey }, labels, {
        ...(requested !== undefined ? { ofportRequest: requested } : {}),
        signal: giveUp.signal,
      });
      step('port');
      return ofport;
    };
    // with the address chosen here, the port is added while the veth is made: ovs-vswitchd opens
    // it when the kernel reports the device (until then it shows "No such device")
    const port = settled(routedHint ? veth.then(() => 0) : oneShot && requested !== undefined ? plug() : veth.then(plug));
    const recordOf = (a: EarlyAllocation): EndpointRecord => ({
      endpointId: a.id,
      idempotencyKey: req.idempotencyKey,
      kind: 'cni',
      frontNetwork: req.network.cniNetwork,
      containerId: req.containerId,
      ifName: req.ifName,
      netnsPath: req.netnsPath,
      hostIf,
      networkKey: a.networkKey,
      ip: a.ip,
      prefixLength: a.prefixLength,
      mac: a.mac,
      gateway: a.gateway,
      defaultRoute,
      mtu: firstMtu,
      ...(ports.length > 0 ? { portMappings: ports } : {}),
      ...(req.kubePod ? { pod: { namespace: req.kubePod.namespace, name: req.kubePod.name } } : {}),
      // kept on where the workaround applies: the agent turns it off if its packets may later reach a tunnel
      ...(this.agent.config.txChecksumOff && !routedHint && !txOff ? { txChecksumOn: true as const } : {}),
    });
    // an address chosen here, in a network this host knows, under a requested ofport: the
    // endpoint is recorded and its flows go in while the veth and the port are being made
    const earlyRec = oneShot && requested !== undefined ? recordOf(oneShot) : undefined;
    const earlyFlows = earlyRec && requested !== undefined ? settled(this.agent.attachPlugged(earlyRec, requested)) : undefined;
    const [alloc, made] = await Promise.allSettled([allocating, veth]);
    if (alloc.status === 'rejected' || made.status === 'rejected') {
      giveUp.abort();
      await Promise.all([checksum, port, earlyFlows]);
      const cleanup = earlyRec
        ? this.undo(earlyRec)
        : this.unplug(hostIf).then(() =>
            alloc.status === 'fulfilled' ? this.release({ endpointId: alloc.value.id, idempotencyKey: req.idempotencyKey }) : undefined,
          );
      await cleanup.catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u) }, 'cleanup after a failed ADD failed'));
      throw alloc.status === 'rejected' ? alloc.reason : (made as PromiseRejectedResult).reason;
    }
    const a = alloc.value;
    const rec = earlyRec ?? recordOf(a);
    try {
      const net = await this.agent.network(a.networkKey);
      if (this.isRoutedNet(net)) {
        await Promise.all([checksum, port]);
        if (!routedHint) await this.agent.unplugPort(hostIf);
        // the record on disk before the runtime hears of the address (a local allocation)
        const [result] = await Promise.all([this.finishRouted(rec, net, { mac, firstMtu, allocatedMac: a.mac, capped }), a.durable]);
        return result;
      }
      rec.mtu = capped(endpointMtu(net, underlay));
      const container = oneShot
        ? rec.mtu !== firstMtu
          ? setContainerMtu(req.netnsPath, req.ifName, rec.mtu, runner)
          : Promise.resolve()
        : configureContainer(
            {
              ...rec,
              gateway: defaultRoute ? rec.gateway : '',
              // an ADD retried after a crash gets the endpoint of the first try, with its MAC
              ...(a.mac !== mac ? { mac: a.mac } : { mac: undefined }),
              ...(rec.mtu !== firstMtu ? { mtu: rec.mtu } : { mtu: undefined }),
            },
            runner,
          );
      await settleAll([
        container.then(() => step('container')),
        // the record on disk before the runtime hears of the address (a local allocation)
        a.durable,
        rec.mtu !== firstMtu ? setHostIfMtu(hostIf, rec.mtu, runner) : Promise.resolve(),
        checksum.then(unwrap),
        this.plugFlows(rec, requested, port, step, earlyFlows),
        ...(labels && labels['iface-id'] === a.id && labels['attached-mac'] === a.mac
          ? []
          : [port.then(unwrap).then(() => this.agent.labelPort(hostIf, { 'iface-id': a.id, 'attached-mac': a.mac }))]),
      ]);
    } catch (e) {
      await this.undo(rec).catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u) }, 'cleanup after a failed ADD failed'));
      throw e;
    }
    step('done');
    return resultOf(rec);
  }

  /**
   * Record the endpoint and wait for its flows: at once under the requested ofport, while OVS
   * adds the port, then again under the one OVS gave in the rare case it is another; without a
   * request, once the port is there.
   */
  private async plugFlows(
    rec: EndpointRecord,
    requested: number | undefined,
    port: Promise<PromiseSettledResult<number>>,
    step: (s: string) => void,
    started?: Promise<PromiseSettledResult<void>>,
  ): Promise<void> {
    if (requested === undefined) {
      await this.agent.attachPlugged(rec, unwrap(await port));
      return step('flows');
    }
    if (started) unwrap(await started);
    else await this.agent.attachPlugged(rec, requested);
    step('flows');
    const ofport = unwrap(await port);
    if (ofport === requested) return;
    this.agent.logger.warn({ endpoint: rec.endpointId, requested, ofport }, 'OVS gave the port another ofport than requested');
    await this.agent.attachPlugged(rec, ofport);
  }

  private isRoutedNet(n: Network): boolean {
    const s = this.agent.currentState;
    return s !== undefined && isRouted(s, n);
  }

  /**
   * Stage 2 of a routed endpoint (BGP mode): the container's /32 and its link-local gateway, the
   * host end's route `proto 81` and proxy ARP, both before the ADD answers (the first packet
   * goes); then the agent records it and applies its policy and QoS. The result carries the
   * address as a /32 and the gateway 169.254.1.1, as Calico's does (docs/bgp.md).
   */
  private async finishRouted(
    rec: EndpointRecord,
    net: Network,
    o: { mac: string; firstMtu: number; allocatedMac: string; capped: (m: number) => number },
  ): Promise<CniResult> {
    const runner = this.agent.runner;
    rec.routed = true;
    rec.prefixLength = 32;
    rec.gateway = ROUTED_GATEWAY;
    rec.mtu = o.capped(endpointMtu(net, this.agent.config.underlayMtu));
    const mtu = rec.mtu !== o.firstMtu ? { mtu: rec.mtu } : {};
    await settleAll([
      configureRoutedContainer(
        { netnsPath: rec.netnsPath, ifName: rec.ifName, ip: rec.ip, ...(o.allocatedMac !== o.mac ? { mac: o.allocatedMac } : {}), ...mtu },
        runner,
      ),
      plumbRoutedHost({ hostIf: rec.hostIf, ip: rec.ip, ...mtu }, runner),
    ]);
    await this.agent.attachRouted(rec);
    return resultOf(rec);
  }

  /** Take a host end off br-int and delete it (idempotent). */
  private async unplug(hostIf: string): Promise<void> {
    await settleAll([this.agent.unplugPort(hostIf), removeHostIf(hostIf, this.agent.runner)]);
  }

  private async release(ref: { endpointId?: string; idempotencyKey: string }): Promise<void> {
    await this.agent.allocator
      .delete(ref)
      .catch((u: unknown) => this.agent.logger.warn({ err: errorMessage(u), ...ref }, 'releasing the endpoint after a failed ADD failed'));
  }

  /** Unplug and release an attachment: the three parts at once (each is idempotent). */
  private async undo(rec: Pick<EndpointRecord, 'endpointId' | 'hostIf' | 'idempotencyKey' | 'ip' | 'routed'>): Promise<void> {
    await settleAll([
      this.agent.detachEndpoint(rec),
      rec.routed
        ? removeRoutedEndpoint(rec, this.agent.runner).then(() => this.agent.routed.forget(rec.hostIf))
        : removeHostIf(rec.hostIf, this.agent.runner),
      this.agent.allocator.delete({ endpointId: rec.endpointId, idempotencyKey: rec.idempotencyKey }),
    ]);
  }

  async del(req: CniDelRequest): Promise<void> {
    const rec = this.agent.store.get(req.idempotencyKey);
    if (rec) {
      await this.undo(rec);
      this.recent.remember(rec.idempotencyKey, { ip: rec.ip, mac: rec.mac });
    } else {
      // no record: nothing, or an ADD that died half-way (its host end is named after the attachment)
      await settleAll([this.unplug(hostIfName(req.idempotencyKey)), this.agent.allocator.delete({ idempotencyKey: req.idempotencyKey })]);
    }
  }

  async check(req: CniCheckRequest): Promise<CniCheckReport> {
    const rec = this.agent.store.get(req.idempotencyKey);
    if (!rec) return { problems: [`no attachment ${req.containerId}/${req.ifName} on network ${req.network.cniNetwork}`] };
    const view = await readNetnsView(req.netnsPath, req.ifName, this.agent.runner);
    const problems = new Set([
      ...attachmentProblems(expectedFromRecord(rec), view, req.netnsPath),
      ...attachmentProblems(expectedFromResult(req.prevResult, req.ifName), view, req.netnsPath),
    ]);
    if (rec.routed) {
      const r = await this.agent.runner('ip', ['-j', 'route', 'show', `${rec.ip}/32`, 'proto', '81'], { allowFailure: true });
      if (!r.stdout.includes(`"dev":"${rec.hostIf}"`)) problems.add(`host route ${rec.ip}/32 dev ${rec.hostIf} proto 81 is missing`);
    } else if (this.agent.localPorts[rec.endpointId] === undefined) problems.add(`host interface ${rec.hostIf} is not on the bridge`);
    return { problems: [...problems] };
  }

  async status(): Promise<CniStatus> {
    const r = this.agent.ready;
    if (!r.ovs) return { ready: false, code: 50, message: 'netloom agent is not connected to Open vSwitch' };
    if (!r.controlPlane) return { ready: false, code: 50, message: 'netloom agent is not connected to netmaster' };
    return { ready: true };
  }

  async gc(req: CniGcRequest): Promise<CniGcReport> {
    const valid = new Set(req.validAttachments.map((v) => `${v.containerId}/${v.ifName}`));
    const released: AttachmentKey[] = [];
    const errors: string[] = [];
    for (const rec of this.agent.store.list()) {
      if (rec.kind !== 'cni' || rec.frontNetwork !== req.network.cniNetwork || valid.has(`${rec.containerId}/${rec.ifName}`)) continue;
      try {
        await this.undo(rec);
        released.push({ containerId: rec.containerId, ifName: rec.ifName });
      } catch (e) {
        errors.push(`${rec.containerId}/${rec.ifName}: ${errorMessage(e)}`);
      }
    }
    return { released, errors };
  }
}
