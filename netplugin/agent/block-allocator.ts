/**
 * The agent's EndpointAllocator with per-host address blocks (issue 15; docs/ipam.md "The agent").
 *
 * An endpoint is allocated HERE, from this host's blocks, when the desired state carries its
 * network with blocks (blockPrefix > 0) and, when it has a group, that group (so the group's
 * policies are on this host before the first packet). A requested address inside one of this
 * host's blocks is taken here too; anything else goes to netmaster (CreateEndpoint) as before.
 * A local allocation is durable in the IPAM store before `create` returns; its registration with
 * netmaster goes through the background RegistrationQueue, so ADDs succeed while netmaster is away.
 *
 * Blocks: learned from HostState.blocks (this host's) and from ClaimBlock answers, kept in the IPAM
 * store for restarts. Below the low-water mark of free addresses a block is claimed in the
 * background (one claim per network at a time, its claim id kept across retries); with no free
 * address at all an ADD claims once itself, and with no block left asks netmaster for an address
 * outside every block (its EXHAUSTED names the network), so a network with blocks fills up exactly. Empty blocks
 * are given back after the idle time, keeping one per network while this host has an endpoint there.
 *
 * Start: allocations without an endpoint record (an ADD that crashed before it answered) are
 * dropped, then the first netmaster state reconciles the store with netmaster's view (reconcile.ts)
 * before any registration is sent.
 */
import { randomUUID } from 'node:crypto';
import { Backoff, type BackoffPolicy } from '../../lib/backoff';
import { systemClock, type Clock, type Timer } from '../../lib/clock';
import { endpointId } from '../../lib/endpoint-id';
import { errorMessage, isNetloomError, NetloomError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { randomMac } from '../../lib/mac';
import { blockContains, parseBlock, reservedInBlock } from '../ipam/block';
import type { IpamStore } from '../ipam/ipam-store';
import { parseIpv4 } from '../ipam/ipv4';
import type { Allocation, LocalAllocator } from '../ipam/local-allocator';
import { DEFAULT_LOW_WATER, needsNewBlock } from '../ipam/low-water';
import { pausePoint, type PausePoint } from '../ipam/pause-points';
import { applyPlan, planReconcile } from '../ipam/reconcile';
import type { Registration, SyncResult } from '../ipam/registration';
import { RegistrationQueue } from '../ipam/registration-queue';
import type { AddressBlock, Endpoint, HostState, Network } from '../state/host-state';
import { kubePodOf } from '../state/kube-state';
import type { AllocatedEndpoint, BlockRpc, EarlyAllocation, EndpointAllocator, EndpointRequest, NetworkLookup } from './fabric';

/** `durable` of an endpoint that is on disk already (or kept by netmaster) */
const done: Promise<void> = Promise.resolve();

export const DEFAULT_IDLE_RELEASE_MS = 10 * 60_000;
const CLAIM_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 30_000, jitter: 0.2 };

export interface BlockAllocatorOptions {
  hostName: string;
  /** this host's VTEP address, for the endpoints it shows before netmaster has them */
  vtepIp: string;
  /** the netmaster path (CreateEndpoint, DeleteEndpoint, LookupNetwork, SetEndpointLabels) */
  remote: EndpointAllocator;
  blocks: BlockRpc;
  store: IpamStore;
  /** claim another block below this many free addresses (default 8) */
  lowWater?: number;
  /** give back a block empty for this long (default 10 min; 0: never) */
  idleReleaseMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** crash points for tests (default: NETLOOM_TEST_PAUSE_AT, off when unset) */
  pause?: PausePoint;
  queueBackoff?: BackoffPolicy;
  claimBackoff?: BackoffPolicy;
  random?: () => number;
}

/** What the metrics read at each scrape. */
export interface IpamStats {
  blocks: Record<string, number>;
  free: Record<string, number>;
  pending: number;
  rejected: Record<string, number>;
}

export class BlockAllocator implements EndpointAllocator {
  readonly queue: RegistrationQueue;
  private readonly allocator: LocalAllocator;
  /** the registration of every local allocation, by endpoint id (kept in the store with it) */
  private readonly regs = new Map<string, Registration>();
  /** local allocations whose record is being saved (a retried ADD waits for the same save) */
  private readonly saving = new Map<string, Promise<void>>();
  private readonly clock: Clock;
  private readonly lowWater: number;
  private readonly idleReleaseMs: number;
  private readonly pause: PausePoint;
  /** netmaster's latest view (without this host's overlay) */
  private state: HostState | undefined;
  /** endpoint ids netmaster's view has had: once seen there, netmaster decides whether they show */
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<() => void>();
  /** background claims in progress, by network */
  private readonly claims = new Map<string, { run: Promise<void>; claimId: string }>();
  /** blocks being given back (not learned again from a state that still lists them) */
  private readonly releasing = new Set<string>();
  private readonly emptySince = new Map<string, number>();
  private readonly rejected: Record<string, number> = {};
  private reconciled: () => void = () => undefined;
  private readonly reconciledP: Promise<void>;
  private startedReconcile = false;
  private idleTimer: Timer | undefined;
  private readonly stopping = new AbortController();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly opts: BlockAllocatorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.lowWater = opts.lowWater ?? DEFAULT_LOW_WATER;
    needsNewBlock(0, this.lowWater); // validates the mark
    this.idleReleaseMs = opts.idleReleaseMs ?? DEFAULT_IDLE_RELEASE_MS;
    if (!Number.isFinite(this.idleReleaseMs) || this.idleReleaseMs < 0)
      throw new NetloomError('INVALID_ARGUMENT', `ipam idle release must be >= 0 ms, got ${this.idleReleaseMs}`, {
        field: 'ipam-idle-release',
      });
    this.pause = opts.pause ?? (() => Promise.resolve());
    const { allocator, registrations } = opts.store.loadAll();
    this.allocator = allocator;
    for (const r of registrations) if (allocator.get(r.id)) this.regs.set(r.id, r);
    this.reconciledP = new Promise((resolve) => (this.reconciled = resolve));
    this.queue = new RegistrationQueue({
      sync: (req) => opts.blocks.syncEndpoints(req),
      // nothing goes to netmaster before the store was reconciled with its view
      beforeSend: async () => {
        await this.reconciledP;
        await this.pause('answered');
      },
      onRegistered: (id) => this.registered(id),
      onRejected: (r, what) => this.rejectedResult(r, what),
      clock: this.clock,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.queueBackoff ? { backoff: opts.queueBackoff } : {}),
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  /** The default crash points of a real agent (NETLOOM_TEST_PAUSE_AT, files in `runDir`). */
  static pauseFromEnv(runDir: string): PausePoint {
    return pausePoint(runDir);
  }

  get connected(): boolean {
    return this.opts.remote.connected;
  }

  /**
   * Start: drop allocations no endpoint record names (`live`: the endpoint ids the endpoint store
   * has; an ADD that crashed before answering, whose runtime got an error), then wait for
   * netmaster's first state (`onNetmasterState`) to reconcile.
   */
  async start(live: ReadonlySet<string>): Promise<void> {
    let dropped = 0;
    for (const al of this.allocator.allocations()) {
      if (live.has(al.endpointId)) continue;
      this.allocator.release(al.endpointId);
      this.regs.delete(al.endpointId);
      dropped++;
    }
    if (dropped > 0) {
      this.opts.logger?.warn({ dropped }, 'ipam: released addresses of ADDs that never completed (no endpoint record)');
      await this.save();
    }
    this.unsubscribe = this.opts.blocks.onConnected(() => this.queue.kick());
    if (this.idleReleaseMs > 0) this.armIdleCheck();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.idleTimer?.cancel();
    this.unsubscribe?.();
    await this.queue.stop();
    await Promise.allSettled([...this.claims.values()].map((c) => c.run));
    await this.opts.store.close();
  }

  /** Runs after every local change of the endpoints shown (an allocation, a release); returns the unsubscribe. */
  onLocalChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Netmaster sent a new view: learn blocks, reconcile once after start, claim ahead where low. */
  onNetmasterState(s: HostState): void {
    this.state = s;
    for (const e of s.endpoints) if (e.host === this.opts.hostName) this.seen.add(e.id);
    const learned = this.learnBlocks(s);
    if (!this.startedReconcile) {
      this.startedReconcile = true;
      void this.reconcileStart(s).catch((e: unknown) =>
        this.opts.logger?.error({ err: errorMessage(e) }, 'ipam: reconciling with netmaster failed; registrations wait'),
      );
    } else if (learned) {
      this.saveInBackground();
    }
    for (const n of new Set(this.allocator.allocations().map((a) => a.networkKey))) this.claimAheadIfLow(n);
  }

  /**
   * `s` with this host's endpoints that were allocated here and are not (yet) in netmaster's view:
   * the pipeline gives them flows, policy and all, without netmaster.
   */
  overlay(s: HostState): HostState {
    const have = new Set(s.endpoints.map((e) => e.id));
    const extra: Endpoint[] = [];
    // this host's blocks are its own: an address given here to one endpoint is no other's, so an
    // endpoint netmaster still lists with it (released here, its deregistration not seen yet) is
    // left out; two endpoints with one address would stop the whole pipeline
    const holder = new Map<string, string>();
    for (const al of this.allocator.allocations()) {
      holder.set(`${al.networkKey} ${al.address}`, al.endpointId);
      const reg = this.regs.get(al.endpointId);
      if (!reg || have.has(al.endpointId) || (al.state === 'registered' && this.seen.has(al.endpointId))) continue;
      extra.push(this.endpointOf(al, reg));
    }
    const kept = s.endpoints.filter((e) => (holder.get(`${e.network} ${e.ip}`) ?? e.id) === e.id);
    if (extra.length === 0 && kept.length === s.endpoints.length) return s;
    return { ...s, endpoints: [...kept, ...extra].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
  }

  stats(): IpamStats {
    const blocks: Record<string, number> = {};
    const free: Record<string, number> = {};
    for (const b of this.allocator.snapshot().blocks) blocks[b.networkKey] = (blocks[b.networkKey] ?? 0) + 1;
    for (const n of Object.keys(blocks)) free[n] = this.allocator.freeCount(n);
    return { blocks, free, pending: this.queue.pending, rejected: { ...this.rejected } };
  }

  /** This host's blocks of `networkKey` (cidr), lowest first. */
  blocksOf(networkKey: string): string[] {
    return this.allocator.blocksOf(networkKey).map((b) => b.cidr);
  }

  allocation(id: string): Allocation | undefined {
    return this.allocator.get(id);
  }

  // ---------- EndpointAllocator ----------

  async create(req: EndpointRequest): Promise<AllocatedEndpoint> {
    const { durable, ...a } = await this.createEarly(req);
    await durable;
    return a;
  }

  /**
   * The endpoint, answered once its address is chosen; `durable` resolves once its record is on
   * disk (rejects, the address released, when the save failed). Registration with netmaster and
   * the overlay's showing of the endpoint follow the save.
   */
  async createEarly(req: EndpointRequest): Promise<EarlyAllocation> {
    const netKey = `${req.tenant}:${req.network}`;
    const id = endpointId(netKey, req.idempotencyKey);
    const had = this.allocator.get(id);
    const hadReg = this.regs.get(id);
    // an ADD retried after a lost answer (or while the first is being saved): the same endpoint
    if (had && hadReg) return { ...this.answer(had, hadReg, this.networkOrThrow(netKey)), durable: this.saving.get(id) ?? done };
    const net = this.state?.networks.find((n) => n.key === netKey);
    const groupCarried = !req.group || this.state?.groups.some((g) => g.key === `${req.tenant}:${req.group}`) === true;
    const known = this.state?.endpoints.some((e) => e.id === id) === true;
    const local =
      net !== undefined &&
      (net.blockPrefix ?? 0) > 0 &&
      groupCarried &&
      !known &&
      (req.requestedIp === undefined || this.allocator.ownsAddress(netKey, req.requestedIp));
    if (!local) return { ...(await this.viaNetmaster(req, netKey)), durable: done };
    let al: Allocation;
    if (req.requestedIp !== undefined) {
      al = this.allocator.allocateAt(id, netKey, req.requestedIp);
    } else {
      const got = await this.allocateFree(id, netKey);
      // served whole now, or no block left to claim: netmaster gives the addresses outside every
      // block (so a network with blocks still fills up exactly), or says it has none
      if (got === 'served-whole' || got === 'no-block') return { ...(await this.viaNetmaster(req, netKey)), durable: done };
      al = got;
    }
    const reg: Registration = {
      id,
      idempotencyKey: req.idempotencyKey,
      tenant: req.tenant,
      network: req.network,
      group: req.group ?? '',
      containerId: req.containerId,
      containerName: req.containerName ?? '',
      intfName: req.ifName,
      ip: al.address,
      mac: (req.requestedMac ?? randomMac()).toLowerCase(),
      labels: { ...req.labels },
      ...(req.pod ? { pod: req.pod } : {}),
    };
    this.regs.set(id, reg);
    this.touchBlockOf(netKey, al.address);
    const durable = this.record(id, netKey, reg);
    this.saving.set(id, durable);
    const forget = (): void => void (this.saving.get(id) === durable && this.saving.delete(id));
    // handled here too: the caller awaits it later (a failure reaches it then)
    durable.then(forget, forget);
    return { ...this.answer(al, reg, net), durable };
  }

  /** The second half of a local allocation: on disk, then registered and shown. */
  private async record(id: string, netKey: string, reg: Registration): Promise<void> {
    await this.pause('allocated');
    try {
      await this.save();
    } catch (e) {
      this.allocator.release(id);
      this.regs.delete(id);
      throw e;
    }
    await this.pause('recorded');
    this.queue.register(reg);
    this.changed();
    this.claimAheadIfLow(netKey);
  }

  async delete(ref: { endpointId?: string; idempotencyKey: string }): Promise<void> {
    let id = ref.endpointId !== undefined && this.allocator.get(ref.endpointId) ? ref.endpointId : undefined;
    id ??= [...this.regs.values()].find((r) => r.idempotencyKey === ref.idempotencyKey)?.id;
    if (id === undefined || !this.allocator.get(id)) return this.opts.remote.delete(ref);
    this.allocator.release(id);
    const reg = this.regs.get(id);
    this.regs.delete(id);
    try {
      await this.save();
    } catch (e) {
      // not durable: the address stays held rather than be given twice after a crash
      const net = `${reg?.tenant}:${reg?.network}`;
      if (reg) {
        this.allocator.allocateAt(id, net, reg.ip);
        this.regs.set(id, reg);
      }
      throw e;
    }
    this.queue.deregister(id);
    this.changed();
  }

  lookupNetwork(ref: NetworkLookup): Promise<Network> {
    return this.opts.remote.lookupNetwork(ref);
  }

  async setLabels(endpointId: string, labels: Record<string, string>): Promise<void> {
    const reg = this.regs.get(endpointId);
    // not registered yet: the registration carries the labels
    if (reg && this.queue.isPending(endpointId)) {
      const next = { ...reg, labels: { ...labels } };
      this.regs.set(endpointId, next);
      await this.save();
      this.queue.register(next);
      this.changed();
      return;
    }
    if (!this.opts.remote.setLabels)
      throw new NetloomError('INVALID_ARGUMENT', 'this control plane cannot change labels', { field: 'labels' });
    await this.opts.remote.setLabels(endpointId, labels);
  }

  // ---------- internals ----------

  private async viaNetmaster(req: EndpointRequest, netKey: string): Promise<AllocatedEndpoint> {
    try {
      return await this.opts.remote.create(req);
    } catch (e) {
      if (!isNetloomError(e, 'UNAVAILABLE') && !isNetloomError(e, 'TIMEOUT')) throw e;
      const why =
        req.requestedIp !== undefined ? `address ${req.requestedIp} is outside this host's blocks` : this.notLocalWhy(req, netKey);
      throw new NetloomError('UNAVAILABLE', `network ${netKey}: netmaster is unreachable and ${why}; try again when it is back`, {
        field: 'network',
        cause: e,
      });
    }
  }

  private notLocalWhy(req: EndpointRequest, netKey: string): string {
    const net = this.state?.networks.find((n) => n.key === netKey);
    if (!net) return "this host's desired state does not carry the network";
    if (!(net.blockPrefix ?? 0)) return 'the network is served whole by netmaster (smaller than a block)';
    if (req.group) return `this host's desired state does not carry group ${req.tenant}:${req.group}`;
    return 'the endpoint is netmaster-allocated';
  }

  private networkOrThrow(netKey: string): Network {
    const n = this.state?.networks.find((x) => x.key === netKey);
    if (!n) throw new NetloomError('UNAVAILABLE', `network ${netKey} is not in this host's desired state yet`, { field: 'network' });
    return n;
  }

  /** The lowest free address, claiming a block once when there is none; 'served-whole': netmaster allocates this network. */
  private async allocateFree(id: string, netKey: string): Promise<Allocation | 'served-whole' | 'no-block'> {
    try {
      return this.allocator.allocate(id, netKey);
    } catch (e) {
      if (!isNetloomError(e, 'EXHAUSTED')) throw e;
    }
    {
      // the background claim's id when one runs: the same claim, not a second block
      try {
        await this.claimOnce(netKey, this.claims.get(netKey)?.claimId ?? randomUUID());
      } catch (e) {
        if (isNetloomError(e, 'CONFLICT')) return 'served-whole'; // FAILED_PRECONDITION: block_prefix 0 now
        if (isNetloomError(e, 'EXHAUSTED')) return 'no-block';
        throw new NetloomError(
          'UNAVAILABLE',
          `network ${netKey}: no free address in this host's blocks, and netmaster could not give another block: ${errorMessage(e)}`,
          { field: 'network', cause: e },
        );
      }
    }
    try {
      return this.allocator.allocate(id, netKey);
    } catch (e) {
      if (isNetloomError(e, 'EXHAUSTED')) return 'no-block';
      throw e;
    }
  }

  /** One ClaimBlock; the block joins the allocator and the store. */
  private async claimOnce(netKey: string, claimId: string): Promise<void> {
    const b = await this.opts.blocks.claimBlock(netKey, claimId);
    if (b.host !== '' && b.host !== this.opts.hostName)
      throw new NetloomError('INTERNAL', `netmaster answered ClaimBlock with a block of host ${b.host}`, { field: 'host' });
    if (this.addBlock(b)) await this.save();
    this.opts.logger?.info({ network: netKey, cidr: b.cidr, free: this.allocator.freeCount(netKey) }, 'ipam: claimed an address block');
  }

  /** Below the low-water mark: one background claim for the network, retried with the backoff under one claim id. */
  private claimAheadIfLow(netKey: string): void {
    if (this.claims.has(netKey) || this.stopping.signal.aborted) return;
    if (this.allocator.blocksOf(netKey).length === 0) return;
    if (!needsNewBlock(this.allocator.freeCount(netKey), this.lowWater)) return;
    const claimId = randomUUID();
    const backoff = new Backoff(this.opts.claimBackoff ?? CLAIM_BACKOFF, {
      clock: this.clock,
      ...(this.opts.random ? { random: this.opts.random } : {}),
    });
    const run = (async () => {
      while (!this.stopping.signal.aborted) {
        try {
          await this.claimOnce(netKey, claimId);
          return;
        } catch (e) {
          if (isNetloomError(e, 'EXHAUSTED') || isNetloomError(e, 'CONFLICT') || isNetloomError(e, 'NOT_FOUND')) {
            this.opts.logger?.warn({ network: netKey, err: errorMessage(e) }, 'ipam: no block claimed ahead');
            return;
          }
          const delay = backoff.next();
          this.opts.logger?.debug({ network: netKey, err: errorMessage(e), retryInMs: delay }, 'ipam: block claim failed; retrying');
          await this.clock.sleep(delay, this.stopping.signal, { unref: true });
        }
      }
    })().finally(() => {
      this.claims.delete(netKey);
    });
    this.claims.set(netKey, { run, claimId });
  }

  /** A block of this host into the allocator (reserved addresses from its network); false when known or unusable. */
  private addBlock(b: AddressBlock): boolean {
    if (this.allocator.blocksOf(b.network).some((x) => x.cidr === b.cidr)) return false;
    const net = this.state?.networks.find((n) => n.key === b.network);
    if (!net || net.subnet === '') {
      this.opts.logger?.warn({ network: b.network, cidr: b.cidr }, 'ipam: block of a network this host does not know yet; not used');
      return false;
    }
    this.allocator.addBlock({ cidr: b.cidr, networkKey: b.network, reserved: reservedInBlock(b.cidr, net.subnet, net.gateway) });
    return true;
  }

  private learnBlocks(s: HostState): boolean {
    let learned = false;
    for (const b of s.blocks ?? []) {
      if (b.host !== this.opts.hostName || this.releasing.has(`${b.network} ${b.cidr}`)) continue;
      try {
        learned = this.addBlock(b) || learned;
      } catch (e) {
        this.opts.logger?.error({ network: b.network, cidr: b.cidr, err: errorMessage(e) }, 'ipam: block from netmaster not usable');
      }
    }
    return learned;
  }

  /**
   * The first netmaster view after start: take netmaster's block list (local blocks it no longer
   * gives this host are dropped when empty), plan (reconcile.ts), apply, save, then queue the
   * deregistrations and registrations and let the queue send.
   */
  private async reconcileStart(s: HostState): Promise<void> {
    const own = new Set((s.blocks ?? []).filter((b) => b.host === this.opts.hostName).map((b) => `${b.network} ${b.cidr}`));
    for (const b of this.allocator.snapshot().blocks) {
      if (own.has(`${b.networkKey} ${b.cidr}`)) continue;
      try {
        this.allocator.removeBlock(b.networkKey, b.cidr);
        this.opts.logger?.info({ network: b.networkKey, cidr: b.cidr }, "ipam: block no longer this host's at netmaster; dropped");
      } catch (e) {
        this.opts.logger?.error(
          { network: b.networkKey, cidr: b.cidr, err: errorMessage(e) },
          "ipam: netmaster no longer lists this host's block, but endpoints here hold addresses in it; kept",
        );
      }
    }
    const mine = s.endpoints
      .filter((e) => e.host === this.opts.hostName)
      .map((e) => ({ endpointId: e.id, networkKey: e.network, address: e.ip }));
    const plan = planReconcile(this.allocator, mine);
    // netmaster lacking a registered endpoint that lives here (an etcd restore, a manual delete):
    // register it again rather than free a live container's address
    const again = plan.forget.map((id) => this.allocator.get(id)).filter((a): a is Allocation => a !== undefined);
    plan.forget = [];
    applyPlan(this.allocator, plan);
    await this.save();
    for (const c of plan.conflicts) {
      this.countRejected('CONFLICT');
      this.opts.logger?.error({ ...c }, 'ipam: this host and netmaster disagree about an address; left alone');
    }
    for (const d of plan.deregister) this.queue.deregister(d.endpointId);
    for (const al of [...plan.register, ...again]) {
      const reg = this.regs.get(al.endpointId);
      if (reg) this.queue.register(reg);
      else this.opts.logger?.error({ endpoint: al.endpointId }, 'ipam: allocation without its registration record; cannot register it');
    }
    this.opts.logger?.info(
      { confirmed: plan.confirm.length, register: plan.register.length + again.length, deregister: plan.deregister.length },
      'ipam: reconciled with netmaster',
    );
    this.reconciled();
    this.changed();
  }

  private async registered(id: string): Promise<void> {
    if (!this.allocator.get(id)) return;
    this.allocator.markRegistered(id);
    await this.save();
    await this.pause('registered');
  }

  private rejectedResult(r: SyncResult, what: 'register' | 'deregister'): void {
    this.countRejected(r.outcome);
    // the address stays held here: handing it to another container could give it twice
    this.opts.logger?.error(
      { endpoint: r.endpointId, outcome: r.outcome, holder: r.conflictingEndpoint || undefined, what },
      `ipam: netmaster refused to ${what} an endpoint: ${r.message}`,
    );
  }

  private countRejected(outcome: string): void {
    this.rejected[outcome] = (this.rejected[outcome] ?? 0) + 1;
  }

  /** Every idle-release period/4: give back blocks empty for idleReleaseMs (one kept per network in use here). */
  private armIdleCheck(): void {
    const every = Math.max(1000, Math.min(60_000, Math.floor(this.idleReleaseMs / 4)));
    this.idleTimer = this.clock.after(
      every,
      () => {
        void this.releaseIdle()
          .catch((e: unknown) => this.opts.logger?.warn({ err: errorMessage(e) }, 'ipam: releasing idle blocks failed'))
          .finally(() => {
            if (!this.stopping.signal.aborted) this.armIdleCheck();
          });
      },
      { unref: true },
    );
  }

  /** An address was given from a block: its idle time starts again (the idle check may not have seen it used). */
  private touchBlockOf(netKey: string, address: string): void {
    const n = parseIpv4(address, 'address');
    for (const b of this.allocator.snapshot().blocks)
      if (b.networkKey === netKey && blockContains(parseBlock(b), n)) this.emptySince.delete(`${b.networkKey} ${b.cidr}`);
  }

  /** One pass of the idle release (exposed for tests). */
  async releaseIdle(): Promise<string[]> {
    const now = this.clock.monotonic();
    const allocs = this.allocator.allocations();
    const released: string[] = [];
    const blocks = this.allocator.snapshot().blocks;
    for (const b of blocks) {
      const key = `${b.networkKey} ${b.cidr}`;
      const parsed = parseBlock(b);
      const used = allocs.some((a) => a.networkKey === b.networkKey && blockContains(parsed, parseIpv4(a.address, 'address')));
      if (used) {
        this.emptySince.delete(key);
        continue;
      }
      const since = this.emptySince.get(key) ?? now;
      this.emptySince.set(key, since);
      if (now - since < this.idleReleaseMs) continue;
      const others = this.allocator.blocksOf(b.networkKey).length - 1;
      if (others === 0 && this.hasEndpointIn(b.networkKey, allocs)) continue;
      // out of the allocator first: no ADD takes an address from it while it is given back
      this.allocator.removeBlock(b.networkKey, b.cidr);
      this.releasing.add(key);
      this.emptySince.delete(key);
      try {
        await this.save();
        await this.opts.blocks.releaseBlock(b.networkKey, b.cidr);
        released.push(key);
        this.opts.logger?.info({ network: b.networkKey, cidr: b.cidr }, 'ipam: gave back an idle address block');
      } catch (e) {
        // still this host's at netmaster: learned again from the next state, released next time
        this.opts.logger?.warn({ network: b.networkKey, cidr: b.cidr, err: errorMessage(e) }, 'ipam: idle block not given back');
      } finally {
        this.releasing.delete(key);
      }
    }
    return released;
  }

  private hasEndpointIn(netKey: string, allocs: Allocation[]): boolean {
    if (allocs.some((a) => a.networkKey === netKey)) return true;
    return this.state?.endpoints.some((e) => e.host === this.opts.hostName && e.network === netKey) === true;
  }

  private answer(al: Allocation, reg: Registration, net: Network): AllocatedEndpoint {
    return {
      id: al.endpointId,
      networkKey: al.networkKey,
      tenant: reg.tenant,
      network: reg.network,
      ip: al.address,
      prefixLength: net.subnet === '' ? 32 : Number(net.subnet.split('/')[1]),
      mac: reg.mac,
      gateway: net.gateway,
    };
  }

  private endpointOf(al: Allocation, reg: Registration): Endpoint {
    return {
      id: al.endpointId,
      network: al.networkKey,
      group: reg.group === '' ? '' : `${reg.tenant}:${reg.group}`,
      host: this.opts.hostName,
      ip: al.address,
      ipv6: '',
      mac: reg.mac,
      intfName: reg.intfName,
      vtepIp: this.opts.vtepIp,
      containerId: reg.containerId,
      containerName: reg.containerName,
      labels: { ...reg.labels },
      revision: 0,
      external: false,
      // a pod is selected by NetworkPolicy from its first flows, not once netmaster's view lists it
      ...(reg.pod ? { pod: kubePodOf(reg.pod) } : {}),
    };
  }

  private save(): Promise<void> {
    return this.opts.store.save(this.allocator, () => [...this.regs.values()]);
  }

  private saveInBackground(): void {
    this.save().catch((e: unknown) => this.opts.logger?.error({ err: errorMessage(e) }, 'ipam: saving learned blocks failed'));
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }
}
