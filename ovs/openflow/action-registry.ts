/**
 * Every action codec, by kind (to encode) and by wire form (to decode). The table is typed so that
 * a kind added to `Action` without a codec does not compile; two codecs claiming one wire form
 * fail at load.
 */
import { ActionCodec, ActionKind, ActionOf, wireKey } from './action-codec';
import { NICIRA_ACTIONS } from './actions-nicira';
import { STANDARD_ACTIONS } from './actions-standard';

/** Each kind's wire forms, tried in order when encoding (see ActionCodec.accepts). */
export const CODECS_BY_KIND: { readonly [K in ActionKind]: readonly ActionCodec<K>[] } = { ...STANDARD_ACTIONS, ...NICIRA_ACTIONS };

/** All codecs, one per wire form. */
export const ACTION_CODECS: readonly ActionCodec[] = Object.values(CODECS_BY_KIND).flat();

/** Codecs by wire form; throws if two claim the same one (decoding could not tell them apart). */
export function indexByWire(codecs: readonly ActionCodec[]): Map<string, ActionCodec> {
  const byWire = new Map<string, ActionCodec>();
  for (const c of codecs) {
    const key = wireKey(c.wire);
    const other = byWire.get(key);
    if (other) throw new Error(`action codecs '${other.kind}' and '${c.kind}' both claim ${key}`);
    byWire.set(key, c);
  }
  return byWire;
}

indexByWire(ACTION_CODECS); // refuses two codecs for one wire form

// Decoding looks codecs up per action: numeric maps, no key strings to build.
const byOfpat = new Map<number, ActionCodec>();
const byExperimenter = new Map<number, Map<number, ActionCodec>>();
for (const c of ACTION_CODECS) {
  if ('ofpat' in c.wire) byOfpat.set(c.wire.ofpat, c);
  else {
    const subtypes = byExperimenter.get(c.wire.experimenter) ?? new Map<number, ActionCodec>();
    subtypes.set(c.wire.subtype, c);
    byExperimenter.set(c.wire.experimenter, subtypes);
  }
}

/** The codec that encodes `a`: the first of its kind's forms that accepts it. */
export function codecFor(a: ActionOf<ActionKind>): ActionCodec {
  const forms: readonly ActionCodec[] = CODECS_BY_KIND[a.type];
  const codec = forms.find((c) => c.accepts === undefined || c.accepts(a));
  // every kind's last form accepts everything (checked by the registry's unit test)
  return codec ?? forms[forms.length - 1]!;
}

export function standardCodec(ofpat: number): ActionCodec | undefined {
  return byOfpat.get(ofpat);
}

/** Experimenter ids with at least one codec: other experimenters' actions stay raw unread. */
export function hasExperimenterCodecs(experimenter: number): boolean {
  return byExperimenter.has(experimenter);
}

export function experimenterCodec(experimenter: number, subtype: number): ActionCodec | undefined {
  return byExperimenter.get(experimenter)?.get(subtype);
}
