import assert from 'node:assert/strict';
import { matchesFields, parseFieldSelector } from '../../../tools/kube-apiserver/field-selector';
import { matchesLabels, parseLabelSelector, SelectorError } from '../../../tools/kube-apiserver/label-selector';
import { labelSelectorRequirements } from '../../../tools/kube-apiserver/selectors-object';

describe('label selectors (the labelSelector query parameter)', () => {
  const labels = { app: 'web', tier: 'front', version: '3' };
  const matches = (s: string, l: Record<string, string> = labels): boolean => matchesLabels(parseLabelSelector(s), l);

  it('parses every operator', () => {
    assert.deepEqual(parseLabelSelector('a=1,b==2,c!=3,d in (x, y),e notin (z),f,!g,h>4,i<5'), [
      { key: 'a', op: 'in', values: ['1'] },
      { key: 'b', op: 'in', values: ['2'] },
      { key: 'c', op: 'notin', values: ['3'] },
      { key: 'd', op: 'in', values: ['x', 'y'] },
      { key: 'e', op: 'notin', values: ['z'] },
      { key: 'f', op: 'exists', values: [] },
      { key: 'g', op: 'notexists', values: [] },
      { key: 'h', op: 'gt', values: ['4'] },
      { key: 'i', op: 'lt', values: ['5'] },
    ]);
    assert.deepEqual(parseLabelSelector(''), []);
    assert.deepEqual(parseLabelSelector('example.com/app = web '), [{ key: 'example.com/app', op: 'in', values: ['web'] }]);
    assert.deepEqual(parseLabelSelector('a='), [{ key: 'a', op: 'in', values: [''] }]);
  });

  it('matches as Kubernetes does (a missing key matches != and notin, not in)', () => {
    assert.ok(matches(''));
    assert.ok(matches('app=web,tier in (front,back)'));
    assert.ok(!matches('app=web,tier notin (front)'));
    assert.ok(matches('missing!=x'));
    assert.ok(matches('missing notin (x)'));
    assert.ok(!matches('missing in (x)'));
    assert.ok(matches('app,!missing'));
    assert.ok(!matches('!app'));
    assert.ok(matches('version>2') && !matches('version<3') && !matches('app>1'));
  });

  it('refuses malformed selectors and invalid keys or values', () => {
    for (const bad of [
      'a in ()',
      'a in (x',
      'a=b=c',
      '=b',
      'a b',
      'a,,b',
      '!a=b',
      'a in x',
      'a>b',
      'bad key=x',
      '-a=b',
      'a=-b-',
      'a/b/c=x',
    ])
      assert.throws(() => parseLabelSelector(bad), SelectorError, bad);
  });

  it('turns a metav1.LabelSelector into the same requirements', () => {
    const reqs = labelSelectorRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'x', operator: 'DoesNotExist' },
      ],
    });
    assert.ok(matchesLabels(reqs, labels));
    assert.ok(!matchesLabels(reqs, { ...labels, x: '1' }));
    assert.ok(!matchesLabels(reqs, { ...labels, tier: 'db' }));
  });
});

describe('field selectors (the fieldSelector query parameter)', () => {
  it('parses =, == and != with escapes', () => {
    assert.deepEqual(parseFieldSelector('metadata.name=a,status.phase!=Running,spec.nodeName==n1'), [
      { field: 'metadata.name', equal: true, value: 'a' },
      { field: 'status.phase', equal: false, value: 'Running' },
      { field: 'spec.nodeName', equal: true, value: 'n1' },
    ]);
    assert.deepEqual(parseFieldSelector('reason=a\\,b\\=c\\\\d'), [{ field: 'reason', equal: true, value: 'a,b=c\\d' }]);
    assert.deepEqual(parseFieldSelector('spec.nodeName='), [{ field: 'spec.nodeName', equal: true, value: '' }]);
    assert.deepEqual(parseFieldSelector(''), []);
  });

  it('matches on the values given (an absent field is the empty string)', () => {
    const fields = { 'metadata.name': 'a', 'status.phase': 'Pending', 'spec.nodeName': '' };
    assert.ok(matchesFields(parseFieldSelector('metadata.name=a,status.phase!=Running'), fields));
    assert.ok(matchesFields(parseFieldSelector('spec.nodeName='), fields));
    assert.ok(!matchesFields(parseFieldSelector('metadata.name=b'), fields));
  });

  it('refuses terms without an operator and bad escapes', () => {
    assert.throws(() => parseFieldSelector('metadata.name'), SelectorError);
    assert.throws(() => parseFieldSelector('a=b\\x'), SelectorError);
  });
});
