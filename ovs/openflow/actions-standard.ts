/**
 * The OpenFlow 1.3 standard actions (OFPAT_*), one ActionCodec each. Most carry nothing or one
 * number (group id, queue id, ethertype, TTL); `bare` and `oneField` make those.
 */
import { ActionCodec, ActionKind, ActionOf, bad, bare, OFPAT } from './action-codec';
import { readOxm, writeOxm } from './oxm';
import { Reader, Writer } from './wire';

/** The kinds whose action is `{ type }` plus the one named property `P` of type `V`. */
type KindsWith<P extends string, V> = {
  [K in ActionKind]: [keyof ActionOf<K>] extends ['type' | P] ? (ActionOf<K> extends { [Q in P]: V } ? K : never) : never;
}[ActionKind];

// The casts in oneField only restate what KindsWith guarantees: the action is { type, [P]: number }.

type Width = 1 | 2 | 4;
const WRITE_UINT: Record<Width, (w: Writer, v: number) => void> = { 1: (w, v) => w.u8(v), 2: (w, v) => w.u16(v), 4: (w, v) => w.u32(v) };
const READ_UINT: Record<Width, (r: Reader) => number> = { 1: (r) => r.u8(), 2: (r) => r.u16(), 4: (r) => r.u32() };

/** An action carrying one number `prop` of `width` bytes (the framing pads the rest to 8 bytes). */
function oneField<P extends string, K extends KindsWith<P, number>>(kind: K, ofpat: number, prop: P, width: Width): ActionCodec<K> {
  return {
    kind,
    wire: { ofpat },
    encode: (w, a) => WRITE_UINT[width](w, (a as Record<P, number>)[prop]),
    decode: (r) => ({ type: kind, [prop]: READ_UINT[width](r) }) as ActionOf<K>,
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
  group: [oneField('group', OFPAT.GROUP, 'groupId', 4)],
  set_queue: [oneField('set_queue', OFPAT.SET_QUEUE, 'queueId', 4)],
  push_vlan: [oneField('push_vlan', OFPAT.PUSH_VLAN, 'ethertype', 2)],
  push_mpls: [oneField('push_mpls', OFPAT.PUSH_MPLS, 'ethertype', 2)],
  pop_mpls: [oneField('pop_mpls', OFPAT.POP_MPLS, 'ethertype', 2)],
  pop_vlan: [bare('pop_vlan', { ofpat: OFPAT.POP_VLAN })],
  dec_nw_ttl: [bare('dec_nw_ttl', { ofpat: OFPAT.DEC_NW_TTL })],
  copy_ttl_out: [bare('copy_ttl_out', { ofpat: OFPAT.COPY_TTL_OUT })],
  copy_ttl_in: [bare('copy_ttl_in', { ofpat: OFPAT.COPY_TTL_IN })],
  dec_mpls_ttl: [bare('dec_mpls_ttl', { ofpat: OFPAT.DEC_MPLS_TTL })],
  set_nw_ttl: [oneField('set_nw_ttl', OFPAT.SET_NW_TTL, 'ttl', 1)],
  set_mpls_ttl: [oneField('set_mpls_ttl', OFPAT.SET_MPLS_TTL, 'ttl', 1)],
  set_field: [setField],
} as const satisfies { readonly [K in ActionKind]?: readonly ActionCodec<K>[] };
