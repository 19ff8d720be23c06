import assert from 'node:assert/strict';
import { jsonPatch } from '../../../tools/kube-apiserver/patch/json-patch';
import { mergePatch } from '../../../tools/kube-apiserver/patch/merge-patch';
import { PatchError } from '../../../tools/kube-apiserver/patch/strategic-merge';

describe('JSON patch (RFC 6902) and JSON merge patch (RFC 7386)', () => {
  const doc = { metadata: { labels: { a: '1', 'x/y': '2' } }, list: [1, 2, 3] };

  it('applies add, remove, replace, move, copy and test, with escaped pointers', () => {
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '3' },
      { op: 'remove', path: '/metadata/labels/x~1y' },
      { op: 'replace', path: '/list/0', value: 9 },
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'add', path: '/list/1', value: 7 },
      { op: 'copy', from: '/metadata/labels/a', path: '/copied' },
      { op: 'move', from: '/copied', path: '/moved' },
      { op: 'test', path: '/moved', value: '1' },
    ]);
    assert.deepEqual(out, { metadata: { labels: { a: '1', b: '3' } }, list: [9, 7, 2, 3, 4], moved: '1' });
    assert.deepEqual(doc.list, [1, 2, 3], 'the original is not changed');
  });

  it('fails on a failed test, a missing path or an unknown op', () => {
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 2 }]), PatchError);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), PatchError);
    assert.throws(() => jsonPatch(doc, [{ op: 'replace', path: '/list/5', value: 1 }]), PatchError);
    assert.throws(() => jsonPatch(doc, [{ op: 'frobnicate', path: '/list' }]), PatchError);
    assert.throws(() => jsonPatch(doc, { op: 'add' }), PatchError);
  });

  it('merge patch: objects merge, null deletes, lists and scalars replace', () => {
    assert.deepEqual(mergePatch(doc, { metadata: { labels: { a: null, c: '4' } }, list: [5] }), {
      metadata: { labels: { 'x/y': '2', c: '4' } },
      list: [5],
    });
    assert.deepEqual(mergePatch({ a: 1 }, 'x'), 'x');
  });
});
