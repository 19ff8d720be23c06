/**
 * The effective block prefix of a network (issue 15, pure): the network's own `blockPrefix`, else
 * the global one, else 26; 0 when the subnet is not larger than one block (netmaster then serves
 * every address of the network itself, as before blocks existed). This is what the host view
 * carries as Network.block_prefix and what ClaimBlock claims.
 */
import { parseV4Subnet } from '../model/net';
import { DEFAULT_BLOCK_PREFIX } from './block-plan';

export function effectiveBlockPrefix(
  nw: { subnet: string; blockPrefix?: number | undefined },
  global: { blockPrefix?: number | undefined } | undefined,
): number {
  const prefix = nw.blockPrefix || global?.blockPrefix || DEFAULT_BLOCK_PREFIX;
  const sub = parseV4Subnet(nw.subnet);
  if (!sub || sub.prefix >= prefix) return 0;
  return prefix;
}
