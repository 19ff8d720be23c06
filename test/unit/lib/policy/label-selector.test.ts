/**
 * Kubernetes label selectors (lib/policy/label-selector.ts) as apimachinery matches them: pairs and
 * expressions all hold; the empty selector selects everything; NotIn and DoesNotExist hold for a
 * thing without the key; an unknown operator selects nothing; equal selectors have equal keys.
 */
import assert from 'node:assert/strict';
import { selectorKey, selects, type LabelSelector } from '../../../../lib/policy/label-selector';

const web = { app: 'web', tier: 'front' };
const bare = {};

describe('policy: Kubernetes label selectors', () => {
  it('the empty selector selects everything, labelled or not (also with null parts, as the wire has them)', () => {
    assert.ok(selects({}, web));
    assert.ok(selects({}, bare));
    assert.ok(selects({ matchLabels: null, matchExpressions: null }, bare));
    assert.ok(selects({ matchLabels: {}, matchExpressions: [] }, web));
  });

  it('matchLabels: every pair must be there with its value', () => {
    assert.ok(selects({ matchLabels: { app: 'web' } }, web));
    assert.ok(selects({ matchLabels: { app: 'web', tier: 'front' } }, web));
    assert.ok(!selects({ matchLabels: { app: 'web', tier: 'back' } }, web));
    assert.ok(!selects({ matchLabels: { app: 'web' } }, bare));
    // a key with an empty value is a value like any other
    assert.ok(!selects({ matchLabels: { app: '' } }, bare));
    assert.ok(selects({ matchLabels: { app: '' } }, { app: '' }));
  });

  const expr = (operator: string, values: string[] = [], key = 'tier'): LabelSelector => ({
    matchExpressions: [{ key, operator, values }],
  });

  it('In: the key is there with one of the values', () => {
    assert.ok(selects(expr('In', ['front', 'back']), web));
    assert.ok(!selects(expr('In', ['back']), web));
    assert.ok(!selects(expr('In', ['front']), bare));
  });

  it('NotIn: the key is absent, or its value is none of them (apimachinery: a thing without the label is selected)', () => {
    assert.ok(!selects(expr('NotIn', ['front']), web));
    assert.ok(selects(expr('NotIn', ['back']), web));
    assert.ok(selects(expr('NotIn', ['front']), bare));
  });

  it('Exists and DoesNotExist look at the key only', () => {
    assert.ok(selects(expr('Exists'), web));
    assert.ok(!selects(expr('Exists'), bare));
    assert.ok(!selects(expr('DoesNotExist'), web));
    assert.ok(selects(expr('DoesNotExist'), bare));
    assert.ok(selects(expr('Exists'), { tier: '' }));
  });

  it('pairs and expressions together all hold (AND); an unknown operator selects nothing', () => {
    const s: LabelSelector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }] };
    assert.ok(selects(s, web));
    assert.ok(!selects(s, { app: 'web', tier: 'back' }));
    assert.ok(!selects(s, { tier: 'front' }));
    assert.ok(!selects(expr('Gt', ['1']), web));
    assert.ok(!selects(expr('in', ['front']), web), 'operators are case-sensitive');
  });

  it('labels inherited from Object.prototype are not labels', () => {
    assert.ok(!selects(expr('Exists', [], 'toString'), bare));
    assert.ok(selects(expr('DoesNotExist', [], 'constructor'), bare));
  });

  it('selectorKey: the same for selectors written in another order, different for different ones', () => {
    const a = selectorKey({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'x', operator: 'In', values: ['q', 'p'] },
        { key: 'y', operator: 'Exists', values: [] },
      ],
    });
    const b = selectorKey({
      matchLabels: { a: '1', b: '2' },
      matchExpressions: [
        { key: 'y', operator: 'Exists', values: [] },
        { key: 'x', operator: 'In', values: ['p', 'q'] },
      ],
    });
    assert.equal(a, b);
    assert.notEqual(selectorKey({ matchLabels: { a: '1' } }), selectorKey({ matchLabels: { a: '2' } }));
    assert.equal(selectorKey({}), selectorKey({ matchLabels: null, matchExpressions: [] }));
  });
});
