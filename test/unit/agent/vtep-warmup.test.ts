/** VtepWarmup: which VTEPs are warmed, how often the packet goes out, when it gives up or stops. */
import { strict as assert } from 'node:assert';
import { createLogger } from '../../../lib/logger';
import type { Action } from '../../../ovs/openflow/messages';
import { FakeClock, flushAsync } from '../../support/fake-clock';
import { MAX_PROBES_IN_FLIGHT, VtepWarmup, VtepWarmupDeps, WARMUP_DEADLINE_MS, warmupActions } from '../../../netplugin/agent/vtep-warmup';

/** The fake clock whose sleeps pass at once, moving time forward, and are recorded. */
class InstantClock extends FakeClock {
  readonly slept: number[] = [];
  private readonly start = this.monotonic();
  override sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.advance(ms);
    return Promise.resolve();
  }
  get elapsedMs(): number {
    return this.monotonic() - this.start;
  }
}

const VXLAN_PORT = 7;

function setup(over: Partial<VtepWarmupDeps> = {}) {
  const sent: { vtep: string; actions: Action[] }[] = [];
  const clock = new InstantClock();
  const warmup = new VtepWarmup({
    localVtepIp: '192.168.0.1',
    vxlanPort: () => VXLAN_PORT,
    packetOut: async (actions) => {
      const dst = actions.find((a) => a.type === 'set_field' && a.field.field === 'tun_ipv4_dst');
      const vtep = dst?.type === 'set_field' && 'value' in dst.field ? String(dst.field.value) : '?';
      sent.push({ vtep, actions });
    },
    logger: createLogger('test', { level: 'silent' }),
    clock,
    ...over,
  });
  return { warmup, sent, clock };
}

describe('agent VtepWarmup', () => {
  it('sends one packet to each new remote VTEP (not to itself, not twice) when there is no uplink to probe', async () => {
    const { warmup, sent } = setup();
    await warmup.warm(['192.168.0.1', '192.168.0.2', '192.168.0.3', '192.168.0.2']);
    assert.deepEqual(
      sent.map((s) => s.vtep),
      ['192.168.0.2', '192.168.0.3'],
    );
    assert.deepEqual(sent[0]!.actions, warmupActions('192.168.0.2', VXLAN_PORT));
    await warmup.warm(['192.168.0.2']);
    assert.equal(sent.length, 2, 'a warmed VTEP is not warmed again');
  });

  it('after reset, the same VTEPs are warmed again (a restarted ovs-vswitchd forgot them)', async () => {
    const { warmup, sent } = setup();
    await warmup.warm(['192.168.0.2']);
    warmup.reset();
    await warmup.warm(['192.168.0.2']);
    assert.equal(sent.length, 2);
  });

  it('does nothing without a VXLAN port or without a local VTEP address', async () => {
    const noPort = setup({ vxlanPort: () => undefined });
    await noPort.warmup.warm(['192.168.0.2']);
    assert.equal(noPort.sent.length, 0);
    const noVtep = setup({ localVtepIp: '' });
    await noVtep.warmup.warm(['192.168.0.2']);
    assert.equal(noVtep.sent.length, 0);
  });

  it('with a probe, retries with a growing delay until the VTEP answers, then sends once more', async () => {
    let probes = 0;
    const { warmup, sent, clock } = setup({ probe: async () => ++probes === 4 });
    await warmup.warm(['192.168.0.2']);
    assert.equal(probes, 4);
    assert.equal(sent.length, 5, 'one packet per attempt, one after the answer');
    assert.deepEqual(clock.slept, [50, 100, 200]);
  });

  it('gives up at the deadline when the VTEP never answers, the delay capped at a second', async () => {
    const { warmup, sent, clock } = setup({ probe: async () => false });
    await warmup.warm(['192.168.0.2']);
    assert.ok(clock.elapsedMs >= WARMUP_DEADLINE_MS && clock.elapsedMs < WARMUP_DEADLINE_MS + 1000);
    assert.equal(Math.max(...clock.slept), 1000);
    assert.equal(sent.length, clock.slept.length);
  });

  it('stops trying once stopped or reset', async () => {
    const stopped = setup({ probe: async () => (stopped.warmup.stop(), false) });
    await stopped.warmup.warm(['192.168.0.2']);
    assert.equal(stopped.sent.length, 1);
    const reset = setup({ probe: async () => (reset.warmup.reset(), false) });
    await reset.warmup.warm(['192.168.0.2']);
    assert.equal(reset.sent.length, 1);
  });

  it('a failing send is logged, not thrown, and the attempts go on', async () => {
    let probes = 0;
    const { warmup } = setup({
      packetOut: async () => {
        throw new Error('not connected');
      },
      probe: async () => ++probes === 2,
    });
    await warmup.warm(['192.168.0.2']);
    assert.equal(probes, 2);
  });
  it('a probe that fails counts as no answer: the VTEP is tried again, no slot is lost', async () => {
    const probed: string[] = [];
    const { warmup } = setup({
      probe: async (ip) => {
        probed.push(ip);
        if (ip === '192.168.0.2' && probed.filter((x) => x === ip).length <= MAX_PROBES_IN_FLIGHT) throw new Error('spawn ping ENOENT');
        return true;
      },
    });
    await warmup.warm(['192.168.0.2', '192.168.0.3']);
    assert.equal(probed.filter((x) => x === '192.168.0.2').length, MAX_PROBES_IN_FLIGHT + 1, 'tried until it answered');
    assert.equal(probed.filter((x) => x === '192.168.0.3').length, 1);
    assert.equal(warmup.probesInFlight, 0);
  });

  describe('a burst of new VTEPs', () => {
    /** A probe whose answers the test gives, one VTEP at a time, in the order the probes started. */
    function heldProbes() {
      const started: string[] = [];
      const pending = new Map<string, (answered: boolean) => void>();
      let running = 0;
      let maxRunning = 0;
      const probe = (ip: string): Promise<boolean> => {
        started.push(ip);
        running++;
        maxRunning = Math.max(maxRunning, running);
        return new Promise<boolean>((resolve) =>
          pending.set(ip, (answered) => {
            pending.delete(ip);
            running--;
            resolve(answered);
          }),
        );
      };
      const answer = async (ip: string, answered: boolean): Promise<void> => {
        const give = pending.get(ip);
        assert.ok(give, `no probe of ${ip} is running`);
        give(answered);
        await flushAsync();
      };
      return { probe, started, pending, answer, maxRunning: () => maxRunning };
    }
    const ips = (n: number, prefix = '192.168.1.') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

    it(`runs at most ${MAX_PROBES_IN_FLIGHT} probes at a time, however many VTEPs join together, and warms them all`, async () => {
      const p = heldProbes();
      const clock = new FakeClock();
      const { warmup } = setup({ probe: p.probe, clock });
      const joined = ips(200);
      let done = false;
      void warmup.warm(joined).then(() => (done = true));
      await flushAsync();
      assert.equal(p.pending.size, MAX_PROBES_IN_FLIGHT, 'the other 196 wait for a slot');
      while (p.pending.size > 0) await p.answer([...p.pending.keys()][0]!, true);
      assert.equal(p.maxRunning(), MAX_PROBES_IN_FLIGHT);
      assert.deepEqual(p.started, joined, 'each probed once, in the order they joined');
      assert.ok(done, 'warm resolves once every VTEP is done');
      assert.equal(warmup.probesInFlight, 0);
    });

    it('a VTEP that does not answer holds no slot while it waits for its retry', async () => {
      const p = heldProbes();
      const clock = new FakeClock();
      const { warmup } = setup({ probe: p.probe, clock });
      void warmup.warm(ips(MAX_PROBES_IN_FLIGHT));
      await flushAsync();
      for (const ip of ips(MAX_PROBES_IN_FLIGHT)) await p.answer(ip, false);
      assert.equal(warmup.probesInFlight, 0, 'all four wait for their backoff');
      void warmup.warm(['192.168.2.1']);
      await flushAsync();
      assert.deepEqual([...p.pending.keys()], ['192.168.2.1'], 'a new VTEP is probed at once');
    });

    it('firstAttempts: at once with nothing being warmed; otherwise when every VTEP has had one attempt, answered or not', async () => {
      const p = heldProbes();
      const clock = new FakeClock();
      const { warmup } = setup({ probe: p.probe, clock });
      assert.equal(await warmup.firstAttempts(1000), true, 'nothing to wait for');
      const joined = ips(MAX_PROBES_IN_FLIGHT + 1);
      void warmup.warm(joined);
      await flushAsync();
      let tried: boolean | undefined;
      void warmup.firstAttempts(1000).then((ok) => (tried = ok));
      for (const ip of joined.slice(0, MAX_PROBES_IN_FLIGHT)) await p.answer(ip, ip !== joined[0]);
      assert.equal(tried, undefined, 'the fifth VTEP has not been tried yet');
      await p.answer(joined[MAX_PROBES_IN_FLIGHT]!, true);
      assert.equal(tried, true, 'all tried; the one that did not answer is retried without holding the wait');
      assert.equal(await warmup.firstAttempts(1000), true, 'a retry is not waited for');
    });

    it('firstAttempts gives up after its timeout (a VTEP whose probe hangs), and a reset ends the wait', async () => {
      const p = heldProbes();
      const clock = new FakeClock();
      const { warmup } = setup({ probe: p.probe, clock });
      void warmup.warm(['192.168.3.1']);
      await flushAsync();
      let tried: boolean | undefined;
      void warmup.firstAttempts(1000).then((ok) => (tried = ok));
      await clock.tick(999);
      assert.equal(tried, undefined);
      await clock.tick(1);
      assert.equal(tried, false);
      let afterReset: boolean | undefined;
      void warmup.firstAttempts(1000).then((ok) => (afterReset = ok));
      warmup.reset();
      await flushAsync();
      assert.equal(afterReset, true, 'a reset forgets the VTEPs: nothing left to wait for');
    });

    it('a new VTEP is probed before the retries of VTEPs that do not answer', async () => {
      const p = heldProbes();
      const clock = new FakeClock();
      const { warmup } = setup({ probe: p.probe, clock });
      const dead = ips(2 * MAX_PROBES_IN_FLIGHT);
      void warmup.warm(dead);
      await flushAsync();
      // the first four fail: the next four take their slots, the first four wait 50 ms
      for (const ip of dead.slice(0, MAX_PROBES_IN_FLIGHT)) await p.answer(ip, false);
      await clock.tick(50);
      assert.equal(warmup.probesInFlight, MAX_PROBES_IN_FLIGHT, 'their retries are due, the slots are full');
      void warmup.warm(['192.168.2.1']);
      await flushAsync();
      await p.answer(dead[MAX_PROBES_IN_FLIGHT]!, false);
      assert.equal(p.started.at(-1), '192.168.2.1', 'the free slot went to the new VTEP, not to a retry');
      await p.answer(dead[MAX_PROBES_IN_FLIGHT + 1]!, false);
      assert.equal(p.started.at(-1), dead[0], 'then the retries, oldest first');
    });
  });
});
