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

const byWire = indexByWire(ACTION_CODECS);

/** Experimenter ids with at least one codec: other experimenters' actions stay raw unread. */
const experimenters = new Set(ACTION_CODECS.flatMap((c) => ('experimenter' in c.wire ? [c.wire.experimenter] : [])));

/** The codec that encodes `a`: the first of its kind's forms that accepts it. */
export function codecFor(a: ActionOf<ActionKind>): ActionCodec {
  const forms: readonly ActionCodec[] = CODECS_BY_KIND[a.type];
  const codec = forms.find((c) => c.accepts === undefined || c.accepts(a));
  // every kind's last form accepts everything (checked by the registry's unit test)
  return codec ?? forms[forms.length - 1]!;
}

export function standardCodec(ofpat: number): ActionCodec | undefined {
  return byWire.get(wireKey({ ofpat }));
}

export function hasExperimenterCodecs(experimenter: number): boolean {
  return experimenters.has(experimenter);
}

export function experimenterCodec(experimenter: number, subtype: number): ActionCodec | undefined {
  return byWire.get(wireKey({ experimenter, subtype }));
}
