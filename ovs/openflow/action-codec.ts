/**
 * What one action kind is on the wire: an ActionCodec holds both halves (encode and decode) of one
 * OFPAT type or one Nicira subtype, so the two cannot drift apart. `action-registry.ts` collects
 * them; `actions.ts` frames them (type, length, experimenter header, padding to 8).
 */
import { NetloomError } from '../../lib/errors';
import type { Action } from './messages';
import { Reader, Writer } from './wire';

export const OFPAT = {
  OUTPUT: 0,
  COPY_TTL_OUT: 11,
  COPY_TTL_IN: 12,
  SET_MPLS_TTL: 15,
  DEC_MPLS_TTL: 16,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  PUSH_MPLS: 19,
  POP_MPLS: 20,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  EXPERIMENTER: 0xffff,
} as const;

export const NXAST = {
  RESUBMIT: 1,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  RESUBMIT_TABLE: 14,
  LEARN: 16,
  CONTROLLER: 20,
  OUTPUT_REG: 15,
  EXIT: 17,
  FIN_TIMEOUT: 19,
  DEC_TTL_CNT_IDS: 21,
  OUTPUT_TRUNC: 39,
  CLONE: 42,
  CT_CLEAR: 43,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
} as const;

/** Every action kind with a wire form of its own (`raw` is what is left when none decodes). */
export type ActionKind = Exclude<Action['type'], 'raw'>;
type ActionByKind = { [A in Action as A['type']]: A };
export type ActionOf<K extends ActionKind> = ActionByKind[K];

/** Where an action sits on the wire: a standard OFPAT type, or an experimenter's subtype. */
export type ActionWire = { ofpat: number } | { experimenter: number; subtype: number };

export interface EncodeContext {
  /** the path named in errors (`flow_mod.instructions.apply_actions`) */
  where: string;
  /** encode a nested action list (ct, clone) */
  writeActions(w: Writer, actions: readonly Action[], where: string): void;
}

export interface DecodeContext {
  /** offset of the action's first byte in the message, for errors */
  start: number;
  /** the action's length field */
  len: number;
  /** decode a nested action list (ct, clone); refuses nesting too deep, naming `what` */
  readNested(r: Reader, what: string): Action[];
}

/**
 * One wire form of one action kind. The framing (header, length, padding) is not the codec's: it
 * writes and reads only the body, after the type and length (and experimenter id and subtype).
 */
export interface ActionCodec<K extends ActionKind = ActionKind> {
  kind: K;
  wire: ActionWire;
  /**
   * For a kind with two wire forms (resubmit, controller): whether this form encodes `a`. The
   * registry tries a kind's forms in order; a form without `accepts` takes everything left.
   */
  accepts?(a: ActionOf<K>): boolean;
  encode(w: Writer, a: ActionOf<K>, ctx: EncodeContext): void;
  /** The action, or undefined to keep the bytes as a `raw` action (a form this codec does not model). */
  decode(r: Reader, ctx: DecodeContext): ActionOf<K> | undefined;
}

/** A stable key of a wire form, for lookups and for finding two codecs claiming one form. */
export function wireKey(wire: ActionWire): string {
  return 'ofpat' in wire ? `ofpat:${wire.ofpat}` : `experimenter:${wire.experimenter}:${wire.subtype}`;
}

/** The kinds whose action is only `{ type }`. */
export type BareKind = { [K in ActionKind]: [keyof ActionOf<K>] extends ['type'] ? K : never }[ActionKind];

/** An action with no arguments: its body is the framing's zero padding to 8 bytes. */
export function bare<K extends BareKind>(kind: K, wire: ActionWire): ActionCodec<K> {
  // the cast restates BareKind: the action of kind K is exactly { type: K }
  return { kind, wire, encode: () => undefined, decode: () => ({ type: kind }) as ActionOf<K> };
}

export function bad(field: string, msg: string): never {
  throw new NetloomError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

/** OF1.3 32-bit port number to the OF1.0 16-bit form Nicira actions carry. */
export function portTo16(p: number): number {
  if (p >= 0xffffff00) return p - 0xffff0000;
  if (p > 0xfeff) bad('port', `port ${p} does not fit the 16-bit port field of this action`);
  return p;
}

export function portFrom16(p: number): number {
  return p >= 0xff00 ? p + 0xffff0000 : p;
}
