/**
 * JSON patch (RFC 6902): add, remove, replace, move, copy and test, with JSON pointers (RFC 6901).
 * Applied to a copy; the first failing operation throws a PatchError naming it (the server answers
 * 422, as kube-apiserver does for a patch that does not apply).
 */
import { clone, isObject, jsonEqual, type Json, type JsonObject } from '../json';
import { PatchError } from './strategic-merge';

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container of the pointer's last token, and that token. */
function locate(doc: Json, tokens: readonly string[], pointer: string): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1, pointer);
      cur = cur[i] as Json;
    } else if (isObject(cur) && t in cur) cur = cur[t] as Json;
    else throw new PatchError(`doc is missing path: ${pointer}`);
  }
  return { parent: cur, last: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(token: string, max: number, pointer: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PatchError(`invalid array index in path: ${pointer}`);
  const i = Number(token);
  if (i > max) throw new PatchError(`array index out of bounds in path: ${pointer}`);
  return i;
}

function get(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(last, parent.length - 1, pointer)] as Json;
  if (isObject(parent) && last in parent) return parent[last] as Json;
  throw new PatchError(`doc is missing path: ${pointer}`);
}

function add(doc: Json, pointer: string, value: Json): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return value;
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (last === '-') parent.push(value);
    else parent.splice(arrayIndex(last, parent.length, pointer), 0, value);
  } else if (isObject(parent)) parent[last] = value;
  else throw new PatchError(`doc is missing path: ${pointer}`);
  return doc;
}

function remove(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, last } = locate(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(last, parent.length - 1, pointer), 1);
  else if (isObject(parent) && last in parent) delete (parent as JsonObject)[last];
  else throw new PatchError(`Unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be a list of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string')
      throw new PatchError(`invalid operation: ${JSON.stringify(raw)}`);
    const op = raw as unknown as Operation;
    const need = (): Json => {
      if (!('value' in raw)) throw new PatchError(`${op.op} operation does not apply: missing value`);
      return clone(raw.value as Json);
    };
    const from = (): string => {
      if (typeof op.from !== 'string') throw new PatchError(`${op.op} operation does not apply: missing from`);
      return op.from;
    };
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, need());
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        get(doc, op.path);
        doc = parsePointer(op.path).length === 0 ? need() : add(remove(doc, op.path), op.path, need());
        break;
      case 'move': {
        const v = clone(get(doc, from()));
        doc = add(remove(doc, from()), op.path, v);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, clone(get(doc, from())));
        break;
      case 'test':
        if (!jsonEqual(get(doc, op.path), need())) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
