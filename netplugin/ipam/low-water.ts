/**
 * When to ask netmaster for another block: as soon as a network's free addresses on this host drop
 * below the low-water mark, so that the claim (one etcd transaction) is done before the blocks run
 * out and an ADD never waits for it in steady state (issue 15 item 1).
 */
import { NetloomError } from '../../lib/errors';

export const DEFAULT_LOW_WATER = 8;

/**
 * Whether to claim a new block for a network with `free` free addresses here. A network that
 * fills up faster than one claim takes needs a higher mark; `lowWater` 0 never asks ahead (only an EXHAUSTED allocation makes the caller ask).
 */
export function needsNewBlock(free: number, lowWater: number = DEFAULT_LOW_WATER): boolean {
  if (!Number.isInteger(lowWater) || lowWater < 0) {
    throw new NetloomError('INVALID_ARGUMENT', `ipam low-water mark must be an integer >= 0, got ${lowWater}`, { field: 'lowWater' });
  }
  return free < lowWater;
}
