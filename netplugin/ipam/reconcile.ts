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
 *  - local 'local' at another address than netmaster's (one of ours): that DEL was followed by a
 *    new ADD of the same endpoint -> deregister the stale record, register the new one;
 *  - netmaster endpoints outside our blocks, or at a block's reserved addresses (gateway, static
 *    addresses, networks smaller than a block), are netmaster's own allocations: left alone.
 * Anything else (a 'registered' endpoint at another address at netmaster, or at an address that is
 * not ours; our address held at netmaster by an endpoint that is not deregistered) is a conflict:
 * reported, and nothing of it is freed or registered on either side, since that could give an
 * address twice.
 *
 * Invariants (property-tested in reconcile-property.test.ts): no endpoint is in two lists (but a
 * moved one, in deregister and register) nor in a list and a conflict; once the plan is applied
 * (locally and at netmaster) every usable address of our blocks has the same holder on both sides
 * unless a conflict names it; no address held locally is freed except by `forget`; netmaster never
 * gets one address under two endpoints.
 */
import type { Allocation, LocalAllocator } from './local-allocator';

/** One endpoint as netmaster lists it for this host. */
export interface NetmasterEndpoint {
  endpointId: string;
  networkKey: string;
  address: string;
}

/** One endpoint whose records disagree; `address` is where the disagreement is. */
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
  const at = (e: { networkKey: string; address: string }): string => `${e.networkKey}\u0000${e.address}`;
  const remoteHolder = new Map(netmaster.map((e) => [at(e), e.endpointId]));
  const conflicted = new Set<string>();
  /** `other`: the endpoint netmaster has at `al`'s address, reported too (each endpoint once) */
  const conflict = (al: Allocation, reason: string, other?: string): void => {
    const add = (c: Conflict): void => {
      if (!conflicted.has(c.endpointId)) plan.conflicts.push(c);
      conflicted.add(c.endpointId);
    };
    add({ endpointId: al.endpointId, networkKey: al.networkKey, address: al.address, reason });
    if (other !== undefined) {
      add({ endpointId: other, networkKey: al.networkKey, address: al.address, reason: `netmaster has it where ${al.endpointId} is here` });
    }
  };
  /** endpoints netmaster knows at an address this host has since given them anew */
  const moved = new Set<string>();
  const toRegister: Allocation[] = [];

  for (const al of local.allocations()) {
    const r = remote.get(al.endpointId);
    if (r && r.networkKey === al.networkKey && r.address === al.address) {
      if (al.state === 'local') plan.confirm.push(al.endpointId);
    } else if (r) {
      if (al.state === 'local' && local.ownsAddress(r.networkKey, r.address)) {
        // DELed (its deregistration lost in a crash) and ADDed again: netmaster's record is stale
        moved.add(al.endpointId);
        toRegister.push(al);
      } else {
        conflict(al, `netmaster has ${al.endpointId} at ${r.address} in ${r.networkKey}`);
      }
    } else if (al.state === 'local') {
      toRegister.push(al);
    } else {
      const other = remoteHolder.get(at(al));
      // netmaster dropped ours; if it gives the address to another, keep both and tell a person
      if (other !== undefined) conflict(al, `registered here, but netmaster has ${other} at this address`, other);
      else plan.forget.push(al.endpointId);
    }
  }

  for (const e of netmaster) {
    if (conflicted.has(e.endpointId) || !local.ownsAddress(e.networkKey, e.address)) continue;
    if (local.get(e.endpointId) === undefined || moved.has(e.endpointId)) plan.deregister.push(e);
  }

  // never register onto an address netmaster keeps under another endpoint; a registration that
  // turns into a conflict keeps its stale record at netmaster too, which may block another: repeat
  let pending = toRegister;
  for (let changed = true; changed; ) {
    changed = false;
    plan.deregister = plan.deregister.filter((d) => !conflicted.has(d.endpointId));
    const dropped = new Set(plan.deregister.map((d) => d.endpointId));
    const next: Allocation[] = [];
    for (const al of pending) {
      const other = remoteHolder.get(at(al));
      if (other !== undefined && other !== al.endpointId && !dropped.has(other)) {
        conflict(al, `netmaster has ${other} at this address`, other);
        changed = true;
      } else {
        next.push(al);
      }
    }
    pending = next;
  }
  plan.register = pending.filter((al) => !conflicted.has(al.endpointId));
  return plan;
}

/** Apply the local half of a plan: confirm and forget. The caller saves the snapshot afterwards. */
export function applyPlan(local: LocalAllocator, plan: ReconcilePlan): void {
  for (const id of plan.confirm) local.markRegistered(id);
  for (const id of plan.forget) local.release(id);
}
