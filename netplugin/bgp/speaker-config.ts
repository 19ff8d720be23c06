/**
 * What one host's BGP speaker should be, as plain data: the global settings, the peers and the IPv4
 * unicast prefixes this host announces. Validated once here (a NetloomError naming the field), so
 * the client, the plan and the supervisor work on values they can trust.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseWith } from '../../lib/validation';

/** The largest AS number (4 bytes, RFC 6793); 0 is reserved (RFC 7607). */
export const MAX_ASN = 4294967295;

const asn = z.number().int().min(1, 'must be an AS number (1-4294967295)').max(MAX_ASN, 'must be an AS number (1-4294967295)');

export const ipv4 = z.string().refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), { error: 'must be an IPv4 address (a.b.c.d)' });

/** An IPv4 prefix in canonical form: no host bits set (10.1.0.0/16, not 10.1.2.3/16). */
export const ipv4Prefix = z.string().refine(
  (s) => {
    const [addr, len, ...rest] = s.split('/');
    if (rest.length > 0 || addr === undefined || len === undefined || !/^\d{1,2}$/.test(len) || Number(len) > 32) return false;
    if (!ipaddr.IPv4.isValidFourPartDecimal(addr)) return false;
    return ipaddr.IPv4.networkAddressFromCIDR(s).toString() === addr;
  },
  { error: 'must be an IPv4 prefix a.b.c.d/len with no host bits set' },
);

/** Seconds for a BGP timer; the hold time is 0 or 3..65535 (RFC 4271 4.2). */
const seconds = z.number().int().min(0).max(65535);

export const globalSchema = z.object({
  asn,
  routerId: ipv4,
  /** BGP's TCP port (179 normally; tests may pick another); -1 listens on none (outbound sessions only) */
  listenPort: z.number().int().min(-1).max(65535).default(179),
  /** addresses BGP listens on (default: all) */
  listenAddresses: z.array(ipv4).max(16).default([]),
});

export const peerSchema = z.object({
  address: ipv4,
  peerAsn: asn,
  /** hold time in seconds (default 9: a dead host's routes go within 9 s, as issue 16 asks) */
  holdTimeS: seconds.refine((s) => s === 0 || s >= 3, { error: 'must be 0 or 3-65535' }).default(9),
  /** keepalive interval in seconds (default: a third of the hold time) */
  keepaliveS: seconds.optional(),
  /** seconds between connection attempts while the peer is not up (default 5) */
  connectRetryS: seconds.min(1).default(5),
  /** take every path the peer offers (BGP ADD-PATH receive), needed for ECMP behind a reflector or ToR */
  addPathsReceive: z.boolean().default(true),
  /** only wait for the peer to connect */
  passive: z.boolean().default(false),
});

export const announcedSchema = z.object({
  prefix: ipv4Prefix,
  nextHop: ipv4,
});

export const speakerConfigSchema = z
  .object({
    global: globalSchema,
    peers: z.array(peerSchema).max(1024).default([]),
    paths: z.array(announcedSchema).max(65536).default([]),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.peers.forEach((p, i) => {
      if (seen.has(p.address)) ctx.addIssue({ code: 'custom', path: ['peers', i, 'address'], message: `duplicate peer ${p.address}` });
      seen.add(p.address);
    });
    const prefixes = new Set<string>();
    c.paths.forEach((p, i) => {
      if (prefixes.has(p.prefix)) ctx.addIssue({ code: 'custom', path: ['paths', i, 'prefix'], message: `duplicate prefix ${p.prefix}` });
      prefixes.add(p.prefix);
    });
  });

export type BgpGlobal = z.output<typeof globalSchema>;
export type BgpPeer = z.output<typeof peerSchema>;
export type AnnouncedPath = z.output<typeof announcedSchema>;
export type SpeakerConfig = z.output<typeof speakerConfigSchema>;
export type SpeakerConfigInput = z.input<typeof speakerConfigSchema>;

/** Check and complete a desired speaker configuration; bad input -> INVALID_ARGUMENT naming the field. */
export function parseSpeakerConfig(input: unknown): SpeakerConfig {
  return parseWith(speakerConfigSchema, input, { what: 'BGP speaker config' });
}

export function parsePeer(input: unknown): BgpPeer {
  return parseWith(peerSchema, input, { what: 'BGP peer' });
}

export function parseGlobal(input: unknown): BgpGlobal {
  return parseWith(globalSchema, input, { what: 'BGP global' });
}

export function parseAnnounced(input: unknown): AnnouncedPath {
  return parseWith(announcedSchema, input, { what: 'BGP path' });
}
