/**
 * Pure logic of a bundle transaction (ONF EXT-230 on OpenFlow 1.3): which xid each step uses, and
 * how the errors the switch returned map back to the message that failed (its index in the list
 * the caller gave) and the phase it failed in.
 */
import { NetloomError } from '../../lib/errors';
import { OfSwitchError } from './connection-errors';
import { OfErrorFields } from './connection-wire';

export interface BundleOptions {
  /** all or nothing (OVS requires this flag: it only commits atomically) */
  atomic?: boolean;
  /** apply in the order added */
  ordered?: boolean;
}

export interface BundlePlan {
  bundleId: number;
  openXid: number;
  /** xid of the bundle-add (and of the message inside it) for message i */
  addXids: number[];
  /** barrier that flushes the adds before deciding to commit */
  barrierXid: number;
  commitXid: number;
  discardXid: number;
}

export function planBundle(count: number, bundleId: number, nextXid: () => number): BundlePlan {
  if (!(Number.isInteger(count) && count > 0))
    throw new NetloomError('INVALID_ARGUMENT', `a bundle needs at least one message, got ${count}`, { field: 'msgs' });
  const openXid = nextXid();
  const addXids: number[] = [];
  for (let i = 0; i < count; i++) addXids.push(nextXid());
  return { bundleId, openXid, addXids, barrierXid: nextXid(), commitXid: nextXid(), discardXid: nextXid() };
}

export type BundlePhase = 'open' | 'add' | 'commit';

export interface BundleFailure {
  phase: BundlePhase;
  /** index into the caller's messages of the one that failed, when the switch said which */
  index: number | undefined;
  /** the switch's error for that message (or for the bundle as a whole) */
  error: OfSwitchError;
  /** every error received during the transaction, in arrival order */
  errors: OfSwitchError[];
}

/** The typed error a failed bundle() rejects with. */
export class OfBundleError extends NetloomError {
  readonly failure: BundleFailure;
  constructor(failure: BundleFailure) {
    const which = failure.index === undefined ? 'the bundle' : `message ${failure.index}`;
    super(
      'COMMAND_FAILED',
      `bundle failed at ${failure.phase}: ${which} rejected with ${failure.error.typeName}/${failure.error.codeName}`,
      {
        field: failure.index === undefined ? 'msgs' : `msgs[${failure.index}]`,
        details: { phase: failure.phase, index: failure.index, type: failure.error.typeName, code: failure.error.codeName },
      },
    );
    this.name = 'OfBundleError';
    this.failure = failure;
  }
}

export interface ReceivedError {
  xid: number;
  fields: OfErrorFields;
}

/**
 * Decide what the errors mean: undefined when there are none; otherwise the phase, and the index
 * of the first message whose own xid drew an error (the switch reports the offending message with
 * its xid, then a bundle-level error for the commit).
 */
export function bundleFailure(plan: BundlePlan, received: readonly ReceivedError[], phase: BundlePhase): BundleFailure | undefined {
  if (received.length === 0) return undefined;
  const indexOf = new Map<number, number>();
  plan.addXids.forEach((x, i) => indexOf.set(x, i));
  const errors = received.map((r) => new OfSwitchError(r.fields, r.xid, contextOf(plan, r.xid, indexOf)));
  const firstMsg = received.findIndex((r) => indexOf.has(r.xid));
  if (firstMsg >= 0) {
    return { phase, index: indexOf.get((received[firstMsg] as ReceivedError).xid), error: errors[firstMsg] as OfSwitchError, errors };
  }
  return { phase, index: undefined, error: errors[0] as OfSwitchError, errors };
}

function contextOf(plan: BundlePlan, xid: number, indexOf: Map<number, number>): string {
  if (xid === plan.openXid) return `bundle ${plan.bundleId} open`;
  if (xid === plan.commitXid) return `bundle ${plan.bundleId} commit`;
  const i = indexOf.get(xid);
  return i === undefined ? `bundle ${plan.bundleId}` : `bundle ${plan.bundleId} message ${i}`;
}

export function bundleFlags(o: BundleOptions): number {
  return ((o.atomic ?? true) ? 1 : 0) | ((o.ordered ?? true) ? 2 : 0);
}
