/** lib/validation: one way from a failed zod check to a NetloomError naming the field. */
import { strict as assert } from 'node:assert';
import { z } from 'zod';
import { NetloomError } from '../../../lib/errors';
import { dottedPath, parseWith, validationError } from '../../../lib/validation';

const schema = z.object({
  name: z.string(),
  ports: z.array(z.object({ number: z.number().int().min(1, { error: 'port must be at least 1' }) })),
  note: z.string().default(''),
});

function failure(input: unknown, opts: Parameters<typeof validationError>[1]): NetloomError {
  const r = schema.safeParse(input);
  assert.ok(!r.success, 'the input should be rejected');
  return validationError(r.error, opts);
}

describe('lib validation', () => {
  it('dottedPath joins keys and indexes with dots', () => {
    assert.equal(dottedPath(['ports', 0, 'number']), 'ports.0.number');
    assert.equal(dottedPath([]), '');
  });

  it('names the first bad field in field and message, and lists every issue in details.issues', () => {
    const e = failure({ name: 7, ports: [{ number: 0 }] }, { what: 'thing' });
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.field, 'name');
    assert.equal(e.message, 'thing: name: Invalid input: expected string, received number');
    assert.deepEqual(e.details, {
      issues: [
        { field: 'name', message: 'Invalid input: expected string, received number' },
        { field: 'ports.0.number', message: 'port must be at least 1' },
      ],
    });
  });

  it('a nested path is dotted', () => {
    const e = failure({ name: 'a', ports: [{ number: 1 }, { number: 0 }] }, { what: 'thing' });
    assert.equal(e.field, 'ports.1.number');
    assert.equal(e.message, 'thing: ports.1.number: port must be at least 1');
  });

  it('when the value as a whole is wrong, the field is `what` and the message does not repeat it', () => {
    const e = failure('x', { what: 'thing' });
    assert.equal(e.field, 'thing');
    assert.equal(e.message, 'thing: Invalid input: expected object, received string');
  });

  it('rootField names the whole value (in field and message); null reports no field', () => {
    const named = failure('x', { what: 'M', rootField: '(body)' });
    assert.equal(named.field, '(body)');
    assert.equal(named.message, 'M: (body): Invalid input: expected object, received string');
    const none = failure('x', { what: 'M', rootField: null });
    assert.equal(none.field, undefined);
    assert.equal('field' in none.toJSON(), false);
    const empty = failure('x', { what: 'M', rootField: '' });
    assert.equal(empty.field, '');
    assert.equal(empty.message, 'M: Invalid input: expected object, received string');
  });

  it('field overrides the path; code, missingReason and details are the call site’s', () => {
    const e = failure(
      { ports: [] },
      { what: 'file f', code: 'DECODE_ERROR', field: 'state-dir', missingReason: 'is missing', details: { x: 1 } },
    );
    assert.equal(e.code, 'DECODE_ERROR');
    assert.equal(e.field, 'state-dir');
    assert.equal(e.message, 'file f: name: is missing');
    assert.deepEqual(e.details, { x: 1, issues: [{ field: 'name', message: 'Invalid input: expected string, received undefined' }] });
  });

  it('missingReason applies only to an absent field, not to one of the wrong type', () => {
    const e = failure({ name: 3, ports: [] }, { what: 'M', missingReason: 'is missing' });
    assert.equal(e.message, 'M: name: Invalid input: expected string, received number');
  });

  it('message builds the text from the first issue', () => {
    const e = failure({ name: 'a', ports: [{ number: 0 }] }, { what: 'w', message: (f) => `[${f.path}|${f.field ?? '-'}|${f.reason}]` });
    assert.equal(e.message, '[ports.0.number|ports.0.number|port must be at least 1]');
    const root = failure(5, { what: 'w', rootField: null, message: (f) => `[${f.path}|${f.field ?? '-'}]` });
    assert.equal(root.message, '[|-]');
  });

  it('parseWith returns the parsed value (defaults applied) or throws the same error', () => {
    assert.deepEqual(parseWith(schema, { name: 'a', ports: [] }, { what: 'thing' }), { name: 'a', ports: [], note: '' });
    assert.throws(
      () => parseWith(schema, { name: 'a' }, { what: 'thing', code: 'DECODE_ERROR' }),
      (e: unknown) =>
        e instanceof NetloomError && e.code === 'DECODE_ERROR' && e.field === 'ports' && e.message.startsWith('thing: ports: '),
    );
  });
});
