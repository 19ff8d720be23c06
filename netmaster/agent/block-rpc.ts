/**
 * The argument checks and answers of ClaimBlock and ReleaseBlock (issue 15) over BlockService:
 * a network key `tenant:network`, a block CIDR aligned to its prefix; a network served whole by
 * netmaster (effective block prefix 0) answers CONFLICT (FAILED_PRECONDITION) naming it.
 */
import { NetloomError } from '../../lib/errors';
import { LIMITS } from '../../lib/kinds/limits';
import type { ClaimBlockRequest__Output } from '../../proto/gen/netloom/v1/ClaimBlockRequest';
import { maskOf, parseV4Cidr } from '../model/net';
import type { BlockRef } from '../service/block-plan';
import type { ClaimedBlock } from '../service/blocks';
import type { NetmasterService } from '../service/service';

const NET_KEY_RE = /^[^:/\s]+:[^:/\s]+$/;

export function checkNetworkKey(network: string): void {
  if (!NET_KEY_RE.test(network) || network.length > 2 * LIMITS.name + 1) {
    throw new NetloomError('INVALID_ARGUMENT', `network must be 'tenant:network', not '${network.slice(0, 80)}'`, { field: 'network' });
  }
}

/** The block a CIDR names; INVALID_ARGUMENT (field cidr) unless it is `a.b.c.d/len` aligned to len. */
export function blockOfCidr(cidr: string): BlockRef {
  const c = parseV4Cidr(cidr);
  if (!c || c.addr !== c.base || (c.base & maskOf(c.prefix)) >>> 0 !== c.base) {
    throw new NetloomError('INVALID_ARGUMENT', `cidr '${cidr.slice(0, 80)}' is not an aligned IPv4 block such as 10.1.0.64/26`, {
      field: 'cidr',
    });
  }
  return { base: c.base, prefix: c.prefix };
}

/** Claim (or find, by claim id) a block for the request's host. */
export async function claimBlock(svc: NetmasterService, r: ClaimBlockRequest__Output): Promise<ClaimedBlock> {
  checkNetworkKey(r.network);
  const res = await svc.blocks.claim(r.network, r.host, { claimId: r.claimId });
  if ('whole' in res) {
    throw new NetloomError(
      'CONFLICT',
      `network ${r.network} is not split into blocks (block_prefix 0): netmaster allocates its addresses`,
      {
        field: 'network',
      },
    );
  }
  return res;
}
