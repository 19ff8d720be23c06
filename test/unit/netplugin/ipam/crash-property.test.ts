/**
 * Property test of the agent-side IPAM under crashes (issue 15 item 3): random sequences of ADDs,
 * DELs, background registrations with a fake netmaster, block claims and agent restarts, where any
 * step may be the agent's last before a crash (SIGKILL: what was not saved is lost). After a crash
 * the agent reloads its file and reconciles with netmaster; the runtime DELs every ADD it got no
 * answer for. Asserted after every step:
 *  - no two answered ADDs share an address, and each is still held here by the same endpoint (so
 *    it cannot be given again);
 *  - netmaster never holds one address under two endpoints (the fake refuses it, as etcd would);
 *  - reconciliation finds no conflict, and once a restart is done netmaster's endpoints at this
 *    host's addresses are exactly the ones held here;
 * and at the end, once every endpoint is deleted and the agent restarted once more, every usable
 * address is free again here and netmaster holds nothing (no leak).
 *
 * NETLOOM_FUZZ_RUNS sets the number of sequences (default 100, about two seconds).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { isNetloomError } from '../../../../lib/errors';
import type { HostBlock } from '../../../../netplugin/ipam/block';
import { IpamStore } from '../../../../netplugin/ipam/ipam-store';
import type { Allocation, LocalAllocator } from '../../../../netplugin/ipam/local-allocator';
import { applyPlan, planReconcile, type NetmasterEndpoint } from '../../../../netplugin/ipam/reconcile';

const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 100);
const NET = 't1/net1';
const BLOCKS: HostBlock[] = [
  { cidr: '10.7.0.0/29', networkKey: NET, reserved: ['10.7.0.0'] },
  { cidr: '10.7.0.8/30', networkKey: NET, reserved: [] },
  { cidr: '10.7.0.12/30', networkKey: NET, reserved: ['10.7.0.15'] },
];
const USABLE = [7, 4, 3];
/** more endpoints than addresses, so that the blocks fill up */
const IDS = Array.from({ length: 16 }, (_, i) => `ep${i}`);

class Crash extends Error {}

/** Netmaster's endpoints for this host; refuses one address under two endpoints, as its etcd check does. */
class FakeNetmaster {
  readonly eps = new Map<string, NetmasterEndpoint>();
  register(a: Allocation): void {
    for (const o of this.eps.values()) {
      if (o.endpointId !== a.endpointId && o.networkKey === a.networkKey && o.address === a.address) {
        throw new Error(`netmaster: ${a.address} registered for ${a.endpointId} while ${o.endpointId} holds it`);
      }
    }
    const had = this.eps.get(a.endpointId);
    assert.ok(!had || had.address === a.address, `netmaster: ${a.endpointId} re-registered with another address`);
    this.eps.set(a.endpointId, { endpointId: a.endpointId, networkKey: a.networkKey, address: a.address });
  }
  deregister(id: string): void {
    this.eps.delete(id);
  }
}

type Op =
  | { kind: 'add'; id: number; crashAt: number | undefined }
  /** `pick` chooses among the endpoints the runtime has (answered or owing a DEL), so DELs hit */
  | { kind: 'del' | 'register'; pick: number; crashAt: number | undefined }
  | { kind: 'claim' | 'restart'; crashAt: number | undefined };

const crashAt = fc.option(fc.nat(3), { nil: undefined, freq: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), id: fc.nat(IDS.length - 1), crashAt }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('del' as const), pick: fc.nat(20), crashAt }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('register' as const), pick: fc.nat(20), crashAt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('claim' as const), crashAt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), crashAt }) },
);

class World {
  readonly netmaster = new FakeNetmaster();
  /** ADDs the runtime got an answer for: endpoint -> address */
  readonly live = new Map<string, string>();
  /** endpoints the runtime still owes a DEL (an ADD without answer, or a DEL that failed) */
  readonly owedDel = new Set<string>();
  alloc: LocalAllocator;
  private steps = 0;
  private crashAt: number | undefined;

  constructor(readonly store: IpamStore) {
    this.alloc = store.load();
  }

  /** Where the agent may die: the crash-th point reached in the current operation. */
  private point(): void {
    if (this.steps++ === this.crashAt) throw new Crash();
  }

  async run(op: Op): Promise<void> {
    this.steps = 0;
    this.crashAt = op.crashAt;
    try {
      await this.apply(op);
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      this.crashAt = undefined;
      // the runtime saw the ADD or DEL fail: it will DEL
      if (op.kind === 'add' && !this.live.has(IDS[op.id]!)) this.owedDel.add(IDS[op.id]!);
      await this.restart();
    }
  }

  private async apply(op: Op): Promise<void> {
    switch (op.kind) {
      case 'add':
        return this.add(IDS[op.id]!);
      case 'del': {
        const known = [...new Set([...this.live.keys(), ...this.owedDel])].sort();
        const id = known[op.pick % Math.max(1, known.length)];
        return id === undefined ? undefined : this.del(id);
      }
      case 'register':
        return this.registerOne(op.pick);
      case 'claim':
        return this.claim();
      case 'restart':
        this.alloc = this.store.load(); // a clean stop loses nothing: everything was saved
        return this.restart();
    }
  }

  private async add(id: string): Promise<void> {
    if (this.live.has(id) || this.owedDel.has(id)) return; // a runtime does not ADD an attachment twice
    let al: Allocation;
    try {
      al = this.alloc.allocate(id, NET);
    } catch (e) {
      if (isNetloomError(e, 'EXHAUSTED')) return; // the runtime got an error; nothing is held
      throw e;
    }
    this.point();
    await this.store.save(this.alloc);
    this.point();
    this.live.set(id, al.address); // the answer
  }

  private async del(id: string): Promise<void> {
    this.live.delete(id);
    this.owedDel.add(id);
    this.alloc.release(id);
    this.point();
    await this.store.save(this.alloc);
    this.point();
    this.netmaster.deregister(id);
    this.owedDel.delete(id);
  }

  /** The background registration of one 'local' allocation. */
  private async registerOne(pick: number): Promise<void> {
    const pending = this.alloc.allocations().filter((a) => a.state === 'local');
    const al = pending[pick % Math.max(1, pending.length)];
    if (!al) return;
    this.point();
    this.netmaster.register(al);
    this.point();
    this.alloc.markRegistered(al.endpointId);
    await this.store.save(this.alloc);
  }

  /** Netmaster gave the next block (after the low-water mark asked for it). */
  private async claim(): Promise<void> {
    const next = BLOCKS.find((b) => this.alloc.blocksOf(NET).every((h) => h.cidr !== b.cidr));
    if (!next) return;
    this.alloc.addBlock(next);
    this.point();
    await this.store.save(this.alloc);
  }

  /** Start after a crash: reload, reconcile, deregister first, then register. May itself crash. */
  private async restart(): Promise<void> {
    for (;;) {
      try {
        this.alloc = this.store.load();
        const plan = planReconcile(this.alloc, [...this.netmaster.eps.values()]);
        assert.deepEqual(plan.conflicts, []);
        applyPlan(this.alloc, plan);
        await this.store.save(this.alloc);
        this.point();
        for (const d of plan.deregister) this.netmaster.deregister(d.endpointId);
        for (const r of plan.register) {
          this.point();
          this.netmaster.register(r);
          this.alloc.markRegistered(r.endpointId);
        }
        await this.store.save(this.alloc);
        // after a restart netmaster mirrors this host for every address it decides
        for (const e of this.netmaster.eps.values()) {
          if (this.alloc.ownsAddress(e.networkKey, e.address)) assert.equal(this.alloc.holderOf(e.networkKey, e.address), e.endpointId);
        }
        return;
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        this.crashAt = undefined;
      }
    }
  }

  check(): void {
    const seen = new Map<string, string>();
    for (const [id, addr] of this.live) {
      assert.ok(!seen.has(addr), `${addr} answered to both ${seen.get(addr) ?? ''} and ${id}`);
      seen.set(addr, id);
      assert.equal(this.alloc.get(id)?.address, addr, `${id}'s address ${addr} is no longer held for it`);
    }
    const usable = BLOCKS.filter((b) => this.alloc.blocksOf(NET).some((h) => h.cidr === b.cidr)).reduce(
      (n, b) => n + USABLE[BLOCKS.indexOf(b)]!,
      0,
    );
    assert.equal(this.alloc.freeCount(NET) + this.alloc.allocations().length, usable);
  }

  async finish(): Promise<void> {
    while (this.live.size + this.owedDel.size > 0) await this.run({ kind: 'del', pick: 0, crashAt: undefined });
    this.alloc = this.store.load();
    await this.restart();
    this.check();
    assert.deepEqual(this.alloc.allocations(), [], 'an address outlived its endpoint here');
    assert.deepEqual([...this.netmaster.eps.values()], [], 'an endpoint outlived its DEL at netmaster');
    assert.equal(
      this.alloc.freeCount(NET),
      USABLE.slice(0, this.alloc.blocksOf(NET).length).reduce((a, b) => a + b, 0),
    );
  }
}

describe('ipam under crashes (property)', function () {
  this.timeout(120_000);

  it(`never gives one address twice nor leaks one (${RUNS} sequences)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const dir = mkdtempSync(join(tmpdir(), 'netloom-ipam-prop-'));
        const store = new IpamStore(join(dir, 'ipam.json'));
        try {
          const first = store.load();
          first.addBlock(BLOCKS[0]!);
          await store.save(first);
          const w = new World(store);
          for (const op of ops) {
            await w.run(op);
            w.check();
          }
          await w.finish();
        } finally {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS },
    );
  });
});
