import { strict as assert } from 'node:assert';
import { byKey, compareStrings, thenBy } from '../../../lib/compare';

describe('lib/compare', () => {
  it('orders strings by code unit, whatever the locale (upper case before lower, "10" before "9")', () => {
    assert.deepEqual(['b', 'B', 'a', '10', '9', 'a'].sort(compareStrings), ['10', '9', 'B', 'a', 'a', 'b']);
    assert.equal(compareStrings('x', 'x'), 0);
    assert.equal(compareStrings('a', 'b'), -1);
    assert.equal(compareStrings('b', 'a'), 1);
  });

  it('sorts by a key, and by the next key where the first ties', () => {
    const rows = [
      { net: 'n2', cidr: '10.0.1.0/24' },
      { net: 'n1', cidr: '10.0.2.0/24' },
      { net: 'n1', cidr: '10.0.0.0/24' },
    ];
    assert.deepEqual(
      [...rows].sort(byKey((r) => r.net)).map((r) => r.net),
      ['n1', 'n1', 'n2'],
    );
    assert.deepEqual(
      [...rows]
        .sort(
          thenBy(
            byKey((r) => r.net),
            byKey((r) => r.cidr),
          ),
        )
        .map((r) => `${r.net} ${r.cidr}`),
      ['n1 10.0.0.0/24', 'n1 10.0.2.0/24', 'n2 10.0.1.0/24'],
    );
    assert.equal(thenBy<string>()('a', 'b'), 0, 'no comparator: all equal');
  });
});
