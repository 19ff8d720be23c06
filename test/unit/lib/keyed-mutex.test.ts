import { strict as assert } from 'node:assert';
import { KeyedMutex } from '../../../lib/keyed-mutex';

/** A promise and the function that resolves it, so a test decides when work ends. */
function gate(): { done: Promise<void>; open: () => void } {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

describe('KeyedMutex', () => {
  it('runs work of one key one at a time in arrival order, other keys in parallel', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const a1 = gate();
    const b1 = gate();
    const work = (tag: string, g?: { done: Promise<void> }) => async () => {
      order.push(`${tag}+`);
      await g?.done;
      order.push(`${tag}-`);
    };
    const all = Promise.all([m.run('a', work('a1', a1)), m.run('a', work('a2')), m.run('b', work('b1', b1))]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['a1+', 'b1+'], 'a2 waits for a1; b1 does not');
    b1.open();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['a1+', 'b1+', 'b1-']);
    a1.open();
    await all;
    assert.deepEqual(order, ['a1+', 'b1+', 'b1-', 'a1-', 'a2+', 'a2-']);
    assert.equal(m.size, 0, 'no key left behind');
  });

  it('a failure releases the key for the next and reaches only its own caller', async () => {
    const m = new KeyedMutex();
    const failing = m.run('k', () => Promise.reject(new Error('boom')));
    const next = m.run('k', () => Promise.resolve(7));
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 7);
    assert.equal(m.size, 0);
  });
});
