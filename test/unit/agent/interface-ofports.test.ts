/**
 * The interfaces' ofports as the OVSDB monitor reports them: numbers requested for new ports come
 * from the upper half, round robin, never one an interface has or another ADD holds; waiting for
 * a port's ofport sees it through a device that does not exist yet, fails at once for another
 * error, and ends with the timeout or an abort.
 */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { InterfaceOfports, OFPORT_REQUEST_MAX, OFPORT_REQUEST_MIN, type OfportEvent } from '../../../netplugin/agent/interface-ofports';
import { FakeClock, flushAsync } from '../../support/fake-clock';

const ev = (name: string, ofport: number | undefined, kind: OfportEvent['kind'] = 'modify', error?: string): OfportEvent => ({
  kind,
  name,
  ofport,
  error,
});

describe('InterfaceOfports', () => {
  it('requests numbers from the upper half, skipping those interfaces have and those held, the same one again for the same name', () => {
    const o = new InterfaceOfports(new FakeClock());
    o.reset([ev('br-int', 65534, 'initial'), ev('vxlan0', 1, 'initial'), ev('nlother', OFPORT_REQUEST_MIN, 'initial')]);
    const a = o.request('nla');
    assert.equal(a, OFPORT_REQUEST_MIN + 1);
    assert.equal(o.request('nla'), a, 'held for its name');
    assert.equal(o.request('nlb'), OFPORT_REQUEST_MIN + 2);
    assert.equal(o.requestedFor('nlb'), OFPORT_REQUEST_MIN + 2);
    o.release('nla');
    assert.equal(o.requestedFor('nla'), undefined);
    // round robin: a number given back is not the next one handed out
    assert.equal(o.request('nlc'), OFPORT_REQUEST_MIN + 3);
  });

  it('wraps around at the top of the range, still skipping numbers in use', () => {
    const o = new InterfaceOfports(new FakeClock(), OFPORT_REQUEST_MAX);
    o.reset([ev('x', OFPORT_REQUEST_MIN, 'initial')]);
    assert.equal(o.request('a'), OFPORT_REQUEST_MAX);
    assert.equal(o.request('b'), OFPORT_REQUEST_MIN + 1);
  });

  it('a deleted interface frees its number', () => {
    const o = new InterfaceOfports(new FakeClock(), OFPORT_REQUEST_MIN);
    o.reset([ev('x', OFPORT_REQUEST_MIN, 'initial')]);
    o.update([ev('x', OFPORT_REQUEST_MIN, 'delete')]);
    assert.equal(o.ofportOf('x'), undefined);
    assert.equal(o.request('a'), OFPORT_REQUEST_MIN);
  });

  it('waits for the ofport through "No such device" (a port added before its veth) and resolves once it is there', async () => {
    const clock = new FakeClock();
    const o = new InterfaceOfports(clock);
    let got: number | undefined;
    const p = o.waitFor('nla', 5000).then((n) => (got = n));
    o.update([ev('nla', undefined, 'insert')]);
    o.update([ev('nla', -1, 'modify', 'could not open network device nla (No such device)')]);
    await flushAsync();
    assert.equal(got, undefined);
    o.update([ev('nla', 40001)]);
    await p;
    assert.equal(got, 40001);
    assert.equal(clock.pending, 0, 'its timer is cancelled');
  });

  it('resolves at once for an interface that has its ofport already', async () => {
    const o = new InterfaceOfports(new FakeClock());
    o.reset([ev('nla', 7, 'initial')]);
    assert.equal(await o.waitFor('nla', 5000), 7);
  });

  it('fails at once when OVS could not open an existing device, with its error', async () => {
    const o = new InterfaceOfports(new FakeClock());
    const p = o.waitFor('nla', 5000);
    o.update([ev('nla', -1, 'insert', 'could not add network device nla to ofproto (Invalid argument)')]);
    await assert.rejects(p, (e: unknown) => isNetloomError(e) && e.code === 'COMMAND_FAILED' && /Invalid argument/.test(e.message));
  });

  it('ends with TIMEOUT naming the interface, or with the abort', async () => {
    const clock = new FakeClock();
    const o = new InterfaceOfports(clock);
    const timedOut = assert.rejects(
      o.waitFor('nla', 5000),
      (e: unknown) => isNetloomError(e) && e.code === 'TIMEOUT' && e.message.includes('nla'),
    );
    await clock.tick(5000);
    await timedOut;
    const stop = new AbortController();
    const aborted = o.waitFor('nlb', 5000, stop.signal);
    stop.abort(new Error('veth failed'));
    await assert.rejects(aborted, /veth failed/);
    assert.equal(clock.pending, 0);
  });
});
