import { strict as assert } from 'node:assert';
import { checkLabels, labelKeyProblem, labelValueProblem, parseLabelPairs } from '../../../lib/labels';
import { isNetloomError } from '../../../lib/errors';

describe('endpoint labels', () => {
  it('accepts Kubernetes and Docker style keys and plain values', () => {
    for (const k of ['app', 'app.kubernetes.io/name', 'com.example.vendor', 'a', 'tier_1']) assert.equal(labelKeyProblem(k), undefined, k);
    for (const v of ['', 'web', 'ACME Inc', '/home/x', 'v1.2-3']) assert.equal(labelValueProblem(v), undefined, v);
  });

  it('refuses empty, long or oddly shaped keys and values selectors cannot carry', () => {
    for (const k of ['', '-a', 'a-', 'a b', 'a=b', 'x'.repeat(254), 'é']) assert.ok(labelKeyProblem(k), k);
    for (const v of ['a,b', 'a=b', 'x\ny', 'x'.repeat(254)]) assert.ok(labelValueProblem(v), v);
  });

  it('checkLabels and parseLabelPairs name the field', () => {
    assert.throws(
      () => checkLabels({ ok: 'a', 'b c': 'x' }, 'Labels'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && (e as { field?: string }).field === 'Labels.b c',
    );
    assert.deepEqual(parseLabelPairs(['a=1', 'b=2', 'a=3'], 'label'), { a: '3', b: '2' });
    assert.throws(
      () => parseLabelPairs(['novalue'], '--label'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && /--label: "novalue" is not a KEY=VALUE label/.test((e as Error).message),
    );
  });
});
