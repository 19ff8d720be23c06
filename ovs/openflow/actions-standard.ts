/**
 * The OpenFlow 1.3 standard actions (OFPAT_*), one ActionCodec each. Several kinds share a body
 * layout (nothing, an ethertype, a TTL); a small constructor makes those.
 */
import { ActionCodec, ActionKind, ActionOf, bad, bare, OFPAT } from './action-codec';
import { readOxm, writeOxm } from './oxm';

/** The kinds whose action is `{ type }` plus the one named property `P` of type `V`. */
type KindsWith<P extends string, V> = {
  [K in ActionKind]: [keyof ActionOf<K>] extends ['type' | P] ? (ActionOf<K> extends { [Q in P]: V } ? K : never) : never;
}[ActionKind];

// The casts below only restate what KindsWith guarantees: the action is { type, [P]: V }.

/** An action carrying an ethertype: u16 and 2 bytes of padding. */
function ethertype<K extends KindsWith<'ethertype', number>>(kind: K, ofpat: number): ActionCodec<K> {
  return {
    kind,
    wire: { ofpat },
    encode: (w, a) => {
      w.u16((a as { ethertype: number }).ethertype);
      w.zeros(2);
    },
    decode: (r) => ({ type: kind, ethertype: r.u16() }) as ActionOf<K>,
  };
}

/** An action carrying a TTL: u8 and 3 bytes of padding. */
function ttl<K extends KindsWith<'ttl', number>>(kind: K, ofpat: number): ActionCodec<K> {
  return {
    kind,
    wire: { ofpat },
    encode: (w, a) => {
      w.u8((a as { ttl: number }).ttl);
      w.zeros(3);
    },
    decode: (r) => ({ type: kind, ttl: r.u8() }) as ActionOf<K>,
  };
}

const output: ActionCodec<'output'> = {
  kind: 'output',
  wire: { ofpat: OFPAT.OUTPUT },
  encode: (w, a) => {
    w.u32(a.port);
    w.u16(a.maxLen);
    w.zeros(6);
  },
  decode: (r, ctx) => {
    if (ctx.len !== 16) r.fail(`output action length ${ctx.len} != 16`, ctx.start);
    return { type: 'output', port: r.u32(), maxLen: r.u16() };
  },
};

const group: ActionCodec<'group'> = {
  kind: 'group',
  wire: { ofpat: OFPAT.GROUP },
  encode: (w, a) => w.u32(a.groupId),
  decode: (r) => ({ type: 'group', groupId: r.u32() }),
};

const setQueue: ActionCodec<'set_queue'> = {
  kind: 'set_queue',
  wire: { ofpat: OFPAT.SET_QUEUE },
  encode: (w, a) => w.u32(a.queueId),
  decode: (r) => ({ type: 'set_queue', queueId: r.u32() }),
};

const setField: ActionCodec<'set_field'> = {
  kind: 'set_field',
  wire: { ofpat: OFPAT.SET_FIELD },
  encode: (w, a, ctx) => {
    if (a.field.field !== 'raw' && a.field.mask !== undefined)
      bad(`${ctx.where}.set_field`, 'set_field cannot carry a mask in OpenFlow 1.3 (use reg_load2)');
    writeOxm(w, a.field, `${ctx.where}.set_field`);
  },
  decode: (r) => {
    const field = readOxm(r);
    // a masked set_field is not OpenFlow 1.3; keep its bytes as they are
    if (field.field !== 'raw' && field.mask !== undefined) return undefined;
    return { type: 'set_field', field };
  },
};

export const STANDARD_ACTIONS = {
  output: [output],
  group: [group],
  set_queue: [setQueue],
  push_vlan: [ethertype('push_vlan', OFPAT.PUSH_VLAN)],
  push_mpls: [ethertype('push_mpls', OFPAT.PUSH_MPLS)],
  pop_mpls: [ethertype('pop_mpls', OFPAT.POP_MPLS)],
  pop_vlan: [bare('pop_vlan', { ofpat: OFPAT.POP_VLAN })],
  dec_nw_ttl: [bare('dec_nw_ttl', { ofpat: OFPAT.DEC_NW_TTL })],
  copy_ttl_out: [bare('copy_ttl_out', { ofpat: OFPAT.COPY_TTL_OUT })],
  copy_ttl_in: [bare('copy_ttl_in', { ofpat: OFPAT.COPY_TTL_IN })],
  dec_mpls_ttl: [bare('dec_mpls_ttl', { ofpat: OFPAT.DEC_MPLS_TTL })],
  set_nw_ttl: [ttl('set_nw_ttl', OFPAT.SET_NW_TTL)],
  set_mpls_ttl: [ttl('set_mpls_ttl', OFPAT.SET_MPLS_TTL)],
  set_field: [setField],
} as const satisfies { readonly [K in ActionKind]?: readonly ActionCodec<K>[] };
