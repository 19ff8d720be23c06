/** canDeny: a direction that can deny some packet (a deny rule or isolation); allow rules alone cannot. */
import { strict as assert } from 'node:assert';
import { canDeny } from '../../../../lib/policy/evaluate';
import { OPEN, type PolicyRule } from '../../../../lib/policy/model';

const rule = (action: 'allow' | 'deny'): PolicyRule => ({
  id: `r-${action}`,
  peers: { include: ['10.0.0.0/8'], exclude: [] },
  services: [],
  action,
  priority: 1,
});

describe('lib/policy canDeny', () => {
  it('a deny rule or isolation can deny; no rule, or allow rules only, cannot', () => {
    assert.equal(canDeny(OPEN), false);
    assert.equal(canDeny({ isolated: false, rules: [rule('allow')] }), false);
    assert.equal(canDeny({ isolated: false, rules: [rule('allow'), rule('deny')] }), true);
    assert.equal(canDeny({ isolated: true, rules: [] }), true);
    assert.equal(canDeny({ isolated: true, rules: [rule('allow')] }), true);
  });
});
