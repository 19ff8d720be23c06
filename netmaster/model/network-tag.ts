/**
 * The packet tag a network uses (its VLAN, VNI, or for `bgp` netmaster's id), apart from the one
 * its user gave. As in Contiv, a network's config keeps what the user gave (`pktTag` 0: "allocate
 * one"), and the tag in use lives in its stored oper (`oper.pktTag`), next to a group's `groupId`:
 * - the oper part of `{config, oper}` is never taken from a request body and never served as the
 *   config, so the REST GET, `netctl net ls` and Contiv's client show the config unchanged;
 * - it is written in the same guarded transaction as the config and the tag's allocation key
 *   (service.ts), so a network is never stored without its tag, nor a tag without its network;
 * - every reader (host views, the allocator's delete, the consistency check, the inspect oper,
 *   updates) already has the stored oper wherever it has the config.
 * A network stored before this record existed has no `oper.pktTag`: its config's tag was the one
 * in use (given or allocated, which was not recorded), and is taken as given.
 */
/** The largest tag: the pktTag field's range (lib/kinds/network.ts), the largest VNI. */
const MAX_VXLAN_TAG = 16_777_215;
/** The largest VLAN id (4095 is reserved). */
export const MAX_VLAN = 4094;

/** The tag `config` (a stored network) uses, given its stored oper. 0 only for a bad record (see tagRecordProblem). */
export function tagInUse(config: { pktTag: number }, oper: Readonly<Record<string, unknown>> | undefined): number {
  const t = oper?.pktTag;
  return typeof t === 'number' && Number.isInteger(t) && t > 0 ? t : config.pktTag;
}

/** Why a stored network's tag record cannot be served, or undefined when it is sound (stored-values.ts). */
export function tagRecordProblem(config: { pktTag: number }, oper: Readonly<Record<string, unknown>>): string | undefined {
  const t = oper.pktTag;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_VXLAN_TAG))
    return `oper.pktTag: must be a tag 1..${MAX_VXLAN_TAG}, not ${JSON.stringify(t)}`;
  if (t === undefined && config.pktTag === 0) return 'no packet tag: config.pktTag is 0 (allocated) and oper.pktTag is missing';
  if (t !== undefined && config.pktTag !== 0 && config.pktTag !== t)
    return `config.pktTag ${config.pktTag} differs from the tag in use, oper.pktTag ${t}`;
  return undefined;
}
