import assert from 'node:assert/strict';
import { BoundedEventQueue } from '../../../../ovs/openflow/connection-events';

describe('BoundedEventQueue', () => {
  it('keeps at most `limit` unread events, dropping and counting the oldest', async () => {
    const q = new BoundedEventQueue<number>(3);
    for (let i = 0; i < 10; i++) q.push(i);
    assert.equal(q.length, 3);
    assert.equal(q.dropped, 7);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await q.next()).value as number);
    assert.deepEqual(got, [7, 8, 9]);
  });

  it('stays bounded over a long run with a reader that never catches up', () => {
    const q = new BoundedEventQueue<Buffer>(100);
    for (let i = 0; i < 100_000; i++) q.push(Buffer.alloc(10));
    assert.equal(q.length, 100);
    assert.equal(q.dropped, 99_900);
  });

  it('hands events straight to waiting readers in order, and ends them on close', async () => {
    const q = new BoundedEventQueue<string>(2);
    const a = q.next();
    const b = q.next();
    q.push('x');
    q.push('y');
    assert.deepEqual([(await a).value, (await b).value], ['x', 'y']);
    const c = q.next();
    q.close();
    assert.equal((await c).done, true);
    q.push('late');
    assert.equal((await q.next()).done, true);
  });

  it('works with for await and stops when the loop breaks', async () => {
    const q = new BoundedEventQueue<number>(10);
    [1, 2, 3].forEach((n) => q.push(n));
    const seen: number[] = [];
    for await (const n of q) {
      seen.push(n);
      if (n === 2) break;
    }
    assert.deepEqual(seen, [1, 2]);
    assert.equal((await q.next()).done, true);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new BoundedEventQueue(0), RangeError);
  });
});
