/** The one line of a server error (lib/error-text.ts), shared by netctl and netmaster's answers to Contiv's client. */
import assert from 'node:assert/strict';
import { errorText } from '../../../lib/error-text';

describe('lib: the text of an error', () => {
  it('is the message on one line, then the field and code it named', () => {
    assert.equal(errorText('bad\n  thing ', 'subnet', 'CONFLICT'), 'bad thing (field: subnet, code: CONFLICT)');
    assert.equal(errorText('gone', undefined, 'NOT_FOUND'), 'gone (code: NOT_FOUND)');
    assert.equal(errorText('x', 'f'), 'x (field: f)');
    assert.equal(errorText('plain', '', ''), 'plain');
  });
});
