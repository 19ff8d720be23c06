/**
 * Property test of `planReconcile` over arbitrary local records and netmaster views (not only the
 * ones a crash can produce): the invariants written in reconcile.ts.
 *  - no endpoint appears in two of confirm/register/forget/deregister (but a moved one in
 *    deregister and register, with another address), nor in one of them and a conflict;
 *  - applied (locally: confirm, forget; at netmaster: deregister, then register), every usable
 *    address of this host's blocks has the same holder on both sides, unless a conflict names it;
 *  - the local side loses exactly the `forget` endpoints, and keeps every conflicted one;
 *  - netmaster never ends up with one address under two endpoints.
 *
 * NETLOOM_FUZZ_RUNS sets the number of cases (default 300, well under a second).
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { LocalAllocator, type AllocatorSnapshot } from '../../../../netplugin/ipam/local-allocator';
import { applyPlan, planReconcile, type NetmasterEndpoint } from '../../../../netplugin/ipam/reconcile';

const RUNS = Number(process.env.NETLOOM_FUZZ_RUNS ?? 300);
const NETS = ['t1/a', 't1/b'];
/** this host's block in both networks is 10.8.0.0/29 with .0 reserved; .8-.15 are other hosts' */
const ADDRESSES = Array.from({ length: 16 }, (_, i) => `10.8.0.${i}`);
const IDS = Array.from({ length: 10 }, (_, i) => `e${i}`);

const entry = fc.record({
  id: fc.nat(IDS.length - 1),
  net: fc.nat(NETS.length - 1),
  addr: fc.integer({ min: 1, max: 7 }),
  registered: fc.boolean(),
});
const remoteEntry = fc.record({ id: fc.nat(IDS.length - 1), net: fc.nat(NETS.length - 1), addr: fc.nat(ADDRESSES.length - 1) });

describe('ipam reconcile plan (property)', () => {
  it(`keeps both sides consistent and frees nothing it should not (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), fc.array(remoteEntry, { maxLength: 12 }), (localEntries, remoteEntries) => {
        const blocks = NETS.map((networkKey) => ({ cidr: '10.8.0.0/29', networkKey, reserved: ['10.8.0.0'] }));
        const allocations: AllocatorSnapshot['allocations'] = [];
        for (const e of localEntries) {
          const a = {
            endpointId: IDS[e.id]!,
            networkKey: NETS[e.net]!,
            address: ADDRESSES[e.addr]!,
            state: e.registered ? 'registered' : 'local',
          } as const;
          if (allocations.some((o) => o.endpointId === a.endpointId || (o.networkKey === a.networkKey && o.address === a.address)))
            continue;
          allocations.push(a);
        }
        const local = LocalAllocator.fromSnapshot({ blocks, allocations });
        // netmaster's own rule: one endpoint once, one address once
        const remote = new Map<string, NetmasterEndpoint>();
        const taken = new Set<string>();
        for (const r of remoteEntries) {
          const e = { endpointId: IDS[r.id]!, networkKey: NETS[r.net]!, address: ADDRESSES[r.addr]! };
          if (remote.has(e.endpointId) || taken.has(`${e.networkKey} ${e.address}`)) continue;
          remote.set(e.endpointId, e);
          taken.add(`${e.networkKey} ${e.address}`);
        }
        const before = new Map(local.allocations().map((a) => [a.endpointId, a]));
        const plan = planReconcile(local, [...remote.values()]);

        const moved = new Set(
          plan.deregister
            .filter((d) =>
              plan.register.some((r) => r.endpointId === d.endpointId && (r.address !== d.address || r.networkKey !== d.networkKey)),
            )
            .map((d) => d.endpointId),
        );
        const lists = [
          plan.confirm,
          plan.register.map((r) => r.endpointId),
          plan.forget,
          plan.deregister.map((d) => d.endpointId).filter((id) => !moved.has(id)),
        ];
        const conflicted = new Set(plan.conflicts.map((c) => c.endpointId));
        const seen = new Set<string>();
        for (const id of lists.flat()) {
          assert.ok(!seen.has(id) && !conflicted.has(id), `${id} is in two lists`);
          seen.add(id);
        }

        applyPlan(local, plan);
        for (const d of plan.deregister) remote.delete(d.endpointId);
        for (const r of plan.register) {
          for (const o of remote.values()) {
            assert.ok(
              !(o.networkKey === r.networkKey && o.address === r.address && o.endpointId !== r.endpointId),
              `${r.address} twice at netmaster`,
            );
          }
          remote.set(r.endpointId, { endpointId: r.endpointId, networkKey: r.networkKey, address: r.address });
          local.markRegistered(r.endpointId);
        }

        const forgotten = new Set(plan.forget);
        for (const [id, a] of before) {
          assert.equal(local.get(id)?.address, forgotten.has(id) ? undefined : a.address, `${id}: freed without forget`);
        }
        for (const c of conflicted) if (before.has(c)) assert.ok(local.get(c), `conflicted ${c} was freed`);

        const remoteHolder = new Map([...remote.values()].map((e) => [`${e.networkKey} ${e.address}`, e.endpointId]));
        for (const networkKey of NETS) {
          for (const address of ADDRESSES) {
            if (!local.ownsAddress(networkKey, address)) continue;
            const here = local.holderOf(networkKey, address);
            const there = remoteHolder.get(`${networkKey} ${address}`);
            if ((here && conflicted.has(here)) || (there && conflicted.has(there))) continue;
            assert.equal(there, here, `${networkKey} ${address}: netmaster says ${there ?? 'free'}, here ${here ?? 'free'}`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
