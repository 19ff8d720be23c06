import assert from 'node:assert/strict';
import { authenticate, parseTokenFile } from '../../../tools/kube-apiserver/auth';
import { isNetloomError } from '../../../lib/errors';

describe("bearer tokens from kube-apiserver's static token file", () => {
  const users = parseTokenFile(['# the admins', 't1,alice,u1,"system:masters,ops"', '', 't2,bob,u2'].join('\n'));

  it('reads token,user,uid and quoted groups, skipping comments and blank lines', () => {
    assert.deepEqual(
      [...users.entries()],
      [
        ['t1', { name: 'alice', uid: 'u1', groups: ['system:masters', 'ops'] }],
        ['t2', { name: 'bob', uid: 'u2', groups: [] }],
      ],
    );
  });

  it('knows a request by its Authorization header, and nobody without a known token', () => {
    assert.equal(authenticate(users, 'Bearer t2')?.name, 'bob');
    assert.equal(authenticate(users, 'bearer  t1 ')?.name, 'alice');
    assert.equal(authenticate(users, 'Bearer nope'), undefined);
    assert.equal(authenticate(users, 'Basic dDE6'), undefined);
    assert.equal(authenticate(users, undefined), undefined);
  });

  it('refuses a line without a user or uid, naming the line and the flag', () => {
    assert.throws(
      () => parseTokenFile('t1,alice\n', 'tokens.csv'),
      (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'token-auth-file' && /tokens.csv:1/.test(e.message),
    );
  });
});
