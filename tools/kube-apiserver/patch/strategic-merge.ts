/**
 * Kubernetes' strategic merge patch, applied as apimachinery's strategicpatch package applies it
 * on the server (MergeParallelList and IgnoreUnmatchedNulls on): maps merge, a null deletes, lists
 * with patch strategy `merge` merge by their merge key (lists of primitives as sets) and other
 * lists are replaced; the directives `$patch` (replace, delete), `$retainKeys`,
 * `$setElementOrder/FIELD` and `$deleteFromPrimitiveList/FIELD`, and apimachinery's ordering of
 * merged lists (patch order first, server-only items kept where they were). Field metadata comes
 * from patch-meta.ts, walking the models from the resource's kind. Reference:
 * kubernetes/community contributors/devel/sig-api-machinery/strategic-merge-patch.md.
 */
import { clone, isObject, type Json, type JsonObject } from '../json';
import { childModel, patchMeta } from './patch-meta';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE = '$deleteFromPrimitiveList/';

/** A patch that cannot be applied (the server answers 400 with the message). */
export class PatchError extends Error {}

/** Apply `patch` to `original` (neither is changed); `model` is the client-node model of the object (e.g. V1Pod). */
export function strategicMergePatch(original: JsonObject, patch: JsonObject, model: string | undefined): JsonObject {
  return mergeMap(clone(original), clone(patch), model);
}

function mergeMap(original: JsonObject | undefined, patch: JsonObject, model: string | undefined): JsonObject {
  if (DIRECTIVE in patch) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') {
      delete patch[DIRECTIVE];
      return patch;
    }
    if (d === 'delete') return {};
    throw new PatchError(`unknown patch type: ${String(d)} in map: ${JSON.stringify(patch)}`);
  }
  const out = original ?? {};
  applyRetainKeys(out, patch);
  mergeOrderedLists(out, patch, model);
  for (const [rawKey, patchV] of Object.entries(patch)) {
    let key = rawKey;
    let deleteList = false;
    if (rawKey.startsWith(DELETE_FROM_PRIMITIVE)) {
      key = rawKey.slice(DELETE_FROM_PRIMITIVE.length);
      deleteList = true;
    }
    if (patchV === null) {
      delete out[key];
      continue;
    }
    const orig = out[key];
    const meta = patchMeta(model, key);
    const merging = meta?.strategies.includes('merge') ?? false;
    if (orig === undefined) {
      // a new value: merged into nothing, so that directives inside it are applied too
      if (deleteList) continue;
      if (isObject(patchV)) out[key] = mergeMap({}, patchV, childModel(model, key));
      else if (Array.isArray(patchV) && merging) out[key] = mergeSlice([], patchV, childModel(model, key), meta?.mergeKey, false);
      else out[key] = patchV;
      continue;
    }
    if (isObject(orig) && isObject(patchV)) out[key] = mergeMap(orig, patchV, childModel(model, key));
    else if (Array.isArray(orig) && Array.isArray(patchV))
      out[key] = merging ? mergeSlice(orig, patchV, childModel(model, key), meta?.mergeKey, deleteList) : patchV;
    else if (!deleteList) out[key] = patchV;
  }
  return out;
}

/** `$retainKeys`: keys of the original not listed are cleared; every key the patch sets must be listed. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!(RETAIN_KEYS in patch)) return;
  const list = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw new PatchError('invalid patch format of retainKeys');
  const keep = new Set(list.map(String));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!keep.has(k)) throw new PatchError('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

/** `$setElementOrder/FIELD`: merge FIELD's list (if patched) and order it as the directive says; the patch's FIELD is consumed. */
function mergeOrderedLists(original: JsonObject, patch: JsonObject, model: string | undefined): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw new PatchError('invalid patch format of setElementOrder list');
    const field = key.slice(SET_ORDER.length);
    if (field === '') throw new PatchError('invalid patch format of setElementOrder list');
    const orig = original[field];
    const patchList = patch[field];
    if (orig !== undefined && !Array.isArray(orig)) throw new PatchError(`invalid type for ${field}: expected a list`);
    if (patchList !== undefined && patchList !== null && !Array.isArray(patchList))
      throw new PatchError(`invalid type for ${field}: expected a list`);
    const meta = patchMeta(model, field);
    const mergeKey = meta?.mergeKey;
    const merging = meta?.strategies.includes('merge') ?? false;
    const patchItems = Array.isArray(patchList) ? patchList : undefined;
    if (patchItems) checkOrderMatchesPatch(patchItems, order, mergeKey);
    let merged: Json[];
    if (orig !== undefined && patchItems === undefined) merged = orig;
    else if (orig === undefined && patchItems !== undefined)
      merged = merging ? mergeSlice([], patchItems, childModel(model, field), mergeKey, false) : patchItems;
    else if (orig !== undefined && patchItems !== undefined)
      merged = merging ? mergeSlice(orig, patchItems, childModel(model, field), mergeKey, false) : patchItems;
    else continue;
    const [inOrder, serverOnly] = partition(merged, order, mergeKey);
    const kind = elementKind([...(orig ?? []), ...(patchItems ?? [])]);
    original[field] = kind === undefined ? merged : normalizeOrder(inOrder, serverOnly, order, orig ?? [], mergeKey, kind);
    delete patch[field];
  }
}

/** The patch list's items (deletions aside) must appear in the order list, in the same relative order. */
function checkOrderMatchesPatch(patchList: Json[], order: Json[], mergeKey: string | undefined): void {
  if (order.length === 0 || patchList.length === 0) return;
  const kept = mergeKey ? patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete')) : patchList;
  let p = 0;
  let o = 0;
  while (p < kept.length && o < order.length) {
    const item = kept[p];
    if (isObject(item) && DIRECTIVE in item) {
      p++;
      continue;
    }
    if (sameItem(item, order[o], mergeKey)) p++;
    o++;
  }
  if (p < kept.length) {
    throw new PatchError(
      `The order in patch list:\n${JSON.stringify(patchList)}\n doesn't match $setElementOrder list:\n${JSON.stringify(order)}\n`,
    );
  }
}

type ElementKind = 'map' | 'primitive';

function elementKind(items: readonly Json[]): ElementKind | undefined {
  let kind: ElementKind | undefined;
  for (const v of items) {
    if (Array.isArray(v)) throw new PatchError('lists of lists are not supported');
    const k: ElementKind = isObject(v) ? 'map' : 'primitive';
    if (kind !== undefined && kind !== k) throw new PatchError(`list element types are not identical: ${JSON.stringify(items)}`);
    kind = k;
  }
  return kind;
}

function keyOf(item: Json, mergeKey: string | undefined): Json | undefined {
  return mergeKey !== undefined && isObject(item) ? item[mergeKey] : item;
}

function sameItem(a: Json, b: Json, mergeKey: string | undefined): boolean {
  const ka = keyOf(a, mergeKey);
  return ka !== undefined && ka === keyOf(b, mergeKey);
}

function indexIn(list: readonly Json[], item: Json, mergeKey: string | undefined): number {
  return list.findIndex((v) => sameItem(v, item, mergeKey));
}

function requireMergeKey(items: readonly Json[], mergeKey: string): void {
  for (const v of items) {
    if (!isObject(v)) throw new PatchError(`expected a map in the list, got ${JSON.stringify(v)}`);
    if (!(mergeKey in v)) throw new PatchError(`map: ${JSON.stringify(v)} does not contain declared merge key: ${mergeKey}`);
  }
}

function mergeSlice(
  original: Json[],
  patch: Json[],
  elemModel: string | undefined,
  mergeKey: string | undefined,
  deleteList: boolean,
): Json[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = elementKind([...original, ...patch]) ?? 'primitive';
  let base = original;
  let items = patch;
  let merged: Json[];
  if (kind === 'primitive') {
    if (deleteList) return original.filter((v) => !patch.includes(v));
    merged = [];
    for (const v of [...original, ...patch]) if (!merged.includes(v)) merged.push(v);
    mergeKey = undefined;
  } else {
    if (!mergeKey) throw new PatchError('cannot merge lists without merge key');
    [base, items] = applySpecialElements(original, patch, mergeKey);
    merged = [...base];
    for (const v of items) {
      const obj = v as JsonObject;
      if (!(mergeKey in obj)) throw new PatchError(`map: ${JSON.stringify(obj)} does not contain declared merge key: ${mergeKey}`);
      const at = indexIn(merged, obj, mergeKey);
      if (at >= 0) merged[at] = mergeMap(merged[at] as JsonObject, obj, elemModel);
      else merged.push(isObject(obj) ? mergeMap({}, obj, elemModel) : obj);
    }
  }
  const [inPatch, serverOnly] = partition(merged, items, mergeKey);
  return normalizeOrder(inPatch, serverOnly, items, base, mergeKey, kind);
}

/** List items with `$patch`: `delete` removes every original item with that key, `replace` makes the list the patch's items. */
function applySpecialElements(original: Json[], patch: Json[], mergeKey: string): [Json[], Json[]] {
  const plain: Json[] = [];
  let base = original;
  let replace = false;
  for (const v of patch) {
    if (!isObject(v)) throw new PatchError(`expected a map in the list, got ${JSON.stringify(v)}`);
    if (!(DIRECTIVE in v)) {
      plain.push(v);
      continue;
    }
    const d = v[DIRECTIVE];
    if (d === 'delete') {
      if (!(mergeKey in v)) throw new PatchError(`map: ${JSON.stringify(v)} does not contain declared merge key: ${mergeKey}`);
      base = base.filter((o) => !sameItem(o, v, mergeKey));
    } else if (d === 'replace') replace = true;
    else if (d === 'merge') throw new PatchError('merging lists cannot yet be specified in the patch');
    else throw new PatchError(`unknown patch type: ${String(d)} in map: ${JSON.stringify(v)}`);
  }
  return replace ? [plain, []] : [base, plain];
}

function partition(merged: readonly Json[], by: readonly Json[], mergeKey: string | undefined): [Json[], Json[]] {
  const inBy: Json[] = [];
  const others: Json[] = [];
  for (const v of merged) (indexIn(by, v, mergeKey) >= 0 ? inBy : others).push(v);
  return [inBy, others];
}

/** Sort `items` by their place in `order` (stable; items not in it keep their place after those that are); `$patch: delete` items last. */
function sortByOrder(items: Json[], order: readonly Json[], mergeKey: string | undefined, kind: ElementKind): Json[] {
  let rest: Json[] = [];
  let toSort = items;
  if (kind === 'map' && mergeKey) {
    requireMergeKey(items, mergeKey);
    requireMergeKey(order, mergeKey);
    toSort = items.filter((v) => !(isObject(v) && v[DIRECTIVE] === 'delete'));
    rest = items.filter((v) => isObject(v) && v[DIRECTIVE] === 'delete');
  }
  const rank = (v: Json): number => {
    const i = indexIn(order, v, mergeKey);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const sorted = toSort
    .map((v, i) => ({ v, i, r: rank(v) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.v);
  return [...sorted, ...rest];
}

/**
 * apimachinery's normalizeElementOrder: patch items in the patch's (or $setElementOrder's) order,
 * server-only items in the server's order, then the server-only items inserted among the patch
 * items where the server's order puts them.
 */
function normalizeOrder(
  inPatch: Json[],
  serverOnly: Json[],
  patchOrder: readonly Json[],
  serverOrder: readonly Json[],
  mergeKey: string | undefined,
  kind: ElementKind,
): Json[] {
  const right = sortByOrder(inPatch, patchOrder, mergeKey, kind);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] as Json);
    else if (j >= right.length) out.push(left[i++] as Json);
    else {
      const li = indexIn(serverOrder, left[i] as Json, mergeKey);
      const ri = indexIn(serverOrder, right[j] as Json, mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++] as Json);
      else out.push(right[j++] as Json);
    }
  }
  return out;
}
