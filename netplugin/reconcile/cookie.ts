/**
 * Flow cookies name who owns a flow and in which generation it was installed:
 *
 *   bits 63..56  0xA7, netloom's mark (flows without it are not ours)
 *   bits 55..48  the pipeline feature that computed the flow (see FEATURES)
 *   bits 47..32  the agent generation (bumped on every agent start, wraps at 16 bits)
 *   bits 31..0   a hash of the object the flow serves (endpoint, network, rule...), for debugging
 *
 * An agent that restarts installs its desired flows with a new generation (an OpenFlow ADD of an
 * identical match replaces the old flow in place, so traffic never stops) and then deletes, in the
 * same atomic bundle, every flow still carrying an older generation.
 */
export const NETLOOM_MARK = 0xa7n;

/**
 * Feature ids, named like the flow builders and tables they serve (`tableMissFlows` writes
 * `tableMiss`, `l2ForwardFlows` the l2Forward table's `l2Forward`...); `vlan` and `tunnel` mark
 * the flows of either encapsulation wherever they are, `routing` the gateway's and l3Forward's,
 * `policy` the group tables' and the policy tables'. Which tables hold which ids is declared in
 * `pipeline/tables.ts`. The numbers are on the switch: never renumber one.
 */
export const FEATURES = {
  classifier: 1,
  spoofguard: 2,
  arp: 3,
  l2Forward: 4,
  tunnel: 5,
  vlan: 6,
  routing: 7,
  policy: 8,
  conntrack: 9,
  qos: 10,
  bgp: 11,
  service: 12,
  /** the tenants' gateway ports to the host's kernel (egress, host access) */
  hostgw: 13,
  tableMiss: 15,
  /** a one-bridge host's own underlay traffic between the uplink and the bridge's local port */
  underlay: 16,
} as const;
export type Feature = keyof typeof FEATURES;

const MARK_MASK = 0xffn << 56n;
const FEATURE_SHIFT = 48n;
const GEN_SHIFT = 32n;

/** 32-bit FNV-1a of a string: stable across restarts and hosts. */
export function objectHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function makeCookie(feature: Feature, generation: number, object = ''): bigint {
  return (
    (NETLOOM_MARK << 56n) |
    (BigInt(FEATURES[feature]) << FEATURE_SHIFT) |
    (BigInt(generation & 0xffff) << GEN_SHIFT) |
    BigInt(object === '' ? 0 : objectHash(object))
  );
}

export interface CookieParts {
  ours: boolean;
  feature: Feature | undefined;
  generation: number;
  objectHash: number;
}

export function parseCookie(cookie: bigint): CookieParts {
  const ours = (cookie & MARK_MASK) === NETLOOM_MARK << 56n;
  const fid = Number((cookie >> FEATURE_SHIFT) & 0xffn);
  const feature = (Object.keys(FEATURES) as Feature[]).find((f) => FEATURES[f] === fid);
  return {
    ours,
    feature: ours ? feature : undefined,
    generation: Number((cookie >> GEN_SHIFT) & 0xffffn),
    objectHash: Number(cookie & 0xffffffffn),
  };
}

/** The cookie and mask that select every netloom flow of one generation. */
export function generationSelector(generation: number): { cookie: bigint; mask: bigint } {
  return { cookie: (NETLOOM_MARK << 56n) | (BigInt(generation & 0xffff) << GEN_SHIFT), mask: MARK_MASK | (0xffffn << GEN_SHIFT) };
}

/** The cookie and mask that select every netloom flow of one feature, whatever its generation. */
export function featureSelector(feature: Feature): { cookie: bigint; mask: bigint } {
  return { cookie: (NETLOOM_MARK << 56n) | (BigInt(FEATURES[feature]) << FEATURE_SHIFT), mask: MARK_MASK | (0xffn << FEATURE_SHIFT) };
}

/** The next generation after those seen on the switch (so a restarted agent never reuses one). */
export function nextGeneration(seen: Iterable<number>): number {
  let max = -1;
  for (const g of seen) max = Math.max(max, g);
  return (max + 1) & 0xffff;
}
