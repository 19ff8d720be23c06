/** rulePrecedence: the order in which `decide` lets rules win, made total by the rule id. */
import { strict as assert } from 'node:assert';
import { decide, rulePrecedence } from '../../../../lib/policy/evaluate';
import { ANY_ADDRESS, type PolicyRule } from '../../../../lib/policy/model';

const rule = (id: string, action: 'allow' | 'deny', priority: number): PolicyRule => ({
  id,
  peers: ANY_ADDRESS,
  services: [],
  action,
  priority,
});

describe('lib/policy rulePrecedence', () => {
  const rules = [rule('b', 'allow', 5), rule('z', 'allow', 9), rule('a', 'allow', 5), rule('c', 'deny', 5), rule('y', 'deny', 1)];

  it('puts higher priority first, deny before allow at equal priority, then ids in code-unit order', () => {
    assert.deepEqual(
      [...rules].sort(rulePrecedence).map((r) => r.id),
      ['z', 'c', 'a', 'b', 'y'],
    );
    assert.equal(rulePrecedence(rule('A', 'allow', 1), rule('a', 'allow', 1)), -1, 'code units: upper case first');
    assert.equal(rulePrecedence(rules[0]!, rules[0]!), 0);
  });

  const pkt = { src: '10.0.0.1', dst: '10.0.0.2', protocol: 'tcp' as const, port: 80 };

  it('agrees with decide: of the rules that match, the first in this order decides', () => {
    for (let n = 1; n <= rules.length; n++) {
      const some = rules.slice(rules.length - n);
      const first = [...some].sort(rulePrecedence)[0];
      assert.equal(
        decide({ isolated: false, rules: some }, '10.0.0.1', pkt).rule?.id,
        first?.id,
        `rules ${some.map((r) => r.id).join(',')}`,
      );
    }
  });

  it('decide names the same rule whatever the order of the list, when equal rules tie', () => {
    const tied = [rule('b', 'allow', 5), rule('a', 'allow', 5)];
    for (const list of [tied, [...tied].reverse()])
      assert.equal(decide({ isolated: false, rules: list }, '10.0.0.1', pkt).rule?.id, 'a', list.map((r) => r.id).join(','));
  });
});
