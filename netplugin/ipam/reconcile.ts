/**
 * What a restarted agent does with its local records and netmaster's endpoints for this host
 * (issue 15 item 3). Pure: the caller fetches netmaster's view, applies the local part with
 * `applyPlan`, saves, then sends the deregistrations BEFORE the registrations (an address freed by a
 * DEL may already be held by a newer endpoint here).
 *
 * Why the rules are safe. Inside this host's blocks the local record is the authority: an ADD
 * records its address durably before it registers, and a DEL releases the local record before it
 * deregisters, so after any crash:
 *  - local 'local', netmaster has the same endpoint and address: registration went through before
 *    the crash was recorded -> confirm (mark 'registered');
 *  - local 'local', netmaster lacks it: crashed after the record, before registration -> register;
 *  - local 'registered', netmaster lacks it: netmaster deleted it on purpose (netctl, dead-host
 *    cleanup) -> forget (release locally);
 *  - netmaster has an endpoint in one of our blocks that we do not hold: a DEL released it and
 *    crashed before deregistering -> deregister;
 *  - netmaster endpoints outside our blocks, or at a block's reserved addresses (gateway, static
 *    addresses, networks smaller than a block), are netmaster's own allocations: left alone.
 * Anything else (same endpoint with another address or network; our address held at netmaster by
 * another endpoint while ours is 'registered') is a conflict: reported, and nothing of it is freed
 * on either side, since freeing could give an address twice.
 *
 * Invariants (property-tested): no endpoint is in two lists; after the plan is applied (locally and
 * at netmaster) every address in our blocks is held by the same endpoint on both sides or is in a
 * conflict; no address held locally before is freed except by `forget`.
 */
import type { Allocation, LocalAllocator } from './local-allocator';

/** One endpoint as netmaster lists it for this host. */
export interface NetmasterEndpoint {
  endpointId: string;
  networkKey: string;
  address: string;
}

export interface Conflict {
  endpointId: string;
  networkKey: string;
  address: string;
  reason: string;
}

export interface ReconcilePlan {
  /** local 'local' records netmaster already has: mark 'registered' */
  confirm: string[];
  /** local 'local' records netmaster lacks: register them (after `deregister`) */
  register: Allocation[];
  /** local 'registered' records netmaster no longer has: release locally */
  forget: string[];
  /** netmaster endpoints at our blocks' usable addresses that we do not hold: delete them at netmaster */
  deregister: NetmasterEndpoint[];
  conflicts: Conflict[];
}

export function planReconcile(local: LocalAllocator, netmaster: readonly NetmasterEndpoint[]): ReconcilePlan {
  const plan: ReconcilePlan = { confirm: [], register: [], forget: [], deregister: [], conflicts: [] };
  const remote = new Map(netmaster.map((e) => [e.endpointId, e]));
  const conflicted = new Set<string>();
  // netmaster's holder of each address in our blocks, to spot one address under two endpoints
  const remoteHolder = new Map<string, string>();
  for (const e of netmaster) {
    if (local.ownsAddress(e.networkKey, e.address)) remoteHolder.set(`${e.networkKey}\u0000${e.address}`, e.endpointId);
  }

  for (const al of local.allocations()) {
    const r = remote.get(al.endpointId);
    if (r) {
      if (r.networkKey !== al.networkKey || r.address !== al.address) {
        conflicted.add(al.endpointId);
        plan.conflicts.push({ ...al, reason: `netmaster has ${al.endpointId} at ${r.address} in ${r.networkKey}` });
      } else if (al.state === 'local') {
        plan.confirm.push(al.endpointId);
      }
      continue;
    }
    const other = remoteHolder.get(`${al.networkKey}\u0000${al.address}`);
    if (al.state === 'registered') {
      if (other !== undefined) {
        // netmaster dropped ours yet gives the address to another: keep both, tell a person
        conflicted.add(al.endpointId);
        conflicted.add(other);
        plan.conflicts.push({ ...al, reason: `registered here, but netmaster has ${other} at this address` });
      } else {
        plan.forget.push(al.endpointId);
      }
    } else {
      plan.register.push(al);
    }
  }

  for (const e of netmaster) {
    if (conflicted.has(e.endpointId) || local.get(e.endpointId)) continue;
    if (local.ownsAddress(e.networkKey, e.address)) plan.deregister.push(e);
  }
  return plan;
}

/** Apply the local half of a plan: confirm and forget. The caller saves the snapshot afterwards. */
export function applyPlan(local: LocalAllocator, plan: ReconcilePlan): void {
  for (const id of plan.confirm) local.markRegistered(id);
  for (const id of plan.forget) local.release(id);
}
