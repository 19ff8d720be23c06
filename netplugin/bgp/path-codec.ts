/**
 * IPv4 unicast paths between our plain form and GoBGP's `apipb.Path`, whose NLRI and path
 * attributes travel as `google.protobuf.Any` (type URL + the message's bytes). Packing and
 * unpacking use the protobufjs view of GoBGP's proto files (gobgp-proto.ts). A path read back that
 * is not what the contract says gives DECODE_ERROR naming the field.
 */
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { parseWith } from '../../lib/validation';
import { gobgpRoot } from './gobgp-proto';
import type { AnnouncedPath } from './speaker-config';

const TYPE_PREFIX = 'type.googleapis.com/';

/** `google.protobuf.Any` as proto-loader hands it over (camelCase). */
export interface AnyMsg {
  // google.protobuf.Any comes built into protobufjs as JSON, so proto-loader keeps its snake_case names
  type_url: string;
  value: Buffer | Uint8Array;
}

/** The parts of `apipb.Path` we send (proto-loader's object form, enums by name). */
export interface ApiPathOut {
  family: { afi: 'AFI_IP'; safi: 'SAFI_UNICAST' };
  nlri: AnyMsg;
  pattrs: AnyMsg[];
}

export const IPV4_UNICAST = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' } as const;

/** Pack `obj` (plain object, enums by name or number) as the GoBGP message `type` (e.g. 'apipb.NextHopAttribute'). */
export function packAny(type: string, obj: Record<string, unknown>): AnyMsg {
  const t = gobgpRoot().lookupType(type);
  return { type_url: TYPE_PREFIX + type, value: Buffer.from(t.encode(t.fromObject(obj)).finish()) };
}

/** The message type an Any holds (without the type URL's host part). */
export function anyType(a: AnyMsg): string {
  return a.type_url.slice(a.type_url.lastIndexOf('/') + 1);
}

/** Unpack an Any into a plain object (camelCase; 64-bit numbers as strings). `field` names it in errors. */
export function unpackAny(a: AnyMsg, field: string): Record<string, unknown> {
  const type = anyType(a);
  let t;
  try {
    t = gobgpRoot().lookupType(type);
  } catch {
    throw new NetloomError('DECODE_ERROR', `gobgp reply: ${field}: unknown type ${a.type_url}`, { field });
  }
  try {
    return t.toObject(t.decode(a.value), { longs: String, enums: String, defaults: true });
  } catch (e) {
    throw new NetloomError('DECODE_ERROR', `gobgp reply: ${field}: bad ${type}: ${(e as Error).message}`, { field, cause: e });
  }
}

/** BGP ORIGIN: IGP (0); a prefix we announce is ours. */
const ORIGIN_IGP = 0;

/** The apipb.Path that announces (or, for DeletePath, names) one of our prefixes. */
export function encodeAnnounced(p: AnnouncedPath): ApiPathOut {
  const [prefix, len] = p.prefix.split('/') as [string, string];
  return {
    family: IPV4_UNICAST,
    nlri: packAny('apipb.IPAddressPrefix', { prefix, prefixLen: Number(len) }),
    pattrs: [packAny('apipb.OriginAttribute', { origin: ORIGIN_IGP }), packAny('apipb.NextHopAttribute', { nextHop: p.nextHop })],
  };
}

/** One path of the RIB, decoded. */
export interface RibPath {
  prefix: string;
  nextHop: string;
  /** GoBGP chose it as the best path to the prefix */
  best: boolean;
  /** added through the API on this speaker, not learned from a peer */
  local: boolean;
  /** UUID (hex) of a local path as WatchEvent shows it ('' in ListPath replies and for learned paths) */
  uuid: string;
  /** the peer it was learned from ('' for local paths) */
  neighbor: string;
  /** AS numbers of the AS path in order (AS_SETs flattened) */
  asPath: number[];
  /** AS path length for best-path comparison (an AS_SET counts one) */
  asPathLength: number;
  origin: number;
  med: number;
  /** LOCAL_PREF, 100 when absent (GoBGP's default) */
  localPref: number;
  /** ADD-PATH identifier it was received with (0 without ADD-PATH) */
  identifier: number;
  withdrawn: boolean;
  /** GoBGP cannot resolve its next hop */
  nextHopInvalid: boolean;
  stale: boolean;
}

const anySchema = z.object({ type_url: z.string(), value: z.instanceof(Uint8Array) });
const apiPathSchema = z.object({
  nlri: anySchema,
  pattrs: z.array(anySchema),
  best: z.boolean(),
  isWithdraw: z.boolean(),
  isNexthopInvalid: z.boolean(),
  stale: z.boolean(),
  neighborIp: z.string(),
  uuid: z.instanceof(Uint8Array),
  identifier: z.number(),
  family: z.object({ afi: z.string(), safi: z.string() }).nullable(),
});

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

/**
 * A path of a ListPath or WatchEvent reply, or undefined when it is not IPv4 unicast (other
 * families are not ours). `field` is where it sits in the reply, for errors.
 */
export function decodeApiPath(raw: unknown, field: string): RibPath | undefined {
  const p = parseWith(apiPathSchema, raw, {
    what: 'gobgp reply',
    code: 'DECODE_ERROR',
    rootField: field,
    message: (f) => `gobgp reply: ${field}.${f.path}: ${f.reason}`,
  });
  if (p.family && (p.family.afi !== IPV4_UNICAST.afi || p.family.safi !== IPV4_UNICAST.safi)) return undefined;
  if (anyType(p.nlri) !== 'apipb.IPAddressPrefix') return undefined;
  const nlri = unpackAny(p.nlri, `${field}.nlri`);
  const prefixLen = num(nlri.prefixLen);
  if (typeof nlri.prefix !== 'string' || !(prefixLen >= 0 && prefixLen <= 32))
    throw new NetloomError('DECODE_ERROR', `gobgp reply: ${field}.nlri: not an IPv4 prefix`, { field: `${field}.nlri` });
  // AddPath's UUID is only in WatchEvent replies; ListPath shows a local path by its missing source ("<nil>")
  const local = p.uuid.length > 0 || p.neighborIp === '' || p.neighborIp === '<nil>';
  const out: RibPath = {
    prefix: `${nlri.prefix}/${prefixLen}`,
    nextHop: '',
    best: p.best,
    local,
    uuid: Buffer.from(p.uuid).toString('hex'),
    neighbor: local ? '' : p.neighborIp,
    asPath: [],
    asPathLength: 0,
    origin: 0,
    med: 0,
    localPref: 100,
    identifier: p.identifier,
    withdrawn: p.isWithdraw,
    nextHopInvalid: p.isNexthopInvalid,
    stale: p.stale,
  };
  p.pattrs.forEach((a, i) => {
    const where = `${field}.pattrs.${i}`;
    switch (anyType(a)) {
      case 'apipb.NextHopAttribute':
        out.nextHop = String(unpackAny(a, where).nextHop ?? '');
        break;
      case 'apipb.MpReachNLRIAttribute': {
        const hops = unpackAny(a, where).nextHops;
        if (out.nextHop === '' && Array.isArray(hops) && typeof hops[0] === 'string') out.nextHop = hops[0];
        break;
      }
      case 'apipb.OriginAttribute':
        out.origin = num(unpackAny(a, where).origin);
        break;
      case 'apipb.MultiExitDiscAttribute':
        out.med = num(unpackAny(a, where).med);
        break;
      case 'apipb.LocalPrefAttribute':
        out.localPref = num(unpackAny(a, where).localPref);
        break;
      case 'apipb.AsPathAttribute': {
        const segs = unpackAny(a, where).segments;
        for (const s of Array.isArray(segs) ? (segs as Array<Record<string, unknown>>) : []) {
          const ns = Array.isArray(s.numbers) ? s.numbers.map(num) : [];
          out.asPath.push(...ns);
          // RFC 4271 9.1.2.2: an AS_SET counts as one, confederation segments not at all
          out.asPathLength += s.type === 'AS_SET' ? 1 : s.type === 'AS_SEQUENCE' ? ns.length : 0;
        }
        break;
      }
      default:
        break; // communities and the rest do not change where traffic goes
    }
  });
  return out;
}
