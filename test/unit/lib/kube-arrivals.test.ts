import { strict as assert } from 'node:assert';
import { Arrivals } from '../../../lib/kube/arrivals';
import { FakeClock, flushAsync } from '../../support/fake-clock';

describe('kube arrivals (waiting for an object to reach a watch cache)', () => {
  it('hands an arrived object to every caller waiting for its key, and to no other', async () => {
    const clock = new FakeClock();
    const a = new Arrivals<string>(clock);
    const got: string[] = [];
    void a.wait('x/a', 1000, () => new Error('late')).then((o) => got.push(`1:${o}`));
    void a.wait('x/a', 1000, () => new Error('late')).then((o) => got.push(`2:${o}`));
    void a.wait('x/b', 1000, () => new Error('late')).then((o) => got.push(`3:${o}`));
    a.arrived('x/a', 'pod-a');
    await flushAsync();
    assert.deepEqual(got.sort(), ['1:pod-a', '2:pod-a']);
    assert.equal(a.waiting, 1);
    // the served callers' timers are cancelled: only x/b's is left
    assert.equal(clock.pending, 1);
  });

  it("rejects with the caller's error once its bound passes, and forgets the caller", async () => {
    const clock = new FakeClock();
    const a = new Arrivals<string>(clock);
    const late = a.wait('ns', 500, () => new Error('namespace ns did not arrive'));
    clock.advance(499);
    assert.equal(a.waiting, 1);
    clock.advance(1);
    await assert.rejects(late, /namespace ns did not arrive/);
    assert.equal(a.waiting, 0);
    // an object arriving later is no one's
    a.arrived('ns', 'x');
  });
});
