/**
 * Property tests of the address arithmetic the overlap check and the allocator rely on, against
 * brute force: block overlap, free runs and range text.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blockOf, blocksOverlap, freeRuns, maskOf, toRuns } from '../../../netmaster/model/net';

const subnet = fc
  .record({ addr: fc.integer({ min: 0, max: 0xffffffff }), prefix: fc.integer({ min: 8, max: 32 }) })
  .map(({ addr, prefix }) => ({ base: (addr & maskOf(prefix)) >>> 0, prefix }));

describe('netmaster address arithmetic (properties)', () => {
  it('two blocks overlap exactly when one contains the other (CIDR blocks nest or are disjoint)', () => {
    fc.assert(
      fc.property(subnet, subnet, (a, b) => {
        const [a0, a1] = blockOf(a);
        const [b0, b1] = blockOf(b);
        const nested = (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1);
        assert.equal(blocksOverlap(a, b), nested);
        assert.equal(blocksOverlap(a, b), blocksOverlap(b, a));
      }),
    );
  });

  it('free runs and used runs partition the range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 220 }), { maxLength: 60 }),
        (x, y, usedRaw) => {
          const [first, last] = x <= y ? [x, y] : [y, x];
          const used = [...usedRaw].sort((a, b) => a - b);
          const free = new Set<number>();
          for (const [a, b] of freeRuns(first, last, used)) for (let n = a; n <= b; n++) free.add(n);
          for (let n = first; n <= last; n++) assert.equal(free.has(n), !used.includes(n), `address ${n}`);
          assert.equal(
            [...free].every((n) => n >= first && n <= last),
            true,
          );
          const runs = toRuns(used);
          assert.deepEqual(
            runs.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)),
            used,
          );
        },
      ),
    );
  });
});
